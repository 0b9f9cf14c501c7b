// Latchkey plugin-side C++ wrapper (header-only, C++17 or later).
//
// A driver author derives from LockDriver, CameraDriver or AuthzProvider,
// describes the plugin in a small traits struct and exports it with
// LK_PLUGIN_EXPORT(Traits). This header turns the classes into the C tables of
// ABI v1: argument checks, min(size) copies and exception fencing happen here,
// so no C++ exception ever crosses the boundary (it becomes an lk_result and a
// log line through the host services).
//
//   struct MyPlugin {
//     static constexpr const char* vendor = "Acme Locks";
//     static constexpr const char* driver_id = "com.acme.deadbolt";
//     static constexpr const char* driver_version = "1.2.0";
//     static constexpr const char* description = "Acme deadbolt over BLE";
//     using Lock = AcmeLock;   // optional; also Camera, Authz
//   };
//   LK_PLUGIN_EXPORT(MyPlugin)
//
// Lock must provide `static std::unique_ptr<Lock> open(std::string_view uri, EventSink sink)`,
// Camera the same, Authz `static std::unique_ptr<Authz> open(std::string_view config)`.
// Optional members of the traits struct (docs/abi.md, "The C++ wrappers"):
//   static constexpr bool test_control = true;  also exports "latchkey.test_control",
//       routed to the devices' inject_fault, clear_faults and physical_action
//       (a vendor's test build; the release build leaves it out);
//   static constexpr bool snapshot = true;      fills the camera table's snapshot
//       entry (else NULL), routed to CameraDriver::snapshot; the camera's
//       describe() sets LK_CAMERA_CAP_SNAPSHOT to match;
//   static void shutdown();                     becomes lk_plugin_info.shutdown: called
//       once after every device is closed, before the library is unloaded;
//       stop plugin-wide threads there. An exception is logged and dropped.
//   description may be left out (NULL).
//
// Longer than most files: header-only by design (a driver author includes one
// file and needs no library), so the table adapters live here too.
#ifndef LATCHKEY_CPP_PLUGIN_HPP
#define LATCHKEY_CPP_PLUGIN_HPP

#include <latchkey/latchkey.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace latchkey::plugin {

// Throw from a driver method to fail the call with a specific code.
class Error : public std::runtime_error {
 public:
  Error(lk_result code, const std::string& message) : std::runtime_error(message), code_(code) {}
  lk_result code() const noexcept { return code_; }

 private:
  lk_result code_;
};

namespace detail {
inline lk_host_services& host_services() {
  static lk_host_services services{};
  return services;
}
}  // namespace detail

// Writes a line to the host's log. Safe from any thread once negotiated.
inline void log(lk_log_level level, const std::string& message) noexcept {
  const lk_host_services& host = detail::host_services();
  if (host.log != nullptr) host.log(host.context, level, message.c_str());
}

