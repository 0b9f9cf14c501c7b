// A simulated camera that proves liveness with signed attestations (docs/rules.md
// C1), records for sessions (U2) and can play every camera fault of
// lk_test_control.h.
#ifndef LATCHKEY_SIM_SIM_CAMERA_HPP
#define LATCHKEY_SIM_SIM_CAMERA_HPP

#include <latchkey/cpp/plugin.hpp>
#include <latchkey/crypto/crypto.hpp>
#include <latchkey/sim/scheduler.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::sim {

class SimCamera final : public plugin::CameraDriver {
 public:
  static constexpr uint32_t kFrameWidth = 32;
  static constexpr uint32_t kFrameHeight = 24;

  struct Config {
    std::string name;                                // the camera id
    uint32_t rate_hz = 4;                            // attestations per second, 1-50
    std::optional<std::array<uint8_t, 32>> seed;     // Ed25519 seed; random key when absent
  };

  // Parses sim://camera/<name>?rate_hz=&seed= and opens the camera.
  static std::unique_ptr<SimCamera> open(std::string_view uri, plugin::EventSink sink);

  SimCamera(Config config, plugin::EventSink sink);
  // Stops attesting and joins the worker; lent attestations stay valid.
  ~SimCamera() override;

  void describe(lk_camera_description& description) override;
  void deliver_nonce(const uint8_t* nonce, std::size_t size) override;
  void start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) override;
  void stop_recording() override;
  std::vector<uint8_t> snapshot(lk_snapshot_info& info) override;

  lk_result inject_fault(lk_fault fault, int64_t parameter) override;
  lk_result clear_faults() override;

 private:
  struct Recording {
    bool on = false;
    std::array<uint8_t, LK_SESSION_ID_SIZE> session_id{};
    uint64_t segment_id = 0;
    uint64_t bytes = 0;
  };

  struct Faults {
    bool freeze = false;
    bool offline = false;
    bool replay = false;
    bool ignore_nonce = false;
    bool repeat_counter = false;
    std::optional<crypto::KeyPair> wrong_key;
    int64_t clock_offset_ns = 0;
    bool covered = false;  // C8
  };

  static constexpr std::size_t kReplayHistory = 32;

  void on_tick();
  void emit_attestation_locked();  // one attestation now (or a replayed one), mutex_ held
  void capture_locked();
  crypto::Bytes attest_locked();
  uint64_t camera_time_ns_locked() const;
  uint32_t period_ms() const;

  const Config config_;
  const plugin::EventSink sink_;
  const crypto::KeyPair key_;
  const crypto::Bytes boot_id_;

  std::mutex mutex_;  // guards everything below; events are emitted while holding it
  uint64_t counter_ = 0;
  uint64_t frame_number_ = 0;
  std::vector<uint8_t> frame_;
  uint64_t frame_time_ns_ = 0;
  crypto::Digest frame_digest_{};
  std::vector<uint8_t> nonce_;
  std::optional<std::vector<uint8_t>> first_nonce_;
  Recording recording_;
  uint64_t last_segment_id_ = 0;
  std::deque<crypto::Bytes> history_;  // the latest signed attestations, oldest first
  std::size_t replay_next_ = 0;
  Faults faults_;
  Scheduler::Clock::time_point next_tick_;

  Scheduler scheduler_;  // last: its worker runs tasks that use the members above
};

}  // namespace latchkey::sim

#endif  // LATCHKEY_SIM_SIM_CAMERA_HPP
