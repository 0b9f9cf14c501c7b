// TC-LOCK: a lock device tells the truth about its bolt and door, on time.
#include "support.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace latchkey::certify {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> needs_lock(const Subject& s, const std::string&) {
  if (!s.loaded()) return "the host refused the plugin (TC-ABI-1.3)";
  if (!s.offers_lock()) return std::string(kNotApplicablePrefix) + "the plugin offers no lock interface";
  return std::nullopt;
}

lk_lock_description describe(host::LockDevice& lock) {
  lk_lock_description d{};
  d.struct_size = sizeof d;
  EXPECT_EQ(lock.describe(&d), LK_OK) << "describe failed";
  return d;
}

lk_lock_state current_state(host::LockDevice& lock) {
  lk_lock_state s = LK_LOCK_STATE_UNKNOWN;
  EXPECT_EQ(lock.lock_state(&s), LK_OK) << "get_lock_state failed";
  return s;
}

// Brings the bolt to a known state first.
void settle(host::LockDevice& lock, Completions& done, const lk_lock_description& d, bool unlocked, uint64_t op) {
  run_lock_operation(lock, done, unlocked, op, 0, operation_timeout(d));
}

bool test_control_plays(const Subject& s) {
  const auto* tc = s.plugin->test_control_interface();
  return tc != nullptr && tc->physical_action != nullptr;
}

void truthful_state(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  ASSERT_TRUE(lock);
  const auto d = describe(*lock);
  Completions done;
  uint64_t op = 1000;
  for (int round = 0; round < 2; ++round) {
    for (bool unlock : {true, false}) {
      const lk_lock_state want = unlock ? LK_LOCK_STATE_UNLOCKED : LK_LOCK_STATE_LOCKED;
      const auto c = run_lock_operation(*lock, done, unlock, ++op, 0, operation_timeout(d));
      ASSERT_TRUE(c);
      EXPECT_EQ(c->result, LK_OK) << (unlock ? "unlock" : "lock") << " completed " << host::result_name(c->result);
      EXPECT_EQ(c->lock_state, want) << "the completion reports " << lock_state_text(c->lock_state) << " after "
                                     << (unlock ? "unlock" : "lock");
      EXPECT_EQ(current_state(*lock), want) << "get_lock_state disagrees with the completed " << (unlock ? "unlock" : "lock");
    }
  }
}

void timely_state(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  ASSERT_TRUE(lock);
  const auto d = describe(*lock);
  EXPECT_GT(d.max_actuation_ms, 0u) << "describe declares max_actuation_ms 0";
  Completions done;
  settle(*lock, done, d, false, 2000);
  const double allowed = static_cast<double>(d.max_actuation_ms) + 500.0;  // margin for a loaded machine
  uint64_t op = 2000;
  for (bool unlock : {true, false}) {
    const auto start = Clock::now();
    const auto c = run_lock_operation(*lock, done, unlock, ++op, 0, operation_timeout(d));
    ASSERT_TRUE(c);
    const double took = ms_since(start);
    EXPECT_LE(took, allowed) << (unlock ? "unlock" : "lock") << " took " << took << " ms; the lock declares max_actuation_ms "
                             << d.max_actuation_ms;
  }
}

void idempotent(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  ASSERT_TRUE(lock);
  const auto d = describe(*lock);
  Completions done;
  uint64_t op = 3000;
  for (bool unlock : {false, true}) {
    const lk_lock_state want = unlock ? LK_LOCK_STATE_UNLOCKED : LK_LOCK_STATE_LOCKED;
    settle(*lock, done, d, unlock, ++op);
    const auto again = run_lock_operation(*lock, done, unlock, ++op, 0, operation_timeout(d));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->result, LK_OK) << (unlock ? "unlocking an unlocked" : "locking a locked") << " lock completed "
                                    << host::result_name(again->result);
    EXPECT_EQ(again->lock_state, want);
    EXPECT_EQ(current_state(*lock), want);
  }
  settle(*lock, done, d, false, ++op);
}

