// The sim-lock plugin: exports lk_plugin_negotiate for SimLock.
#include "sim_lock.hpp"

#ifndef LATCHKEY_PLUGIN_VERSION
#error "LATCHKEY_PLUGIN_VERSION must be defined by the build"
#endif

namespace {

struct SimLockPlugin {
  static constexpr const char* vendor = "Latchkey";
  static constexpr const char* driver_id = "org.latchkey.sim-lock";
  static constexpr const char* driver_version = LATCHKEY_PLUGIN_VERSION;
  static constexpr const char* description = "Simulated deadbolt with door sensor and fault injection";
  static constexpr bool test_control = true;
  using Lock = latchkey::sim::SimLock;
};

}  // namespace

LK_PLUGIN_EXPORT(SimLockPlugin)
