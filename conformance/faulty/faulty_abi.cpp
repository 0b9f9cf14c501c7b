// Cameras that break one rule of the binary contract itself (docs/abi.md 3
// and 4), for the TC-ABI cases: negotiation, interface lookup and the caller
// buffers of snapshot. The camera is faulty_camera.cpp built with no fault (a
// correct attesting camera); this file replaces only its exported entry point
// and patches the one function the fault lives in. Chosen at build time:
//
//   FAULTY_ANSWERS_HOST_HIGHEST         negotiation answers the host's highest version, not the
//                                       highest both sides speak (TC-ABI-1.4)
//   FAULTY_GET_INTERFACE_IGNORES_NAME   get_interface takes any name it does not know for its camera (TC-ABI-3.3)
//   FAULTY_GET_INTERFACE_IGNORES_MAJOR  get_interface hands out its major 1 tables for any major (TC-ABI-3.4)
//   FAULTY_NULL_SNAPSHOT_INFO           a short snapshot buffer fills in the snapshot info without
//                                       checking it, which the ABI allows to be NULL (crashes TC-ABI-4.3, 8.1)
//   FAULTY_SHORT_SNAPSHOT_HANGS         a short snapshot buffer makes snapshot wait forever for a smaller
//                                       frame (TC-ABI-4.3 and 8.1 are killed after their time)
//   FAULTY_SNAPSHOT_OVERRUN             snapshot appends a 4-byte trailer after the frame without checking
//                                       the room for it: 4 bytes past a buffer of exactly the size needed,
//                                       where malloc's slack would have hidden them (TC-ABI-4.3)
#include <latchkey/cpp/plugin.hpp>

#include <cstring>
#include <string_view>

// faulty_camera.cpp ends with LK_PLUGIN_EXPORT(FaultyCameraPlugin): this file
// defines the entry point itself, below.
#undef LK_PLUGIN_EXPORT
#define LK_PLUGIN_EXPORT(PluginTraits)
#include "faulty_camera.cpp"

namespace {

using Plugin = FaultyCameraPlugin;
using Table = latchkey::plugin::detail::CameraTable<Plugin>;
namespace detail = latchkey::plugin::detail;

#if defined(FAULTY_NULL_SNAPSHOT_INFO) || defined(FAULTY_SNAPSHOT_OVERRUN) || defined(FAULTY_SHORT_SNAPSHOT_HANGS)
#define FAULTY_PATCHES_SNAPSHOT 1
lk_result faulty_snapshot(lk_camera_device* d, uint8_t* buffer, std::size_t* size, lk_snapshot_info* info) noexcept {
  const lk_result r = Table::snapshot(d, buffer, size, info);
#ifdef FAULTY_NULL_SNAPSHOT_INFO
  if (r == LK_ERR_BUFFER_TOO_SMALL) {
    // The bug: "tell the host what it will get" - through info, which may be NULL.
    info->width = 8;
    info->height = 8;
  }
#elif defined(FAULTY_SHORT_SNAPSHOT_HANGS)
  if (r == LK_ERR_BUFFER_TOO_SMALL) {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));  // the bug: waits for a frame that fits
  }
#else
  if (r == LK_OK && buffer != nullptr) {
    // The bug: the trailer's room is never checked; *size is the frame's size now.
    static const uint8_t trailer[4] = {'L', 'K', 'F', 'R'};
    std::memcpy(buffer + *size, trailer, sizeof trailer);
  }
#endif
  return r;
}
#endif

lk_result faulty_get_interface(const char* name, uint32_t major, const void** table) noexcept {
#if defined(FAULTY_GET_INTERFACE_IGNORES_NAME)
  if (name != nullptr) {
    const std::string_view n(name);
    const bool known = n == LK_LOCK_INTERFACE_NAME || n == LK_CAMERA_INTERFACE_NAME || n == LK_AUTHZ_INTERFACE_NAME ||
                       n == LK_TEST_CONTROL_INTERFACE_NAME;
    if (!known) name = LK_CAMERA_INTERFACE_NAME;  // the bug: whatever it does not know, it takes for its camera
  }
#elif defined(FAULTY_GET_INTERFACE_IGNORES_MAJOR)
  major = 1;  // the bug: every interface it offers is at major 1, so it never looks at the major asked
#endif
  const lk_result r = detail::get_interface<Plugin>(name, major, table);
#ifdef FAULTY_PATCHES_SNAPSHOT
  if (r == LK_OK && std::string_view(name) == LK_CAMERA_INTERFACE_NAME) {
    static lk_camera_interface_v1 patched = *static_cast<const lk_camera_interface_v1*>(*table);
    patched.snapshot = &faulty_snapshot;
    *table = &patched;
  }
#endif
  return r;
}

}  // namespace

extern "C" LK_EXPORT lk_result lk_plugin_negotiate(const lk_negotiate_request* request, const lk_plugin_info** info) {
  const lk_result r = detail::negotiate<Plugin>(request, info);
  if (r != LK_OK) return r;
  static lk_plugin_info patched;
  patched = **info;
  patched.get_interface = &faulty_get_interface;
#ifdef FAULTY_ANSWERS_HOST_HIGHEST
  patched.abi_version = request->max_abi_version;  // the bug: the host's highest, whatever the plugin speaks
#endif
  *info = &patched;
  return LK_OK;
}
