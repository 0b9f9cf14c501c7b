// Lock drivers through real shared-library loading (latchkey::host).
//
// The plugin comes from LATCHKEY_LOCK_PLUGIN (default: the built lk_sim_lock)
// and the device from LATCHKEY_LOCK_URI, so the same binary checks the
// simulated lock built with another toolchain and the plain C example driver.
// Cases that play the physical world or inject faults need the test control
// interface and are skipped when the plugin offers none.
// A list of cases over one driver contract: long by nature.
#include "event_recorder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

namespace latchkey::testing {
namespace {

using host::LockHandle;
using host::Plugin;
using Clock = std::chrono::steady_clock;

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

constexpr lk_lock_state kNoValue = 0xFFFFFFFFu;

class LockRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    host::LoadOptions options;
    options.log = recorder_.log_handler();
    plugin_ = Plugin::load(env_or("LATCHKEY_LOCK_PLUGIN", LATCHKEY_SIM_LOCK_PATH), options);
    ASSERT_NE(plugin_->lock_interface(), nullptr) << "plugin offers no lock interface";
    ASSERT_EQ(LockHandle::open(plugin_, uri_, recorder_.handler(), &lock_), LK_OK) << uri_;
    description_.struct_size = sizeof description_;
    ASSERT_EQ(lock_->describe(&description_), LK_OK);
    test_control_ = plugin_->test_control_interface() != nullptr;
    timeout_ = Millis(1000 + 4 * static_cast<long>(description_.max_actuation_ms));
  }

  bool is_sim_lock() const { return plugin_->identity().driver_id == "org.latchkey.sim-lock"; }

  // Runs one lock and waits for its completion.
  lk_lock_completion lock_and_wait(uint64_t operation_id) {
    lk_lock_completion completion{};
    EXPECT_EQ(lock_->lock(operation_id, recorder_.completion()), LK_OK);
    EXPECT_TRUE(recorder_.wait_completion(operation_id, timeout_, &completion)) << "lock " << operation_id;
    return completion;
  }

  lk_lock_completion unlock_and_wait(uint64_t operation_id, uint32_t relock_deadline_ms = 0) {
    lk_lock_completion completion{};
    EXPECT_EQ(lock_->unlock(unlock_params(operation_id, relock_deadline_ms), recorder_.completion()), LK_OK);
    EXPECT_TRUE(recorder_.wait_completion(operation_id, timeout_, &completion)) << "unlock " << operation_id;
    return completion;
  }

  static lk_unlock_params unlock_params(uint64_t operation_id, uint32_t relock_deadline_ms) {
    lk_unlock_params params{};
    params.struct_size = sizeof params;
    params.operation_id = operation_id;
    params.relock_deadline_ms = relock_deadline_ms;
    return params;
  }

  lk_lock_state state() {
    lk_lock_state s = kNoValue;
    EXPECT_EQ(lock_->lock_state(&s), LK_OK);
    return s;
  }

  lk_door_state door() {
    lk_door_state d = kNoValue;
    EXPECT_EQ(lock_->door_state(&d), LK_OK);
    return d;
  }

  const std::string uri_ = env_or("LATCHKEY_LOCK_URI", "sim://lock/front?actuation_ms=10&max_relock_ms=300000");
  EventRecorder recorder_;
  std::shared_ptr<Plugin> plugin_;
  std::unique_ptr<LockHandle> lock_;
  lk_lock_description description_{};
  bool test_control_ = false;
  Millis timeout_{1000};
};

// Cases that drive the simulated world: the door, the thumb-turn, faults.
class SimLock : public LockRoundTrip {};

#define REQUIRE_TEST_CONTROL()                                                            \
  do {                                                                                    \
    if (!test_control_) GTEST_SKIP() << "plugin offers no test control interface";        \
  } while (false)

