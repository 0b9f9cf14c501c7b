// LivenessMonitor: one camera's proof of life (docs/rules.md C1-C5, C7, C8).
//
// Verifies each attestation against the camera's pinned Ed25519 key and
// tracks counter, boot id, clock drift, nonce echo, frame digest and
// recording state. Pure: the caller passes the hub's monotonic time and
// randomness; nothing here reads a clock.
//
// Latchkey's reading of C3/C4: a rejected attestation is evidence of a fault
// or an attack, so it ends LIVE at once (the run of consecutive accepted
// attestations restarts); frozen frames (C5), looped footage (C7) and a
// tampered view (C8, past its window) are rejected the same way.
#ifndef LATCHKEY_GATE_LIVENESS_MONITOR_HPP
#define LATCHKEY_GATE_LIVENESS_MONITOR_HPP

#include <latchkey/crypto/crypto.hpp>
#include <latchkey/gate/config.hpp>
#include <latchkey/rules/rule.hpp>
#include <latchkey/gate/time.hpp>

#include <array>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace latchkey::gate {

struct AttestationVerdict {
  bool accepted = false;
  Rule rule = Rule::kNone;     // of a rejection: C1, C2, C3, C5, C7 or C8
  std::string reason;          // for people and the audit log
  uint64_t counter = 0;        // as claimed by the attestation (0 if unparsable)
  bool recording = false;      // accepted only: the camera records...
  std::string session_id;      // ...for this session (16 bytes), per the attestation
};

class LivenessMonitor {
 public:
  LivenessMonitor(std::string camera_id, const crypto::PublicKey& device_key, const GateConfig& config,
                  const SceneLimits& scene = {});

  const std::string& camera_id() const noexcept { return camera_id_; }

  // C2: records a fresh nonce the hub is about to send; returns it.
  crypto::Bytes issue_nonce(MonoNs now, const RandomSource& random);

  // C1/C3/C5: judges one SignedAttestation received at `now`.
  AttestationVerdict on_attestation(crypto::ByteView signed_attestation, MonoNs now);

  // C4/C5: LIVE at `now`.
  bool live(MonoNs now) const noexcept;
  // When LIVE ends if nothing else arrives (kNever when not LIVE): live_timeout
  // after the last accepted attestation, or earlier, when the view has been
  // out of its limits (C8) for tamper_window.
  MonoNs live_until() const noexcept;
  // C8: the view has been out of its limits for longer than tamper_window at
  // `now`, by the attestations so far; what is wrong with it.
  bool tampered(MonoNs now) const noexcept;
  const std::string& tamper_problem() const noexcept { return tamper_problem_; }
  // Hub time of the last accepted attestation (nullopt before the first).
  std::optional<MonoNs> last_accepted() const noexcept { return last_accepted_; }
  uint64_t last_counter() const noexcept { return last_counter_; }
  // The session the camera last acknowledged recording for (empty: not recording).
  const std::string& recording_session() const noexcept { return recording_session_; }

  // C3: the next attestation may carry a new boot id (a re-enrolment handshake).
  void allow_new_boot() noexcept { allow_new_boot_ = true; }
  // Ends LIVE now, e.g. when the camera's plugin fails (F1).
  void mark_not_live() noexcept { consecutive_ = 0; }

  // C8: the measurements of the last accepted attestation that carried any.
  struct Scene {
    uint32_t mean_luminance = 0, sharpness = 0, reference_similarity = 0;
  };
  const std::optional<Scene>& last_scene() const noexcept { return last_scene_; }

  uint64_t accepted_count() const noexcept { return accepted_count_; }
  uint64_t rejected_count() const noexcept { return rejected_count_; }

 private:
  AttestationVerdict reject(Rule rule, std::string reason, uint64_t counter);

  std::string camera_id_;
  crypto::PublicKey key_;
  GateConfig config_;

  struct IssuedNonce {
    crypto::Bytes nonce;
    MonoNs issued;
  };
  std::deque<IssuedNonce> nonces_;

  std::optional<std::string> boot_id_;
  bool allow_new_boot_ = false;
  uint64_t last_counter_ = 0;
  bool have_counter_ = false;
  // C3 drift: a reference sample (camera time, hub time) no older than the drift window.
  std::optional<std::pair<uint64_t, MonoNs>> drift_reference_;
  uint64_t last_capture_ns_ = 0;
  // C5: the current run of identical digests.
  std::string run_digest_;
  MonoNs run_start_ = 0;
  // C7: every digest accepted within loop_window, with when it was last seen;
  // the deque holds them in order of acceptance so old ones leave in O(1).
  std::unordered_map<std::string, MonoNs> seen_digests_;
  std::deque<std::pair<std::string, MonoNs>> seen_order_;
  void remember_digest(const std::string& digest, MonoNs now);
  // C8: since when the camera's scene has been out of its limits.
  SceneLimits scene_;
  std::optional<MonoNs> tamper_since_;
  std::string tamper_problem_;
  // C8: (arrival - capture) of the last attestations, in the camera's clock
  // units; the smallest is the fastest transit seen lately. Returns how much
  // later than that this one arrived (at most kMaxArrivalLagMs).
  MonoNs note_transit(uint64_t capture_ns, MonoNs now, bool new_boot);
  std::array<int64_t, 32> transits_{};
  std::size_t transit_next_ = 0;
  std::size_t transit_count_ = 0;
  std::optional<Scene> last_scene_;

  int64_t consecutive_ = 0;
  std::optional<MonoNs> last_accepted_;
  std::string recording_session_;
  uint64_t accepted_count_ = 0;
  uint64_t rejected_count_ = 0;
};

}  // namespace latchkey::gate

#endif  // LATCHKEY_GATE_LIVENESS_MONITOR_HPP
