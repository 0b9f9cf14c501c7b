#include "sim_lock.hpp"

#include <latchkey/sim/device_uri.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>
#include <utility>

namespace latchkey::sim {
namespace {

using plugin::Error;
using std::chrono::milliseconds;

constexpr uint32_t kMaxActuationMs = 10'000;
constexpr uint32_t kMaxRelockBoundMs = 24u * 3600 * 1000;
constexpr uint32_t kUnresponsiveCapMs = 100;  // lk_test_control.h
constexpr int64_t kMaxLateCompletionMs = 600'000;

}  // namespace

std::unique_ptr<SimLock> SimLock::open(std::string_view uri, plugin::EventSink sink) {
  const DeviceUri parsed = DeviceUri::parse(uri, "lock", {"actuation_ms", "max_relock_ms"});
  Config config;
  config.name = parsed.name();
  config.actuation_ms = static_cast<uint32_t>(parsed.get_uint("actuation_ms", 50, 1, kMaxActuationMs));
  config.max_relock_ms = static_cast<uint32_t>(parsed.get_uint("max_relock_ms", 300'000, 1, kMaxRelockBoundMs));
  return std::make_unique<SimLock>(std::move(config), sink);
}

SimLock::SimLock(Config config, plugin::EventSink sink) : config_(std::move(config)), sink_(sink) {}

SimLock::~SimLock() {
  // lk_lock.h: no event or completion after close returns. Joining the worker
  // first means nothing below races with a timer.
  scheduler_.stop();
  plugin::LockCompletion pending;
  lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (operation_) {
      pending = operation_->done;
      state = reported_state_locked();
      operation_.reset();
    }
  }
  pending.complete(LK_ERR_CLOSED, state);
}

void SimLock::describe(lk_lock_description& description) {
  stall_if_unresponsive();
  description.flags = LK_LOCK_CAP_DOOR_SENSOR | LK_LOCK_CAP_RELOCK_DEADLINE;
  description.max_actuation_ms = config_.actuation_ms;
  description.max_relock_deadline_ms = config_.max_relock_ms;
}

lk_lock_state SimLock::lock_state() {
  stall_if_unresponsive();
  std::lock_guard<std::mutex> lock(mutex_);
  return reported_state_locked();
}

lk_door_state SimLock::door_state() {
  stall_if_unresponsive();
  std::lock_guard<std::mutex> lock(mutex_);
  return door_;
}

void SimLock::lock(plugin::LockCompletion done) {
  stall_if_unresponsive();
  std::lock_guard<std::mutex> lock(mutex_);
  if (operation_) throw Error(LK_ERR_BUSY, "an operation is already in progress");
  cancel_relock_locked();  // a remote lock supersedes a pending relock
  start_locked(Bolt::kLocked, 0, std::move(done));
}

void SimLock::unlock(const lk_unlock_params& params, plugin::LockCompletion done) {
  stall_if_unresponsive();
  if (params.unlatch != 0) throw Error(LK_ERR_UNSUPPORTED, "this lock has no latch to pull");
  if (params.relock_deadline_ms > config_.max_relock_ms)
    throw Error(LK_ERR_INVALID_ARGUMENT, "relock_deadline_ms " + std::to_string(params.relock_deadline_ms) +
                                             " exceeds max_relock_ms " + std::to_string(config_.max_relock_ms));
  std::lock_guard<std::mutex> lock(mutex_);
  if (operation_) throw Error(LK_ERR_BUSY, "an operation is already in progress");
  cancel_relock_locked();
  start_locked(Bolt::kUnlocked, params.relock_deadline_ms, std::move(done));
}

lk_result SimLock::inject_fault(lk_fault fault, int64_t parameter) {
  std::lock_guard<std::mutex> lock(mutex_);
  switch (fault) {
    case LK_FAULT_LOCK_JAM:
      faults_.jam = true;
      return LK_OK;
    case LK_FAULT_LOCK_LIE_STATE:
      if (parameter < 0 || parameter > std::numeric_limits<uint32_t>::max()) return LK_ERR_INVALID_ARGUMENT;
      faults_.lie = static_cast<lk_lock_state>(parameter);
      return LK_OK;
    case LK_FAULT_LOCK_UNRESPONSIVE:
      if (parameter < 0) return LK_ERR_INVALID_ARGUMENT;
      faults_.unresponsive_ms = static_cast<uint32_t>(std::min<int64_t>(parameter, kUnresponsiveCapMs));
      return LK_OK;
    case LK_FAULT_LOCK_LATE_COMPLETION:
      if (parameter < 0 || parameter > kMaxLateCompletionMs) return LK_ERR_INVALID_ARGUMENT;
      faults_.late_completion_ms = static_cast<uint32_t>(parameter);
      return LK_OK;
    case LK_FAULT_LOCK_NO_COMPLETION:
      faults_.no_completion = true;
      return LK_OK;
    default:
      return LK_ERR_UNSUPPORTED;
  }
}

lk_result SimLock::clear_faults() {
  std::lock_guard<std::mutex> lock(mutex_);
  faults_ = Faults{};
  // An operation held by NO_COMPLETION resumes as if it had just started:
  // the bolt moves after actuation_ms, then its completion fires.
  if (operation_ && operation_->held) {
    operation_->held = false;
    schedule_actuation_locked();
  }
  return LK_OK;
}

lk_result SimLock::physical_action(lk_physical_action action) {
  std::lock_guard<std::mutex> lock(mutex_);
  switch (action) {
    case LK_ACTION_DOOR_OPEN:
      set_door_locked(LK_DOOR_STATE_OPEN);
      return LK_OK;
    case LK_ACTION_DOOR_CLOSE:
      set_door_locked(LK_DOOR_STATE_CLOSED);
      return LK_OK;
    case LK_ACTION_MANUAL_LOCK:
      move_bolt_locked(Bolt::kLocked, LK_SOURCE_MANUAL);
      return LK_OK;
    case LK_ACTION_MANUAL_UNLOCK:
      cancel_relock_locked();  // a person inside chose to leave it unlocked
      move_bolt_locked(Bolt::kUnlocked, LK_SOURCE_MANUAL);
      return LK_OK;
    default:
      return LK_ERR_UNSUPPORTED;
  }
}

void SimLock::stall_if_unresponsive() {
  std::optional<uint32_t> stall;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stall = faults_.unresponsive_ms;
  }
  if (!stall) return;
  std::this_thread::sleep_for(milliseconds(*stall));
  throw Error(LK_ERR_TIMEOUT, "device did not answer (UNRESPONSIVE fault)");
}

void SimLock::start_locked(Bolt target, uint32_t relock_deadline_ms, plugin::LockCompletion done) {
  Operation operation;
  operation.target = target;
  operation.relock_deadline_ms = relock_deadline_ms;
  operation.done = std::move(done);
  operation.held = faults_.no_completion;
  operation_ = std::move(operation);
  if (!operation_->held) schedule_actuation_locked();
}

void SimLock::schedule_actuation_locked() {
  operation_task_ = scheduler_.after(milliseconds(config_.actuation_ms), [this] { on_actuated(); });
}

void SimLock::on_actuated() {
  plugin::LockCompletion done;
  lk_result result = LK_OK;
  lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    operation_task_ = 0;
    if (!operation_) return;
    result = move_bolt_locked(operation_->target, LK_SOURCE_REMOTE);
    // U4: the deadline runs from the moment the bolt is retracted.
    if (result == LK_OK && operation_->target == Bolt::kUnlocked && operation_->relock_deadline_ms > 0)
      arm_relock_locked(operation_->relock_deadline_ms);
    if (faults_.late_completion_ms > 0) {
      operation_->result = result;
      operation_task_ =
          scheduler_.after(milliseconds(faults_.late_completion_ms), [this] { on_late_completion_due(); });
      return;
    }
    done = operation_->done;
    state = reported_state_locked();
    operation_.reset();
  }
  done.complete(result, state);  // outside the lock: the host may start the next operation from here
}

