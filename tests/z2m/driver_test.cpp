// z2m_lock through the host loader, against the real broker and the
// Zigbee2MQTT emulator: every fault of the emulator gives the outcome
// plugins/z2m_lock/README.md documents.
#include "z2m_fixture.hpp"

namespace latchkey::testing {
namespace {

using Clock = std::chrono::steady_clock;

TEST_F(Z2mTest, OpensWithTheAnswersToGetAndDeclaresTheDoorSensor) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  EXPECT_EQ(state(), LK_LOCK_STATE_LOCKED);
  EXPECT_EQ(door(), LK_DOOR_STATE_CLOSED);
  EXPECT_GE(emulator_->gets(), 1u) << "the driver did not ask the lock with /get";
  const lk_lock_description d = describe();
  EXPECT_NE(d.flags & LK_LOCK_CAP_DOOR_SENSOR, 0u);
  EXPECT_EQ(d.max_actuation_ms, kDeclaredActuationMs);
}

TEST_F(Z2mTest, LockAndUnlockCompleteOnTheLockStateReport) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  const std::size_t from = recorder_.event_count();
  const auto start = Clock::now();
  const lk_lock_completion unlocked = run(true, 1);
  EXPECT_EQ(unlocked.result, LK_OK) << logs();
  EXPECT_EQ(unlocked.lock_state, LK_LOCK_STATE_UNLOCKED);
  // Not on the publish: the report comes after the bolt's travel.
  EXPECT_GE(Clock::now() - start, Millis(kActuationMs - 10));
  EXPECT_FALSE(emulator_->locked());
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_UNLOCKED, LK_SOURCE_REMOTE, from, kWait), 0)
      << "no Unlocked event with source Remote";
  const lk_lock_completion locked = run(false, 2);
  EXPECT_EQ(locked.result, LK_OK);
  EXPECT_EQ(locked.lock_state, LK_LOCK_STATE_LOCKED);
  EXPECT_EQ(state(), LK_LOCK_STATE_LOCKED);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_LOCKED, -1, from, kWait), 0);
  EXPECT_EQ(emulator_->commands(), 2u);
}

TEST_F(Z2mTest, F1_NoReport_CompletesWithTimeoutAndTheLockIsUnknown) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  emulator_->set_faults({0, true, false, false});
  const std::size_t from = recorder_.event_count();
  const auto start = Clock::now();
  const lk_lock_completion c = run(true, 1);
  EXPECT_EQ(c.result, LK_ERR_TIMEOUT) << logs();
  EXPECT_EQ(c.lock_state, LK_LOCK_STATE_UNKNOWN);
  EXPECT_GE(Clock::now() - start, Millis(kDeclaredActuationMs - 10)) << "completed before the declared actuation time";
  EXPECT_EQ(state(), LK_LOCK_STATE_UNKNOWN);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_UNKNOWN, -1, from, kWait), 0);
  // The bolt did move, but nobody reported it: the driver must not claim it.
  EXPECT_FALSE(emulator_->locked());
  EXPECT_FALSE(unlocked_event_since(from));
  // The driver asks where the bolt is (/get); once the lock answers, it is known.
  emulator_->clear_faults();
  EXPECT_TRUE(wait_state(LK_LOCK_STATE_UNLOCKED, Millis(5000))) << logs();
}

TEST_F(Z2mTest, F1_LateReport_TimesOutThenTheLateReportIsTaken) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  emulator_->set_faults({kDeclaredActuationMs + 400, false, false, false});
  const std::size_t from = recorder_.event_count();
  const lk_lock_completion c = run(true, 1);
  EXPECT_EQ(c.result, LK_ERR_TIMEOUT);
  EXPECT_EQ(c.lock_state, LK_LOCK_STATE_UNKNOWN);
  // The report, once it comes, is the truth again.
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_UNLOCKED, -1, from, kWait), 0) << logs();
  EXPECT_EQ(state(), LK_LOCK_STATE_UNLOCKED);
  EXPECT_EQ(recorder_.completion_count(1), 1u) << "the late report completed the operation a second time";
}

TEST_F(Z2mTest, F1_Jam_CompletesJammedWithTheJamAlarmAndNeverClaimsLocked) {
  Z2mEmulatorOptions o = emulator_options();
  o.locked = false;
  start_emulator(o);
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  ASSERT_EQ(state(), LK_LOCK_STATE_UNLOCKED);
  emulator_->set_faults({0, false, true, false});
  const std::size_t from = recorder_.event_count();
  const lk_lock_completion c = run(false, 1);
  EXPECT_EQ(c.result, LK_ERR_JAMMED) << logs();
  EXPECT_EQ(c.lock_state, LK_LOCK_STATE_NOT_FULLY_LOCKED);
  EXPECT_EQ(state(), LK_LOCK_STATE_NOT_FULLY_LOCKED);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, -1, from, kWait), 0);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_NOT_FULLY_LOCKED, -1, from, kWait), 0);
  EXPECT_LT(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_LOCKED, -1, from, Millis(0)), 0);
  // Cleared, the lock works again.
  emulator_->clear_faults();
  EXPECT_EQ(run(false, 2).result, LK_OK);
}

