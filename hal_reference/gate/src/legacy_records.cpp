#include "legacy_records.hpp"

#include <charconv>
#include <optional>

namespace latchkey::gate {

namespace {

// Schema 1's wording, as its engine wrote it.
constexpr std::string_view kLockedFor = "locked for ";
constexpr std::string_view kLockoutNumber = " ms, lockout ";
constexpr std::string_view kCountedDeny = "deny: ";
constexpr std::string_view kRecovered = "audit log recovered: grants issued before ";
constexpr std::string_view kRecoveredEnd = " ms (Unix) are refused; ";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// A positive decimal integer at the front of s; advances s past it.
std::optional<int64_t> take_number(std::string_view& s) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end == s.data() || value <= 0) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return value;
}

}  // namespace

LegacyMeaning legacy_record_meaning(std::string_view type, Rule rule, std::string_view detail, bool consumes_grant) {
  if (type == "decision") {
    if (consumes_grant) return {RecordKind::kAllow, 0};
    if (starts_with(detail, "allow withdrawn")) return {RecordKind::kAllowWithdrawn, 0};
    if (starts_with(detail, kCountedDeny) && rule != Rule::G4) return {RecordKind::kDeny, 0};
    return {};
  }
  if (type == "session") {
    if (starts_with(detail, "opened")) return {RecordKind::kSessionOpened, 0};
    if (starts_with(detail, "completed")) return {RecordKind::kSessionCompleted, 0};
    return {RecordKind::kSessionCompromised, 0};  // schema 1 knew no other session record
  }
  if (type == "lockout" && rule == Rule::G4 && starts_with(detail, kLockedFor)) {
    std::string_view s = detail.substr(kLockedFor.size());
    const auto ms = take_number(s);
    if (!ms || !starts_with(s, kLockoutNumber)) return {};
    s.remove_prefix(kLockoutNumber.size());
    if (!take_number(s) || !s.empty()) return {};
    return {RecordKind::kLockout, *ms};
  }
  if (type == "hub" && rule == Rule::A2 && starts_with(detail, kRecovered)) {
    std::string_view s = detail.substr(kRecovered.size());
    const auto ms = take_number(s);
    if (!ms || !starts_with(s, kRecoveredEnd)) return {};
    return {RecordKind::kLogRecovered, *ms};
  }
  return {};
}

}  // namespace latchkey::gate
