#include "refusals.hpp"

#include <string_view>

namespace latchkey::net_camera {

std::optional<Refusal> parse_broker_report(const uint8_t* data, std::size_t size, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Refusal> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (size == 0 || size > LK_CAMERA_REFUSAL_TEXT_MAX)
    return fail("a report of " + std::to_string(size) + " bytes (1 to 256 allowed)");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char c : text)
    if (c < 0x20 || c >= 0x7f) return fail("a report with a byte outside printable ASCII");
  Refusal r;
  const std::size_t kind_end = text.find(' ');
  if (kind_end == std::string_view::npos) return fail("a report without a count");
  const std::string_view kind = text.substr(0, kind_end);
  if (kind == "foreign") {
    r.kind = LK_CAMERA_REFUSED_FOREIGN;
  } else if (kind == "oversized") {
    r.kind = LK_CAMERA_REFUSED_OVERSIZED;
  } else {
    return fail("a report of unknown kind '" + std::string(kind.substr(0, 16)) + "'");
  }
  const std::size_t count_end = text.find(' ', kind_end + 1);
  if (count_end == std::string_view::npos) return fail("a report without a reason");
  const std::string_view count = text.substr(kind_end + 1, count_end - kind_end - 1);
  if (count.empty() || count.size() > 10 || count.front() == '0') return fail("a report with a malformed count");
  uint64_t n = 0;
  for (const char c : count) {
    if (c < '0' || c > '9') return fail("a report with a malformed count");
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > 1'000'000'000) return fail("a report with a malformed count");
  r.count = n;
  r.reason = std::string(text.substr(count_end + 1));
  if (r.reason.empty()) return fail("a report without a reason");
  return r;
}

std::string refusal_text(const Refusal& refusal) {
  std::string text;
  for (const char c : refusal.reason) text.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (refusal.count > 1) text = std::to_string(refusal.count) + " refused, the latest: " + text;
  if (text.size() > LK_CAMERA_REFUSAL_TEXT_MAX) text.resize(LK_CAMERA_REFUSAL_TEXT_MAX);
  return text;
}

std::optional<Refusal> RefusalPacer::admit(Refusal refusal, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  Slot& slot = slots_[refusal.kind];
  if (slot.last && now - *slot.last < interval_) {
    slot.held += refusal.count;
    slot.reason = std::move(refusal.reason);
    return std::nullopt;
  }
  refusal.count += slot.held;
  slot.held = 0;
  slot.last = now;
  return refusal;
}

std::vector<Refusal> RefusalPacer::due(Clock::time_point now) {
  std::vector<Refusal> out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [kind, slot] : slots_) {
    if (slot.held == 0 || (slot.last && now - *slot.last < interval_)) continue;
    out.push_back({kind, slot.held, std::move(slot.reason)});
    slot.held = 0;
    slot.reason.clear();
    slot.last = now;
  }
  return out;
}

}  // namespace latchkey::net_camera
