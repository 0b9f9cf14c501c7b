// The net-camera plugin: exports lk_plugin_negotiate for NetCamera.
#include "net_camera.hpp"

#ifndef LATCHKEY_PLUGIN_VERSION
#error "LATCHKEY_PLUGIN_VERSION must be defined by the build"
#endif

namespace {

struct NetCameraPlugin {
  static constexpr const char* vendor = "Latchkey";
  static constexpr const char* driver_id = "org.latchkey.net-camera";
  static constexpr const char* driver_version = LATCHKEY_PLUGIN_VERSION;
  static constexpr const char* description = "A camera agent on the hub's MQTT broker; relays its signed attestations";
  static constexpr bool snapshot = true;  // the reference view of C8
  using Camera = latchkey::net_camera::NetCamera;
};

}  // namespace

LK_PLUGIN_EXPORT(NetCameraPlugin)
