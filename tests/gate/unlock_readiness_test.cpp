// GateEngine::unlock_refusal: what the status page and GET /v1/doors show as
// a door's remote-unlock state comes from the engine's own admission checks,
// so it names the rule an unlock request would be denied for right now (U1
// with the camera that is not LIVE, G4 during a lockout, U6 during a
// session), and says nothing once a valid grant would be admitted.
#include "sim_world.hpp"

#include <latchkey/lk_lock.h>

#include <gtest/gtest.h>

using latchkey::sim::SimWorld;

namespace {

SimWorld::Options options(uint64_t seed = 11) {
  SimWorld::Options o;
  o.seed = seed;
  return o;
}

std::string rule_of(const std::optional<latchkey::gate::UnlockRefusal>& r) {
  return r ? std::string(latchkey::name(r->rule)) : "(ready)";
}

std::optional<latchkey::gate::Decision> decide(SimWorld& w, uint64_t id) {
  for (int i = 0; i < 500 && !w.decision(id); ++i) w.run_for(10);
  return w.decision(id);
}

TEST(UnlockReadiness, U1_NamesTheCameraThatIsNotLiveAndTheRequestIsDeniedForIt) {
  auto o = options();
  o.cameras = 2;
  SimWorld w(o);
  // Before any attestation: no camera is LIVE yet.
  EXPECT_EQ(rule_of(w.engine().unlock_refusal("front", w.now())), "U1");
  ASSERT_TRUE(w.warm_up());
  EXPECT_EQ(rule_of(w.engine().unlock_refusal("front", w.now())), "(ready)");
  w.camera(1).offline = true;
  w.run_for(1'100);
  const auto refusal = w.engine().unlock_refusal("front", w.now());
  ASSERT_EQ(rule_of(refusal), "U1");
  EXPECT_NE(refusal->message.find("'" + w.camera_id(1) + "' is not LIVE"), std::string::npos) << refusal->message;
  const auto d = decide(w, w.request_with(w.mint()));
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(latchkey::name(d->rule), std::string("U1"));
  EXPECT_EQ(d->message, refusal->message);
}

TEST(UnlockReadiness, G4_DuringALockoutEvenWithEveryCameraLive) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  for (int i = 0; i < 5; ++i) decide(w, w.request_with(w.forge()));
  ASSERT_TRUE(w.warm_up());
  EXPECT_EQ(rule_of(w.engine().unlock_refusal("front", w.now())), "G4");
  w.run_for(61'000);
  ASSERT_TRUE(w.warm_up());
  EXPECT_EQ(rule_of(w.engine().unlock_refusal("front", w.now())), "(ready)");
}

TEST(UnlockReadiness, U6_WhileASessionIsUnderWayAndReadyAgainAfterIt) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  const auto d = decide(w, w.request_with(w.mint()));
  ASSERT_TRUE(d && d->allowed);
  EXPECT_EQ(rule_of(w.engine().unlock_refusal("front", w.now())), "U6");
  w.run_for(100);  // the bolt moves
  ASSERT_EQ(w.observed().unlocks.size(), 1u);
  w.open_door();
  w.run_for(2'000);
  w.close_door();
  w.run_for(500);
  ASSERT_TRUE(w.warm_up());
  EXPECT_EQ(rule_of(w.engine().unlock_refusal("front", w.now())), "(ready)");
}

TEST(UnlockReadiness, AnUnknownDoorHasNoState) {
  SimWorld w(options());
  EXPECT_FALSE(w.engine().unlock_refusal("nowhere", w.now()));
}

// U4 at start: a lock that enforces relock deadlines itself must take the one
// every unlock carries; a lock without the capability ignores it (abi.md 7.4).
TEST(RelockDeadline, U4_ALockThatWouldRefuseTheHubsDeadlineIsNamed) {
  EXPECT_EQ(latchkey::gate::relock_deadline_problem(LK_LOCK_CAP_RELOCK_DEADLINE, 60'000, 60'000), "");
  EXPECT_EQ(latchkey::gate::relock_deadline_problem(LK_LOCK_CAP_RELOCK_DEADLINE | LK_LOCK_CAP_DOOR_SENSOR, 300'000, 60'000), "");
  EXPECT_EQ(latchkey::gate::relock_deadline_problem(LK_LOCK_CAP_RELOCK_DEADLINE, 59'999, 60'000),
            "accepts relock deadlines up to 59999 ms, but [gate] relock_deadline_ms is 60000 (U4): "
            "every unlock would be refused");
  EXPECT_NE(latchkey::gate::relock_deadline_problem(LK_LOCK_CAP_RELOCK_DEADLINE, 0, 5'000), "");
  EXPECT_EQ(latchkey::gate::relock_deadline_problem(0, 0, 60'000), "");
  EXPECT_EQ(latchkey::gate::relock_deadline_problem(LK_LOCK_CAP_DOOR_SENSOR, 1'000, 60'000), "");
}

}  // namespace
