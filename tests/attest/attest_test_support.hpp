// Shared by the latchkey_attest tests: RAII for the library's objects, a
// scratch folder, and reading an attestation back with libprotobuf.
#ifndef LATCHKEY_TESTS_ATTEST_TEST_SUPPORT_HPP
#define LATCHKEY_TESTS_ATTEST_TEST_SUPPORT_HPP

#include <latchkey/crypto/attestations.hpp>
#include <latchkey/lk_attest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "latchkey/attestation.pb.h"

namespace latchkey::attest_test {

struct KeyDeleter {
  void operator()(lk_attest_key* key) const { lk_attest_key_free(key); }
};
struct ContextDeleter {
  void operator()(lk_attest_context* context) const { lk_attest_context_free(context); }
};
struct DigestDeleter {
  void operator()(lk_attest_digest* digest) const { lk_attest_digest_free(digest); }
};
using Key = std::unique_ptr<lk_attest_key, KeyDeleter>;
using Context = std::unique_ptr<lk_attest_context, ContextDeleter>;
using Digest = std::unique_ptr<lk_attest_digest, DigestDeleter>;

inline Key key_from_seed(const std::array<uint8_t, LK_ATTEST_SEED_SIZE>& seed) {
  lk_attest_key* key = nullptr;
  if (lk_attest_key_from_seed(seed.data(), &key) != LK_ATTEST_OK) return nullptr;
  return Key(key);
}

inline crypto::PublicKey public_key_of(const lk_attest_key* key) {
  crypto::PublicKey public_key{};
  lk_attest_key_public_key(key, public_key.data());
  return public_key;
}

inline std::string boot_id_of(const lk_attest_context* context) {
  std::string boot_id(LK_ATTEST_BOOT_ID_SIZE, '\0');
  lk_attest_boot_id(context, reinterpret_cast<uint8_t*>(boot_id.data()));
  return boot_id;
}

// Signs into an exactly sized buffer; empty on failure.
inline std::vector<uint8_t> sign(lk_attest_context* context, uint64_t capture_time_ns,
                                 const std::array<uint8_t, LK_ATTEST_DIGEST_SIZE>& digest) {
  std::vector<uint8_t> out(LK_ATTEST_SIGNED_MAX);
  size_t size = out.size();
  if (lk_attest_sign(context, capture_time_ns, digest.data(), out.data(), &size) != LK_ATTEST_OK) return {};
  out.resize(size);
  return out;
}

// The two messages as the hub's generated code reads them; ok false when either does not parse.
struct Parsed {
  bool ok = false;
  v1::SignedAttestation signed_attestation;
  v1::Attestation attestation;
};

inline Parsed parse(const std::vector<uint8_t>& bytes) {
  Parsed parsed;
  parsed.ok = parsed.signed_attestation.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
              parsed.attestation.ParseFromString(parsed.signed_attestation.attestation());
  return parsed;
}

// "latchkey.attestation.v1" NUL body, checked with libsodium directly rather than through sdk crypto.
bool verifies_with_libsodium(const Parsed& parsed, const crypto::PublicKey& public_key);

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace latchkey::attest_test

#endif  // LATCHKEY_TESTS_ATTEST_TEST_SUPPORT_HPP