std::optional<std::string> needs_relock(const Subject& s, const std::string& uri) {
  if (auto r = needs_lock(s, uri)) return r;
  EventLog log;
  std::unique_ptr<host::LockDevice> lock;
  if (open_device(s, uri, log.hooks(), &lock) != LK_OK) return std::nullopt;  // the case reports it
  lk_lock_description d{};
  d.struct_size = sizeof d;
  lock->describe(&d);
  if ((d.flags & LK_LOCK_CAP_RELOCK_DEADLINE) == 0)
    return std::string(kNotApplicablePrefix) + "the lock does not declare LK_LOCK_CAP_RELOCK_DEADLINE (the hub relocks, docs/rules.md U4)";
  return std::nullopt;
}

void relock_deadline(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  ASSERT_TRUE(lock);
  const auto d = describe(*lock);
  Completions done;
  settle(*lock, done, d, false, 4000);
  // Beyond the declared maximum: refused, never completed.
  if (d.max_relock_deadline_ms < UINT32_MAX) {
    lk_unlock_params p{};
    p.struct_size = sizeof p;
    p.operation_id = 4001;
    p.relock_deadline_ms = d.max_relock_deadline_ms + 1;
    lk_result r = lock->unlock(p, done.handler());
    if (r == LK_OK && ctx.subject.mode == isolation::PluginMode::kIsolated) {
      // An isolated device accepts the call and hands the plugin's refusal back as its completion (device_api.hpp).
      if (const auto c = done.wait(p.operation_id, operation_timeout(d)); c && c->result != LK_OK) r = c->result;
    }
    EXPECT_EQ(r, LK_ERR_INVALID_ARGUMENT) << "a relock deadline above max_relock_deadline_ms was not refused";
  }
  const uint32_t deadline_ms = std::min<uint32_t>(300, d.max_relock_deadline_ms);
  const std::size_t from = log.size();
  const auto start = Clock::now();
  const auto c = run_lock_operation(*lock, done, true, 4002, deadline_ms, operation_timeout(d));
  ASSERT_TRUE(c);
  ASSERT_EQ(c->result, LK_OK);
  const bool relocked = log.wait_kind(LK_EVENT_LOCK_STATE, LK_LOCK_STATE_LOCKED,
                                      milliseconds(deadline_ms + d.max_actuation_ms + 1500), from);
  const double took = ms_since(start);
  EXPECT_TRUE(relocked) << "no Locked event within " << deadline_ms << " ms deadline + actuation + 1.5 s margin (docs/rules.md U4)";
  if (relocked) {
    EXPECT_GE(took, deadline_ms * 0.9) << "relocked after " << took << " ms, before the " << deadline_ms << " ms deadline";
    EXPECT_EQ(current_state(*lock), LK_LOCK_STATE_LOCKED);
  }
}

std::optional<std::string> needs_jam(const Subject& s, const std::string& uri) {
  if (auto r = needs_lock(s, uri)) return r;
  const auto* tc = s.plugin->test_control_interface();
  if (tc == nullptr || tc->inject_fault == nullptr) return std::string(kNeedsTestControlPrefix) + "the plugin offers no test control to jam the bolt";
  return std::nullopt;
}

