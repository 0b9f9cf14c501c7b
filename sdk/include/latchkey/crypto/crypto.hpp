// Ed25519 keys, signatures with domain separation, BLAKE2b digests and hex,
// over libsodium. Used by the reference plugins, the hub and the tools; not
// part of the C ABI.
#ifndef LATCHKEY_CRYPTO_CRYPTO_HPP
#define LATCHKEY_CRYPTO_CRYPTO_HPP

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::crypto {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;
using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 64>;
using Signature = std::array<uint8_t, 64>;
using Digest = std::array<uint8_t, 32>;

// Signing domains: every signature covers "<domain>\0" || message, so bytes
// signed for one purpose can never be replayed as another.
inline constexpr std::string_view kGrantDomain = "latchkey.grant.v1";
inline constexpr std::string_view kPresenceDomain = "latchkey.presence.v1";
inline constexpr std::string_view kAttestationDomain = "latchkey.attestation.v1";

struct KeyPair {
  PublicKey public_key{};
  SecretKey secret_key{};

  static KeyPair generate();
  // Deterministic, for simulation and tests.
  static KeyPair from_seed(const std::array<uint8_t, 32>& seed);
};

Signature sign(std::string_view domain, ByteView message, const SecretKey& secret_key);
// Constant-time inside libsodium; false on any mismatch or malformed input.
bool verify(std::string_view domain, ByteView message, ByteView signature, const PublicKey& public_key);

Digest blake2b256(ByteView data);
void random_bytes(std::span<uint8_t> out);
Bytes random_bytes(std::size_t size);
// Constant-time equality of two equally long byte strings; false if lengths differ.
bool equal_constant_time(ByteView a, ByteView b);

std::string to_hex(ByteView data);
std::optional<Bytes> from_hex(std::string_view hex);

inline ByteView view(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

}  // namespace latchkey::crypto

#endif  // LATCHKEY_CRYPTO_CRYPTO_HPP