// Drivers may offer test control for only some faults and actions
// (lk_test_control.h): a case needing one they lack is skipped, not failed.
#define INJECT_OR_SKIP(fault, parameter)                                                  \
  do {                                                                                    \
    const lk_result injected_ = lock_->inject_fault(fault, parameter);                    \
    if (injected_ == LK_ERR_UNSUPPORTED) GTEST_SKIP() << #fault " is not supported";      \
    ASSERT_EQ(injected_, LK_OK);                                                          \
  } while (false)

#define ACT_OR_SKIP(action)                                                               \
  do {                                                                                    \
    const lk_result acted_ = lock_->physical_action(action);                              \
    if (acted_ == LK_ERR_UNSUPPORTED) GTEST_SKIP() << #action " is not supported";        \
    ASSERT_EQ(acted_, LK_OK);                                                             \
  } while (false)

#define REQUIRE_RELOCK_DEADLINE()                                                         \
  do {                                                                                    \
    if (!(description_.flags & LK_LOCK_CAP_RELOCK_DEADLINE))                              \
      GTEST_SKIP() << "no relock deadline capability";                                    \
  } while (false)

bool remote_source(uint32_t source) { return source == LK_SOURCE_REMOTE || source == LK_SOURCE_PROPRIETARY_REMOTE; }

TEST_F(LockRoundTrip, Describe_ReportsActuationTimeAndIdentity) {
  EXPECT_GT(description_.max_actuation_ms, 0u);
  EXPECT_FALSE(plugin_->identity().vendor.empty());
  if (description_.flags & LK_LOCK_CAP_RELOCK_DEADLINE) {
    EXPECT_GT(description_.max_relock_deadline_ms, 0u);
  }
  if (is_sim_lock()) {
    EXPECT_EQ(plugin_->identity().vendor, "Latchkey");
    // Only this build's own sim_lock carries this build's version; a rebuild
    // with another toolchain may stamp its own.
    if (std::getenv("LATCHKEY_LOCK_PLUGIN") == nullptr) {
      EXPECT_EQ(plugin_->identity().driver_version, LATCHKEY_PROJECT_VERSION);
    }
    EXPECT_EQ(description_.flags, LK_LOCK_CAP_DOOR_SENSOR | LK_LOCK_CAP_RELOCK_DEADLINE);
  }
}

TEST_F(LockRoundTrip, LockUnlockCycles_ReportStatesAndEvents) {
  lock_and_wait(1);
  for (uint64_t cycle = 0; cycle < 3; ++cycle) {
    const std::size_t before_unlock = recorder_.event_count();
    const lk_lock_completion unlocked = unlock_and_wait(10 + 2 * cycle);
    EXPECT_EQ(unlocked.result, LK_OK);
    EXPECT_EQ(unlocked.operation_id, 10 + 2 * cycle);
    EXPECT_EQ(unlocked.lock_state, LK_LOCK_STATE_UNLOCKED);
    EXPECT_EQ(state(), LK_LOCK_STATE_UNLOCKED);
    const long unlock_event = recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_UNLOCKED, -1, before_unlock, timeout_);
    ASSERT_GE(unlock_event, 0) << "no LOCK_STATE Unlocked event";
    EXPECT_TRUE(remote_source(recorder_.events()[static_cast<std::size_t>(unlock_event)].detail));

    const std::size_t before_lock = recorder_.event_count();
    const lk_lock_completion locked = lock_and_wait(11 + 2 * cycle);
    EXPECT_EQ(locked.result, LK_OK);
    EXPECT_EQ(locked.lock_state, LK_LOCK_STATE_LOCKED);
    EXPECT_EQ(state(), LK_LOCK_STATE_LOCKED);
    const long lock_event = recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_LOCKED, -1, before_lock, timeout_);
    ASSERT_GE(lock_event, 0) << "no LOCK_STATE Locked event";
    EXPECT_TRUE(remote_source(recorder_.events()[static_cast<std::size_t>(lock_event)].detail));
  }
}

