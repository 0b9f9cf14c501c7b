// Minting grants and building unlock requests, as an issuer and a courier's
// device would (docs/rules.md G1, G2). Thin over crypto::mint_grant and
// crypto::make_unlock_request; adds the grant id and the reading back of a
// serialized SignedGrant.
#ifndef LATCHKEY_CLIENT_GRANT_MINTING_HPP
#define LATCHKEY_CLIENT_GRANT_MINTING_HPP

#include <latchkey/crypto/crypto.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace latchkey::client {

struct GrantSpec {
  std::string issuer_key_id;
  std::string hub_id;
  std::string door_id;
  std::string courier_id;
  crypto::PublicKey courier_public_key{};
  int64_t not_before_unix_ms = 0;
  int64_t not_after_unix_ms = 0;
  std::vector<std::string> required_camera_ids;
  crypto::Bytes grant_id;  // empty: 16 random bytes
};

struct MintedGrant {
  crypto::Bytes grant_id;
  crypto::Bytes signed_grant;  // a serialized SignedGrant
};

// Signs the grant with the issuer's key. Throws std::invalid_argument when a
// field is empty or the window is reversed.
MintedGrant mint_grant(const GrantSpec& spec, const crypto::SecretKey& issuer_key);

// The grant id inside a serialized SignedGrant; nullopt when the bytes do
// not parse as one.
std::optional<crypto::Bytes> grant_id_of(crypto::ByteView signed_grant);

int64_t unix_now_ms();

}  // namespace latchkey::client

#endif  // LATCHKEY_CLIENT_GRANT_MINTING_HPP
