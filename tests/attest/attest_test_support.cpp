#include "attest_test_support.hpp"

#include <sodium.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

namespace latchkey::attest_test {

bool verifies_with_libsodium(const Parsed& parsed, const crypto::PublicKey& public_key) {
  const std::string& body = parsed.signed_attestation.attestation();
  const std::string& signature = parsed.signed_attestation.signature();
  if (signature.size() != crypto_sign_ed25519_BYTES) return false;
  std::string message = "latchkey.attestation.v1";
  message.push_back('\0');
  message += body;
  return crypto_sign_ed25519_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                             public_key.data()) == 0;
}

ScratchDir::ScratchDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/lk-attest-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace latchkey::attest_test