TEST_F(LockRoundTrip, Completion_FiresExactlyOnce) {
  for (uint64_t op = 100; op < 106; ++op) {
    if (op % 2 == 0) {
      lock_and_wait(op);
    } else {
      unlock_and_wait(op);
    }
  }
  // Give a duplicate time to show up: two more actuation times.
  std::this_thread::sleep_for(Millis(2 * description_.max_actuation_ms + 20));
  for (uint64_t op = 100; op < 106; ++op) EXPECT_EQ(recorder_.completion_count(op), 1u) << "operation " << op;
  EXPECT_EQ(lock_->pending_operations(), 0u);
  const host::ContractViolations violations = lock_->violations();
  EXPECT_EQ(violations.duplicate_completions, 0u);
  EXPECT_EQ(violations.unknown_completions, 0u);
  EXPECT_EQ(violations.completions_after_failed_start, 0u);
}

TEST_F(LockRoundTrip, LockWhenLocked_CompletesOk) {
  lock_and_wait(1);
  const lk_lock_completion again = lock_and_wait(2);
  EXPECT_EQ(again.result, LK_OK);
  EXPECT_EQ(again.lock_state, LK_LOCK_STATE_LOCKED);
}

TEST_F(LockRoundTrip, UnlockWhenUnlocked_CompletesOk) {
  unlock_and_wait(1);
  const lk_lock_completion again = unlock_and_wait(2);
  EXPECT_EQ(again.result, LK_OK);
  EXPECT_EQ(again.lock_state, LK_LOCK_STATE_UNLOCKED);
}

TEST_F(LockRoundTrip, U4_RelocksByItselfAtDeadline) {
  REQUIRE_RELOCK_DEADLINE();
  const uint32_t deadline_ms = 150;
  if (description_.max_relock_deadline_ms < deadline_ms) GTEST_SKIP() << "maximum relock deadline below 150 ms";
  if (test_control_) lock_->physical_action(LK_ACTION_DOOR_CLOSE);  // where the driver can play it
  if (door() == LK_DOOR_STATE_OPEN) GTEST_SKIP() << "door is open and cannot be closed without test control";
  lock_and_wait(1);

  const std::size_t before = recorder_.event_count();
  ASSERT_EQ(unlock_and_wait(2, deadline_ms).result, LK_OK);
  const Clock::time_point unlocked_at = Clock::now();
  const long relock = recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_LOCKED, LK_SOURCE_AUTO, before,
                                           Millis(deadline_ms) + timeout_);
  ASSERT_GE(relock, 0) << "the lock did not relock by itself";
  const auto waited = std::chrono::duration_cast<Millis>(Clock::now() - unlocked_at);
  EXPECT_GE(waited.count(), deadline_ms - 30) << "relocked before the deadline";
  EXPECT_EQ(state(), LK_LOCK_STATE_LOCKED);
}

TEST_F(LockRoundTrip, U4_DeadlineAboveMaximumIsRefusedWithoutCompletion) {
  REQUIRE_RELOCK_DEADLINE();
  if (description_.max_relock_deadline_ms == UINT32_MAX) GTEST_SKIP() << "no deadline is above the maximum";
  const lk_unlock_params params = unlock_params(7, description_.max_relock_deadline_ms + 1);
  EXPECT_EQ(lock_->unlock(params, recorder_.completion()), LK_ERR_INVALID_ARGUMENT);
  std::this_thread::sleep_for(Millis(2 * description_.max_actuation_ms + 20));
  EXPECT_EQ(recorder_.completion_count(7), 0u);
  EXPECT_EQ(lock_->pending_operations(), 0u);
}

TEST_F(LockRoundTrip, Close_WithOperationInFlight_CompletesBeforeReturning) {
  ASSERT_EQ(lock_->unlock(unlock_params(5, 0), recorder_.completion()), LK_OK);
  lock_.reset();  // closes the device
  ASSERT_EQ(recorder_.completion_count(5), 1u) << "close returned before the pending completion fired";
  const std::size_t events_at_close = recorder_.event_count();
  std::this_thread::sleep_for(Millis(2 * description_.max_actuation_ms + 20));
  EXPECT_EQ(recorder_.completion_count(5), 1u);
  EXPECT_EQ(recorder_.event_count(), events_at_close) << "an event followed close";
}

