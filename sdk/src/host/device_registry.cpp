#include "device_registry.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace latchkey::host::detail {

namespace {

struct Registry {
  std::mutex mutex;
  std::condition_variable idle;
  std::unordered_map<uintptr_t, DeviceCore*> devices;
  uintptr_t next_index = 1;
};

// Never destroyed: a plugin thread may still fire while the process exits.
Registry& registry() {
  static Registry* const instance = new Registry;
  return *instance;
}

void dispatch_event(void* context, const lk_event* raw) noexcept {
  if (raw == nullptr) return;
  // A plugin built against an older minor sends a shorter event; the rest is zero.
  lk_event event{};
  std::memcpy(&event, raw, std::min<std::size_t>(raw->struct_size, sizeof(event)));

  DeviceRef ref(reinterpret_cast<uintptr_t>(context));
  DeviceCore* core = ref.get();
  if (core == nullptr) {
    log_problem("event for a device that is no longer open; released and dropped");
    if (event.release != nullptr) event.release(event.release_context, event.data);
    return;
  }

  DeviceEvent out;
  out.kind = event.kind;
  out.value = event.value;
  out.detail = event.detail;
  out.device_time_ns = event.device_time_ns;
  if (event.release != nullptr || event.data != nullptr) {
    try {
      out.data = std::make_shared<LentBytes>(core->plugin, event);
    } catch (...) {
      log_problem("out of memory taking lent event data; released and dropped");
      if (event.release != nullptr) event.release(event.release_context, event.data);
      return;
    }
  }
  if (core->closed.load()) {
    // The plugin promised to stop before close() returned. The data, if any,
    // is released when out goes out of scope.
    core->events_after_close.fetch_add(1);
    return;
  }
  if (core->on_event) call_user("an EventHandler threw; the exception was dropped", [&] { core->on_event(out); });
}

}  // namespace

DeviceCore::DeviceCore(std::shared_ptr<Plugin> plugin_in, EventHandler handler_in)
    : plugin(std::move(plugin_in)), on_event(std::move(handler_in)) {}

DeviceCore::~DeviceCore() = default;

void register_device(DeviceCore& core) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (r.devices.size() >= kTokenHalfMask - 1) throw std::runtime_error("latchkey: too many open devices");
  // Indexes wrap only after 2^(half of the pointer bits) opens; skip live ones.
  while (r.devices.count(r.next_index) != 0) r.next_index = r.next_index % kTokenHalfMask + 1;
  core.index = r.next_index;
  r.next_index = r.next_index % kTokenHalfMask + 1;
  r.devices.emplace(core.index, &core);
}

void unregister_device(DeviceCore& core) noexcept {
  Registry& r = registry();
  std::unique_lock<std::mutex> lock(r.mutex);
  r.devices.erase(core.index);
  r.idle.wait(lock, [&] { return core.in_flight == 0; });
}

DeviceRef::DeviceRef(uintptr_t index) noexcept {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const auto found = r.devices.find(index);
  if (found == r.devices.end()) return;
  core_ = found->second;
  ++core_->in_flight;
}

DeviceRef::~DeviceRef() {
  if (core_ == nullptr) return;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (--core_->in_flight == 0) r.idle.notify_all();
}

void* make_token(uintptr_t index, uintptr_t sequence) noexcept {
  return reinterpret_cast<void*>((index << kTokenHalfBits) | (sequence & kTokenHalfMask));
}
uintptr_t token_index(void* token) noexcept { return reinterpret_cast<uintptr_t>(token) >> kTokenHalfBits; }
uintptr_t token_sequence(void* token) noexcept { return reinterpret_cast<uintptr_t>(token) & kTokenHalfMask; }

lk_event_sink make_sink(const DeviceCore& core) noexcept {
  lk_event_sink sink{};
  sink.struct_size = sizeof(sink);
  sink.context = reinterpret_cast<void*>(core.index);
  sink.on_event = &dispatch_event;
  return sink;
}

void log_problem(const char* what) noexcept { std::fprintf(stderr, "latchkey host: %s\n", what); }

}  // namespace latchkey::host::detail
