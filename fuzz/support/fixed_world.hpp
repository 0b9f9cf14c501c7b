// The fixed world every fuzz target runs in: keys made from constant seeds,
// ids, a wall-clock instant and randomness that repeats run after run. The
// seed corpora (fuzz/seeds/make_seeds.cpp) are built from the same values, so
// a mutated seed still carries a pinned key id, the hub's challenge or a nonce
// the hub really issued, and the fuzzer gets past signatures into the checks
// behind them.
#ifndef LATCHKEY_FUZZ_SUPPORT_FIXED_WORLD_HPP
#define LATCHKEY_FUZZ_SUPPORT_FIXED_WORLD_HPP

#include <latchkey/crypto/crypto.hpp>

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

// A property the decoder promises, checked on every input: a broken one
// aborts, and libFuzzer saves the input as a crash.
#define LK_FUZZ_CHECK(condition, what)                                                  \
  do {                                                                                  \
    if (!(condition)) {                                                                 \
      std::fprintf(stderr, "fuzz property broken at %s:%d: %s\n", __FILE__, __LINE__, what); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

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

// Cuts a fuzz input into fields: a byte, a 2-byte big-endian length and the
// bytes it counts (clamped to what is left), or the rest.
class InputCursor {
 public:
  InputCursor(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return at_ >= size_; }
  uint8_t byte() { return empty() ? 0 : data_[at_++]; }
  std::string counted() {
    std::size_t n = std::size_t{byte()} << 8;
    n |= byte();
    return take(n);
  }
  std::string rest() { return take(size_ - at_); }

 private:
  std::string take(std::size_t n) {
    n = std::min(n, size_ - at_);
    std::string out(reinterpret_cast<const char*>(data_ + at_), n);
    at_ += n;
    return out;
  }

  const uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

// LK_FUZZ_TRACE=1 in the environment: targets say what became of each input
// (to check that a seed reaches as deep as it is meant to).
inline bool tracing() {
  static const bool on = std::getenv("LK_FUZZ_TRACE") != nullptr;
  return on;
}

// Writes the same fields, for the seed generator.
inline void put_counted(std::string& out, const std::string& field) {
  out.push_back(static_cast<char>(field.size() >> 8));
  out.push_back(static_cast<char>(field.size() & 0xff));
  out += field;
}

}  // namespace latchkey::fuzz

#endif  // LATCHKEY_FUZZ_SUPPORT_FIXED_WORLD_HPP
