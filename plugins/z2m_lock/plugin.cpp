// The Zigbee2MQTT lock plugin: exports lk_plugin_negotiate for Z2mLock. It
// offers no test control: the device is real; its faults are played by
// Zigbee2MQTT itself, or by tests/z2m's emulator in the tests.
#include "z2m_lock.hpp"

#ifndef LATCHKEY_PLUGIN_VERSION
#error "LATCHKEY_PLUGIN_VERSION must be defined by the build"
#endif

namespace {

struct Z2mLockPlugin {
  static constexpr const char* vendor = "Latchkey";
  static constexpr const char* driver_id = "org.latchkey.z2m-lock";
  static constexpr const char* driver_version = LATCHKEY_PLUGIN_VERSION;
  static constexpr const char* description = "A Zigbee2MQTT lock and contact sensor as one door, over MQTT";
  using Lock = latchkey::z2m::Z2mLock;
};

}  // namespace

LK_PLUGIN_EXPORT(Z2mLockPlugin)
