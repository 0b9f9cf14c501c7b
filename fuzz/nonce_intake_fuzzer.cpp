// Fuzzes the camera agent's nonce intake: the raw payloads lk-camera-agent
// takes from latchkey/camera/<id>/nonce (Agent::on_nonce hands each to
// Attester::set_nonce, camera/agent/src/attester.cpp, which keeps it in the
// latchkey_attest context, sdk/attest/attest_context.c) and the attestations
// that then echo it. Anyone the broker lets publish there chooses the bytes.
//
// Input: up to 32 steps, each a flags byte (bit 0: sign an attestation after
// this nonce) and a 2-byte big-endian length and the payload (length 0: an
// empty message, NULL as libmosquitto hands it over). At most 4 signatures an
// input: signing is the slow part.
// Properties: a nonce is taken exactly when it has 16 to 32 bytes (C2); a
// refused one leaves the one held before. Every attestation signed opens
// with the hub's own decoder (crypto::open_attestation) under the camera's
// public key, names the camera and the context's boot id, counts up by one
// from 1, and echoes exactly the newest nonce taken (none before the first).
#include "attester.hpp"

#include "support/fixed_world.hpp"

#include <latchkey/crypto/attestations.hpp>
#include <latchkey/lk_attest.h>

#include <google/protobuf/stubs/logging.h>

namespace {

constexpr std::size_t kMaxSteps = 32;
constexpr int kMaxSignatures = 4;

// The camera key of the fixed world, loaded through latchkey_attest from the
// same seed, so the hub's decoder verifies with fuzz::camera_key().public_key.
const lk_attest_key& device_key() {
  static lk_attest_key* key = [] {
    uint8_t seed[LK_ATTEST_SEED_SIZE];
    std::fill(std::begin(seed), std::end(seed), uint8_t{3});
    lk_attest_key* k = nullptr;
    LK_FUZZ_CHECK(lk_attest_key_from_seed(seed, &k) == LK_ATTEST_OK, "lk_attest_key_from_seed failed");
    uint8_t pk[LK_ATTEST_PUBLIC_KEY_SIZE];
    lk_attest_key_public_key(k, pk);
    const auto& expected = latchkey::fuzz::camera_key().public_key;
    LK_FUZZ_CHECK(std::equal(expected.begin(), expected.end(), pk), "latchkey_attest derives another public key");
    return k;
  }();
  return *key;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  device_key();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  latchkey::fuzz::InputCursor in(data, size);
  latchkey::camera::Attester attester(device_key(), std::string(latchkey::fuzz::kCameraId));
  std::string newest;  // the nonce an attestation should echo
  uint64_t signed_count = 0;

  for (std::size_t step = 0; step < kMaxSteps && !in.empty(); ++step) {
    const uint8_t flags = in.byte();
    const std::string payload = in.counted();
    const auto* bytes = payload.empty() ? nullptr : reinterpret_cast<const uint8_t*>(payload.data());
    const bool taken = attester.set_nonce(bytes, payload.size());
    const bool valid = payload.size() >= LK_ATTEST_NONCE_MIN && payload.size() <= LK_ATTEST_NONCE_MAX;
    if (latchkey::fuzz::tracing()) std::fprintf(stderr, "nonce of %zu bytes: %s\n", payload.size(), taken ? "taken" : "refused");
    LK_FUZZ_CHECK(taken == valid, "a nonce taken or refused against its size rule (16-32 bytes)");
    if (taken) newest = payload;

    if ((flags & 1) == 0 || signed_count >= kMaxSignatures) continue;
    latchkey::camera::FrameDigest digest{};
    digest.fill(static_cast<uint8_t>(step));
    std::string error;
    const std::optional<std::vector<uint8_t>> attestation = attester.sign(digest, 1'000'000 * (step + 1), error);
    LK_FUZZ_CHECK(attestation.has_value(), "signing failed");
    ++signed_count;
    LK_FUZZ_CHECK(attestation->size() <= LK_ATTEST_SIGNED_MAX, "an attestation longer than LK_ATTEST_SIGNED_MAX");
    const latchkey::crypto::OpenedAttestation opened = latchkey::crypto::open_attestation(
        latchkey::crypto::ByteView(attestation->data(), attestation->size()), latchkey::fuzz::camera_key().public_key);
    if (latchkey::fuzz::tracing())
      std::fprintf(stderr, "attestation %llu: %s\n", static_cast<unsigned long long>(signed_count),
                   opened.ok ? "opens" : opened.error.c_str());
    LK_FUZZ_CHECK(opened.ok, "the hub cannot open what the agent signed");
    const latchkey::v1::Attestation& a = opened.attestation;
    LK_FUZZ_CHECK(a.hub_nonce() == newest, "the attestation does not echo the newest nonce taken (C2)");
    LK_FUZZ_CHECK(a.counter() == signed_count && attester.counter() == signed_count,
                  "the counter does not count up by one from 1 (C3)");
    LK_FUZZ_CHECK(a.camera_id() == latchkey::fuzz::kCameraId, "the attestation names another camera");
    const latchkey::camera::BootId boot = attester.boot_id();
    LK_FUZZ_CHECK(a.boot_id() == std::string(boot.begin(), boot.end()), "the attestation carries another boot id");
    LK_FUZZ_CHECK(a.frame_digest() == std::string(digest.begin(), digest.end()), "the attestation carries another digest");
  }
  return 0;
}
