// A courier and an issuer as lk-demo and the integration tests play them:
// mint a grant for a SimHub (G1), then challenge, proof of presence and
// unlock request over the API (G2).
#ifndef LATCHKEY_DEMO_DELIVERY_HPP
#define LATCHKEY_DEMO_DELIVERY_HPP

#include <latchkey/client/api_client.hpp>
#include <latchkey/client/grant_minting.hpp>
#include <latchkey/crypto/crypto.hpp>
#include <latchkey/demo/sim_hub.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace latchkey::demo {

struct Courier {
  std::string id;
  crypto::KeyPair key;

  static Courier make(const std::string& id) { return {id, crypto::KeyPair::generate()}; }
};

struct GrantWindow {
  int64_t not_before_unix_ms = 0;  // 0: now
  int64_t valid_for_ms = 3'600'000;
};

// A grant for `door` signed with the hub's pinned issuer key.
client::MintedGrant mint_grant_for(const SimHub& hub, const std::string& door, const Courier& courier,
                                   GrantWindow window = {}, const std::vector<std::string>& cameras = {});
// The same grant signed by a key the hub does not pin (a forgery), under the pinned key id.
client::MintedGrant forge_grant_for(const SimHub& hub, const std::string& door, const Courier& courier);

// Challenge, proof and unlock request at `door`. Throws client::ApiError
// when the challenge or the unlock is not answered as documented.
client::UnlockAnswer present_grant(client::ApiClient& api, const std::string& door,
                                   const crypto::Bytes& signed_grant, const Courier& courier);

}  // namespace latchkey::demo

#endif  // LATCHKEY_DEMO_DELIVERY_HPP
