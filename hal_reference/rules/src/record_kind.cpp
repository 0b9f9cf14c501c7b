#include <latchkey/rules/record_kind.hpp>

#include <array>
#include <ostream>
#include <utility>

namespace latchkey {

namespace {

constexpr std::array<std::pair<RecordKind, std::string_view>, 10> kKinds{{
    {RecordKind::kNone, ""},
    {RecordKind::kAllow, "allow"},
    {RecordKind::kAllowWithdrawn, "allow_withdrawn"},
    {RecordKind::kDeny, "deny"},
    {RecordKind::kDenyUncounted, "deny_uncounted"},
    {RecordKind::kSessionOpened, "session_opened"},
    {RecordKind::kSessionCompleted, "session_completed"},
    {RecordKind::kSessionCompromised, "session_compromised"},
    {RecordKind::kLockout, "lockout"},
    {RecordKind::kLogRecovered, "log_recovered"},
}};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < kKinds.size(); ++i)
    if (static_cast<std::size_t>(kKinds[i].first) != i) return false;
  return true;
}
static_assert(in_enum_order(), "kKinds must list the kinds in the order of the enum");

}  // namespace

std::string_view name(RecordKind kind) noexcept {
  const auto i = static_cast<std::size_t>(kind);
  return i < kKinds.size() ? kKinds[i].second : std::string_view();
}

std::optional<RecordKind> record_kind_from_name(std::string_view text) noexcept {
  for (const auto& [kind, n] : kKinds)
    if (n == text) return kind;
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& out, RecordKind kind) {
  return out << (kind == RecordKind::kNone ? std::string_view("-") : name(kind));
}

}  // namespace latchkey
