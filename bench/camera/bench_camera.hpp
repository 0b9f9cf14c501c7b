// A benchmark-only camera driver: any number of cameras, all driven by ONE
// worker thread of the plugin, each signing real attestations (Ed25519, the
// same SignedAttestation the reference sim camera sends). It exists so the
// hub can be loaded with thousands of cameras without a thread per camera.
//
// URI: sim://camera/<name>?seed=<64 hex>[&rate_hz=<1-50>][&probe_fd=<fd>]
// probe_fd: after each attestation it sends, the camera writes the 8-byte
// CLOCK_MONOTONIC time (ns) at which it handed the attestation to the host
// to that file descriptor (non-blocking; a full pipe drops the record).
// The driver uses it to know when the last attestation left the camera.
//
// Faults (test control): CAMERA_OFFLINE stops attestations, CAMERA_FREEZE
// keeps the frame digest; clear_faults resumes.
#ifndef LATCHKEY_BENCH_BENCH_CAMERA_HPP
#define LATCHKEY_BENCH_BENCH_CAMERA_HPP

#include <latchkey/cpp/plugin.hpp>
#include <latchkey/crypto/crypto.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::bench {

class CameraClock;

class BenchCamera final : public plugin::CameraDriver {
 public:
  struct Config {
    std::string name;
    uint32_t rate_hz = 4;
    std::array<uint8_t, 32> seed{};
    int probe_fd = -1;
  };

  static std::unique_ptr<BenchCamera> open(std::string_view uri, plugin::EventSink sink);

  BenchCamera(Config config, plugin::EventSink sink);
  // Leaves the shared worker's schedule; no attestation follows.
  ~BenchCamera() override;

  void describe(lk_camera_description& description) override;
  void deliver_nonce(const uint8_t* nonce, std::size_t size) override;
  void start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) override;
  void stop_recording() override;
  lk_result inject_fault(lk_fault fault, int64_t parameter) override;
  lk_result clear_faults() override;

  int64_t period_ns() const { return 1'000'000'000LL / config_.rate_hz; }

  struct State;

 private:
  const Config config_;
  const plugin::EventSink sink_;
  const crypto::KeyPair key_;
  std::shared_ptr<State> state_;  // shared with the worker's schedule
  std::shared_ptr<CameraClock> clock_;
};

}  // namespace latchkey::bench

#endif  // LATCHKEY_BENCH_BENCH_CAMERA_HPP
