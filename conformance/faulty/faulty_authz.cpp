// An authorization provider that accepts expired credentials: it checks a
// grant against the wall clock only to refuse not-yet-valid ones (docs/rules.md G1
// requires both ends of the window). Configuration: "issuer <key id> <hex>" lines.
#include <latchkey/cpp/plugin.hpp>
#include <latchkey/crypto/grants.hpp>

#include <map>
#include <sstream>

namespace {

using latchkey::plugin::Error;
namespace crypto = latchkey::crypto;

class AcceptsExpired final : public latchkey::plugin::AuthzProvider {
 public:
  static std::unique_ptr<AcceptsExpired> open(std::string_view config) {
    auto provider = std::make_unique<AcceptsExpired>();
    std::istringstream lines{std::string(config)};
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string directive, key_id, hex;
      if (!(words >> directive)) continue;
      const auto key = (words >> key_id >> hex) ? crypto::from_hex(hex) : std::nullopt;
      if (directive != "issuer" || !key || key->size() != 32)
        throw Error(LK_ERR_INVALID_ARGUMENT, "expected 'issuer <key id> <64 hex digits>'");
      crypto::PublicKey pk{};
      std::copy(key->begin(), key->end(), pk.begin());
      provider->issuers_[key_id] = pk;
    }
    if (provider->issuers_.empty()) throw Error(LK_ERR_INVALID_ARGUMENT, "no issuer pinned");
    return provider;
  }

  bool verify(const lk_authz_context& context, const uint8_t* credential, std::size_t size, lk_grant_info& grant,
              lk_authz_refusal& refusal) override {
    crypto::GrantExpectations expect;
    expect.hub_id = context.hub_id;
    expect.door_id = context.door_id;
    expect.now_unix_ms = context.now_unix_ms;
    const crypto::IssuerKeyLookup lookup = [this](const std::string& id) -> std::optional<crypto::PublicKey> {
      auto it = issuers_.find(id);
      if (it == issuers_.end()) return std::nullopt;
      return it->second;
    };
    crypto::GrantCheck check = crypto::check_signed_grant({credential, size}, lookup, expect);
    if (check.refusal == crypto::GrantRefusal::kExpired) {
      // The bug: an expired grant is checked again as if it were still its last valid moment.
      latchkey::v1::SignedGrant signed_grant;
      latchkey::v1::Grant inner;
      if (signed_grant.ParseFromArray(credential, static_cast<int>(size)) && inner.ParseFromString(signed_grant.grant())) {
        expect.now_unix_ms = inner.not_after_unix_ms();
        check = crypto::check_signed_grant({credential, size}, lookup, expect);
      }
    }
    if (!check.ok()) {
      refusal.code = check.refusal == crypto::GrantRefusal::kMalformed       ? LK_REFUSAL_MALFORMED
                     : check.refusal == crypto::GrantRefusal::kUnknownIssuer ? LK_REFUSAL_UNKNOWN_ISSUER
                     : check.refusal == crypto::GrantRefusal::kBadSignature  ? LK_REFUSAL_BAD_SIGNATURE
                     : check.refusal == crypto::GrantRefusal::kNotYetValid   ? LK_REFUSAL_NOT_YET_VALID
                     : check.refusal == crypto::GrantRefusal::kExpired       ? LK_REFUSAL_EXPIRED
                     : check.refusal == crypto::GrantRefusal::kWrongHub      ? LK_REFUSAL_WRONG_HUB
                     : check.refusal == crypto::GrantRefusal::kWrongDoor     ? LK_REFUSAL_WRONG_DOOR
                     : check.refusal == crypto::GrantRefusal::kLifetime      ? LK_REFUSAL_LIFETIME
                                                                             : LK_REFUSAL_OTHER;
      latchkey::plugin::copy_text(refusal.message, check.message);
      return false;
    }
    const latchkey::v1::Grant& g = check.grant;
    grant.uses = g.uses();
    std::memcpy(grant.grant_id, g.grant_id().data(), LK_GRANT_ID_SIZE);
    latchkey::plugin::copy_text(grant.issuer_key_id, g.issuer_key_id());
    latchkey::plugin::copy_text(grant.hub_id, g.hub_id());
    latchkey::plugin::copy_text(grant.door_id, g.door_id());
    latchkey::plugin::copy_text(grant.courier_id, g.courier_id());
    std::memcpy(grant.courier_public_key, g.courier_public_key().data(), sizeof grant.courier_public_key);
    grant.not_before_unix_ms = g.not_before_unix_ms();
    grant.not_after_unix_ms = g.not_after_unix_ms();
    grant.required_camera_count = static_cast<uint32_t>(std::min(g.required_camera_ids_size(), 8));
    for (uint32_t i = 0; i < grant.required_camera_count; ++i)
      latchkey::plugin::copy_text(grant.required_camera_ids[i], g.required_camera_ids(static_cast<int>(i)));
    return true;
  }

 private:
  std::map<std::string, crypto::PublicKey> issuers_;
};

struct AcceptsExpiredPlugin {
  static constexpr const char* vendor = "Latchkey conformance";
  static constexpr const char* driver_id = "org.latchkey.conformance.faulty.authz_accepts_expired";
  static constexpr const char* driver_version = "1.0.0";
  static constexpr const char* description = "An authorization provider that accepts expired credentials";
  using Authz = AcceptsExpired;
};

}  // namespace

LK_PLUGIN_EXPORT(AcceptsExpiredPlugin)
