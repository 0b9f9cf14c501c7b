// CameraHandle: a camera device and its serialised calls.
#include <latchkey/host/devices.hpp>

#include <stdexcept>
#include <utility>

#include "device_registry.hpp"

namespace latchkey::host {

struct CameraHandle::State : detail::DeviceCore {
  using DeviceCore::DeviceCore;

  void close_device() {
    std::lock_guard<std::mutex> call_lock(call_mutex);
    if (closed.load()) return;
    if (opened) table->close(device);
    closed.store(true);
  }

  const lk_camera_interface_v1* table = nullptr;
  const lk_test_control_interface_v1* test_control = nullptr;
  lk_camera_device* device = nullptr;
};

namespace {

// Larger frames are refused rather than allocated on a plugin's word.
constexpr std::size_t kMaxSnapshotBytes = std::size_t{64} << 20;
constexpr int kSnapshotAttempts = 3;  // the frame may grow between size query and copy

}  // namespace

lk_result CameraHandle::open(std::shared_ptr<Plugin> plugin, const std::string& uri, EventHandler on_event,
                             std::unique_ptr<CameraHandle>* out) {
  if (plugin == nullptr || plugin->camera_interface() == nullptr) {
    throw std::logic_error("latchkey: the plugin offers no camera interface");
  }
  if (out == nullptr) return LK_ERR_INVALID_ARGUMENT;
  auto state = std::make_shared<State>(plugin, std::move(on_event));
  state->table = plugin->camera_interface();
  state->test_control = plugin->test_control_interface();
  detail::register_device(*state);
  std::unique_ptr<CameraHandle> handle(new CameraHandle(state));
  std::lock_guard<std::mutex> call_lock(state->call_mutex);
  const lk_event_sink sink = detail::make_sink(*state);
  const lk_result result = state->table->open(uri.c_str(), &sink, &state->device);
  if (result != LK_OK) return result;
  state->opened = true;
  *out = std::move(handle);
  return LK_OK;
}

CameraHandle::CameraHandle(std::shared_ptr<State> state) : state_(std::move(state)) {}

CameraHandle::~CameraHandle() {
  state_->close_device();
  detail::unregister_device(*state_);
}

void CameraHandle::close() { state_->close_device(); }

lk_result CameraHandle::describe(lk_camera_description* description) {
  if (description == nullptr) return LK_ERR_INVALID_ARGUMENT;
  return state_->serialised([&] {
    *description = lk_camera_description{};
    description->struct_size = sizeof(*description);
    return state_->table->describe(state_->device, description);
  });
}

lk_result CameraHandle::deliver_nonce(const uint8_t* nonce, std::size_t size) {
  if (nonce == nullptr || size < 16 || size > LK_NONCE_MAX) return LK_ERR_INVALID_ARGUMENT;
  return state_->serialised([&] { return state_->table->deliver_nonce(state_->device, nonce, size); });
}

lk_result CameraHandle::start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) {
  return state_->serialised([&] { return state_->table->start_recording(state_->device, session_id); });
}

lk_result CameraHandle::stop_recording() {
  return state_->serialised([&] { return state_->table->stop_recording(state_->device); });
}

bool CameraHandle::supports_snapshot() const noexcept { return state_->table->snapshot != nullptr; }

lk_result CameraHandle::snapshot(std::vector<uint8_t>* frame, lk_snapshot_info* info) {
  if (frame == nullptr) return LK_ERR_INVALID_ARGUMENT;
  return state_->serialised([&] {
    const auto snapshot = state_->table->snapshot;
    if (snapshot == nullptr) return LK_ERR_UNSUPPORTED;
    for (int attempt = 0; attempt < kSnapshotAttempts; ++attempt) {
      std::size_t needed = 0;
      lk_result result = snapshot(state_->device, nullptr, &needed, nullptr);
      if (result != LK_OK) return result;
      if (needed > kMaxSnapshotBytes) return LK_ERR_NO_MEMORY;
      frame->assign(needed, 0);
      std::size_t size = needed;
      if (info != nullptr) {
        *info = lk_snapshot_info{};
        info->struct_size = sizeof(*info);
      }
      result = snapshot(state_->device, frame->data(), &size, info);
      if (result == LK_ERR_BUFFER_TOO_SMALL) continue;
      if (result != LK_OK) return result;
      if (size > needed) return LK_ERR_INTERNAL;  // claims to have written past the buffer
      frame->resize(size);
      return LK_OK;
    }
    return LK_ERR_BUFFER_TOO_SMALL;
  });
}

lk_result CameraHandle::inject_fault(lk_fault fault, int64_t parameter) {
  return state_->serialised([&] {
    const lk_test_control_interface_v1* tc = state_->test_control;
    if (tc == nullptr || tc->inject_fault == nullptr) return LK_ERR_UNSUPPORTED;
    return tc->inject_fault(state_->device, LK_DEVICE_KIND_CAMERA, fault, parameter);
  });
}

lk_result CameraHandle::clear_faults() {
  return state_->serialised([&] {
    const lk_test_control_interface_v1* tc = state_->test_control;
    if (tc == nullptr || tc->clear_faults == nullptr) return LK_ERR_UNSUPPORTED;
    return tc->clear_faults(state_->device, LK_DEVICE_KIND_CAMERA);
  });
}

ContractViolations CameraHandle::violations() const {
  ContractViolations result;
  result.events_after_close = state_->events_after_close.load();
  return result;
}

const std::shared_ptr<Plugin>& CameraHandle::plugin() const noexcept { return state_->plugin; }

}  // namespace latchkey::host