// Copies a string into a fixed char array, always NUL-terminated.
template <std::size_t N>
inline void copy_text(char (&out)[N], std::string_view text) noexcept {
  const std::size_t n = std::min(text.size(), N - 1);
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

// The host's event sink for one device. Cheap to copy.
class EventSink {
 public:
  EventSink() = default;
  explicit EventSink(const lk_event_sink& sink) : sink_(sink) {}

  // Emits an event without data.
  void emit(lk_event_kind kind, uint32_t value, uint32_t detail, uint64_t device_time_ns) const noexcept {
    emit_borrowed(kind, value, detail, nullptr, 0, device_time_ns);
  }

  // Emits an event with bytes valid only during the call (release NULL).
  void emit_borrowed(lk_event_kind kind, uint32_t value, uint32_t detail, const uint8_t* data, std::size_t size,
                     uint64_t device_time_ns) const noexcept {
    lk_event event{};
    event.struct_size = sizeof(event);
    event.kind = kind;
    event.value = value;
    event.detail = detail;
    event.device_time_ns = device_time_ns;
    event.data = data;
    event.data_size = size;
    deliver(event);
  }

  // Emits an event that lends bytes; the host releases them when done.
  void emit_lent(lk_event_kind kind, std::vector<uint8_t> bytes, uint64_t device_time_ns) const noexcept {
    std::vector<uint8_t>* lent = nullptr;
    try {
      lent = new std::vector<uint8_t>(std::move(bytes));
    } catch (...) {
      log(LK_LOG_ERROR, "latchkey: out of memory lending event data");
      return;
    }
    lk_event event{};
    event.struct_size = sizeof(event);
    event.kind = kind;
    event.device_time_ns = device_time_ns;
    event.data = lent->data();
    event.data_size = lent->size();
    event.release = &release_vector;
    event.release_context = lent;
    if (!deliver(event)) delete lent;
  }

 private:
  static void release_vector(void* context, const uint8_t*) noexcept {
    delete static_cast<std::vector<uint8_t>*>(context);
  }
  bool deliver(const lk_event& event) const noexcept {
    if (sink_.on_event == nullptr) return false;
    sink_.on_event(sink_.context, &event);
    return true;
  }

  lk_event_sink sink_{};
};

// The completion of one lock or unlock. Fires at most once; copies share the
// same once-flag so a driver may hand it to a timer thread.
class LockCompletion {
 public:
  LockCompletion() = default;
  LockCompletion(lk_lock_completion_fn fn, void* context, uint64_t operation_id)
      : state_(std::make_shared<State>(fn, context, operation_id)) {}

  // Fires the completion. Returns false if it had already fired.
  bool complete(lk_result result, lk_lock_state lock_state) const noexcept {
    if (!state_ || state_->fired.exchange(true)) return false;
    lk_lock_completion completion{};
    completion.struct_size = sizeof(completion);
    completion.result = result;
    completion.operation_id = state_->operation_id;
    completion.lock_state = lock_state;
    state_->fn(state_->context, &completion);
    return true;
  }
  bool fired() const noexcept { return !state_ || state_->fired.load(); }
  uint64_t operation_id() const noexcept { return state_ ? state_->operation_id : 0; }

 private:
  struct State {
    State(lk_lock_completion_fn f, void* c, uint64_t id) : fn(f), context(c), operation_id(id) {}
    lk_lock_completion_fn fn;
    void* context;
    uint64_t operation_id;
    std::atomic<bool> fired{false};
  };
  std::shared_ptr<State> state_;
};

// Optional test control hooks, shared by every device kind.
class TestControllable {
 public:
  virtual ~TestControllable() = default;
  virtual lk_result inject_fault(lk_fault, int64_t) { return LK_ERR_UNSUPPORTED; }
  virtual lk_result clear_faults() { return LK_ERR_UNSUPPORTED; }
  virtual lk_result physical_action(lk_physical_action) { return LK_ERR_UNSUPPORTED; }
};

// Base of a lock driver. Methods may throw Error (or anything); the wrapper
// turns it into an lk_result. lock/unlock start the operation and arrange for
// done.complete() later, from any thread; when they throw, done never fires.
class LockDriver : public TestControllable {
 public:
  virtual void describe(lk_lock_description& description) = 0;  // struct_size preset
  virtual lk_lock_state lock_state() = 0;
  virtual lk_door_state door_state() = 0;
  virtual void lock(LockCompletion done) = 0;
  virtual void unlock(const lk_unlock_params& params, LockCompletion done) = 0;
};

// Base of a camera driver.
class CameraDriver : public TestControllable {
 public:
  virtual void describe(lk_camera_description& description) = 0;  // struct_size preset
  virtual void deliver_nonce(const uint8_t* nonce, std::size_t size) = 0;
  virtual void start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) = 0;
  virtual void stop_recording() = 0;
  // Returns the latest frame; override and set `static constexpr bool snapshot
  // = true;` in the plugin traits to offer snapshots.
  virtual std::vector<uint8_t> snapshot(lk_snapshot_info&) { throw Error(LK_ERR_UNSUPPORTED, "no snapshot"); }
};

// The names of SDK 1.0's first releases. The host side has LockDevice and
// CameraDevice too (latchkey::host, the hub's view of an opened device), so
// the plugin side's bases are now called drivers.
using LockDevice [[deprecated("derive from latchkey::plugin::LockDriver")]] = LockDriver;
using CameraDevice [[deprecated("derive from latchkey::plugin::CameraDriver")]] = CameraDriver;

// Base of an authorization provider.
class AuthzProvider {
 public:
  virtual ~AuthzProvider() = default;
  // Returns true and fills grant, or returns false and fills refusal.
  virtual bool verify(const lk_authz_context& context, const uint8_t* credential, std::size_t size,
                      lk_grant_info& grant, lk_authz_refusal& refusal) = 0;
};

