// One recorded window of a camera's attestations, shared by the TC-CAM cases
// that judge the same stream (rate, signatures, counters, nonces, digests,
// clock) and by TC-ABI-8.2 (lent bytes stay valid until released).
#ifndef LATCHKEY_CERTIFY_CAMERA_OBSERVATION_HPP
#define LATCHKEY_CERTIFY_CAMERA_OBSERVATION_HPP

#include "suite.hpp"
#include "support.hpp"

#include "latchkey/attestation.pb.h"

#include <string>
#include <vector>

namespace latchkey::certify {

struct ObservedAttestation {
  Clock::time_point received;
  bool parsed = false;           // a SignedAttestation holding an Attestation
  bool signature_ok = false;     // verifies with the described key
  v1::Attestation attestation;
  crypto::Digest bytes_hash{};   // BLAKE2b of the lent bytes at receipt
  bool bytes_stable = true;      // the same bytes when released at the end of the window
  std::size_t nonces_delivered = 0;  // how many nonces had been delivered when it arrived
};

struct CameraObservation {
  bool opened = false;
  std::string error;
  lk_camera_description description{};
  std::vector<std::vector<uint8_t>> nonces;       // in delivery order
  std::vector<Clock::time_point> nonce_times;
  std::vector<ObservedAttestation> attestations;
  Clock::time_point start, end;
  uint32_t nonce_period_ms = 200;
};

// kRunner: the device cases' view, through the subject's runner in the run's
// mode. kThisProcess: TC-ABI-8.2's view, the plugin loaded into this process
// lending its bytes (in_process mode: both are the same recording).
enum class ObservedThrough { kRunner, kThisProcess };

// How many declared attestation periods the window lasts (at least 2 s, at most 15 s).
inline constexpr uint32_t kObservedPeriods = 40;

// Opens the camera, delivers a fresh nonce every 200 ms for kObservedPeriods
// declared periods (2 s to 15 s) and records every attestation. Recorded once
// per device URI and view, and kept.
const CameraObservation& observe_camera(const Subject& subject, const std::string& uri, ObservedThrough through);

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_CAMERA_OBSERVATION_HPP
