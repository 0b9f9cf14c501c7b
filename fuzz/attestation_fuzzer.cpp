// Fuzzes the camera attestation decoder: crypto::open_attestation
// (sdk/src/crypto/attestations.cpp) and the liveness monitor that judges what
// it opens (hal_reference/gate/src/liveness_monitor.cpp, C1-C5, C7, C8). A camera, or
// whoever sits on its network, chooses every byte.
//
// Input: a sequence of steps, each
//   flags byte: bit 0 the harness signs the body with the pinned camera key
//               (else the body is presented as a SignedAttestation as is),
//               bit 1 the hub issues a nonce first, bit 2 a re-enrolment
//               handshake precedes it (C3);
//   a time byte: hub time advances by 10 ms times its value;
//   a counted body.
// Nonces repeat run after run (fixed randomness), so seeds echo real ones.
// Properties: every attestation is either accepted or rejected with a rule;
// an accepted one, or one rejected for its picture (C5, C7, C8) behind claims
// that hold, moves the counter to its own, one rejected for its claims (C1-C3)
// leaves it; LIVE only within live_timeout of the last acceptance.
#include <latchkey/crypto/attestations.hpp>
#include <latchkey/gate/liveness_monitor.hpp>

#include "support/fixed_world.hpp"

#include <google/protobuf/stubs/logging.h>

using namespace latchkey;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const gate::GateConfig config;
  gate::LivenessMonitor monitor(std::string(fuzz::kCameraId), fuzz::camera_key().public_key, config);
  const fuzz::FixedRandom random;
  gate::MonoNs now = gate::ms_to_ns(1000);
  monitor.issue_nonce(now, random);

  fuzz::InputCursor in(data, size);
  uint64_t steps = 0;
  while (!in.empty() && steps < 64) {
    const uint8_t flags = in.byte();
    now += gate::ms_to_ns(10) * in.byte();
    std::string body = in.counted();
    if (flags & 2) monitor.issue_nonce(now, random);
    if (flags & 4) monitor.allow_new_boot();
    if (flags & 1) {
      v1::SignedAttestation signed_attestation;
      signed_attestation.set_attestation(body);
      signed_attestation.set_signature(
          fuzz::signature_over(crypto::kAttestationDomain, body, fuzz::camera_key().secret_key));
      body = signed_attestation.SerializeAsString();
    }
    const uint64_t counter_before = monitor.last_counter();
    const gate::AttestationVerdict v = monitor.on_attestation(fuzz::view(body), now);
    ++steps;
    if (fuzz::tracing())
      std::fprintf(stderr, "attestation %llu: %s %s %s%s\n", static_cast<unsigned long long>(steps),
                   v.accepted ? "accepted" : "rejected", std::string(latchkey::name(v.rule)).c_str(), v.reason.c_str(), monitor.live(now) ? " LIVE" : "");
    if (v.accepted) {
      LK_FUZZ_CHECK(v.rule == latchkey::Rule::kNone, "an accepted attestation carries a rejection rule");
      LK_FUZZ_CHECK(monitor.last_counter() == v.counter, "accepted, but the counter did not move to it");
      LK_FUZZ_CHECK(monitor.last_accepted() == now, "accepted, but not recorded as the last acceptance");
    } else {
      // The rules the monitor rejects under (liveness_monitor.hpp; docs/rules.md).
      const bool claims = v.rule == latchkey::Rule::C1 || v.rule == latchkey::Rule::C2 || v.rule == latchkey::Rule::C3;
      const bool picture = v.rule == latchkey::Rule::C5 || v.rule == latchkey::Rule::C7 || v.rule == latchkey::Rule::C8;
      LK_FUZZ_CHECK(claims || picture, "a rejection without its rule");
      // A refused claim leaves the sequence as it was; a picture refused behind
      // claims that hold moves it on, so that attestation cannot be replayed.
      if (claims) LK_FUZZ_CHECK(monitor.last_counter() == counter_before, "a rejected claim moved the counter");
      else LK_FUZZ_CHECK(monitor.last_counter() == v.counter, "a picture rejected, but its counter not taken");
      LK_FUZZ_CHECK(!monitor.live(now), "still LIVE right after a rejection");
    }
    if (monitor.live(now))
      LK_FUZZ_CHECK(monitor.last_accepted() && now - *monitor.last_accepted() < gate::ms_to_ns(config.live_timeout_ms),
                    "C4: LIVE without a recent acceptance");
  }
  LK_FUZZ_CHECK(monitor.accepted_count() + monitor.rejected_count() == steps, "an attestation went uncounted");
  return 0;
}