// ---- Cases that need the test control interface ----------------------------

TEST_F(SimLock, DoorEvents_OnEveryChangeOnly) {
  REQUIRE_TEST_CONTROL();
  ACT_OR_SKIP(LK_ACTION_DOOR_CLOSE);
  const std::size_t before = recorder_.event_count();
  ACT_OR_SKIP(LK_ACTION_DOOR_OPEN);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_DOOR_STATE, LK_DOOR_STATE_OPEN, -1, before, timeout_), 0);
  EXPECT_EQ(door(), LK_DOOR_STATE_OPEN);
  const std::size_t after_open = recorder_.event_count();
  ACT_OR_SKIP(LK_ACTION_DOOR_OPEN);  // no change, no event
  ACT_OR_SKIP(LK_ACTION_DOOR_CLOSE);
  const long closed = recorder_.wait_event(LK_EVENT_DOOR_STATE, -1, -1, after_open, timeout_);
  ASSERT_GE(closed, 0);
  EXPECT_EQ(recorder_.events()[static_cast<std::size_t>(closed)].value, LK_DOOR_STATE_CLOSED);
  EXPECT_EQ(door(), LK_DOOR_STATE_CLOSED);
}

TEST_F(SimLock, ManualActions_ReportSourceManual) {
  REQUIRE_TEST_CONTROL();
  lock_and_wait(1);
  const std::size_t before = recorder_.event_count();
  ACT_OR_SKIP(LK_ACTION_MANUAL_UNLOCK);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_UNLOCKED, LK_SOURCE_MANUAL, before, timeout_), 0);
  ACT_OR_SKIP(LK_ACTION_MANUAL_LOCK);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_LOCKED, LK_SOURCE_MANUAL, before, timeout_), 0);
  EXPECT_EQ(state(), LK_LOCK_STATE_LOCKED);
}

TEST_F(SimLock, LockWithDoorOpen_ThrowsBolt) {
  REQUIRE_TEST_CONTROL();
  unlock_and_wait(1);
  ACT_OR_SKIP(LK_ACTION_DOOR_OPEN);
  // A real deadbolt can be thrown with the door open; the hub flags it (U8).
  EXPECT_EQ(lock_and_wait(2).result, LK_OK);
  EXPECT_EQ(state(), LK_LOCK_STATE_LOCKED);
  EXPECT_EQ(door(), LK_DOOR_STATE_OPEN);
}

TEST_F(SimLock, U4_RelockWaitsForDoorToClose) {
  REQUIRE_TEST_CONTROL();
  REQUIRE_RELOCK_DEADLINE();
  const uint32_t deadline_ms = 60;
  unlock_and_wait(1, deadline_ms);
  const std::size_t before = recorder_.event_count();
  ACT_OR_SKIP(LK_ACTION_DOOR_OPEN);
  // Past the deadline with the door open: the bolt stays retracted.
  EXPECT_LT(recorder_.wait_event(LK_EVENT_LOCK_STATE, -1, LK_SOURCE_AUTO, before, Millis(deadline_ms + 120)), 0);
  EXPECT_EQ(state(), LK_LOCK_STATE_UNLOCKED);
  ACT_OR_SKIP(LK_ACTION_DOOR_CLOSE);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_LOCKED, LK_SOURCE_AUTO, before, timeout_), 0);
  EXPECT_EQ(state(), LK_LOCK_STATE_LOCKED);
}

TEST_F(SimLock, U4_RemoteLockCancelsRelock) {
  REQUIRE_TEST_CONTROL();
  REQUIRE_RELOCK_DEADLINE();
  unlock_and_wait(1, 80);
  lock_and_wait(2);
  const std::size_t before = recorder_.event_count();
  EXPECT_LT(recorder_.wait_event(LK_EVENT_LOCK_STATE, -1, LK_SOURCE_AUTO, before, Millis(150)), 0);
}

