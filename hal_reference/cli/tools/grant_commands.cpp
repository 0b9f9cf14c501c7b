// lkctl mint and prove: what an issuer and a courier's device do (G1, G2).
#include "commands.hpp"

#include <latchkey/client/grant_minting.hpp>
#include <latchkey/client/key_files.hpp>
#include <latchkey/crypto/grants.hpp>

#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;
namespace client = latchkey::client;
namespace crypto = latchkey::crypto;

namespace lkctl {

namespace {

// Ids travel in protobuf strings and in URLs: keep them to printable ASCII
// without spaces, as the hub's configuration does.
std::string checked_id(const CommandLine& args, const std::string& option) {
  const std::string id = args.required(option);
  if (id.size() > 64) throw UsageError("--" + option + " '" + id + "' is longer than 64 characters");
  for (const char c : id) {
    if (c <= ' ' || c > '~') throw UsageError("--" + option + " '" + id + "' may hold printable ASCII without spaces only");
  }
  return id;
}

}  // namespace

int run_mint(const CommandLine& args) {
  const crypto::KeyPair issuer = client::read_secret_key(args.required("issuer"));
  client::GrantSpec spec;
  spec.issuer_key_id = checked_id(args, "key-id");
  spec.hub_id = checked_id(args, "hub");
  spec.door_id = checked_id(args, "door");
  spec.courier_id = checked_id(args, "courier");
  spec.courier_public_key = client::read_public_key(args.required("courier-pub"));
  constexpr int64_t kMaxUnixMs = 253402300799999;  // 9999-12-31
  spec.not_before_unix_ms = args.integer("not-before", 0, kMaxUnixMs, client::unix_now_ms());
  // The hub refuses lifetimes above 24 h (G1); lkctl lets one be minted to test that.
  const int64_t valid_for_s = args.integer("valid-for", 1, 10LL * 365 * 24 * 3600, 3600);
  spec.not_after_unix_ms = spec.not_before_unix_ms + valid_for_s * 1000;
  for (const std::string& camera : args.values("camera")) {
    if (camera.size() > 64) throw UsageError("--camera '" + camera + "' is longer than 64 characters");
    spec.required_camera_ids.push_back(camera);
  }
  if (valid_for_s * 1000 > crypto::kMaxGrantLifetimeMs) {
    std::cerr << "lkctl mint: warning: --valid-for " << valid_for_s << " s exceeds 24 h; hubs refuse it (G1)\n";
  }
  const client::MintedGrant minted = client::mint_grant(spec, issuer.secret_key);
  if (const auto out = args.value("out")) {
    client::write_hex_file(*out, minted.signed_grant);
    std::cerr << "grant " << crypto::to_hex(minted.grant_id) << " written to " << *out << "\n";
  } else {
    std::cout << crypto::to_hex(minted.signed_grant) << "\n";
    std::cerr << "grant " << crypto::to_hex(minted.grant_id) << "\n";
  }
  return kExitOk;
}

int run_prove(const CommandLine& args) {
  const std::string grant_file = args.required("grant");
  const crypto::Bytes grant = client::read_hex_file(grant_file);
  if (!client::grant_id_of(grant)) throw UsageError("--grant " + grant_file + ": not a serialized SignedGrant");
  const crypto::KeyPair courier = client::read_secret_key(args.required("courier"));
  const std::string door = args.required("door");
  const std::string challenge_hex = args.required("challenge");
  const auto challenge = crypto::from_hex(challenge_hex);
  if (!challenge || challenge->size() < 16) {
    throw UsageError("--challenge '" + challenge_hex + "': expected at least 32 hex digits (16 bytes) from the hub");
  }
  std::cout << crypto::to_hex(crypto::make_unlock_request(grant, door, *challenge, courier.secret_key)) << "\n";
  return kExitOk;
}

}  // namespace lkctl
