// The bench-camera plugin: exports lk_plugin_negotiate for BenchCamera.
#include "bench_camera.hpp"

namespace {

struct BenchCameraPlugin {
  static constexpr const char* vendor = "Latchkey";
  static constexpr const char* driver_id = "org.latchkey.bench-camera";
  static constexpr const char* driver_version = "0.1.0";
  static constexpr const char* description = "Benchmark camera: many attesting cameras on one thread";
  static constexpr bool test_control = true;
  using Camera = latchkey::bench::BenchCamera;
};

}  // namespace

LK_PLUGIN_EXPORT(BenchCameraPlugin)
