// The attestation context of this run (lk_attest_context): boot id, counter,
// the hub's newest nonce and the recording state, signed with each frame
// digest (and its scene measurements, C8) into SignedAttestation bytes. The context is not thread-safe, so
// every call here takes one lock: the MQTT thread hands in nonces, the
// capture thread the recording state, the attestation thread signs.
#pragma once

#include "device_key.hpp"
#include "pixel_digest.hpp"
#include "recorder.hpp"

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::camera {

using BootId = std::array<uint8_t, LK_ATTEST_BOOT_ID_SIZE>;

class Attester {
 public:
  // Throws std::runtime_error with the library's result name on failure.
  Attester(const lk_attest_key& key, const std::string& camera_id);
  ~Attester();
  Attester(const Attester&) = delete;
  Attester& operator=(const Attester&) = delete;

  BootId boot_id() const { return boot_id_; }

  // Takes the hub's newest nonce; false (the nonce held before is kept) when
  // it is not 16-32 bytes.
  bool set_nonce(const uint8_t* nonce, std::size_t size);
  void set_recording(const RecordingState& state);

  // The SignedAttestation for a frame with this digest captured at
  // capture_ns; nullopt (with error) when signing fails.
  std::optional<std::vector<uint8_t>> sign(const FrameDigest& digest, uint64_t capture_ns, std::string& error);
  // The same with the frame's scene measurements (C8); scene nullptr: the
  // attestation carries none (the field is left out).
  std::optional<std::vector<uint8_t>> sign(const FrameDigest& digest, uint64_t capture_ns,
                                           const lk_attest_scene* scene, std::string& error);

  uint64_t counter() const;

 private:
  std::optional<std::vector<uint8_t>> sign_locked(const FrameDigest& digest, uint64_t capture_ns, std::string& error);

  mutable std::mutex mutex_;
  lk_attest_context* context_ = nullptr;
  BootId boot_id_{};
};

}  // namespace latchkey::camera
