// The sim-camera plugin: exports lk_plugin_negotiate for SimCamera.
#include "sim_camera.hpp"

#ifndef LATCHKEY_PLUGIN_VERSION
#error "LATCHKEY_PLUGIN_VERSION must be defined by the build"
#endif

namespace {

struct SimCameraPlugin {
  static constexpr const char* vendor = "Latchkey";
  static constexpr const char* driver_id = "org.latchkey.sim-camera";
  static constexpr const char* driver_version = LATCHKEY_PLUGIN_VERSION;
  static constexpr const char* description = "Simulated attesting camera with fault injection";
  static constexpr bool test_control = true;
  static constexpr bool snapshot = true;
  using Camera = latchkey::sim::SimCamera;
};

}  // namespace

LK_PLUGIN_EXPORT(SimCameraPlugin)
