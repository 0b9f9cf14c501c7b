// lk_fault_camera: the simulated camera plus the process faults of
// process_faults.h, which fire in the next deliver_nonce call.
#include "process_fault.hpp"
#include "sim_camera.hpp"

#ifndef LATCHKEY_PLUGIN_VERSION
#error "LATCHKEY_PLUGIN_VERSION must be defined by the build"
#endif

namespace {

using latchkey::plugin::EventSink;
using latchkey::sim::SimCamera;

class FaultCamera final : public latchkey::plugin::CameraDriver {
 public:
  static std::unique_ptr<FaultCamera> open(std::string_view uri, EventSink sink) {
    return std::make_unique<FaultCamera>(SimCamera::open(uri, sink));
  }
  explicit FaultCamera(std::unique_ptr<SimCamera> camera) : camera_(std::move(camera)) {}

  void describe(lk_camera_description& description) override { camera_->describe(description); }
  void deliver_nonce(const uint8_t* nonce, std::size_t size) override {
    armed_.fire_if_armed();
    camera_->deliver_nonce(nonce, size);
  }
  void start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) override {
    camera_->start_recording(session_id);
  }
  void stop_recording() override { camera_->stop_recording(); }
  std::vector<uint8_t> snapshot(lk_snapshot_info& info) override { return camera_->snapshot(info); }

  lk_result inject_fault(lk_fault fault, int64_t parameter) override {
    if (latchkey::test::is_process_fault(fault)) return armed_.arm(fault, parameter);
    return camera_->inject_fault(fault, parameter);
  }
  lk_result clear_faults() override {
    armed_.clear();
    return camera_->clear_faults();
  }
  lk_result physical_action(lk_physical_action action) override { return camera_->physical_action(action); }

 private:
  const std::unique_ptr<SimCamera> camera_;
  latchkey::test::ArmedProcessFault armed_;
};

struct FaultCameraPlugin {
  static constexpr const char* vendor = "Latchkey";
  static constexpr const char* driver_id = "org.latchkey.test.fault-camera";
  static constexpr const char* driver_version = LATCHKEY_PLUGIN_VERSION;
  static constexpr const char* description =
      "Simulated attesting camera that can crash or wedge its process (tests only)";
  static constexpr bool test_control = true;
  static constexpr bool snapshot = true;
  using Camera = FaultCamera;
};

}  // namespace

LK_PLUGIN_EXPORT(FaultCameraPlugin)
