#include "ref_authz.hpp"

#include <latchkey/crypto/grants.hpp>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <utility>
#include <vector>

namespace latchkey::sim {
namespace {

using plugin::Error;

[[noreturn]] void refuse_line(std::size_t line, const std::string& problem) {
  throw Error(LK_ERR_INVALID_ARGUMENT, "authz config line " + std::to_string(line) + ": " + problem);
}

std::vector<std::string> tokens_of(std::string_view line) {
  std::vector<std::string> tokens;
  std::istringstream in{std::string(line)};
  for (std::string token; in >> token;) tokens.push_back(token);
  return tokens;
}

bool printable_id(const std::string& s) {
  if (s.empty() || s.size() >= LK_ID_MAX) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

lk_authz_refusal_code refusal_code(crypto::GrantRefusal refusal) {
  switch (refusal) {
    case crypto::GrantRefusal::kNone: return LK_REFUSAL_NONE;
    case crypto::GrantRefusal::kMalformed: return LK_REFUSAL_MALFORMED;
    case crypto::GrantRefusal::kUnknownIssuer: return LK_REFUSAL_UNKNOWN_ISSUER;
    case crypto::GrantRefusal::kBadSignature: return LK_REFUSAL_BAD_SIGNATURE;
    case crypto::GrantRefusal::kNotYetValid: return LK_REFUSAL_NOT_YET_VALID;
    case crypto::GrantRefusal::kExpired: return LK_REFUSAL_EXPIRED;
    case crypto::GrantRefusal::kWrongHub: return LK_REFUSAL_WRONG_HUB;
    case crypto::GrantRefusal::kWrongDoor: return LK_REFUSAL_WRONG_DOOR;
    case crypto::GrantRefusal::kLifetime: return LK_REFUSAL_LIFETIME;
  }
  return LK_REFUSAL_OTHER;
}

}  // namespace

RefAuthz::Config RefAuthz::parse_config(std::string_view text) {
  Config config;
  bool skew_seen = false;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    line = line.substr(0, line.find('#'));  // comments run to the end of the line
    const std::vector<std::string> tokens = tokens_of(line);
    if (tokens.empty()) continue;
    const std::string& directive = tokens[0];
    if (directive == "issuer") {
      if (tokens.size() != 3) refuse_line(line_number, "expected 'issuer <key_id> <64 hex digits>'");
      if (!printable_id(tokens[1])) refuse_line(line_number, "issuer key id must be 1-63 printable characters");
      const auto key = crypto::from_hex(tokens[2]);
      if (!key || key->size() != 32) refuse_line(line_number, "issuer public key must be 64 hex digits");
      crypto::PublicKey public_key{};
      std::copy(key->begin(), key->end(), public_key.begin());
      if (!config.issuers.emplace(tokens[1], public_key).second)
        refuse_line(line_number, "issuer key id '" + tokens[1] + "' given twice");
    } else if (directive == "skew_ms") {
      if (tokens.size() != 2) refuse_line(line_number, "expected 'skew_ms <milliseconds>'");
      if (skew_seen) refuse_line(line_number, "skew_ms given twice");
      const std::string& value = tokens[1];
      if (value.size() > 6 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          std::stoll(value) > kMaxSkewMs)
        refuse_line(line_number, "skew_ms must be a whole number from 0 to " + std::to_string(kMaxSkewMs));
      config.skew_ms = std::stoll(value);
      skew_seen = true;
    } else if (directive == "revoke") {
      if (tokens.size() != 2) refuse_line(line_number, "expected 'revoke <32 hex digits>'");
      const auto id = crypto::from_hex(tokens[1]);
      if (!id || id->size() != LK_GRANT_ID_SIZE) refuse_line(line_number, "revoked grant id must be 32 hex digits");
      std::array<uint8_t, LK_GRANT_ID_SIZE> grant_id{};
      std::copy(id->begin(), id->end(), grant_id.begin());
      config.revoked.insert(grant_id);
    } else {
      refuse_line(line_number, "unknown directive '" + directive + "'");
    }
  }
  if (config.issuers.empty()) throw Error(LK_ERR_INVALID_ARGUMENT, "authz config pins no issuer key");
  return config;
}

std::unique_ptr<RefAuthz> RefAuthz::open(std::string_view config) {
  return std::make_unique<RefAuthz>(parse_config(config));
}

bool RefAuthz::verify(const lk_authz_context& context, const uint8_t* credential, std::size_t size,
                      lk_grant_info& grant, lk_authz_refusal& refusal) {
  crypto::GrantExpectations expect;
  expect.hub_id = context.hub_id;
  expect.door_id = context.door_id;
  expect.now_unix_ms = context.now_unix_ms;
  expect.skew_ms = config_.skew_ms;
  const crypto::IssuerKeyLookup lookup = [this](const std::string& key_id) -> std::optional<crypto::PublicKey> {
    const auto it = config_.issuers.find(key_id);
    if (it == config_.issuers.end()) return std::nullopt;
    return it->second;
  };
  const crypto::GrantCheck check = crypto::check_signed_grant(crypto::ByteView(credential, size), lookup, expect);
  if (!check.ok()) {
    refusal.code = refusal_code(check.refusal);
    plugin::copy_text(refusal.message, check.message);
    return false;
  }
  const v1::Grant& g = check.grant;
  std::array<uint8_t, LK_GRANT_ID_SIZE> grant_id{};
  std::memcpy(grant_id.data(), g.grant_id().data(), grant_id.size());  // size checked by check_signed_grant
  if (config_.revoked.count(grant_id) != 0) {
    refusal.code = LK_REFUSAL_REVOKED;
    plugin::copy_text(refusal.message, "grant " + crypto::to_hex(grant_id) + " is revoked");
    return false;
  }
  grant.uses = g.uses();
  std::memcpy(grant.grant_id, grant_id.data(), grant_id.size());
  plugin::copy_text(grant.issuer_key_id, g.issuer_key_id());
  plugin::copy_text(grant.hub_id, g.hub_id());
  plugin::copy_text(grant.door_id, g.door_id());
  plugin::copy_text(grant.courier_id, g.courier_id());
  std::memcpy(grant.courier_public_key, g.courier_public_key().data(), sizeof grant.courier_public_key);
  grant.not_before_unix_ms = g.not_before_unix_ms();
  grant.not_after_unix_ms = g.not_after_unix_ms();
  grant.required_camera_count = static_cast<uint32_t>(g.required_camera_ids_size());
  for (int i = 0; i < g.required_camera_ids_size() && i < static_cast<int>(LK_GRANT_MAX_CAMERAS); ++i)
    plugin::copy_text(grant.required_camera_ids[i], g.required_camera_ids(i));
  return true;
}

}  // namespace latchkey::sim