void SimLock::on_late_completion_due() {
  plugin::LockCompletion done;
  lk_result result = LK_OK;
  lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    operation_task_ = 0;
    if (!operation_) return;
    done = operation_->done;
    result = operation_->result;
    state = reported_state_locked();
    operation_.reset();
  }
  done.complete(result, state);
}

lk_result SimLock::move_bolt_locked(Bolt target, lk_operation_source source) {
  if (faults_.jam) {
    // The bolt starts moving and sticks half way.
    if (bolt_ != Bolt::kNotFullyLocked) {
      bolt_ = Bolt::kNotFullyLocked;
      emit_lock_state_locked(source);
    }
    sink_.emit(LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, 0, monotonic_ns());
    return LK_ERR_JAMMED;
  }
  if (target == Bolt::kLocked) cancel_relock_locked();
  if (bolt_ == target) return LK_OK;  // idempotent: nothing moved, nothing to report
  bolt_ = target;
  emit_lock_state_locked(source);
  return LK_OK;
}

void SimLock::arm_relock_locked(uint32_t deadline_ms) {
  cancel_relock_locked();
  relock_task_ = scheduler_.after(milliseconds(deadline_ms), [this] { on_relock_deadline(); });
}

void SimLock::cancel_relock_locked() {
  scheduler_.cancel(relock_task_);
  relock_task_ = 0;
  relock_when_door_closes_ = false;
}

void SimLock::on_relock_deadline() {
  std::lock_guard<std::mutex> lock(mutex_);
  relock_task_ = 0;
  if (bolt_ != Bolt::kUnlocked) return;
  // U4: never throw the bolt into an open door's frame; wait for it to close.
  if (door_ == LK_DOOR_STATE_CLOSED) {
    move_bolt_locked(Bolt::kLocked, LK_SOURCE_AUTO);
  } else {
    relock_when_door_closes_ = true;
  }
}

void SimLock::set_door_locked(lk_door_state door) {
  if (door_ == door) return;
  door_ = door;
  sink_.emit(LK_EVENT_DOOR_STATE, door_, 0, monotonic_ns());
  if (door_ == LK_DOOR_STATE_CLOSED && relock_when_door_closes_) {
    relock_when_door_closes_ = false;
    move_bolt_locked(Bolt::kLocked, LK_SOURCE_AUTO);
  }
}

lk_lock_state SimLock::reported_state_locked() const {
  if (faults_.lie) return *faults_.lie;
  switch (bolt_) {
    case Bolt::kLocked: return LK_LOCK_STATE_LOCKED;
    case Bolt::kUnlocked: return LK_LOCK_STATE_UNLOCKED;
    case Bolt::kNotFullyLocked: return LK_LOCK_STATE_NOT_FULLY_LOCKED;
  }
  return LK_LOCK_STATE_UNKNOWN;
}

void SimLock::emit_lock_state_locked(lk_operation_source source) const {
  sink_.emit(LK_EVENT_LOCK_STATE, reported_state_locked(), source, monotonic_ns());
}

}  // namespace latchkey::sim
