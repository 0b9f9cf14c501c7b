#include <latchkey/crypto/crypto.hpp>

#include <sodium.h>

#include <cstring>
#include <mutex>
#include <stdexcept>

namespace latchkey::crypto {
namespace {

void ensure_sodium() {
  static const int status = sodium_init();
  if (status < 0) throw std::runtime_error("libsodium failed to initialise");
}

// "<domain>\0" || message: the bytes every Latchkey signature covers.
Bytes domain_message(std::string_view domain, ByteView message) {
  Bytes out;
  out.reserve(domain.size() + 1 + message.size());
  out.insert(out.end(), domain.begin(), domain.end());
  out.push_back(0);
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

}  // namespace

KeyPair KeyPair::generate() {
  ensure_sodium();
  KeyPair pair;
  crypto_sign_ed25519_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

KeyPair KeyPair::from_seed(const std::array<uint8_t, 32>& seed) {
  ensure_sodium();
  KeyPair pair;
  crypto_sign_ed25519_seed_keypair(pair.public_key.data(), pair.secret_key.data(), seed.data());
  return pair;
}

Signature sign(std::string_view domain, ByteView message, const SecretKey& secret_key) {
  ensure_sodium();
  const Bytes signed_bytes = domain_message(domain, message);
  Signature signature{};
  crypto_sign_ed25519_detached(signature.data(), nullptr, signed_bytes.data(), signed_bytes.size(),
                               secret_key.data());
  return signature;
}

bool verify(std::string_view domain, ByteView message, ByteView signature, const PublicKey& public_key) {
  ensure_sodium();
  if (signature.size() != crypto_sign_ed25519_BYTES) return false;
  const Bytes signed_bytes = domain_message(domain, message);
  return crypto_sign_ed25519_verify_detached(signature.data(), signed_bytes.data(), signed_bytes.size(),
                                             public_key.data()) == 0;
}

Digest blake2b256(ByteView data) {
  ensure_sodium();
  Digest digest{};
  crypto_generichash(digest.data(), digest.size(), data.data(), data.size(), nullptr, 0);
  return digest;
}

void random_bytes(std::span<uint8_t> out) {
  if (out.empty()) return;  // an empty vector's data() may be null, which randombytes_buf must not get
  ensure_sodium();
  randombytes_buf(out.data(), out.size());
}

Bytes random_bytes(std::size_t size) {
  Bytes out(size);
  random_bytes(std::span<uint8_t>(out));
  return out;
}

bool equal_constant_time(ByteView a, ByteView b) {
  ensure_sodium();
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(ByteView data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t byte : data) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xF]);
  }
  return out;
}

std::optional<Bytes> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = nibble(hex[i]);
    const int low = nibble(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<uint8_t>(high << 4 | low));
  }
  return out;
}

}  // namespace latchkey::crypto
