// Fuzzes what the hub decodes from an lk-plugin-host (hal_reference/
// isolation/proto/latchkey/plugin_host.proto): frames cut by FrameReader,
// each a HostToHub. The host runs vendor code, so the hub trusts none of it
// (docs/isolation.md, F1). The harness reads every field the supervisor
// reads (supervisor.cpp on_message) and converts a reply's record and
// violation counts as the device proxies do (records.cpp take_record,
// take_violations), whatever kind the call wanted.
// Properties: a record accepted into a C struct has every text terminated
// inside its array, at most LK_GRANT_MAX_CAMERAS camera ids filled, and the
// caller's struct_size kept; a refused one leaves the struct untouched and
// says why.
#include "latchkey/plugin_host.pb.h"
#include "records.hpp"
#include "support/frame_stream.hpp"

#include <google/protobuf/stubs/logging.h>

#include <cstring>

using namespace latchkey;

namespace {

template <std::size_t N>
bool terminated(const char (&text)[N]) {
  return strnlen(text, N) < N;
}

// Converts the record into a T whose bytes start as a pattern: refused, the
// pattern must survive; accepted, the struct_size must.
template <typename T, typename Check>
std::size_t take(const plugin_host::v1::Record& record, Check check) {
  T out;
  std::memset(&out, 0xA5, sizeof out);
  out.struct_size = sizeof out;
  T before;
  std::memcpy(&before, &out, sizeof out);
  std::string why;
  if (!isolation::take_record(record, &out, &why)) {
    LK_FUZZ_CHECK(std::memcmp(&out, &before, sizeof out) == 0, "a refused record changed the struct");
    LK_FUZZ_CHECK(!why.empty(), "a refused record without a reason");
    return why.size();
  }
  LK_FUZZ_CHECK(out.struct_size == sizeof out, "an accepted record changed struct_size");
  check(out);
  return 1;
}

std::size_t read_record(const plugin_host::v1::Record& record) {
  std::size_t touched = 0;
  touched += take<lk_lock_description>(record, [](const lk_lock_description&) {});
  touched += take<lk_camera_description>(record, [](const lk_camera_description& d) {
    LK_FUZZ_CHECK(terminated(d.camera_id), "a camera id without its NUL");
  });
  touched += take<lk_snapshot_info>(record, [](const lk_snapshot_info&) {});
  touched += take<lk_grant_info>(record, [](const lk_grant_info& g) {
    LK_FUZZ_CHECK(terminated(g.issuer_key_id) && terminated(g.hub_id) && terminated(g.door_id) &&
                      terminated(g.courier_id),
                  "a grant id without its NUL");
    for (const auto& id : g.required_camera_ids) LK_FUZZ_CHECK(terminated(id), "a camera id without its NUL");
  });
  touched += take<lk_authz_refusal>(record, [](const lk_authz_refusal& r) {
    LK_FUZZ_CHECK(terminated(r.message), "a refusal message without its NUL");
  });
  return touched;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::size_t touched = 0;
  fuzz::run_frame_stream(data, size, [&](const std::string& bytes) {
    plugin_host::v1::HostToHub m;
    if (!m.ParseFromString(bytes)) return;  // the supervisor fails the host here
    switch (m.message_case()) {
      case plugin_host::v1::HostToHub::kReady: touched += m.ready().driver_id().size() + m.ready().load_error().size(); break;
      case plugin_host::v1::HostToHub::kReply:
        touched += read_record(m.reply().record()) + m.reply().data().size() +
                   isolation::take_violations(m.reply().violations()).missing_completions;
        break;
      case plugin_host::v1::HostToHub::kEvent: touched += m.event().data().size() + m.event().kind(); break;
      case plugin_host::v1::HostToHub::kCompletion: touched += m.completion().operation_id() & 1; break;
      case plugin_host::v1::HostToHub::kLog: touched += m.log().message().size(); break;
      default: break;
    }
  });
  return touched == SIZE_MAX;  // keeps the reads from being optimised away
}