TEST_F(SimLock, SecondOperationWhileBusy_IsRefused) {
  REQUIRE_TEST_CONTROL();
  if (!is_sim_lock()) GTEST_SKIP() << "busy policy is driver specific";
  ASSERT_EQ(lock_->unlock(unlock_params(1, 0), recorder_.completion()), LK_OK);
  EXPECT_EQ(lock_->lock(2, recorder_.completion()), LK_ERR_BUSY);
  EXPECT_TRUE(recorder_.wait_completion(1, timeout_));
  EXPECT_EQ(recorder_.completion_count(2), 0u);
}

TEST_F(SimLock, FaultJam_CompletesJammedWithAlarm) {
  REQUIRE_TEST_CONTROL();
  unlock_and_wait(1);
  INJECT_OR_SKIP(LK_FAULT_LOCK_JAM, 0);
  const std::size_t before = recorder_.event_count();
  const lk_lock_completion jammed = lock_and_wait(2);
  EXPECT_EQ(jammed.result, LK_ERR_JAMMED);
  EXPECT_EQ(jammed.lock_state, LK_LOCK_STATE_NOT_FULLY_LOCKED);
  EXPECT_EQ(state(), LK_LOCK_STATE_NOT_FULLY_LOCKED);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, -1, before, timeout_), 0);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_NOT_FULLY_LOCKED, -1, before, timeout_), 0);
  ASSERT_EQ(lock_->clear_faults(), LK_OK);
  EXPECT_EQ(lock_and_wait(3).result, LK_OK);
  EXPECT_EQ(state(), LK_LOCK_STATE_LOCKED);
}

TEST_F(SimLock, FaultLieState_ReportsTheLieWhateverTheBolt) {
  REQUIRE_TEST_CONTROL();
  lock_and_wait(1);
  INJECT_OR_SKIP(LK_FAULT_LOCK_LIE_STATE, LK_LOCK_STATE_LOCKED);
  const lk_lock_completion unlocked = unlock_and_wait(2);
  EXPECT_EQ(unlocked.result, LK_OK);
  EXPECT_EQ(unlocked.lock_state, LK_LOCK_STATE_LOCKED);
  EXPECT_EQ(state(), LK_LOCK_STATE_LOCKED);
  ASSERT_EQ(lock_->clear_faults(), LK_OK);
  EXPECT_EQ(state(), LK_LOCK_STATE_UNLOCKED);  // the bolt did move
}

TEST_F(SimLock, FaultUnresponsive_CallsTimeOutWithinCap) {
  REQUIRE_TEST_CONTROL();
  INJECT_OR_SKIP(LK_FAULT_LOCK_UNRESPONSIVE, 30);
  lk_lock_state s = 0;
  Clock::time_point start = Clock::now();
  EXPECT_EQ(lock_->lock_state(&s), LK_ERR_TIMEOUT);
  EXPECT_GE(Clock::now() - start, Millis(30));
  EXPECT_EQ(lock_->lock(1, recorder_.completion()), LK_ERR_TIMEOUT);

  INJECT_OR_SKIP(LK_FAULT_LOCK_UNRESPONSIVE, 5000);  // capped at 100 ms
  start = Clock::now();
  lk_door_state d = 0;
  EXPECT_EQ(lock_->door_state(&d), LK_ERR_TIMEOUT);
  const auto took = Clock::now() - start;
  EXPECT_GE(took, Millis(100));
  EXPECT_LT(took, Millis(1000));

  ASSERT_EQ(lock_->clear_faults(), LK_OK);
  EXPECT_EQ(lock_->lock_state(&s), LK_OK);
  std::this_thread::sleep_for(Millis(2 * description_.max_actuation_ms + 20));
  EXPECT_EQ(recorder_.completion_count(1), 0u) << "a failed start must never complete";
}

