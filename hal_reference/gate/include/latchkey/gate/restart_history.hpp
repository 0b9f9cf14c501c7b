// RestartHistory: what the gate engine must remember across a restart or a
// crash, rebuilt from the audit log's verified records (docs/rules.md F2, G3, G4, I2, I5).
//
// The hub feeds every record of the log, in seq order, as AuditLog::open
// verifies it (OpenOptions::on_verified_record); apply() then fills the
// GateSetup the engine starts from:
// - consumed grants: every decision record that consumed a grant (G3, I2);
// - sessions open at the stop: a durable allow (kAllow) or an opened session
//   (kSessionOpened) without its end (F2);
// - lockouts: per door, the newest lockout, how many lockouts came since the
//   last unlock (the doubling) and the rejected requests counted toward the
//   next one inside the 10-minute window (G4);
// - the recovery cut-off: grants issued before the audit log was last
//   recovered are refused (A2, G3; docs/latchkeyd.md "Recovering a broken
//   audit log").
// It reads record kinds and values (latchkey/rules/record_kind.hpp), never
// the text the engine wrote for people: rewording a message changes nothing
// here (tests/gate/restart_history_test.cpp rewords every one).
//
// Pure: no I/O, no clock. Wall times come from the records and from the
// caller's `now_wall_ms`; a wall clock that went backwards shortens nothing
// and extends nothing beyond the lockout that was recorded.
#ifndef LATCHKEY_GATE_RESTART_HISTORY_HPP
#define LATCHKEY_GATE_RESTART_HISTORY_HPP

#include <latchkey/gate/gate_engine.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::gate {

// One audit record, as far as the history needs it (borrowed for the call).
// What it means comes from kind, value, rule and consumes_grant; detail is
// read only for a format-1 record (a schema-1 log's, legacy_records.hpp).
struct HistoryRecord {
  int64_t wall_ms = 0;
  std::string_view type;
  Rule rule = Rule::kNone;
  std::string_view door_id;
  std::string_view subject;
  std::string_view consumes_grant;  // raw grant id (hex) when the record consumed one
  RecordKind kind = RecordKind::kNone;
  int64_t value = 0;
  int format = 2;                   // of the audit record
  std::string_view detail{};        // format 1 only
};

class RestartHistory {
 public:
  void add(const HistoryRecord& record);

  // Fills consumed_grants, sessions_open_at_stop, door_history and
  // grants_not_before_ms of `setup` (whatever they held is replaced).
  void apply(GateSetup& setup, int64_t now_wall_ms) const;

  std::size_t records() const { return records_; }

 private:
  struct Door {
    int lockouts = 0;
    int64_t lockout_at_ms = 0;
    int64_t lockout_ms = 0;
    std::vector<int64_t> rejections_ms;  // counted denies since the newest lockout or unlock
  };
  std::size_t records_ = 0;
  std::set<std::string> consumed_;
  std::map<std::string, std::string> open_;  // session hex -> door
  std::map<std::string, Door> doors_;
  int64_t grants_not_before_ms_ = 0;
};

}  // namespace latchkey::gate

#endif  // LATCHKEY_GATE_RESTART_HISTORY_HPP
