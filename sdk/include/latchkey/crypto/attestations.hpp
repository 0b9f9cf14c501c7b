// Signing and opening camera attestations (sdk/proto attestation.proto, docs/rules.md C1).
// Opening checks the signature only; the hub's liveness monitor checks the rest (C2-C5).
#ifndef LATCHKEY_CRYPTO_ATTESTATIONS_HPP
#define LATCHKEY_CRYPTO_ATTESTATIONS_HPP

#include <latchkey/crypto/crypto.hpp>

#include <optional>
#include <string>

#include "latchkey/attestation.pb.h"

namespace latchkey::crypto {

// Serializes the attestation and returns a serialized SignedAttestation.
Bytes sign_attestation(const v1::Attestation& attestation, const SecretKey& device_key);

struct OpenedAttestation {
  bool ok = false;
  std::string error;             // why it was refused: "malformed", "bad signature", ...
  v1::Attestation attestation;   // valid when ok
};

// Parses a serialized SignedAttestation and verifies its signature against the pinned device key.
OpenedAttestation open_attestation(ByteView signed_attestation, const PublicKey& device_key);

}  // namespace latchkey::crypto

#endif  // LATCHKEY_CRYPTO_ATTESTATIONS_HPP
