#include <latchkey/client/grant_minting.hpp>
#include <latchkey/crypto/grants.hpp>

#include <chrono>

namespace latchkey::client {

MintedGrant mint_grant(const GrantSpec& spec, const crypto::SecretKey& issuer_key) {
  const auto require = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(what);
  };
  require(!spec.issuer_key_id.empty(), "grant: the issuer key id is empty");
  require(!spec.hub_id.empty(), "grant: the hub id is empty");
  require(!spec.door_id.empty(), "grant: the door id is empty");
  require(!spec.courier_id.empty(), "grant: the courier id is empty");
  require(spec.not_after_unix_ms >= spec.not_before_unix_ms, "grant: not_after is before not_before");

  MintedGrant minted;
  minted.grant_id = spec.grant_id.empty() ? crypto::random_bytes(16) : spec.grant_id;
  v1::Grant grant;
  grant.set_grant_id(minted.grant_id.data(), minted.grant_id.size());
  grant.set_issuer_key_id(spec.issuer_key_id);
  grant.set_hub_id(spec.hub_id);
  grant.set_door_id(spec.door_id);
  grant.set_courier_id(spec.courier_id);
  grant.set_courier_public_key(spec.courier_public_key.data(), spec.courier_public_key.size());
  grant.set_not_before_unix_ms(spec.not_before_unix_ms);
  grant.set_not_after_unix_ms(spec.not_after_unix_ms);
  grant.set_uses(1);
  for (const std::string& camera : spec.required_camera_ids) grant.add_required_camera_ids(camera);
  minted.signed_grant = crypto::mint_grant(grant, issuer_key);
  return minted;
}

std::optional<crypto::Bytes> grant_id_of(crypto::ByteView signed_grant) {
  v1::SignedGrant outer;
  if (!outer.ParseFromArray(signed_grant.data(), static_cast<int>(signed_grant.size()))) return std::nullopt;
  v1::Grant grant;
  if (!grant.ParseFromString(outer.grant())) return std::nullopt;
  if (grant.grant_id().empty()) return std::nullopt;
  return crypto::Bytes(grant.grant_id().begin(), grant.grant_id().end());
}

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace latchkey::client