namespace detail {

// Runs fn, turning every exception into an lk_result and a log line.
template <class Fn>
lk_result fenced(const char* where, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const Error& e) {
    log(LK_LOG_WARNING, std::string(where) + ": " + e.what());
    return e.code() < 0 ? e.code() : LK_ERR_INTERNAL;
  } catch (const std::bad_alloc&) {
    log(LK_LOG_ERROR, std::string(where) + ": out of memory");
    return LK_ERR_NO_MEMORY;
  } catch (const std::exception& e) {
    log(LK_LOG_ERROR, std::string(where) + ": unexpected exception: " + e.what());
    return LK_ERR_INTERNAL;
  } catch (...) {
    log(LK_LOG_ERROR, std::string(where) + ": unexpected non-standard exception");
    return LK_ERR_INTERNAL;
  }
}

// Fills a growable output struct: the full local copy is built with the
// plugin's size, then min(caller size, ours) bytes go out; struct_size keeps
// the caller's value.
template <class T, class Fill>
lk_result fill_sized(T* out, Fill&& fill) {
  if (out == nullptr || out->struct_size < sizeof(uint32_t)) return LK_ERR_INVALID_ARGUMENT;
  T local{};
  local.struct_size = sizeof(T);
  fill(local);
  const uint32_t caller_size = out->struct_size;
  std::memcpy(out, &local, std::min<std::size_t>(caller_size, sizeof(T)));
  out->struct_size = caller_size;
  return LK_OK;
}

template <class D>
struct Holder {
  std::unique_ptr<D> device;
};

template <class T, class = void>
struct has_lock : std::false_type {};
template <class T>
struct has_lock<T, std::void_t<typename T::Lock>> : std::true_type {};
template <class T, class = void>
struct has_camera : std::false_type {};
template <class T>
struct has_camera<T, std::void_t<typename T::Camera>> : std::true_type {};
template <class T, class = void>
struct has_authz : std::false_type {};
template <class T>
struct has_authz<T, std::void_t<typename T::Authz>> : std::true_type {};
template <class T, class = void>
struct has_test_control : std::false_type {};
template <class T>
struct has_test_control<T, std::void_t<decltype(T::test_control)>> : std::bool_constant<T::test_control> {};
template <class T, class = void>
struct has_snapshot : std::false_type {};
template <class T>
struct has_snapshot<T, std::void_t<decltype(T::snapshot)>> : std::bool_constant<T::snapshot> {};
template <class T, class = void>
struct has_shutdown : std::false_type {};
template <class T>
struct has_shutdown<T, std::void_t<decltype(T::shutdown())>> : std::true_type {};
template <class T, class = void>
struct has_description : std::false_type {};
template <class T>
struct has_description<T, std::void_t<decltype(T::description)>> : std::true_type {};

template <class P>
const char* description_of() noexcept {
  if constexpr (has_description<P>::value) {
    return P::description;
  } else {
    return nullptr;
  }
}

// lk_plugin_info.shutdown for traits with `static void shutdown()`.
template <class P>
void shutdown_plugin() noexcept {
  fenced("plugin.shutdown", [] {
    P::shutdown();
    return LK_OK;
  });
}

using ShutdownFn = void (*)();
template <class P>
ShutdownFn shutdown_entry() noexcept {
  if constexpr (has_shutdown<P>::value) {
    return &shutdown_plugin<P>;
  } else {
    return nullptr;
  }
}

template <class P>
struct LockTable {
  using D = typename P::Lock;
  using H = Holder<D>;
  static H* holder(lk_lock_device* d) { return reinterpret_cast<H*>(d); }