TEST_F(Z2mTest, JammedActionAloneIsAJam) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  const std::size_t from = recorder_.event_count();
  // A lock that says only "error_jammed" next to a lock_state it has not updated.
  emulator_->publish_raw("front_lock", R"({"action":"error_jammed","lock_state":"locked","state":"LOCK"})");
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, -1, from, kWait), 0) << logs();
  EXPECT_EQ(state(), LK_LOCK_STATE_NOT_FULLY_LOCKED);
}

TEST_F(Z2mTest, U8_LockedWhileTheContactIsOpen_IsReportedAsItIs) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  ASSERT_EQ(run(true, 1).result, LK_OK);
  const std::size_t from = recorder_.event_count();
  emulator_->lock_while_open();
  EXPECT_GE(recorder_.wait_event(LK_EVENT_DOOR_STATE, LK_DOOR_STATE_OPEN, -1, from, kWait), 0);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_LOCKED, LK_SOURCE_MANUAL, from, kWait), 0);
  // Both as reported: the hub's engine raises the inconsistency (U8), not the driver.
  EXPECT_EQ(state(), LK_LOCK_STATE_LOCKED);
  EXPECT_EQ(door(), LK_DOOR_STATE_OPEN);
}

TEST_F(Z2mTest, DoorStateFollowsTheContactSensor) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  const std::size_t from = recorder_.event_count();
  emulator_->open_door();
  EXPECT_GE(recorder_.wait_event(LK_EVENT_DOOR_STATE, LK_DOOR_STATE_OPEN, -1, from, kWait), 0);
  emulator_->close_door();
  EXPECT_GE(recorder_.wait_event(LK_EVENT_DOOR_STATE, LK_DOOR_STATE_CLOSED, -1, from, kWait), 0);
  EXPECT_EQ(door(), LK_DOOR_STATE_CLOSED);
}

TEST_F(Z2mTest, ManualTurnsAreReportedWithSourceManual) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  const std::size_t from = recorder_.event_count();
  emulator_->manual_unlock();
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_UNLOCKED, LK_SOURCE_MANUAL, from, kWait), 0);
  emulator_->manual_lock();
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_LOCKED, LK_SOURCE_MANUAL, from, kWait), 0);
}

TEST_F(Z2mTest, F1_SilentSensor_MakesTheDoorUnknown) {
  Z2mEmulatorOptions o = emulator_options();
  o.checkin_ms = 200;
  start_emulator(o);
  ASSERT_EQ(open(uri("&sensor_timeout_s=1")), LK_OK) << logs();
  // Check-ins keep the door known past the timeout.
  std::this_thread::sleep_for(Millis(1300));
  EXPECT_EQ(door(), LK_DOOR_STATE_CLOSED) << logs();
  const std::size_t from = recorder_.event_count();
  emulator_->set_faults({0, false, false, true});
  EXPECT_GE(recorder_.wait_event(LK_EVENT_DOOR_STATE, LK_DOOR_STATE_UNKNOWN, -1, from, Millis(2500)), 0) << logs();
  EXPECT_EQ(door(), LK_DOOR_STATE_UNKNOWN);
  EXPECT_TRUE(recorder_.logged("no report from zigbee2mqtt/front_contact"));
  // Reporting again, it is known again.
  emulator_->clear_faults();
  EXPECT_TRUE(wait_door(LK_DOOR_STATE_CLOSED));
}

TEST_F(Z2mTest, StaleRetainedStateAtConnectIsNotTheTruth) {
  Z2mEmulatorOptions o = emulator_options();
  o.locked = false;
  o.door_closed = false;
  o.stale_retained = true;  // the broker holds "locked" and "closed"
  start_emulator(o);
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  EXPECT_EQ(state(), LK_LOCK_STATE_UNLOCKED) << logs();
  EXPECT_EQ(door(), LK_DOOR_STATE_OPEN);
  EXPECT_TRUE(recorder_.logged("retained message on zigbee2mqtt/front_lock ignored"));
}