void jam_reporting(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  ASSERT_TRUE(lock);
  const auto d = describe(*lock);
  Completions done;
  settle(*lock, done, d, true, 5000);
  const lk_result injected = lock->inject_fault(LK_FAULT_LOCK_JAM, 0);
  if (injected == LK_ERR_UNSUPPORTED) GTEST_SKIP() << "the lock cannot play LK_FAULT_LOCK_JAM";
  ASSERT_EQ(injected, LK_OK);
  const std::size_t from = log.size();
  const auto c = run_lock_operation(*lock, done, false, 5001, 0, operation_timeout(d));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->result, LK_ERR_JAMMED) << "a jammed lock completed " << host::result_name(c->result);
  EXPECT_NE(c->lock_state, LK_LOCK_STATE_LOCKED) << "the jammed operation's completion claims Locked";
  EXPECT_TRUE(log.wait_kind(LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, 1s, from)) << "no LockJammed alarm event";
  const lk_lock_state now = current_state(*lock);
  EXPECT_NE(now, LK_LOCK_STATE_LOCKED) << "get_lock_state claims Locked while the bolt is jammed";
  const auto entries = log.entries();
  for (std::size_t i = from; i < entries.size(); ++i)
    if (entries[i].event.kind == LK_EVENT_LOCK_STATE && entries[i].event.value == LK_LOCK_STATE_LOCKED) {
      ADD_FAILURE() << "the lock reported Locked while its bolt was jammed (reported before the bolt moved)";
      break;
    }
  EXPECT_EQ(lock->clear_faults(), LK_OK);
  const auto recovered = run_lock_operation(*lock, done, false, 5002, 0, operation_timeout(d));
  ASSERT_TRUE(recovered);
  EXPECT_EQ(recovered->result, LK_OK) << "after clear_faults the lock still fails: " << host::result_name(recovered->result);
}

void door_reporting(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  ASSERT_TRUE(lock);
  const auto d = describe(*lock);
  lk_door_state door = 0xDEAD;
  ASSERT_EQ(lock->door_state(&door), LK_OK);
  if ((d.flags & LK_LOCK_CAP_DOOR_SENSOR) == 0) {
    EXPECT_EQ(door, LK_DOOR_STATE_UNKNOWN) << "a lock without LK_LOCK_CAP_DOOR_SENSOR reports door " << door_state_text(door);
    return;
  }
  const bool automated = test_control_plays(ctx.subject);
  for (lk_physical_action action : {LK_ACTION_DOOR_OPEN, LK_ACTION_DOOR_CLOSE}) {
    const lk_door_state want = action == LK_ACTION_DOOR_OPEN ? LK_DOOR_STATE_OPEN : LK_DOOR_STATE_CLOSED;
    const std::size_t from = log.size();
    if (automated) {
      const lk_result r = lock->physical_action(action);
      if (r == LK_ERR_UNSUPPORTED) GTEST_SKIP() << "the lock's test control cannot open and close the door";
      ASSERT_EQ(r, LK_OK);
    } else if (!confirm_manual_step(ctx.subject, want == LK_DOOR_STATE_OPEN ? "Open the door." : "Close the door.")) {
      return;
    }
    EXPECT_TRUE(log.wait_kind(LK_EVENT_DOOR_STATE, want, 2s, from)) << "no door state event " << door_state_text(want);
    ASSERT_EQ(lock->door_state(&door), LK_OK);
    EXPECT_EQ(door, want) << "get_door_state says " << door_state_text(door);
  }
}

void event_per_change(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  ASSERT_TRUE(lock);
  const auto d = describe(*lock);
  Completions done;
  settle(*lock, done, d, false, 6000);
  std::this_thread::sleep_for(100ms);
  uint64_t op = 6000;
  for (bool unlock : {true, false, true, false}) {
    const lk_lock_state want = unlock ? LK_LOCK_STATE_UNLOCKED : LK_LOCK_STATE_LOCKED;
    const std::size_t from = log.size();
    const auto c = run_lock_operation(*lock, done, unlock, ++op, 0, operation_timeout(d));
    ASSERT_TRUE(c);
    EXPECT_TRUE(log.wait_kind(LK_EVENT_LOCK_STATE, want, 1s, from))
        << "the bolt changed to " << lock_state_text(want) << " without a lock state event";
  }
  if (test_control_plays(ctx.subject)) {
    const std::size_t from = log.size();
    if (lock->physical_action(LK_ACTION_MANUAL_UNLOCK) == LK_OK) {
      EXPECT_TRUE(log.wait_for(
          [&](const auto& all) {
            for (std::size_t i = from; i < all.size(); ++i)
              if (all[i].event.kind == LK_EVENT_LOCK_STATE && all[i].event.value == LK_LOCK_STATE_UNLOCKED &&
                  all[i].event.detail == LK_SOURCE_MANUAL)
                return true;
            return false;
          },
          1s))
          << "a manual unlock raised no Unlocked event with source Manual";
      lock->physical_action(LK_ACTION_MANUAL_LOCK);
    }
  }
}

