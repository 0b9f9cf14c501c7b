// Minting and checking signed grants and presence proofs (sdk/proto
// grant.proto and unlock.proto). The checks here are the format and signature
// part of G1/G2; the hub adds the consumed set, revocation and challenges.
#ifndef LATCHKEY_CRYPTO_GRANTS_HPP
#define LATCHKEY_CRYPTO_GRANTS_HPP

#include <latchkey/crypto/crypto.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "latchkey/grant.pb.h"
#include "latchkey/unlock.pb.h"

namespace latchkey::crypto {

inline constexpr int64_t kMaxGrantLifetimeMs = 24LL * 3600 * 1000;  // G1

// Serializes grant, signs it with the issuer key and returns a serialized SignedGrant.
Bytes mint_grant(const v1::Grant& grant, const SecretKey& issuer_key);

enum class GrantRefusal {
  kNone,
  kMalformed,
  kUnknownIssuer,
  kBadSignature,
  kNotYetValid,
  kExpired,
  kWrongHub,
  kWrongDoor,
  kLifetime,
};
const char* to_string(GrantRefusal refusal) noexcept;

struct GrantCheck {
  GrantRefusal refusal = GrantRefusal::kMalformed;
  std::string message;           // for people; names the field at fault
  v1::Grant grant;               // valid when refusal == kNone
  bool ok() const noexcept { return refusal == GrantRefusal::kNone; }
};

struct GrantExpectations {
  std::string hub_id;
  std::string door_id;
  int64_t now_unix_ms = 0;
  int64_t skew_ms = 60'000;      // G1 default
};

// Looks up a pinned issuer key by key id.
using IssuerKeyLookup = std::function<std::optional<PublicKey>(const std::string& key_id)>;

// Parses and checks a serialized SignedGrant: key id pinning, signature, field
// sizes, hub and door, validity window with skew, lifetime <= 24 h.
GrantCheck check_signed_grant(ByteView signed_grant, const IssuerKeyLookup& keys, const GrantExpectations& expect);

// Builds a serialized UnlockRequest: presence statement signed by the courier key.
Bytes make_unlock_request(ByteView signed_grant, const std::string& door_id, ByteView challenge,
                          const SecretKey& courier_key);

}  // namespace latchkey::crypto

#endif  // LATCHKEY_CRYPTO_GRANTS_HPP