TEST_F(Z2mTest, F1_StaleRetainedStateAndNoAnswer_LeavesTheLockUnknown) {
  Z2mEmulatorOptions o = emulator_options();
  o.locked = false;
  o.stale_retained = true;  // the broker holds "locked"
  start_emulator(o);
  emulator_->set_faults({0, true, false, true});
  ASSERT_EQ(open(uri("&get_timeout_ms=300")), LK_OK) << logs();
  EXPECT_EQ(state(), LK_LOCK_STATE_UNKNOWN) << "a stale retained 'locked' was taken for the truth";
  EXPECT_EQ(door(), LK_DOOR_STATE_UNKNOWN);
  EXPECT_TRUE(recorder_.logged("no answer from zigbee2mqtt/front_lock to /get"));
  // The lock keeps being asked; once it answers, it is known.
  emulator_->clear_faults();
  EXPECT_TRUE(wait_state(LK_LOCK_STATE_UNLOCKED)) << logs();
}

TEST_F(Z2mTest, F1_BrokerLinkLost_LockAndDoorUnknownUntilAnsweredAgain) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  const std::size_t from = recorder_.event_count();
  broker_->kill();
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_UNKNOWN, -1, from, kWait), 0) << logs();
  EXPECT_EQ(door(), LK_DOOR_STATE_UNKNOWN);
  EXPECT_EQ(lock_->lock(1, recorder_.completion()), LK_ERR_IO) << "a command was accepted with no broker";
  broker_->start();
  EXPECT_TRUE(wait_state(LK_LOCK_STATE_LOCKED, Millis(8000))) << logs();
  EXPECT_TRUE(wait_door(LK_DOOR_STATE_CLOSED));
}

TEST_F(Z2mTest, U4_RelockCapabilityOnlyWhenTheLockExposesAutoRelockTime) {
  Z2mEmulatorOptions o = emulator_options();
  o.exposes_auto_relock = false;
  start_emulator(o);
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  lk_lock_description d = describe();
  EXPECT_EQ(d.flags & LK_LOCK_CAP_RELOCK_DEADLINE, 0u);
  EXPECT_EQ(d.max_relock_deadline_ms, 0u);
  // The hub relocks: an unlock with a deadline still works and sets nothing.
  EXPECT_EQ(run(true, 1, 2000).result, LK_OK);

  lock_.reset();
  emulator_.reset();
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  d = describe();
  EXPECT_NE(d.flags & LK_LOCK_CAP_RELOCK_DEADLINE, 0u);
  EXPECT_EQ(d.max_relock_deadline_ms, 300'000u);
}

TEST_F(Z2mTest, U4_UnlockSetsAutoRelockTimeFromTheDeadlineAndTheLockRelocks) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  const std::size_t from = recorder_.event_count();
  const auto start = Clock::now();
  ASSERT_EQ(run(true, 1, 1200).result, LK_OK) << logs();
  EXPECT_EQ(emulator_->auto_relock_time_s(), 2u) << "1200 ms rounds up to 2 s, never down";
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_LOCKED, LK_SOURCE_AUTO, from, Millis(4000)), 0)
      << logs();
  EXPECT_GE(Clock::now() - start, Millis(1200)) << "relocked before the deadline";
  // Beyond the declared maximum: refused, nothing sent.
  EXPECT_EQ(lock_->unlock(unlock_params(2, 300'001), recorder_.completion()), LK_ERR_INVALID_ARGUMENT);
}

TEST_F(Z2mTest, WrongPasswordIsRefusedAtOpen) {
  start_emulator();
  const std::string bad = (broker_->dir() / "wrong-password").string();
  {
    std::ofstream out(bad);
    out << "not-the-password\n";
  }
  std::filesystem::permissions(bad, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string u = "mqtt://127.0.0.1:" + std::to_string(broker_->port()) +
                        "/front_lock?contact_sensor=front_contact&password_file=" + bad;
  EXPECT_EQ(open(u), LK_ERR_IO);
  EXPECT_TRUE(recorder_.logged("refused user 'hub'")) << logs();
}

TEST_F(Z2mTest, BusyWhileAnOperationRuns) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  ASSERT_EQ(lock_->unlock(unlock_params(1), recorder_.completion()), LK_OK);
  EXPECT_EQ(lock_->lock(2, recorder_.completion()), LK_ERR_BUSY);
  EXPECT_TRUE(recorder_.wait_completion(1, kWait));
}

TEST_F(Z2mTest, CloseFiresThePendingCompletion) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  emulator_->set_faults({0, true, false, false});
  ASSERT_EQ(lock_->unlock(unlock_params(1), recorder_.completion()), LK_OK);
  lock_.reset();
  lk_lock_completion c{};
  ASSERT_TRUE(recorder_.wait_completion(1, Millis(0), &c));
  EXPECT_EQ(c.result, LK_ERR_CLOSED);
}

}  // namespace
}  // namespace latchkey::testing
