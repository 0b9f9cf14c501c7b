// A lock driver in C++17 on the SDK's header-only wrapper
// (latchkey/cpp/plugin.hpp): one class per device kind, a traits struct,
// LK_PLUGIN_EXPORT. It drives pretend locks, one per device URI
// acme://lock/<name>, and shows what docs/plugin-guide.md describes:
// identity, describe, state getters, asynchronous lock/unlock whose
// completion fires exactly once, a state event on every change, test control
// (door, thumb-turn, a jammed bolt) for the vendor's test build, and the
// plugin-wide shutdown hook.
#include <latchkey/cpp/plugin.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace {

using latchkey::plugin::Error;
using latchkey::plugin::EventSink;
using latchkey::plugin::LockCompletion;

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

class AcmeLock final : public latchkey::plugin::LockDriver {
 public:
  // Called by the wrapper for latchkey.lock open(); throw Error(LK_ERR_NOT_FOUND, ...)
  // or Error(LK_ERR_INVALID_ARGUMENT, ...) to refuse the URI.
  static std::unique_ptr<AcmeLock> open(std::string_view uri, EventSink sink) {
    constexpr std::string_view kScheme = "acme://lock/";
    if (uri.substr(0, kScheme.size()) != kScheme || uri.size() == kScheme.size())
      throw Error(LK_ERR_INVALID_ARGUMENT, "expected acme://lock/<name>, got '" + std::string(uri) + "'");
    return std::make_unique<AcmeLock>(std::string(uri.substr(kScheme.size())), sink);
  }
  AcmeLock(std::string name, EventSink sink) : name_(std::move(name)), sink_(sink) {}

  void describe(lk_lock_description& d) override {
    d.flags = LK_LOCK_CAP_DOOR_SENSOR;  // no relock deadline of its own: the hub relocks (U4)
    d.max_actuation_ms = 100;
    d.max_relock_deadline_ms = 0;
  }
  lk_lock_state lock_state() override {
    std::lock_guard<std::mutex> guard(mutex_);
    return bolt_;
  }
  lk_door_state door_state() override {
    std::lock_guard<std::mutex> guard(mutex_);
    return door_;
  }
  // A real driver starts the motor here and completes from its I/O thread;
  // this one moves at once, so the completion fires before lock() returns
  // (the contract allows it).
  void lock(LockCompletion done) override { finish(done, move(LK_LOCK_STATE_LOCKED, LK_SOURCE_REMOTE)); }
  void unlock(const lk_unlock_params& params, LockCompletion done) override {
    if (params.unlatch != 0) throw Error(LK_ERR_UNSUPPORTED, "no latch to pull");
    // params.relock_deadline_ms is ignored on purpose: without
    // LK_LOCK_CAP_RELOCK_DEADLINE the hub relocks (U4), not the lock.
    finish(done, move(LK_LOCK_STATE_UNLOCKED, LK_SOURCE_REMOTE));
  }

  // Test control (the test build): the door and the thumb-turn.
  lk_result physical_action(lk_physical_action action) override {
    switch (action) {
      case LK_ACTION_DOOR_OPEN: set_door(LK_DOOR_STATE_OPEN); return LK_OK;
      case LK_ACTION_DOOR_CLOSE: set_door(LK_DOOR_STATE_CLOSED); return LK_OK;
      case LK_ACTION_MANUAL_LOCK: move(LK_LOCK_STATE_LOCKED, LK_SOURCE_MANUAL); return LK_OK;
      case LK_ACTION_MANUAL_UNLOCK: move(LK_LOCK_STATE_UNLOCKED, LK_SOURCE_MANUAL); return LK_OK;
      default: return LK_ERR_UNSUPPORTED;
    }
  }
  // Test control: a jammed bolt (docs/abi.md section 10); other faults are unsupported.
  lk_result inject_fault(lk_fault fault, int64_t) override {
    if (fault != LK_FAULT_LOCK_JAM) return LK_ERR_UNSUPPORTED;
    std::lock_guard<std::mutex> guard(mutex_);
    jammed_ = true;
    return LK_OK;
  }
  lk_result clear_faults() override {
    std::lock_guard<std::mutex> guard(mutex_);
    jammed_ = false;
    return LK_OK;
  }

 private:
  // The completion: LK_OK when the bolt got there, LK_ERR_JAMMED when it stuck.
  static void finish(const LockCompletion& done, lk_lock_state reached) {
    done.complete(reached == LK_LOCK_STATE_NOT_FULLY_LOCKED ? LK_ERR_JAMMED : LK_OK, reached);
  }
  // Every change is an event, whoever made it; no change, no event. A
  // jammed bolt sticks half way: NotFullyLocked and a LockJammed alarm.
  lk_lock_state move(lk_lock_state target, lk_operation_source source) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (jammed_) target = LK_LOCK_STATE_NOT_FULLY_LOCKED;
    if (bolt_ != target) {
      bolt_ = target;
      sink_.emit(LK_EVENT_LOCK_STATE, bolt_, source, now_ns());
    }
    if (jammed_) sink_.emit(LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, 0, now_ns());
    return bolt_;
  }
  void set_door(lk_door_state door) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (door_ == door) return;
    door_ = door;
    sink_.emit(LK_EVENT_DOOR_STATE, door_, 0, now_ns());
  }

  const std::string name_;
  const EventSink sink_;
  std::mutex mutex_;
  lk_lock_state bolt_ = LK_LOCK_STATE_LOCKED;
  lk_door_state door_ = LK_DOOR_STATE_CLOSED;
  bool jammed_ = false;
};

struct AcmePlugin {
  static constexpr const char* vendor = "Acme Locks";
  static constexpr const char* driver_id = "com.acme.deadbolt";
  static constexpr const char* driver_version = "2.4.1";
  static constexpr const char* description = "Acme deadbolt (example driver)";
  using Lock = AcmeLock;
#ifndef ACME_RELEASE_BUILD
  static constexpr bool test_control = true;  // the test build, submitted for certification
#endif
  // Plugin-wide teardown: every device is closed by now.
  static void shutdown() { latchkey::plugin::log(LK_LOG_INFO, "acme: shutting down"); }
};

}  // namespace

LK_PLUGIN_EXPORT(AcmePlugin)
