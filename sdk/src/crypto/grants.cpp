#include <latchkey/crypto/grants.hpp>

#include <latchkey/lk_authz.h>

namespace latchkey::crypto {
namespace {

ByteView view_of(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

GrantCheck refuse(GrantRefusal refusal, std::string message) {
  GrantCheck check;
  check.refusal = refusal;
  check.message = std::move(message);
  return check;
}

bool printable_id(const std::string& s) {
  if (s.empty() || s.size() >= LK_ID_MAX) return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

}  // namespace

const char* to_string(GrantRefusal refusal) noexcept {
  switch (refusal) {
    case GrantRefusal::kNone: return "none";
    case GrantRefusal::kMalformed: return "malformed";
    case GrantRefusal::kUnknownIssuer: return "unknown issuer";
    case GrantRefusal::kBadSignature: return "bad signature";
    case GrantRefusal::kNotYetValid: return "not yet valid";
    case GrantRefusal::kExpired: return "expired";
    case GrantRefusal::kWrongHub: return "wrong hub";
    case GrantRefusal::kWrongDoor: return "wrong door";
    case GrantRefusal::kLifetime: return "lifetime too long";
  }
  return "unknown";
}

Bytes mint_grant(const v1::Grant& grant, const SecretKey& issuer_key) {
  v1::SignedGrant signed_grant;
  const std::string body = grant.SerializeAsString();
  const Signature signature = sign(kGrantDomain, view_of(body), issuer_key);
  signed_grant.set_grant(body);
  signed_grant.set_key_id(grant.issuer_key_id());
  signed_grant.set_signature(signature.data(), signature.size());
  const std::string out = signed_grant.SerializeAsString();
  return {out.begin(), out.end()};
}

GrantCheck check_signed_grant(ByteView bytes, const IssuerKeyLookup& keys, const GrantExpectations& expect) {
  v1::SignedGrant signed_grant;
  if (bytes.empty() || !signed_grant.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return refuse(GrantRefusal::kMalformed, "signed grant does not parse");
  if (signed_grant.signature().size() != 64)
    return refuse(GrantRefusal::kMalformed, "signature must be 64 bytes, got " +
                                                std::to_string(signed_grant.signature().size()));
  // G1: the key is chosen by key id among pinned keys; there is no algorithm field to negotiate.
  const std::optional<PublicKey> key = keys ? keys(signed_grant.key_id()) : std::nullopt;
  if (!key) return refuse(GrantRefusal::kUnknownIssuer, "issuer key id '" + signed_grant.key_id() + "' is not pinned");
  if (!verify(kGrantDomain, view_of(signed_grant.grant()), view_of(signed_grant.signature()), *key))
    return refuse(GrantRefusal::kBadSignature, "grant signature does not verify with key '" + signed_grant.key_id() + "'");

  GrantCheck check;
  if (!check.grant.ParseFromString(signed_grant.grant()))
    return refuse(GrantRefusal::kMalformed, "signed grant body does not parse");
  const v1::Grant& g = check.grant;
  if (g.issuer_key_id() != signed_grant.key_id())
    return refuse(GrantRefusal::kMalformed, "grant issuer_key_id differs from the signing key id");
  if (g.grant_id().size() != LK_GRANT_ID_SIZE)
    return refuse(GrantRefusal::kMalformed, "grant_id must be 16 bytes, got " + std::to_string(g.grant_id().size()));
  if (g.courier_public_key().size() != 32)
    return refuse(GrantRefusal::kMalformed, "courier_public_key must be 32 bytes");
  if (!printable_id(g.hub_id()) || !printable_id(g.door_id()) || !printable_id(g.courier_id()))
    return refuse(GrantRefusal::kMalformed, "hub_id, door_id and courier_id must be 1-63 printable characters");
  if (g.required_camera_ids_size() > static_cast<int>(LK_GRANT_MAX_CAMERAS))
    return refuse(GrantRefusal::kMalformed, "grant names more than 8 cameras");
  for (const std::string& camera : g.required_camera_ids())
    if (!printable_id(camera)) return refuse(GrantRefusal::kMalformed, "a required camera id is not printable");
  if (g.hub_id() != expect.hub_id)
    return refuse(GrantRefusal::kWrongHub, "grant is for hub '" + g.hub_id() + "', this is '" + expect.hub_id + "'");
  if (g.door_id() != expect.door_id)
    return refuse(GrantRefusal::kWrongDoor, "grant is for door '" + g.door_id() + "', not '" + expect.door_id + "'");
  // Timestamps are signed by a pinned issuer, but extreme values must still not overflow.
  constexpr int64_t kMaxTimestampMs = int64_t{1} << 50;  // far beyond any real date
  if (g.not_before_unix_ms() < 0 || g.not_after_unix_ms() < 0 || g.not_before_unix_ms() > kMaxTimestampMs ||
      g.not_after_unix_ms() > kMaxTimestampMs)
    return refuse(GrantRefusal::kMalformed, "not_before and not_after must be Unix milliseconds in range");
  if (g.not_after_unix_ms() < g.not_before_unix_ms())
    return refuse(GrantRefusal::kMalformed, "not_after is before not_before");
  if (g.not_after_unix_ms() - g.not_before_unix_ms() > kMaxGrantLifetimeMs)
    return refuse(GrantRefusal::kLifetime, "grant lifetime exceeds 24 h");
  if (expect.now_unix_ms < g.not_before_unix_ms() - expect.skew_ms)
    return refuse(GrantRefusal::kNotYetValid, "grant is not valid before " + std::to_string(g.not_before_unix_ms()));
  if (expect.now_unix_ms > g.not_after_unix_ms() + expect.skew_ms)
    return refuse(GrantRefusal::kExpired, "grant expired at " + std::to_string(g.not_after_unix_ms()));
  check.refusal = GrantRefusal::kNone;
  return check;
}

Bytes make_unlock_request(ByteView signed_grant, const std::string& door_id, ByteView challenge,
                          const SecretKey& courier_key) {
  v1::SignedGrant parsed;
  std::string grant_id;
  if (parsed.ParseFromArray(signed_grant.data(), static_cast<int>(signed_grant.size()))) {
    v1::Grant grant;
    if (grant.ParseFromString(parsed.grant())) grant_id = grant.grant_id();
  }
  v1::PresenceStatement presence;
  presence.set_grant_id(grant_id);
  presence.set_door_id(door_id);
  presence.set_challenge(challenge.data(), challenge.size());
  const std::string presence_bytes = presence.SerializeAsString();
  const Signature signature = sign(kPresenceDomain, view_of(presence_bytes), courier_key);

  v1::UnlockRequest request;
  request.set_signed_grant(signed_grant.data(), signed_grant.size());
  request.set_presence(presence_bytes);
  request.set_presence_signature(signature.data(), signature.size());
  const std::string out = request.SerializeAsString();
  return {out.begin(), out.end()};
}

}  // namespace latchkey::crypto
