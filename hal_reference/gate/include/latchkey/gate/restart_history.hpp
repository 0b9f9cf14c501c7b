// RestartHistory: what the gate engine must remember across a restart or a
// crash, rebuilt from the audit log's verified records (F2, G3, G4, I2, I5).
//
// The hub feeds every record of the log, in seq order, as AuditLog::open
// verifies it (OpenOptions::on_verified_record); apply() then fills the
// GateSetup the engine starts from:
// - consumed grants: every decision record that consumed a grant (G3, I2);
// - sessions open at the stop: a durable allow or an "opened" session record
//   without its end (F2);
// - lockouts: per door, the newest lockout, how many lockouts came since the
//   last unlock (the doubling) and the rejected requests counted toward the
//   next one inside the 10-minute window (G4);
// - the recovery cut-off: grants issued before the audit log was last
//   recovered are refused (A2, G3; docs/latchkeyd.md "Recovering a broken
//   audit log").
// The texts it reads are the ones the engine writes: the functions below
// make both, so the format lives in one place.
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
struct HistoryRecord {
  int64_t wall_ms = 0;
  std::string_view type;
  std::string_view rule;
  std::string_view door_id;
  std::string_view subject;
  std::string_view detail;
  std::string_view consumes_grant;  // raw grant id (hex) when the record consumed one
};

// The detail of a "lockout" record (G4), and its parse.
std::string lockout_detail(int64_t duration_ms, int lockout_number);
struct LockoutRecord {
  int64_t duration_ms = 0;
  int lockout_number = 0;
};
std::optional<LockoutRecord> parse_lockout_detail(std::string_view detail);

// The detail of a deny that counts toward G4 and of one that does not.
std::string counted_deny_detail(const std::string& message);
std::string uncounted_deny_detail(const std::string& message);
bool is_counted_deny(std::string_view type, std::string_view rule, std::string_view detail);

// The detail of the record that starts a recovered log, and its parse.
std::string recovery_detail(int64_t grants_not_before_ms, const std::string& why);
std::optional<int64_t> parse_recovery_detail(std::string_view detail);

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
