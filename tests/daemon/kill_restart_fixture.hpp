// The kill-and-restart test's fixture: what a client of a repeatedly killed
// latchkeyd knows, and the checks it makes after each restart (docs/rules.md F2,
// G3, I2, I5, I6, A3):
// - no unlock at boot: between the restart and the next request the log
//   holds no opened session, allow decision or unlock command, and no
//   unlock command event is published;
// - every session open at the kill (by the log, or by an allow the client
//   saw and no end) is closed as compromised with rule F2, with an F2 alarm
//   and a relock command;
// - every grant ever consumed is refused with G3 when presented again;
// - the chain verifies (verify_log with the hub's key, GET /v1/audit/verify);
// - every allow the client saw acknowledged has its decision record, and no
//   grant is consumed by two records.
#ifndef LATCHKEY_TESTS_KILL_RESTART_FIXTURE_HPP
#define LATCHKEY_TESTS_KILL_RESTART_FIXTURE_HPP

#include "daemon_fixture.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace latchkey::tests {

struct GrantAtDoor {
  std::string door;
  client::MintedGrant grant;
  std::string grant_hex;
};

class KillRestartTest : public DaemonTest {
 protected:
  // G4 locks a door's remote unlock at its fifth rejection in 10 minutes,
  // across restarts, and the run must keep delivering: while sessions go on,
  // at most this many consumed grants are presented per door in the whole
  // run (the newest ones, right after their restart). The final pass
  // presents every consumed grant and accepts G4 once the door is locked out.
  static constexpr int kLiveG3BudgetPerDoor = 4;

  // What the client saw before a kill.
  void allowed(const GrantAtDoor& grant, const std::string& session);
  void unknown_outcome(const GrantAtDoor& grant);
  void ended(const std::string& session);

  // SIGKILL, restart on the same data directory, reconnect, check.
  void kill_restart_and_check();
  // All the checks above on a hub just restarted, before any request.
  void check_after_restart();
  // Restarts (SIGTERM) and presents every consumed grant once more: each is
  // refused with G3, or with G4 after the door's fifth rejection.
  void check_every_grant_refused();

  std::size_t acknowledged_count() const { return acknowledged_.size(); }
  std::size_t consumed_count() const { return consumed_.size(); }
  std::size_t f2_recoveries() const { return f2_recoveries_; }
  std::size_t restarts() const { return restarts_; }

 private:
  void present_consumed(const GrantAtDoor& grant);
  std::map<std::string, int> rejections_;  // per door, every rejection this test caused

  struct Acknowledged {
    GrantAtDoor grant;
    std::string session;
  };
  std::vector<Acknowledged> acknowledged_;
  std::vector<GrantAtDoor> unknown_;
  std::vector<GrantAtDoor> consumed_;          // every grant the log shows consumed, oldest first
  std::set<std::string> consumed_hex_;
  std::set<std::string> ended_sessions_;       // seen ended by the client
  std::size_t presented_new_ = 0;              // consumed_[0, presented_new_) were presented after their restart
  std::size_t f2_recoveries_ = 0;
  std::size_t restarts_ = 0;
};

}  // namespace latchkey::tests

#endif  // LATCHKEY_TESTS_KILL_RESTART_FIXTURE_HPP
