#include <latchkey/gate/restart_history.hpp>

#include "legacy_records.hpp"

#include <algorithm>
#include <charconv>

namespace latchkey::gate {

void RestartHistory::add(const HistoryRecord& record) {
  ++records_;
  HistoryRecord r = record;
  if (r.format == 1) {
    const LegacyMeaning m = legacy_record_meaning(r.type, r.rule, r.detail, !r.consumes_grant.empty());
    r.kind = m.kind;
    r.value = m.value;
  }
  const std::string door(r.door_id);
  if (!r.consumes_grant.empty()) consumed_.insert(std::string(r.consumes_grant));

  switch (r.kind) {
    // F2: which sessions began and never ended. A durable allow counts as
    // begun: the unlock command may have left before "opened" was committed.
    case RecordKind::kAllow:
      open_[std::string(r.subject)] = door;
      break;
    case RecordKind::kSessionOpened:
      open_[std::string(r.subject)] = door;
      // G4, as the engine does it: a successful unlock ends the doubling; the
      // rejections of the last 10 minutes still count.
      doors_[door].lockouts = 0;
      break;
    case RecordKind::kAllowWithdrawn:
    case RecordKind::kSessionCompleted:
    case RecordKind::kSessionCompromised:
      open_.erase(std::string(r.subject));
      break;
    case RecordKind::kLockout:
      if (r.value > 0) {
        Door& d = doors_[door];
        ++d.lockouts;
        d.lockout_at_ms = r.wall_ms;
        d.lockout_ms = r.value;
        d.rejections_ms.clear();
      }
      break;
    case RecordKind::kDeny:
      if (!door.empty()) {
        Door& d = doors_[door];
        d.rejections_ms.push_back(r.wall_ms);
        // Only the newest few can still matter (the engine keeps fewer).
        if (d.rejections_ms.size() > static_cast<std::size_t>(GateConfig::kLockoutThreshold))
          d.rejections_ms.erase(d.rejections_ms.begin());
      }
      break;
    case RecordKind::kLogRecovered:
      grants_not_before_ms_ = std::max(grants_not_before_ms_, r.value);
      break;
    case RecordKind::kDenyUncounted:
    case RecordKind::kNone:
      break;
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