void manual_thumb_turn(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  ASSERT_TRUE(lock);
  const std::size_t from = log.size();
  if (test_control_plays(ctx.subject)) {
    // The test build turns it (the reference lock, a vendor's test build); a real lock needs the person.
    for (lk_physical_action turn : {LK_ACTION_MANUAL_UNLOCK, LK_ACTION_MANUAL_LOCK}) {
      ASSERT_EQ(lock->physical_action(turn), LK_OK) << "the lock's test control did not turn the thumb-turn";
      std::this_thread::sleep_for(200ms);
    }
    log.wait_for(
        [&](const auto& all) {
          for (std::size_t i = from; i < all.size(); ++i)
            if (all[i].event.kind == LK_EVENT_LOCK_STATE && all[i].event.value == LK_LOCK_STATE_LOCKED) return true;
          return false;
        },
        1s);
  } else if (!confirm_manual_step(ctx.subject, "Turn the thumb-turn by hand to unlocked, then back to locked.")) {
    return;
  }
  const auto entries = log.entries();
  bool unlocked = false, locked = false;
  for (std::size_t i = from; i < entries.size(); ++i) {
    if (entries[i].event.kind != LK_EVENT_LOCK_STATE) continue;
    unlocked |= entries[i].event.value == LK_LOCK_STATE_UNLOCKED;
    locked |= unlocked && entries[i].event.value == LK_LOCK_STATE_LOCKED;
  }
  EXPECT_TRUE(unlocked && locked) << "the manual turns were not both reported as lock state events";
}

}  // namespace

void add_lock_cases(std::vector<CaseDef>& c) {
  c.push_back({"TC-LOCK-1.1", "After each completed lock and unlock, the completion and get_lock_state report the new bolt state",
               "abi.md 7 Lock interface", Scope::kLock, needs_lock, truthful_state});
  c.push_back({"TC-LOCK-1.2", "Lock and unlock complete within the declared max_actuation_ms (plus 500 ms margin)",
               "abi.md 7 Lock interface (describe)", Scope::kLock, needs_lock, timely_state});
  c.push_back({"TC-LOCK-2.1", "Locking a locked lock and unlocking an unlocked one complete LK_OK",
               "abi.md 7 Lock interface (lock)", Scope::kLock, needs_lock, idempotent});
  c.push_back({"TC-LOCK-3.1", "The lock relocks by itself at the relock deadline and refuses one beyond its maximum",
               "docs/rules.md U4", Scope::kLock, needs_relock, relock_deadline});
  c.push_back({"TC-LOCK-4.1", "A jam completes LK_ERR_JAMMED with a LockJammed alarm and never claims Locked",
               "abi.md 7 Lock interface", Scope::kLock, needs_jam, jam_reporting});
  c.push_back({"TC-LOCK-4.2", "Door opening and closing are reported as events and by get_door_state (Unknown without a sensor)",
               "abi.md 7 Lock interface (get_door_state)", Scope::kLock, needs_lock, door_reporting});
  c.push_back({"TC-LOCK-5.1", "Every change of the bolt raises a lock state event, with source Manual for a manual turn",
               "abi.md 7 Lock interface", Scope::kLock, needs_lock, event_per_change});
  CaseDef manual{"TC-LOCK-6.1", "A person turns the thumb-turn (test control turns it where offered): both changes are reported with events",
                 "abi.md 7 Lock interface", Scope::kLock, needs_lock, manual_thumb_turn};
  manual.manual = true;
  c.push_back(manual);
}

}  // namespace latchkey::certify
