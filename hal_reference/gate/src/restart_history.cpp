#include <latchkey/gate/restart_history.hpp>

#include <algorithm>
#include <charconv>

namespace latchkey::gate {

namespace {

constexpr std::string_view kLockedFor = "locked for ";
constexpr std::string_view kLockoutNumber = " ms, lockout ";
constexpr std::string_view kCountedDeny = "deny: ";
constexpr std::string_view kUncountedDeny = "deny (not counted for G4): ";
constexpr std::string_view kRecovered = "audit log recovered: grants issued before ";
constexpr std::string_view kRecoveredEnd = " ms (Unix) are refused; ";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// A decimal integer at the front of s; advances s past it.
template <typename T>
std::optional<T> take_number(std::string_view& s) {
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return value;
}

}  // namespace

std::string lockout_detail(int64_t duration_ms, int lockout_number) {
  return std::string(kLockedFor) + std::to_string(duration_ms) + std::string(kLockoutNumber) +
         std::to_string(lockout_number);
}

std::optional<LockoutRecord> parse_lockout_detail(std::string_view s) {
  if (!starts_with(s, kLockedFor)) return std::nullopt;
  s.remove_prefix(kLockedFor.size());
  const auto ms = take_number<int64_t>(s);
  if (!ms || !starts_with(s, kLockoutNumber)) return std::nullopt;
  s.remove_prefix(kLockoutNumber.size());
  const auto n = take_number<int>(s);
  if (!n || !s.empty() || *ms <= 0 || *n <= 0) return std::nullopt;
  return LockoutRecord{*ms, *n};
}

std::string counted_deny_detail(const std::string& message) { return std::string(kCountedDeny) + message; }
std::string uncounted_deny_detail(const std::string& message) { return std::string(kUncountedDeny) + message; }

bool is_counted_deny(std::string_view type, std::string_view rule, std::string_view detail) {
  return type == "decision" && rule != "G4" && starts_with(detail, kCountedDeny);
}

std::string recovery_detail(int64_t grants_not_before_ms, const std::string& why) {
  return std::string(kRecovered) + std::to_string(grants_not_before_ms) + std::string(kRecoveredEnd) + why;
}

std::optional<int64_t> parse_recovery_detail(std::string_view s) {
  if (!starts_with(s, kRecovered)) return std::nullopt;
  s.remove_prefix(kRecovered.size());
  const auto ms = take_number<int64_t>(s);
  if (!ms || !starts_with(s, kRecoveredEnd)) return std::nullopt;
  return *ms;
}

void RestartHistory::add(const HistoryRecord& r) {
  ++records_;
  const std::string door(r.door_id);
  if (!r.consumes_grant.empty()) consumed_.insert(std::string(r.consumes_grant));

  // F2: which sessions began and never ended. A durable allow counts as
  // begun: the unlock command may have left before "opened" was committed.
  if (r.type == "decision" && !r.consumes_grant.empty()) {
    open_[std::string(r.subject)] = door;
  } else if (r.type == "decision" && starts_with(r.detail, "allow withdrawn")) {
    open_.erase(std::string(r.subject));
  } else if (r.type == "session" && starts_with(r.detail, "opened")) {
    open_[std::string(r.subject)] = door;
    // G4, as the engine does it: a successful unlock ends the doubling; the
    // rejections of the last 10 minutes still count.
    doors_[door].lockouts = 0;
  } else if (r.type == "session") {
    open_.erase(std::string(r.subject));
  }

  if (r.type == "lockout" && r.rule == "G4") {
    if (const auto lockout = parse_lockout_detail(r.detail)) {
      Door& d = doors_[door];
      d.lockouts = lockout->lockout_number;
      d.lockout_at_ms = r.wall_ms;
      d.lockout_ms = lockout->duration_ms;
      d.rejections_ms.clear();
    }
  } else if (!door.empty() && is_counted_deny(r.type, r.rule, r.detail)) {
    Door& d = doors_[door];
    d.rejections_ms.push_back(r.wall_ms);
    // Only the newest few can still matter (the engine keeps fewer).
    if (d.rejections_ms.size() > static_cast<std::size_t>(GateConfig::kLockoutThreshold))
      d.rejections_ms.erase(d.rejections_ms.begin());
  }

  if (r.type == "hub" && r.rule == "A2") {
    if (const auto cutoff = parse_recovery_detail(r.detail))
      grants_not_before_ms_ = std::max(grants_not_before_ms_, *cutoff);
  }
}

void RestartHistory::apply(GateSetup& setup, int64_t now_wall_ms) const {
  setup.consumed_grants = consumed_;
  setup.sessions_open_at_stop.clear();
  for (const auto& [session, door] : open_) setup.sessions_open_at_stop[door] = session;
  setup.grants_not_before_ms = grants_not_before_ms_;
  setup.door_history.clear();
  for (const auto& [door_id, d] : doors_) {
    DoorHistory h;
    h.lockouts = d.lockouts;
    if (d.lockout_ms > 0) {
      // A clock that went backwards must not stretch the lockout past what
      // was recorded; one that jumped ahead may end it early, as it would
      // have without a restart.
      const int64_t elapsed = std::max<int64_t>(0, now_wall_ms - d.lockout_at_ms);
      h.lockout_remaining_ms = std::max<int64_t>(0, d.lockout_ms - elapsed);
    }
    for (const int64_t at : d.rejections_ms) {
      const int64_t age = std::max<int64_t>(0, now_wall_ms - at);
      if (age <= GateConfig::kLockoutWindowMs) h.rejection_ages_ms.push_back(age);
    }
    if (h.lockouts == 0 && h.lockout_remaining_ms == 0 && h.rejection_ages_ms.empty()) continue;
    setup.door_history[door_id] = std::move(h);
  }
}

}  // namespace latchkey::gate
