// SceneWorld: C8 on real frames, end to end (docs/camera-agent.md, "Scene
// measurements"; docs/rules.md C8).
//
// The hub's Mosquitto on loopback, a real latchkeyd with the net_camera
// plugin and a door bound to the camera, and lk-camera-agent on an FFmpeg
// lavfi source: the test picture (testsrc2, moving) that becomes, at a
// chosen second of the source, black, white, blurred, another scene, the
// view turned, or a still of the view with fresh noise in every frame. The
// agent attests every frame (25 frames/s, one attestation per 40 ms), so the
// first tampered frame is itself attested.
//
// A tap with the hub's broker user reads every attestation, stamps it on
// arrival (CLOCK_MONOTONIC, the clock of the hub's mono_us and of the
// agent's capture_time_ns on this one machine) and finds the first whose
// measurements are out of the hub's limits: its capture time is t0, the
// first tampered frame. The hub's event stream gives the camera-tamper alarm
// (rule C8) and the end of LIVE; the detection delay is alarm - t0, to hold
// to tamper_window + 50 ms.
//
// Used by scene_tamper_test (each case once under ctest). No gtest here.
#ifndef LATCHKEY_TESTS_SCENE_TAMPER_SCENE_WORLD_HPP
#define LATCHKEY_TESTS_SCENE_TAMPER_SCENE_WORLD_HPP

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace latchkey::scene {

enum class Tamper { kNone, kBlack, kWhite, kBlurred, kOtherScene, kTurned, kStillWithNoise };
const char* tamper_name(Tamper tamper);
// The lavfi graph of a case: the view, tampered with from `at_s` seconds on,
// and the sensor's noise over everything.
std::string source_graph(Tamper tamper, int at_s);
std::string tampered_view(Tamper tamper, int at_s);

// The camera's C8 limits at the hub, as the tap applies them too.
struct Limits {
  uint32_t min_luminance = 8000, max_luminance = 247000, min_sharpness = 3500, min_similarity = 300;
};

struct CaseResult {
  Tamper tamper = Tamper::kNone;
  uint64_t attestations = 0;          // seen by the tap after the agent started
  uint64_t out_of_limits = 0;         // of those, out of the limits
  std::optional<int64_t> t0_ns;       // capture time of the first attested frame out of limits
  std::optional<int64_t> t0_rx_ns;    // its arrival at the tap
  std::optional<int64_t> alarm_us;    // the C8 camera-tamper alarm (hub mono_us)
  std::string alarm_message;
  bool live_at_end = false;           // the camera LIVE when the case ended
  std::string first_out;              // the first out-of-limits measurements, as text
  std::string last_seen;              // the last measurements seen, as text
  int64_t delay_us() const { return alarm_us && t0_ns ? *alarm_us - *t0_ns / 1000 : -1; }
  std::string describe() const;
};

struct WorldOptions {
  std::filesystem::path latchkeyd, plugin_dir, agent;  // defaults: this build's
  int tamper_window_ms = 2000;
  int tamper_at_s = 4;                  // source second at which the view is tampered with
  std::chrono::milliseconds watch{std::chrono::milliseconds(3500)};  // after the tamper, how long to watch
  Limits limits;
  std::function<void(const std::string&)> log;
};
WorldOptions default_world_options();

class SceneWorld {
 public:
  // The broker and the camera's key and reference view (from the untouched
  // test picture, as at enrolment). Throws std::runtime_error.
  explicit SceneWorld(WorldOptions options);
  ~SceneWorld();
  SceneWorld(const SceneWorld&) = delete;
  SceneWorld& operator=(const SceneWorld&) = delete;

  // One case: a fresh hub and agent run, LIVE before the tamper, then
  // watch. Throws std::runtime_error when the world cannot be set up.
  CaseResult run(Tamper tamper);

  // lkctl enrol's own code (client::enrol_camera) against the agent on the
  // untouched view, watching it for observe_ms: what it measured.
  struct Enrolled {
    std::string camera_id;
    uint32_t samples = 0, min_luminance = 0, max_luminance = 0, min_sharpness = 0, max_sharpness = 0,
             min_similarity = 0, max_similarity = 0;
    uint32_t chosen_min_luminance = 0, chosen_max_luminance = 0, chosen_min_sharpness = 0, chosen_min_similarity = 0;
    std::size_t snapshot_bytes = 0;
    bool snapshot_is_the_reference_file = false;  // every cell of the agent's reference PGM, 10x in the PPM
  };
  Enrolled enrol(uint32_t observe_ms);

  const WorldOptions& options() const { return options_; }
  int64_t target_us() const { return (options_.tamper_window_ms + 50) * 1000LL; }
  std::string diagnostics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  WorldOptions options_;
};

}  // namespace latchkey::scene

#endif  // LATCHKEY_TESTS_SCENE_TAMPER_SCENE_WORLD_HPP
