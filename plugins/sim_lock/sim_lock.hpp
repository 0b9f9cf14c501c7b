// A simulated deadbolt with a door-position sensor and fault injection.
// Compiles against sdk/include and plugins/common only (C++17, any standard
// library), so it doubles as the cross-toolchain loading check.
#ifndef LATCHKEY_SIM_SIM_LOCK_HPP
#define LATCHKEY_SIM_SIM_LOCK_HPP

#include <latchkey/cpp/plugin.hpp>
#include <latchkey/sim/scheduler.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::sim {

class SimLock final : public plugin::LockDriver {
 public:
  struct Config {
    std::string name;
    uint32_t actuation_ms = 50;        // how long the bolt takes to move
    uint32_t max_relock_ms = 300'000;  // longest relock deadline accepted (U4 bound)
  };

  // Parses sim://lock/<name>?actuation_ms=&max_relock_ms= and opens the device.
  static std::unique_ptr<SimLock> open(std::string_view uri, plugin::EventSink sink);

  SimLock(Config config, plugin::EventSink sink);
  // Closing: stops the worker, then fires a pending completion with LK_ERR_CLOSED.
  ~SimLock() override;

  void describe(lk_lock_description& description) override;
  lk_lock_state lock_state() override;
  lk_door_state door_state() override;
  void lock(plugin::LockCompletion done) override;
  void unlock(const lk_unlock_params& params, plugin::LockCompletion done) override;

  lk_result inject_fault(lk_fault fault, int64_t parameter) override;
  lk_result clear_faults() override;
  lk_result physical_action(lk_physical_action action) override;

 private:
  enum class Bolt { kLocked, kUnlocked, kNotFullyLocked };

  // The one operation in flight (a second start is refused LK_ERR_BUSY).
  struct Operation {
    Bolt target = Bolt::kLocked;
    uint32_t relock_deadline_ms = 0;
    plugin::LockCompletion done;
    bool held = false;             // started under NO_COMPLETION: waits for clear_faults or close
    lk_result result = LK_OK;      // set once the bolt has moved (LATE_COMPLETION waits after that)
  };

  struct Faults {
    bool jam = false;
    std::optional<lk_lock_state> lie;
    std::optional<uint32_t> unresponsive_ms;
    uint32_t late_completion_ms = 0;
    bool no_completion = false;
  };

  void stall_if_unresponsive();
  void start_locked(Bolt target, uint32_t relock_deadline_ms, plugin::LockCompletion done);
  void schedule_actuation_locked();
  void on_actuated();
  void on_late_completion_due();
  lk_result move_bolt_locked(Bolt target, lk_operation_source source);
  void arm_relock_locked(uint32_t deadline_ms);
  void cancel_relock_locked();
  void on_relock_deadline();
  void set_door_locked(lk_door_state door);
  lk_lock_state reported_state_locked() const;
  void emit_lock_state_locked(lk_operation_source source) const;

  const Config config_;
  const plugin::EventSink sink_;

  std::mutex mutex_;  // guards everything below; events are emitted while holding it
  Bolt bolt_ = Bolt::kLocked;
  lk_door_state door_ = LK_DOOR_STATE_CLOSED;
  std::optional<Operation> operation_;
  Scheduler::TaskId operation_task_ = 0;
  Scheduler::TaskId relock_task_ = 0;
  bool relock_when_door_closes_ = false;
  Faults faults_;

  Scheduler scheduler_;  // last: its worker runs tasks that use the members above
};

}  // namespace latchkey::sim

#endif  // LATCHKEY_SIM_SIM_LOCK_HPP
