// lk_fault_lock: the simulated lock plus the process faults of
// process_faults.h, which fire in the next lock, unlock, lock_state or
// door_state call.
#include "process_fault.hpp"
#include "sim_lock.hpp"

#ifndef LATCHKEY_PLUGIN_VERSION
#error "LATCHKEY_PLUGIN_VERSION must be defined by the build"
#endif

namespace {

using latchkey::plugin::EventSink;
using latchkey::plugin::LockCompletion;
using latchkey::sim::SimLock;

class FaultLock final : public latchkey::plugin::LockDriver {
 public:
  static std::unique_ptr<FaultLock> open(std::string_view uri, EventSink sink) {
    return std::make_unique<FaultLock>(SimLock::open(uri, sink));
  }
  explicit FaultLock(std::unique_ptr<SimLock> lock) : lock_(std::move(lock)) {}

  void describe(lk_lock_description& description) override { lock_->describe(description); }
  lk_lock_state lock_state() override {
    armed_.fire_if_armed();
    return lock_->lock_state();
  }
  lk_door_state door_state() override {
    armed_.fire_if_armed();
    return lock_->door_state();
  }
  void lock(LockCompletion done) override {
    armed_.fire_if_armed();
    lock_->lock(std::move(done));
  }
  void unlock(const lk_unlock_params& params, LockCompletion done) override {
    armed_.fire_if_armed();
    lock_->unlock(params, std::move(done));
  }

  lk_result inject_fault(lk_fault fault, int64_t parameter) override {
    if (latchkey::test::is_process_fault(fault)) return armed_.arm(fault, parameter);
    return lock_->inject_fault(fault, parameter);
  }
  lk_result clear_faults() override {
    armed_.clear();
    return lock_->clear_faults();
  }
  lk_result physical_action(lk_physical_action action) override { return lock_->physical_action(action); }

 private:
  const std::unique_ptr<SimLock> lock_;
  latchkey::test::ArmedProcessFault armed_;
};

struct FaultLockPlugin {
  static constexpr const char* vendor = "Latchkey";
  static constexpr const char* driver_id = "org.latchkey.test.fault-lock";
  static constexpr const char* driver_version = LATCHKEY_PLUGIN_VERSION;
  static constexpr const char* description = "Simulated deadbolt that can crash or wedge its process (tests only)";
  static constexpr bool test_control = true;
  using Lock = FaultLock;
};

}  // namespace

LK_PLUGIN_EXPORT(FaultLockPlugin)
