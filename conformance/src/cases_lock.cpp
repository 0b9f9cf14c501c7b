// TC-LOCK: a lock device tells the truth about its bolt and door, on time.
#include "support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace latchkey::certify {
namespace {

using namespace std::chrono_literals;

// TC-LOCK-1.2: the declared max_actuation_ms plus this tolerance, judged on the
// median of six operations so that one operation slowed by a loaded machine
// does not fail a correct lock. The tolerance is 100 ms or a quarter of the
// declared maximum, whichever is larger: an actuation 1.5 times a declared
// maximum above 200 ms fails.
constexpr int kActuationOperations = 6;
constexpr double kActuationToleranceMinMs = 100.0;
constexpr double kActuationToleranceShare = 0.25;

double actuation_tolerance_ms(uint32_t max_actuation_ms) {
  return std::max(kActuationToleranceMinMs, kActuationToleranceShare * max_actuation_ms);
}

// TC-LOCK-3.1: the relock deadline the case asks for (or the lock's maximum
// when that is shorter; whole seconds, so a lock that counts in seconds is not
// rounded), and the window its Locked event must arrive in, counted from the
// Unlocked event: no earlier than the deadline less kRelockEarlyMs (what the
// two events' delivery may differ by), no later than the deadline plus the
// declared max_actuation_ms (the relock moves the bolt) plus kRelockLateMs.
constexpr uint32_t kRelockDeadlineMs = 1000;
constexpr double kRelockEarlyMs = 150.0;
constexpr double kRelockLateMs = 300.0;
// How long after the window the case still watches, to tell the author how late the relock came.
constexpr double kRelockWatchBeyondMs = 2000.0;

std::string ms_text(double ms) { return std::to_string(static_cast<long long>(ms + 0.5)) + " ms"; }

const char* operation_text(bool unlock) { return unlock ? "unlock" : "lock"; }

std::optional<std::string> needs_lock(const Subject& s, const std::string&) {
  if (!s.loaded()) return "the host refused the plugin (TC-ABI-1.3)";
  if (!s.offers_lock()) return std::string(kNotApplicablePrefix) + "the plugin offers no lock interface";
  return std::nullopt;
}

lk_lock_description describe(host::LockDevice& lock) {
  lk_lock_description d{};
  d.struct_size = sizeof d;
  if (const lk_result r = lock.describe(&d); r != LK_OK)
    fail_case("describe failed", "LK_OK with the lock's flags and timings", host::result_name(r));
  return d;
}

lk_lock_state current_state(host::LockDevice& lock) {
  lk_lock_state s = LK_LOCK_STATE_UNKNOWN;
  if (const lk_result r = lock.lock_state(&s); r != LK_OK)
    fail_case("get_lock_state failed", "LK_OK with the bolt's state", host::result_name(r));
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
  if (!lock) return;
  const auto d = describe(*lock);
  Completions done;
  uint64_t op = 1000;
  for (int round = 0; round < 2; ++round) {
    for (bool unlock : {true, false}) {
      const lk_lock_state want = unlock ? LK_LOCK_STATE_UNLOCKED : LK_LOCK_STATE_LOCKED;
      const std::string what = operation_text(unlock);
      const auto c = run_lock_operation(*lock, done, unlock, ++op, 0, operation_timeout(d));
      if (!c) return;
      if (c->result != LK_OK)
        fail_case("the " + what + " did not succeed", "completion LK_OK", host::result_name(c->result));
      if (c->lock_state != want)
        fail_case("the " + what + "'s completion reports the wrong bolt state",
                  std::string("lock_state ") + lock_state_text(want), lock_state_text(c->lock_state));
      if (const lk_lock_state now = current_state(*lock); now != want)
        fail_case("get_lock_state disagrees with the completed " + what, lock_state_text(want), lock_state_text(now));
    }
  }
}

void timely_state(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  if (!lock) return;
  const auto d = describe(*lock);
  if (d.max_actuation_ms == 0)
    fail_case("describe declares max_actuation_ms 0", "the longest a lock or unlock takes, in ms (above 0)", "0");
  Completions done;
  settle(*lock, done, d, false, 2000);
  const double bound = d.max_actuation_ms + actuation_tolerance_ms(d.max_actuation_ms);
  std::vector<double> took;
  std::string each;
  uint64_t op = 2000;
  for (int i = 0; i < kActuationOperations; ++i) {
    const bool unlock = i % 2 == 0;
    const auto start = Clock::now();
    const auto c = run_lock_operation(*lock, done, unlock, ++op, 0, operation_timeout(d));
    if (!c) return;
    took.push_back(ms_since(start));
    each += (each.empty() ? "" : ", ") + std::string(operation_text(unlock)) + " " + ms_text(took.back());
  }
  std::vector<double> sorted = took;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  ::testing::Test::RecordProperty("measured", "median " + ms_text(median) + " (" + each + "); declared max_actuation_ms " +
                                                  std::to_string(d.max_actuation_ms) + ", bound " + ms_text(bound));
  if (median > bound)
    fail_case("lock and unlock take longer than the declared max_actuation_ms",
              "the median of " + std::to_string(kActuationOperations) + " operations within " +
                  std::to_string(d.max_actuation_ms) + " ms + " + ms_text(actuation_tolerance_ms(d.max_actuation_ms)) +
                  " tolerance = " + ms_text(bound) + " (call to completion)",
              "median " + ms_text(median) + " (" + each + ")");
}

void idempotent(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  if (!lock) return;
  const auto d = describe(*lock);
  Completions done;
  uint64_t op = 3000;
  for (bool unlock : {false, true}) {
    const lk_lock_state want = unlock ? LK_LOCK_STATE_UNLOCKED : LK_LOCK_STATE_LOCKED;
    const std::string what = unlock ? "unlocking an unlocked lock" : "locking a locked lock";
    settle(*lock, done, d, unlock, ++op);
    const auto again = run_lock_operation(*lock, done, unlock, ++op, 0, operation_timeout(d));
    if (!again) return;
    if (again->result != LK_OK)
      fail_case(what + " did not succeed", "completion LK_OK (abi.md 7: nothing to move is not an error)",
                host::result_name(again->result));
    if (again->lock_state != want)
      fail_case(what + " completed with the wrong bolt state", lock_state_text(want), lock_state_text(again->lock_state));
    if (const lk_lock_state now = current_state(*lock); now != want)
      fail_case("get_lock_state after " + what, lock_state_text(want), lock_state_text(now));
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
    return std::string(kNotApplicablePrefix) +
           "the lock does not declare LK_LOCK_CAP_RELOCK_DEADLINE (the hub relocks, docs/rules.md U4)";
  return std::nullopt;
}

// The first lock state event with `value` at or after index `from`.
std::optional<EventLog::Entry> first_state(const EventLog& log, lk_lock_state value, std::size_t from,
                                           std::size_t* index = nullptr) {
  const auto entries = log.entries();
  for (std::size_t i = from; i < entries.size(); ++i)
    if (entries[i].event.kind == LK_EVENT_LOCK_STATE && entries[i].event.value == value) {
      if (index) *index = i;
      return entries[i];
    }
  return std::nullopt;
}

void relock_deadline(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  if (!lock) return;
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
    if (r != LK_ERR_INVALID_ARGUMENT) {
      fail_case("an unlock with a relock deadline above max_relock_deadline_ms was not refused",
                "LK_ERR_INVALID_ARGUMENT for relock_deadline_ms " + std::to_string(p.relock_deadline_ms) +
                    " (max_relock_deadline_ms " + std::to_string(d.max_relock_deadline_ms) + ")",
                host::result_name(r));
      if (r == LK_OK) settle(*lock, done, d, false, 4003);
    }
  }
  if (d.max_relock_deadline_ms == 0) {
    fail_case("the lock declares LK_LOCK_CAP_RELOCK_DEADLINE with max_relock_deadline_ms 0",
              "the longest relock deadline it accepts, in ms (docs/rules.md U4: up to 300 s)", "0");
    return;
  }
  const uint32_t deadline_ms = std::min(kRelockDeadlineMs, d.max_relock_deadline_ms);
  const double earliest = deadline_ms - kRelockEarlyMs;
  const double latest = deadline_ms + static_cast<double>(d.max_actuation_ms) + kRelockLateMs;
  const std::string window = "a Locked event " + ms_text(earliest) + " to " + ms_text(latest) +
                             " after the Unlocked event (deadline " + std::to_string(deadline_ms) + " ms - " +
                             ms_text(kRelockEarlyMs) + ", + max_actuation_ms " + std::to_string(d.max_actuation_ms) +
                             " + " + ms_text(kRelockLateMs) + ")";
  const std::size_t from = log.size();
  const auto c = run_lock_operation(*lock, done, true, 4002, deadline_ms, operation_timeout(d));
  if (!c) return;
  const auto completed_at = Clock::now();
  if (c->result != LK_OK) {
    fail_case("the unlock with a relock deadline did not succeed", "completion LK_OK", host::result_name(c->result));
    return;
  }
  // The deadline runs from the bolt's retraction: its Unlocked event, or the completion when no event came.
  std::size_t unlocked_index = from;
  const auto unlocked = first_state(log, LK_LOCK_STATE_UNLOCKED, from, &unlocked_index);
  const Clock::time_point retracted = unlocked ? unlocked->at : completed_at;
  const std::size_t after = unlocked ? unlocked_index + 1 : from;
  const std::string reference = unlocked ? "the Unlocked event" : "the completion (no Unlocked event came)";
  const auto watch_until = retracted + milliseconds(static_cast<int64_t>(latest + kRelockWatchBeyondMs));
  log.wait_for(
      [&](const std::vector<EventLog::Entry>& all) {
        for (std::size_t i = after; i < all.size(); ++i)
          if (all[i].event.kind == LK_EVENT_LOCK_STATE && all[i].event.value == LK_LOCK_STATE_LOCKED) return true;
        return false;
      },
      std::chrono::duration_cast<milliseconds>(watch_until - Clock::now()));
  const auto relocked = first_state(log, LK_LOCK_STATE_LOCKED, after);
  if (!relocked) {
    fail_case("the lock did not relock by itself (docs/rules.md U4)", window,
              "no Locked event within " + ms_text(latest + kRelockWatchBeyondMs) + " of " + reference);
    return;
  }
  const double relock_ms = std::chrono::duration<double, std::milli>(relocked->at - retracted).count();
  ::testing::Test::RecordProperty("measured", "relocked " + ms_text(relock_ms) + " after " + reference + ", deadline " +
                                                  std::to_string(deadline_ms) + " ms");
  if (relock_ms < earliest)
    fail_case("the lock relocked before the relock deadline (docs/rules.md U4)", window,
              "Locked " + ms_text(relock_ms) + " after " + reference + ", " + ms_text(deadline_ms - relock_ms) +
                  " before the deadline");
  else if (relock_ms > latest)
    fail_case("the lock relocked late (docs/rules.md U4)", window,
              "Locked " + ms_text(relock_ms) + " after " + reference + ", " + ms_text(relock_ms - deadline_ms) +
                  " after the deadline");
  if (const lk_lock_state now = current_state(*lock); now != LK_LOCK_STATE_LOCKED)
    fail_case("get_lock_state after the relock", "Locked", lock_state_text(now));
}

std::optional<std::string> needs_jam(const Subject& s, const std::string& uri) {
  if (auto r = needs_lock(s, uri)) return r;
  const auto* tc = s.plugin->test_control_interface();
  if (tc == nullptr || tc->inject_fault == nullptr)
    return std::string(kNeedsTestControlPrefix) + "jamming the bolt needs the test build's LK_FAULT_LOCK_JAM";
  return std::nullopt;
}

void jam_reporting(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  if (!lock) return;
  const auto d = describe(*lock);
  Completions done;
  settle(*lock, done, d, true, 5000);
  const lk_result injected = lock->inject_fault(LK_FAULT_LOCK_JAM, 0);
  if (injected == LK_ERR_UNSUPPORTED)
    GTEST_SKIP() << kNeedsTestControlPrefix << "the test control answers LK_ERR_UNSUPPORTED to LK_FAULT_LOCK_JAM";
  if (injected != LK_OK) {
    fail_case("test control could not jam the bolt", "inject_fault(LK_FAULT_LOCK_JAM) LK_OK", host::result_name(injected));
    return;
  }
  const std::size_t from = log.size();
  const auto c = run_lock_operation(*lock, done, false, 5001, 0, operation_timeout(d));
  if (!c) return;
  if (c->result != LK_ERR_JAMMED)
    fail_case("a lock with a jammed bolt did not report the jam", "completion LK_ERR_JAMMED", host::result_name(c->result));
  if (c->lock_state == LK_LOCK_STATE_LOCKED)
    fail_case("the jammed lock's completion claims the bolt is thrown", "any state but Locked", "Locked");
  if (!log.wait_kind(LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, 1s, from))
    fail_case("the jam raised no alarm", "an LK_EVENT_LOCK_ALARM LK_ALARM_LOCK_JAMMED event within 1 s", "none");
  if (const lk_lock_state now = current_state(*lock); now == LK_LOCK_STATE_LOCKED)
    fail_case("get_lock_state claims Locked while the bolt is jammed", "any state but Locked", "Locked");
  const auto entries = log.entries();
  for (std::size_t i = from; i < entries.size(); ++i)
    if (entries[i].event.kind == LK_EVENT_LOCK_STATE && entries[i].event.value == LK_LOCK_STATE_LOCKED) {
      fail_case("the lock reported Locked while its bolt was jammed (reported before the bolt moved)",
                "no Locked event for an operation that jams", "a Locked event");
      break;
    }
  if (const lk_result cleared = lock->clear_faults(); cleared != LK_OK)
    fail_case("test control could not clear the jam", "clear_faults LK_OK", host::result_name(cleared));
  const auto recovered = run_lock_operation(*lock, done, false, 5002, 0, operation_timeout(d));
  if (!recovered) return;
  if (recovered->result != LK_OK)
    fail_case("the lock still fails after clear_faults", "completion LK_OK", host::result_name(recovered->result));
}

void door_reporting(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  if (!lock) return;
  const auto d = describe(*lock);
  lk_door_state door = 0xDEAD;
  if (const lk_result r = lock->door_state(&door); r != LK_OK) {
    fail_case("get_door_state failed", "LK_OK with the door's state", host::result_name(r));
    return;
  }
  if ((d.flags & LK_LOCK_CAP_DOOR_SENSOR) == 0) {
    if (door != LK_DOOR_STATE_UNKNOWN)
      fail_case("a lock without a door sensor reports a door state",
                "Unknown (no LK_LOCK_CAP_DOOR_SENSOR declared)", door_state_text(door));
    return;
  }
  const bool automated = test_control_plays(ctx.subject);
  for (lk_physical_action action : {LK_ACTION_DOOR_OPEN, LK_ACTION_DOOR_CLOSE}) {
    const lk_door_state want = action == LK_ACTION_DOOR_OPEN ? LK_DOOR_STATE_OPEN : LK_DOOR_STATE_CLOSED;
    const std::size_t from = log.size();
    if (automated) {
      const lk_result r = lock->physical_action(action);
      if (r == LK_ERR_UNSUPPORTED)
        GTEST_SKIP() << kNeedsTestControlPrefix << "the test control cannot open and close the door";
      if (r != LK_OK) {
        fail_case("test control could not move the door",
                  std::string("physical_action(") + (want == LK_DOOR_STATE_OPEN ? "DOOR_OPEN" : "DOOR_CLOSE") + ") LK_OK",
                  host::result_name(r));
        return;
      }
    } else if (!confirm_manual_step(ctx.subject, want == LK_DOOR_STATE_OPEN ? "Open the door." : "Close the door.")) {
      return;
    }
    if (!log.wait_kind(LK_EVENT_DOOR_STATE, want, 2s, from))
      fail_case(std::string("the door's ") + (want == LK_DOOR_STATE_OPEN ? "opening" : "closing") + " raised no event",
                std::string("an LK_EVENT_DOOR_STATE ") + door_state_text(want) + " event within 2 s", "none");
    if (const lk_result r = lock->door_state(&door); r != LK_OK) {
      fail_case("get_door_state failed", "LK_OK with the door's state", host::result_name(r));
      return;
    }
    if (door != want) fail_case("get_door_state disagrees with the door", door_state_text(want), door_state_text(door));
  }
}

void event_per_change(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  if (!lock) return;
  const auto d = describe(*lock);
  Completions done;
  settle(*lock, done, d, false, 6000);
  std::this_thread::sleep_for(100ms);
  uint64_t op = 6000;
  for (bool unlock : {true, false, true, false}) {
    const lk_lock_state want = unlock ? LK_LOCK_STATE_UNLOCKED : LK_LOCK_STATE_LOCKED;
    const std::size_t from = log.size();
    const auto c = run_lock_operation(*lock, done, unlock, ++op, 0, operation_timeout(d));
    if (!c) return;
    if (!log.wait_kind(LK_EVENT_LOCK_STATE, want, 1s, from))
      fail_case(std::string("the bolt changed to ") + lock_state_text(want) + " without a lock state event",
                std::string("an LK_EVENT_LOCK_STATE ") + lock_state_text(want) + " event within 1 s of the " +
                    operation_text(unlock),
                "none");
  }
  if (test_control_plays(ctx.subject)) {
    const std::size_t from = log.size();
    if (lock->physical_action(LK_ACTION_MANUAL_UNLOCK) == LK_OK) {
      const bool reported = log.wait_for(
          [&](const auto& all) {
            for (std::size_t i = from; i < all.size(); ++i)
              if (all[i].event.kind == LK_EVENT_LOCK_STATE && all[i].event.value == LK_LOCK_STATE_UNLOCKED &&
                  all[i].event.detail == LK_SOURCE_MANUAL)
                return true;
            return false;
          },
          1s);
      if (!reported)
        fail_case("a manual unlock was not reported as one",
                  "an LK_EVENT_LOCK_STATE Unlocked event with source LK_SOURCE_MANUAL within 1 s", "none");
      lock->physical_action(LK_ACTION_MANUAL_LOCK);
    }
  }
}

void manual_thumb_turn(CaseContext& ctx) {
  EventLog log;
  auto lock = open_lock(ctx, log);
  if (!lock) return;
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
  if (!(unlocked && locked))
    fail_case("the manual turns were not both reported", "a lock state event Unlocked, then one Locked",
              unlocked ? "Unlocked only" : "neither");
}

}  // namespace

void add_lock_cases(std::vector<CaseDef>& c) {
  c.push_back({"TC-LOCK-1.1", "After each completed lock and unlock, the completion and get_lock_state report the new bolt state",
               "abi.md 7 Lock interface", Scope::kLock, needs_lock, truthful_state});
  c.push_back({"TC-LOCK-1.2",
               "Lock and unlock complete within the declared max_actuation_ms plus 100 ms or 25 %, whichever is more "
               "(median of six operations, call to completion)",
               "abi.md 7 Lock interface (describe)", Scope::kLock, needs_lock, timely_state});
  c.push_back({"TC-LOCK-2.1", "Locking a locked lock and unlocking an unlocked one complete LK_OK",
               "abi.md 7 Lock interface (lock)", Scope::kLock, needs_lock, idempotent});
  c.push_back({"TC-LOCK-3.1",
               "The lock relocks by itself at a 1 s relock deadline (its maximum if shorter): Locked no sooner than 150 ms "
               "before it and no later than max_actuation_ms + 300 ms after it, from the Unlocked event; a deadline beyond "
               "its maximum is refused",
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