TEST_F(SimLock, FaultLateCompletion_FiresAfterTheBoltMoved) {
  REQUIRE_TEST_CONTROL();
  lock_and_wait(1);
  const long late_ms = 150;
  INJECT_OR_SKIP(LK_FAULT_LOCK_LATE_COMPLETION, late_ms);
  const std::size_t before = recorder_.event_count();
  ASSERT_EQ(lock_->unlock(unlock_params(2, 0), recorder_.completion()), LK_OK);
  ASSERT_GE(recorder_.wait_event(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_UNLOCKED, -1, before, timeout_), 0);
  const Clock::time_point moved_at = Clock::now();
  EXPECT_EQ(recorder_.completion_count(2), 0u);
  lk_lock_completion completion{};
  ASSERT_TRUE(recorder_.wait_completion(2, Millis(late_ms) + timeout_, &completion));
  EXPECT_GE(Clock::now() - moved_at, Millis(late_ms - 30));
  EXPECT_EQ(completion.result, LK_OK);
  EXPECT_EQ(completion.lock_state, LK_LOCK_STATE_UNLOCKED);
}

TEST_F(SimLock, FaultNoCompletion_CompletesOnceFaultsAreCleared) {
  REQUIRE_TEST_CONTROL();
  lock_and_wait(1);
  INJECT_OR_SKIP(LK_FAULT_LOCK_NO_COMPLETION, 0);
  ASSERT_EQ(lock_->unlock(unlock_params(2, 0), recorder_.completion()), LK_OK);
  EXPECT_FALSE(recorder_.wait_completion(2, Millis(5 * description_.max_actuation_ms + 50)));
  EXPECT_EQ(lock_->pending_operations(), 1u);
  ASSERT_EQ(lock_->clear_faults(), LK_OK);
  lk_lock_completion completion{};
  ASSERT_TRUE(recorder_.wait_completion(2, timeout_, &completion));
  EXPECT_EQ(completion.result, LK_OK);
  EXPECT_EQ(completion.lock_state, LK_LOCK_STATE_UNLOCKED);
  EXPECT_EQ(recorder_.completion_count(2), 1u);
}

TEST_F(SimLock, Close_WithHeldOperation_FiresClosed) {
  REQUIRE_TEST_CONTROL();
  INJECT_OR_SKIP(LK_FAULT_LOCK_NO_COMPLETION, 0);
  ASSERT_EQ(lock_->unlock(unlock_params(9, 0), recorder_.completion()), LK_OK);
  lock_.reset();
  ASSERT_EQ(recorder_.completion_count(9), 1u);
  lk_lock_completion completion{};
  ASSERT_TRUE(recorder_.wait_completion(9, Millis(0), &completion));
  EXPECT_EQ(completion.result, LK_ERR_CLOSED);
}

TEST_F(SimLock, Open_RefusesBadUriNamingTheKey) {
  if (!is_sim_lock()) GTEST_SKIP() << "URI syntax is driver specific";
  std::unique_ptr<LockHandle> other;
  EXPECT_EQ(LockHandle::open(plugin_, "sim://lock/back?colour=red", recorder_.handler(), &other),
            LK_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(recorder_.logged("colour"));
  EXPECT_EQ(LockHandle::open(plugin_, "sim://lock/back?actuation_ms=0", recorder_.handler(), &other),
            LK_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(recorder_.logged("actuation_ms"));
  EXPECT_EQ(LockHandle::open(plugin_, "sim://lock/back?actuation_ms=99999999999999999999999", recorder_.handler(), &other),
            LK_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(LockHandle::open(plugin_, "sim://camera/back", recorder_.handler(), &other), LK_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(LockHandle::open(plugin_, "sim://lock/", recorder_.handler(), &other), LK_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(LockHandle::open(plugin_, "file:///dev/null", recorder_.handler(), &other), LK_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(other, nullptr);
}

}  // namespace
}  // namespace latchkey::testing
