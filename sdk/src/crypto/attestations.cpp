#include <latchkey/crypto/attestations.hpp>

namespace latchkey::crypto {

Bytes sign_attestation(const v1::Attestation& attestation, const SecretKey& device_key) {
  const std::string body = attestation.SerializeAsString();
  const Signature signature =
      sign(kAttestationDomain, {reinterpret_cast<const uint8_t*>(body.data()), body.size()}, device_key);
  v1::SignedAttestation signed_attestation;
  signed_attestation.set_attestation(body);
  signed_attestation.set_signature(signature.data(), signature.size());
  const std::string out = signed_attestation.SerializeAsString();
  return {out.begin(), out.end()};
}

OpenedAttestation open_attestation(ByteView bytes, const PublicKey& device_key) {
  OpenedAttestation opened;
  v1::SignedAttestation signed_attestation;
  if (bytes.empty() || !signed_attestation.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    opened.error = "malformed: signed attestation does not parse";
    return opened;
  }
  const std::string& body = signed_attestation.attestation();
  const std::string& signature = signed_attestation.signature();
  if (!verify(kAttestationDomain, {reinterpret_cast<const uint8_t*>(body.data()), body.size()},
              {reinterpret_cast<const uint8_t*>(signature.data()), signature.size()}, device_key)) {
    opened.error = "bad signature";
    return opened;
  }
  if (!opened.attestation.ParseFromString(body)) {
    opened.error = "malformed: attestation body does not parse";
    return opened;
  }
  opened.ok = true;
  return opened;
}

}  // namespace latchkey::crypto
