// The agent: frames in, attestations out. Three threads:
// - the capture thread (run()'s caller) decodes every frame, keeps the newest
//   digest (and, when measuring, a copy of its GRAY8 picture), feeds the
//   recorder and carries out recording commands;
// - the attestation thread measures the newest frame's scene (C8, once per
//   frame attested, not per frame decoded), signs its digest and
//   measurements once per period and publishes them while connected
//   (attestations are signed, and the counter advances, while disconnected
//   too; they are only not sent);
// - the MQTT network thread (mqtt_link.hpp) hands in nonces and commands.
#pragma once

#include "agent_config.hpp"
#include "attester.hpp"
#include "command_intake.hpp"
#include "frame_source.hpp"
#include "mqtt_link.hpp"
#include "recorder.hpp"
#include "scene_meter.hpp"

#include <atomic>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace latchkey::camera {

// "lk-camera-agent <version>", as the hello's agent field.
std::string agent_version();

class Agent {
 public:
  // password: the broker password read from --password-file (may be empty).
  // stop is set by SIGINT/SIGTERM. Throws std::runtime_error when a part
  // cannot be set up (the source, the MQTT client, a reference file that
  // exists but is refused).
  Agent(const AgentConfig& config, const lk_attest_key& key, std::string password, const std::atomic<bool>& stop);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Runs until stop is set or a file source ends; then publishes offline,
  // disconnects and finishes any recording. Returns the exit status.
  int run();

 private:
  struct Latest {
    bool valid = false;
    FrameDigest digest{};
    uint64_t capture_ns = 0;
    uint64_t index = 0;  // CapturedFrame::index
  };

  std::optional<lk_attest_scene> scene_of(const Latest& frame);

  std::vector<uint8_t> make_hello(const lk_attest_key& key) const;
  void attest_loop();
  void on_nonce(const uint8_t* data, std::size_t size);
  void handle_commands();
  void keep_recording();
  void push_recording_state();
  void publish_reference();  // attestation thread
  void shut_down();

  // A frame older than this is not attested: a source that stopped
  // delivering must not look live (the hub then sees no attestations).
  static constexpr uint64_t kStaleFrameNs = 1'000'000'000;

  AgentConfig config_;
  std::atomic<bool> stop_attesting_{false};
  Attester attester_;
  std::unique_ptr<SceneMeter> scene_;  // null with --no-scene; before source_: a bad reference stops the start first
  FrameSource source_;
  std::unique_ptr<Recorder> recorder_;
  CommandIntake commands_;
  std::unique_ptr<MqttLink> link_;
  std::thread attest_thread_;

  std::mutex latest_mutex_;
  Latest latest_;  // guarded by latest_mutex_
  std::condition_variable frame_arrived_;  // with latest_mutex_: a new latest_, or stop
  // C8: three pictures passed around by swapping, never copied twice: the
  // capture thread fills staging_gray_ and swaps it into latest_gray_ (the
  // picture of latest_); the attestation thread swaps that into scene_gray_
  // to measure it outside the lock.
  GrayPicture latest_gray_;   // guarded by latest_mutex_
  GrayPicture staging_gray_;  // capture thread only
  GrayPicture scene_gray_;    // attestation thread only
  bool reference_published_ = false;            // attestation thread only
  uint64_t measured_index_ = 0;                 // attestation thread only: the frame measured_ is of
  std::optional<lk_attest_scene> measured_;     // attestation thread only

  std::atomic<bool> nonce_seen_{false};  // since the last connect
  std::atomic<uint64_t> last_bad_nonce_log_ns_{0};
  std::optional<SessionId> wanted_session_;  // the session to record for, per the last command
  uint64_t recorded_generation_ = 0;
  uint64_t seen_generation_ = UINT64_MAX;  // of the source, by the packet sink
  uint64_t last_start_attempt_ns_ = 0;
  uint64_t start_attempt_generation_ = UINT64_MAX;
  RecordingState pushed_state_;
};

}  // namespace latchkey::camera
