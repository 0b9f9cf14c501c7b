// The gate engine in the fuzz world, for unlock_request_fuzzer and the seed
// generator: one door "front" with camera "cam-1", lock locked, door closed,
// clock synced, the camera made LIVE by attestations signed here. The
// harness plays the camera (acknowledging any recording it is asked for) and
// the audit log (committing every record), so an allowed request runs
// through to its unlock command. Randomness repeats, so the challenge
// prepare() returns is the same every run and seeds can carry it.
#ifndef LATCHKEY_FUZZ_SUPPORT_GATE_WORLD_HPP
#define LATCHKEY_FUZZ_SUPPORT_GATE_WORLD_HPP

#include <latchkey/crypto/attestations.hpp>
#include <latchkey/gate/gate_engine.hpp>

#include "support/fixed_world.hpp"

#include <map>
#include <variant>

namespace latchkey::fuzz {

using gate::MonoNs;

inline constexpr MonoNs kStep = gate::ms_to_ns(250);

inline gate::GateSetup fixed_setup() {
  gate::GateSetup setup;
  setup.hub_id = std::string(kHubId);
  setup.doors.push_back({std::string(kDoorId), {std::string(kCameraId)}});
  setup.cameras.push_back({std::string(kCameraId), camera_key().public_key});
  setup.issuer_keys[std::string(kIssuerKeyId)] = issuer_key().public_key;
  setup.authz_plugin_required = false;
  return setup;
}

// The camera's side: a well-formed attestation echoing `nonce`. Signing is
// the costly part and the sequence repeats every input, so answers are kept.
class FakeCamera {
 public:
  std::string attest(const crypto::Bytes& nonce, MonoNs now, const std::string& recording_session) {
    ++counter_;
    const std::string key = std::string(nonce.begin(), nonce.end()) + recording_session + std::to_string(counter_) +
                            "@" + std::to_string(now);
    auto hit = cache_.find(key);
    if (hit != cache_.end()) return hit->second;
    v1::Attestation a;
    a.set_camera_id(std::string(kCameraId));
    a.set_boot_id(std::string(16, 'b'));
    a.set_counter(counter_);
    a.set_capture_time_ns(static_cast<uint64_t>(now));
    a.set_frame_digest(std::string(31, 'f') + static_cast<char>(counter_));
    a.set_hub_nonce(std::string(nonce.begin(), nonce.end()));
    if (!recording_session.empty()) {
      a.mutable_recording()->set_recording(true);
      a.mutable_recording()->set_session_id(recording_session);
    }
    const crypto::Bytes signed_bytes = crypto::sign_attestation(a, camera_key().secret_key);
    return cache_[key] = std::string(signed_bytes.begin(), signed_bytes.end());
  }

 private:
  uint64_t counter_ = 0;
  static inline std::map<std::string, std::string> cache_;
};

struct GateWorld {
  gate::GateEngine engine{fixed_setup(), FixedRandom()};
  FakeCamera camera;
  MonoNs now = gate::ms_to_ns(1000);
  std::string recording_session;
  bool committed_consumption = false;
  int unlocks = 0;
  std::string trace;  // the decisions, for LK_FUZZ_TRACE

  // Carries out the engine's actions: nonces answered, audits committed.
  void settle() {
    for (int round = 0; round < 16; ++round) {
      std::vector<gate::Action> actions = engine.take_actions();
      if (actions.empty()) return;
      for (gate::Action& action : actions) {
        if (auto* nonce = std::get_if<gate::SendNonce>(&action)) {
          const std::string a = camera.attest(nonce->nonce, now, recording_session);
          engine.on_attestation(nonce->camera_id, view(a), now);
        } else if (auto* start = std::get_if<gate::StartRecording>(&action)) {
          recording_session = start->session_id;
        } else if (auto* audit = std::get_if<gate::AppendAudit>(&action)) {
          if (audit->durable_token == 0) continue;
          if (!audit->consumes_grant.empty()) committed_consumption = true;
          engine.on_audit_committed(audit->durable_token, true, now);
        } else if (auto* decision = std::get_if<gate::Decision>(&action)) {
          trace += decision->allowed ? "allowed; " : "denied " + std::string(latchkey::name(decision->rule)) + ": " + decision->message + "; ";
        } else if (std::get_if<gate::CommandUnlock>(&action)) {
          LK_FUZZ_CHECK(committed_consumption, "I1/U3: an unlock command before its grant's consumption committed");
          ++unlocks;
          trace += "unlock command; ";
        }
      }
    }
  }

  // Brings the world to where a courier presents a request; returns the challenge issued.
  crypto::Bytes prepare() {
    engine.start(now);
    engine.on_wall_clock_synced(now);
    engine.on_lock_state(std::string(kDoorId), LK_LOCK_STATE_LOCKED, now);
    engine.on_door_state(std::string(kDoorId), LK_DOOR_STATE_CLOSED, now);
    settle();
    advance(6);  // C4: four accepted attestations in a row make the camera LIVE
    crypto::Bytes challenge = engine.issue_challenge(std::string(kDoorId), now);
    settle();
    return challenge;
  }

  void advance(int steps) {
    for (int i = 0; i < steps; ++i) {
      now += kStep;
      engine.tick(now);
      settle();
    }
  }
};

}  // namespace latchkey::fuzz

#endif  // LATCHKEY_FUZZ_SUPPORT_GATE_WORLD_HPP