  static lk_result open(const char* uri, const lk_event_sink* sink, lk_lock_device** out) noexcept {
    if (uri == nullptr || sink == nullptr || out == nullptr || sink->on_event == nullptr) return LK_ERR_INVALID_ARGUMENT;
    *out = nullptr;
    return fenced("lock.open", [&] {
      auto h = std::make_unique<H>();
      h->device = D::open(std::string_view(uri), EventSink(*sink));
      if (!h->device) return LK_ERR_NOT_FOUND;
      *out = reinterpret_cast<lk_lock_device*>(h.release());
      return LK_OK;
    });
  }
  static void close(lk_lock_device* d) noexcept {
    if (d == nullptr) return;
    fenced("lock.close", [&] {
      delete holder(d);
      return LK_OK;
    });
  }
  static lk_result describe(lk_lock_device* d, lk_lock_description* out) noexcept {
    if (d == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return fenced("lock.describe", [&] { return fill_sized(out, [&](lk_lock_description& l) { holder(d)->device->describe(l); }); });
  }
  static lk_result get_lock_state(lk_lock_device* d, lk_lock_state* out) noexcept {
    if (d == nullptr || out == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return fenced("lock.get_lock_state", [&] {
      *out = holder(d)->device->lock_state();
      return LK_OK;
    });
  }
  static lk_result get_door_state(lk_lock_device* d, lk_door_state* out) noexcept {
    if (d == nullptr || out == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return fenced("lock.get_door_state", [&] {
      *out = holder(d)->device->door_state();
      return LK_OK;
    });
  }
  static lk_result lock(lk_lock_device* d, uint64_t op, lk_lock_completion_fn done, void* ctx) noexcept {
    if (d == nullptr || done == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return fenced("lock.lock", [&] {
      holder(d)->device->lock(LockCompletion(done, ctx, op));
      return LK_OK;
    });
  }
  static lk_result unlock(lk_lock_device* d, const lk_unlock_params* params, lk_lock_completion_fn done,
                          void* ctx) noexcept {
    if (d == nullptr || params == nullptr || done == nullptr || params->struct_size < sizeof(lk_unlock_params))
      return LK_ERR_INVALID_ARGUMENT;
    return fenced("lock.unlock", [&] {
      holder(d)->device->unlock(*params, LockCompletion(done, ctx, params->operation_id));
      return LK_OK;
    });
  }
  static const lk_lock_interface_v1* table() {
    static const lk_lock_interface_v1 t = {sizeof(lk_lock_interface_v1), 0, &open, &close, &describe,
                                           &get_lock_state, &get_door_state, &lock, &unlock};
    return &t;
  }
};

template <class P>
struct CameraTable {
  using D = typename P::Camera;
  using H = Holder<D>;
  static H* holder(lk_camera_device* d) { return reinterpret_cast<H*>(d); }

  static lk_result open(const char* uri, const lk_event_sink* sink, lk_camera_device** out) noexcept {
    if (uri == nullptr || sink == nullptr || out == nullptr || sink->on_event == nullptr) return LK_ERR_INVALID_ARGUMENT;
    *out = nullptr;
    return fenced("camera.open", [&] {
      auto h = std::make_unique<H>();
      h->device = D::open(std::string_view(uri), EventSink(*sink));
      if (!h->device) return LK_ERR_NOT_FOUND;
      *out = reinterpret_cast<lk_camera_device*>(h.release());
      return LK_OK;
    });
  }
  static void close(lk_camera_device* d) noexcept {
    if (d == nullptr) return;
    fenced("camera.close", [&] {
      delete holder(d);
      return LK_OK;
    });
  }
  static lk_result describe(lk_camera_device* d, lk_camera_description* out) noexcept {
    if (d == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return fenced("camera.describe",
                  [&] { return fill_sized(out, [&](lk_camera_description& l) { holder(d)->device->describe(l); }); });
  }
  static lk_result deliver_nonce(lk_camera_device* d, const uint8_t* nonce, std::size_t size) noexcept {
    if (d == nullptr || nonce == nullptr || size < 16 || size > LK_NONCE_MAX) return LK_ERR_INVALID_ARGUMENT;
    return fenced("camera.deliver_nonce", [&] {
      holder(d)->device->deliver_nonce(nonce, size);
      return LK_OK;
    });
  }
  static lk_result start_recording(lk_camera_device* d, const uint8_t session_id[LK_SESSION_ID_SIZE]) noexcept {
    if (d == nullptr || session_id == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return fenced("camera.start_recording", [&] {
      uint8_t id[LK_SESSION_ID_SIZE];
      std::memcpy(id, session_id, sizeof id);
      holder(d)->device->start_recording(id);
      return LK_OK;
    });
  }
  static lk_result stop_recording(lk_camera_device* d) noexcept {
    if (d == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return fenced("camera.stop_recording", [&] {
      holder(d)->device->stop_recording();
      return LK_OK;
    });
  }
  static lk_result snapshot(lk_camera_device* d, uint8_t* buffer, std::size_t* size, lk_snapshot_info* info) noexcept {
    if (d == nullptr || size == nullptr) return LK_ERR_INVALID_ARGUMENT;
    if (info != nullptr && info->struct_size < sizeof(uint32_t)) return LK_ERR_INVALID_ARGUMENT;
    return fenced("camera.snapshot", [&] {
      lk_snapshot_info local{};
      local.struct_size = sizeof(local);
      const std::vector<uint8_t> frame = holder(d)->device->snapshot(local);
      if (info != nullptr) {
        const uint32_t caller_size = info->struct_size;
        std::memcpy(info, &local, std::min<std::size_t>(caller_size, sizeof(local)));
        info->struct_size = caller_size;
      }
      const std::size_t capacity = *size;
      *size = frame.size();
      if (buffer == nullptr) return LK_OK;
      if (capacity < frame.size()) return LK_ERR_BUFFER_TOO_SMALL;
      std::memcpy(buffer, frame.data(), frame.size());
      return LK_OK;
    });
  }
  static const lk_camera_interface_v1* table() {
    static const lk_camera_interface_v1 t = {sizeof(lk_camera_interface_v1),
                                             0,
                                             &open,
                                             &close,
                                             &describe,
                                             &deliver_nonce,
                                             &start_recording,
                                             &stop_recording,
                                             has_snapshot<P>::value ? &snapshot : nullptr};
    return &t;
  }
};

template <class P>
struct AuthzTable {
  using D = typename P::Authz;
  using H = Holder<D>;
  static H* holder(lk_authz_provider* p) { return reinterpret_cast<H*>(p); }

  static lk_result open(const uint8_t* config, std::size_t size, lk_authz_provider** out) noexcept {
    if ((config == nullptr && size != 0) || out == nullptr) return LK_ERR_INVALID_ARGUMENT;
    *out = nullptr;
    return fenced("authz.open", [&] {
      auto h = std::make_unique<H>();
      h->device = D::open(std::string_view(reinterpret_cast<const char*>(config), size));
      if (!h->device) return LK_ERR_INVALID_ARGUMENT;
      *out = reinterpret_cast<lk_authz_provider*>(h.release());
      return LK_OK;
    });
  }
  static void close(lk_authz_provider* p) noexcept {
    if (p == nullptr) return;
    fenced("authz.close", [&] {
      delete holder(p);
      return LK_OK;
    });
  }
  static lk_result verify(lk_authz_provider* p, const lk_authz_context* context, const uint8_t* credential,
                          std::size_t size, lk_grant_info* grant, lk_authz_refusal* refusal) noexcept {
    if (p == nullptr || context == nullptr || context->struct_size < sizeof(lk_authz_context) ||
        context->hub_id == nullptr || context->door_id == nullptr || (credential == nullptr && size != 0) ||
        grant == nullptr || refusal == nullptr || grant->struct_size < sizeof(uint32_t) ||
        refusal->struct_size < sizeof(uint32_t))
      return LK_ERR_INVALID_ARGUMENT;
    return fenced("authz.verify", [&] {
      lk_grant_info g{};
      g.struct_size = sizeof(g);
      lk_authz_refusal r{};
      r.struct_size = sizeof(r);
      const bool ok = holder(p)->device->verify(*context, credential, size, g, r);
      const uint32_t grant_size = grant->struct_size;
      const uint32_t refusal_size = refusal->struct_size;
      if (ok) {
        std::memcpy(grant, &g, std::min<std::size_t>(grant_size, sizeof(g)));
        grant->struct_size = grant_size;
        return LK_OK;
      }
      if (r.code == LK_REFUSAL_NONE) r.code = LK_REFUSAL_OTHER;
      std::memcpy(refusal, &r, std::min<std::size_t>(refusal_size, sizeof(r)));
      refusal->struct_size = refusal_size;
      return LK_ERR_DENIED;
    });
  }
  static const lk_authz_interface_v1* table() {
    static const lk_authz_interface_v1 t = {sizeof(lk_authz_interface_v1), 0, &open, &close, &verify};
    return &t;
  }
};

template <class P>
struct TestControlTable {
  static TestControllable* device(void* d, lk_device_kind kind) {
    if (d == nullptr) return nullptr;
    if constexpr (has_lock<P>::value) {
      if (kind == LK_DEVICE_KIND_LOCK) return reinterpret_cast<Holder<typename P::Lock>*>(d)->device.get();
    }
    if constexpr (has_camera<P>::value) {
      if (kind == LK_DEVICE_KIND_CAMERA) return reinterpret_cast<Holder<typename P::Camera>*>(d)->device.get();
    }
    return nullptr;
  }
  static lk_result inject_fault(void* d, lk_device_kind kind, lk_fault fault, int64_t parameter) noexcept {
    TestControllable* t = device(d, kind);
    if (t == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return fenced("test_control.inject_fault", [&] { return t->inject_fault(fault, parameter); });
  }
  static lk_result clear_faults(void* d, lk_device_kind kind) noexcept {
    TestControllable* t = device(d, kind);
    if (t == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return fenced("test_control.clear_faults", [&] { return t->clear_faults(); });
  }
  static lk_result physical_action(void* d, lk_device_kind kind, lk_physical_action action) noexcept {
    TestControllable* t = device(d, kind);
    if (t == nullptr) return LK_ERR_INVALID_ARGUMENT;
    return fenced("test_control.physical_action", [&] { return t->physical_action(action); });
  }
  static const lk_test_control_interface_v1* table() {
    static const lk_test_control_interface_v1 t = {sizeof(lk_test_control_interface_v1), 0, &inject_fault,
                                                   &clear_faults, &physical_action};
    return &t;
  }
};

template <class P>
lk_result get_interface(const char* name, uint32_t major, const void** table) noexcept {
  if (name == nullptr || table == nullptr) return LK_ERR_INVALID_ARGUMENT;
  *table = nullptr;
  const std::string_view n(name);
  auto answer = [&](uint32_t wanted_major, const void* t) {
    if (major != wanted_major) return LK_ERR_VERSION;
    *table = t;
    return LK_OK;
  };
  if constexpr (has_lock<P>::value) {
    if (n == LK_LOCK_INTERFACE_NAME) return answer(LK_LOCK_INTERFACE_MAJOR, LockTable<P>::table());
  }
  if constexpr (has_camera<P>::value) {
    if (n == LK_CAMERA_INTERFACE_NAME) return answer(LK_CAMERA_INTERFACE_MAJOR, CameraTable<P>::table());
  }
  if constexpr (has_authz<P>::value) {
    if (n == LK_AUTHZ_INTERFACE_NAME) return answer(LK_AUTHZ_INTERFACE_MAJOR, AuthzTable<P>::table());
  }
  if constexpr (has_test_control<P>::value) {
    if (n == LK_TEST_CONTROL_INTERFACE_NAME)
      return answer(LK_TEST_CONTROL_INTERFACE_MAJOR, TestControlTable<P>::table());
  }
  return LK_ERR_NOT_FOUND;
}

// This wrapper speaks exactly ABI 1.0.
inline constexpr uint32_t kPluginMinAbi = LK_ABI_VERSION_1_0;
inline constexpr uint32_t kPluginMaxAbi = LK_ABI_VERSION_1_0;

template <class P>
lk_result negotiate(const lk_negotiate_request* request, const lk_plugin_info** info) noexcept {
  if (request == nullptr || info == nullptr || request->struct_size < sizeof(lk_negotiate_request))
    return LK_ERR_INVALID_ARGUMENT;
  *info = nullptr;
  const uint32_t low = std::max(request->min_abi_version, kPluginMinAbi);
  const uint32_t high = std::min(request->max_abi_version, kPluginMaxAbi);
  if (low > high) return LK_ERR_VERSION;
  if (request->host != nullptr) {
    lk_host_services& mine = host_services();
    mine = lk_host_services{};
    std::memcpy(&mine, request->host, std::min<std::size_t>(request->host->struct_size, sizeof(mine)));
  }
  // The highest version both sides speak. The host negotiates once per load
  // (lk_plugin.h), so writing the static answer here does not race.
  static lk_plugin_info plugin_info = {sizeof(lk_plugin_info),
                                       0,
                                       P::vendor,
                                       P::driver_id,
                                       P::driver_version,
                                       description_of<P>(),
                                       &get_interface<P>,
                                       shutdown_entry<P>()};
  plugin_info.abi_version = high;
  *info = &plugin_info;
  return LK_OK;
}

}  // namespace detail
}  // namespace latchkey::plugin

// Defines the plugin's one exported symbol for the traits struct PluginTraits.
#define LK_PLUGIN_EXPORT(PluginTraits)                                                                      \
  extern "C" LK_EXPORT lk_result lk_plugin_negotiate(const lk_negotiate_request* request,                   \
                                                     const lk_plugin_info** info) {                         \
    return ::latchkey::plugin::detail::negotiate<PluginTraits>(request, info);                              \
  }

#endif  // LATCHKEY_CPP_PLUGIN_HPP
