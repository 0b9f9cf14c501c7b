// The fixed world every fuzz target runs in: keys made from constant seeds,
// ids, a wall-clock instant and randomness that repeats run after run. The
// seed corpora (fuzz/seeds/make_seeds.cpp) are built from the same values, so
// a mutated seed still carries a pinned key id, the hub's challenge or a nonce
// the hub really issued, and the fuzzer gets past signatures into the checks
// behind them.
#ifndef LATCHKEY_FUZZ_SUPPORT_FIXED_WORLD_HPP
#define LATCHKEY_FUZZ_SUPPORT_FIXED_WORLD_HPP

#include <latchkey/crypto/crypto.hpp>

#include "support/fuzz_input.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace latchkey::fuzz {

inline constexpr std::string_view kHubId = "hub-1";
inline constexpr std::string_view kDoorId = "front";
inline constexpr std::string_view kCameraId = "cam-1";
inline constexpr std::string_view kIssuerKeyId = "issuer-1";
inline constexpr int64_t kWallMs = 1'700'000'000'000;  // "now" for every grant check

inline crypto::KeyPair key_from(uint8_t tag) {
  std::array<uint8_t, 32> seed{};
  seed.fill(tag);
  return crypto::KeyPair::from_seed(seed);
}
inline const crypto::KeyPair& issuer_key() {
  static const crypto::KeyPair k = key_from(1);
  return k;
}
inline const crypto::KeyPair& courier_key() {
  static const crypto::KeyPair k = key_from(2);
  return k;
}
inline const crypto::KeyPair& camera_key() {
  static const crypto::KeyPair k = key_from(3);
  return k;
}

// Randomness as a counter: the n-th byte ever drawn is n's low byte mixed
// with a constant. Copies share the counter (the engine copies its source).
class FixedRandom {
 public:
  void operator()(std::span<uint8_t> out) const {
    for (uint8_t& b : out) b = static_cast<uint8_t>((*drawn_)++ * 131 + 7);
  }

 private:
  std::shared_ptr<uint64_t> drawn_ = std::make_shared<uint64_t>(0);
};

inline crypto::ByteView view(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Signs `body` as its own bytes (no re-serialisation), so the fuzzer controls
// exactly what the decoder reads after the signature checks out.
inline std::string signature_over(std::string_view domain, const std::string& body, const crypto::SecretKey& key) {
  const crypto::Signature s = crypto::sign(domain, view(body), key);
  return std::string(s.begin(), s.end());
}

}  // namespace latchkey::fuzz

#endif  // LATCHKEY_FUZZ_SUPPORT_FIXED_WORLD_HPP
