#include <latchkey/crypto/grants.hpp>
#include <latchkey/demo/delivery.hpp>

namespace latchkey::demo {

namespace {

client::GrantSpec spec_for(const SimHub& hub, const std::string& door, const Courier& courier, GrantWindow window,
                           const std::vector<std::string>& cameras) {
  client::GrantSpec spec;
  spec.issuer_key_id = hub.issuer_key_id();
  spec.hub_id = hub.hub_id();
  spec.door_id = door;
  spec.courier_id = courier.id;
  spec.courier_public_key = courier.key.public_key;
  spec.not_before_unix_ms = window.not_before_unix_ms != 0 ? window.not_before_unix_ms : client::unix_now_ms();
  spec.not_after_unix_ms = spec.not_before_unix_ms + window.valid_for_ms;
  spec.required_camera_ids = cameras;
  return spec;
}

}  // namespace

client::MintedGrant mint_grant_for(const SimHub& hub, const std::string& door, const Courier& courier,
                                   GrantWindow window, const std::vector<std::string>& cameras) {
  return client::mint_grant(spec_for(hub, door, courier, window, cameras), hub.issuer().secret_key);
}

client::MintedGrant forge_grant_for(const SimHub& hub, const std::string& door, const Courier& courier) {
  const crypto::KeyPair forger = crypto::KeyPair::generate();
  return client::mint_grant(spec_for(hub, door, courier, {}, {}), forger.secret_key);
}

client::UnlockAnswer present_grant(client::ApiClient& api, const std::string& door, const crypto::Bytes& signed_grant,
                                   const Courier& courier) {
  const std::vector<uint8_t> challenge = api.challenge(door);
  const crypto::Bytes request = crypto::make_unlock_request(signed_grant, door, challenge, courier.key.secret_key);
  return api.unlock(door, request);
}

}  // namespace latchkey::demo
