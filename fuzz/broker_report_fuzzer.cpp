// Fuzzes the refusal reports the hub's plugin reads on
// latchkey/broker/refused/<id> (plugins/net_camera/refusals.cpp): the
// broker's guard writes them, but the plugin treats them as input like any
// other payload, and paces what it hands to the hub (RefusalPacer).
//
// Input: up to 64 records, each a time step byte (milliseconds to advance the
// pacer's clock, times 8) and a counted report.
// Properties: a report parses only as "foreign|oversized <1..10^9> <reason>"
// of at most 256 printable bytes, and then its fields are exactly those;
// refusal_text is printable ASCII of at most 256 bytes; the pacer lets
// through at most one report per kind per second of its clock, and no
// refusal is lost: the counts it lets through, plus what is due at the end,
// add up to the counts it was given.
#include "refusals.hpp"

#include "support/fuzz_input.hpp"

#include <chrono>
#include <map>
#include <string>

using latchkey::net_camera::parse_broker_report;
using latchkey::net_camera::Refusal;
using latchkey::net_camera::RefusalPacer;
using latchkey::net_camera::refusal_text;

namespace {

bool printable(const std::string& s) {
  for (const char c : s)
    if (c < 0x20 || c >= 0x7f) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  latchkey::fuzz::InputCursor in(data, size);
  RefusalPacer pacer;
  auto now = RefusalPacer::Clock::time_point{} + std::chrono::hours(1);
  std::map<lk_camera_refusal, uint64_t> given, passed;
  std::map<lk_camera_refusal, RefusalPacer::Clock::time_point> last_passed;
  for (int i = 0; i < 64 && !in.empty(); ++i) {
    now += std::chrono::milliseconds(8 * in.byte());
    const std::string report = in.counted();
    std::string error;
    const auto parsed =
        parse_broker_report(reinterpret_cast<const uint8_t*>(report.data()), report.size(), &error);
    const bool shape = !report.empty() && report.size() <= 256 && printable(report);
    if (!parsed) {
      LK_FUZZ_CHECK(!error.empty(), "a refused report says why");
      LK_FUZZ_CHECK(printable(error), "the reason for a refused report is printable");
      continue;
    }
    LK_FUZZ_CHECK(shape, "only printable reports of 1 to 256 bytes parse");
    const std::string kind = parsed->kind == LK_CAMERA_REFUSED_FOREIGN ? "foreign" : "oversized";
    LK_FUZZ_CHECK(parsed->kind == LK_CAMERA_REFUSED_FOREIGN || parsed->kind == LK_CAMERA_REFUSED_OVERSIZED,
                  "a report's kind is foreign or oversized");
    LK_FUZZ_CHECK(parsed->count >= 1 && parsed->count <= 1'000'000'000, "a report's count is 1 to 10^9");
    LK_FUZZ_CHECK(report == kind + " " + std::to_string(parsed->count) + " " + parsed->reason,
                  "the fields are the report's, nothing added or dropped");
    const std::string text = refusal_text(*parsed);
    LK_FUZZ_CHECK(text.size() <= LK_CAMERA_REFUSAL_TEXT_MAX && printable(text), "event text is bounded and printable");

    given[parsed->kind] += parsed->count;
    if (const auto out = pacer.admit(*parsed, now)) {
      auto it = last_passed.find(out->kind);
      LK_FUZZ_CHECK(it == last_passed.end() || now - it->second >= std::chrono::seconds(1),
                    "at most one report per kind per second");
      last_passed[out->kind] = now;
      passed[out->kind] += out->count;
    }
  }
  for (const Refusal& held : pacer.due(now + std::chrono::seconds(2))) passed[held.kind] += held.count;
  LK_FUZZ_CHECK(given == passed, "every refusal is reported, counted once");
  return 0;
}
