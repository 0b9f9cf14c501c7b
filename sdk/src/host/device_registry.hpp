// What every open device shares, and the process-wide table that turns the
// opaque contexts handed to a plugin (event sinks, lock completion tokens)
// back into a device (internal to the host library).
//
// A plugin gets numbers, never host pointers: a sink context is the device's
// index and a completion token packs the index with an operation sequence.
// A faulty plugin that fires after the handle is gone finds no device, which
// is counted and logged instead of touching freed memory.
#ifndef LATCHKEY_SRC_HOST_DEVICE_REGISTRY_HPP
#define LATCHKEY_SRC_HOST_DEVICE_REGISTRY_HPP

#include <latchkey/host/devices.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace latchkey::host::detail {

struct DeviceCore {
  DeviceCore(std::shared_ptr<Plugin> plugin_in, EventHandler handler_in);
  virtual ~DeviceCore();
  DeviceCore(const DeviceCore&) = delete;
  DeviceCore& operator=(const DeviceCore&) = delete;

  // Serialises every call into the plugin for this device (ABI thread rule).
  std::mutex call_mutex;
  bool opened = false;  // guarded by call_mutex
  const std::shared_ptr<Plugin> plugin;
  const EventHandler on_event;  // fixed at open; read on plugin threads
  std::atomic<bool> closed{false};
  std::atomic<uint64_t> events_after_close{0};
  uintptr_t index = 0;      // set by register_device
  unsigned in_flight = 0;   // callbacks inside this device; guarded by the registry

  // Runs fn under call_mutex, or returns LK_ERR_CLOSED once closed.
  template <class Fn>
  lk_result serialised(Fn&& fn) {
    std::lock_guard<std::mutex> lock(call_mutex);
    if (!opened || closed.load()) return LK_ERR_CLOSED;
    return fn();
  }
};

// Registers core and sets core.index. Throws std::runtime_error when the
// index space is exhausted.
void register_device(DeviceCore& core);
// Removes core, then waits until no callback is running inside it. After
// this returns, nothing the plugin does can reach core. Must not be called
// from inside one of core's callbacks.
void unregister_device(DeviceCore& core) noexcept;

// A device found from a context, pinned against unregister_device while held.
class DeviceRef {
 public:
  explicit DeviceRef(uintptr_t index) noexcept;
  ~DeviceRef();
  DeviceRef(const DeviceRef&) = delete;
  DeviceRef& operator=(const DeviceRef&) = delete;
  DeviceCore* get() const noexcept { return core_; }

 private:
  DeviceCore* core_ = nullptr;
};

// Operation tokens: device index in the high half, sequence in the low half.
inline constexpr unsigned kTokenHalfBits = sizeof(uintptr_t) * 4;
inline constexpr uintptr_t kTokenHalfMask = (uintptr_t{1} << kTokenHalfBits) - 1;
void* make_token(uintptr_t index, uintptr_t sequence) noexcept;
uintptr_t token_index(void* token) noexcept;
uintptr_t token_sequence(void* token) noexcept;

// The sink handed to open(): context is core.index, on_event is dispatch_event.
lk_event_sink make_sink(const DeviceCore& core) noexcept;

// Writes a host-side problem to stderr (a callback that reached no device,
// a user callback that threw): there is no caller to return it to.
void log_problem(const char* what) noexcept;

// Runs a user callback, keeping exceptions away from plugin code.
template <class Fn>
void call_user(const char* what, Fn&& fn) noexcept {
  try {
    fn();
  } catch (...) {
    log_problem(what);
  }
}

}  // namespace latchkey::host::detail

#endif  // LATCHKEY_SRC_HOST_DEVICE_REGISTRY_HPP
