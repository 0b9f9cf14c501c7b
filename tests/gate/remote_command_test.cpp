// Commands from a home controller (Home Assistant, docs/home-assistant.md)
// through the real GateEngine: a remote UNLOCK is refused and audited (G1),
// a remote LOCK never breaks a rule (U8 with a session open or the door not
// closed, F1 with the lock in fault) and otherwise locks.
#include "sim_world.hpp"

#include <gtest/gtest.h>

using latchkey::Rule;
using latchkey::sim::SimWorld;

namespace {

SimWorld::Options options() {
  SimWorld::Options o;
  o.seed = 11;
  return o;
}

int records(const SimWorld& w, const std::string& type, Rule rule, const std::string& detail_part) {
  int n = 0;
  for (const auto& r : w.audit())
    if (r.entry.type == type && r.entry.rule == rule && r.entry.detail.find(detail_part) != std::string::npos) ++n;
  return n;
}

// A resident turned the thumb-turn: unlocked, no session.
void manual_unlock(SimWorld& w) {
  w.lock().bolt = LK_LOCK_STATE_UNLOCKED;
  w.engine().on_lock_state("front", LK_LOCK_STATE_UNLOCKED, w.now());
  w.run_for(10);
}

// A full happy unlock; the session is open afterwards.
void open_session(SimWorld& w) {
  const auto g = w.mint();
  const uint64_t id = w.request_with(g);
  for (int i = 0; i < 400 && !w.decision(id); ++i) w.run_for(10);
  ASSERT_TRUE(w.decision(id) && w.decision(id)->allowed);
  w.run_for(100);
  ASSERT_EQ(w.lock().bolt, LK_LOCK_STATE_UNLOCKED);
}

}  // namespace

TEST(RemoteCommand, G1_RemoteUnlockIsRefusedAuditedAndMovesNothing) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  // More than G4's five: a household's controller must not lock couriers out.
  for (int i = 0; i < 7; ++i) {
    const auto a = w.engine().refuse_remote_unlock("front", "home_assistant", "unlock", w.now());
    EXPECT_FALSE(a.accepted);
    EXPECT_EQ(a.rule, Rule::G1);
    w.run_for(10);
  }
  EXPECT_TRUE(w.observed().unlocks.empty());
  EXPECT_TRUE(w.observed().locks.empty());
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_LOCKED);
  EXPECT_EQ(records(w, "decision", Rule::G1, "remote unlock from home_assistant refused"), 7);
  EXPECT_EQ(w.engine().door("front")->lockout_until, 0) << "remote refusals must not count toward G4";
  EXPECT_EQ(w.alarms_with("G4"), 0);
  // A courier's delivery still works afterwards.
  open_session(w);
}

TEST(RemoteCommand, G1_RemoteUnlockOfAnUnknownDoorIsRefusedWithoutARecord) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  const std::size_t before = w.audit().size();
  const auto a = w.engine().refuse_remote_unlock("nowhere", "home_assistant", "unlock", w.now());
  EXPECT_FALSE(a.accepted);
  w.run_for(1);
  EXPECT_EQ(w.audit().size(), before);
}

TEST(RemoteCommand, RemoteLockLocksAClosedUnlockedDoor) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  manual_unlock(w);
  const auto a = w.engine().request_remote_lock("front", "home_assistant", w.now());
  EXPECT_TRUE(a.accepted) << a.message;
  EXPECT_NE(a.operation_id, 0u);
  w.run_for(200);
  ASSERT_EQ(w.observed().locks.size(), 1u);
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_LOCKED);
  EXPECT_EQ(records(w, "decision", Rule::kNone, "remote lock from home_assistant: accepted"), 1);
  EXPECT_TRUE(w.observed().unlocks.empty());
}

TEST(RemoteCommand, RemoteLockOfALockedDoorSendsNothing) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  const auto a = w.engine().request_remote_lock("front", "home_assistant", w.now());
  EXPECT_TRUE(a.accepted);
  EXPECT_EQ(a.operation_id, 0u);
  w.run_for(100);
  EXPECT_TRUE(w.observed().locks.empty());
}

TEST(RemoteCommand, U8_RemoteLockIsRefusedWhileASessionIsOpen) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  open_session(w);
  const std::size_t locks = w.observed().locks.size();
  const auto a = w.engine().request_remote_lock("front", "home_assistant", w.now());
  EXPECT_FALSE(a.accepted);
  EXPECT_EQ(a.rule, Rule::U8);
  w.run_for(100);
  EXPECT_EQ(w.observed().locks.size(), locks);
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_UNLOCKED);
  EXPECT_EQ(records(w, "decision", Rule::U8, "refused, a session is open"), 1);
  // The session goes on and completes as ever (U8).
  w.open_door();
  w.run_for(500);
  w.close_door();
  w.run_for(300);
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_LOCKED);
  EXPECT_FALSE(w.engine().door("front")->session.has_value());
  EXPECT_TRUE(w.observed().alarms.empty());
}

TEST(RemoteCommand, U8_RemoteLockIsRefusedWithTheDoorOpen) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  manual_unlock(w);
  w.open_door();
  const auto a = w.engine().request_remote_lock("front", "home_assistant", w.now());
  EXPECT_FALSE(a.accepted);
  EXPECT_EQ(a.rule, Rule::U8);
  w.run_for(100);
  EXPECT_TRUE(w.observed().locks.empty());
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_UNLOCKED);
}

TEST(RemoteCommand, F1_RemoteLockIsRefusedWhileTheLockIsInFault) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  manual_unlock(w);
  w.engine().on_lock_fault("front", "plugin crashed", w.now());
  const auto a = w.engine().request_remote_lock("front", "home_assistant", w.now());
  EXPECT_FALSE(a.accepted);
  EXPECT_EQ(a.rule, Rule::F1);
  w.run_for(100);
  EXPECT_TRUE(w.observed().locks.empty());
}
