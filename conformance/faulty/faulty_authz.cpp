// An authorization provider that reads the reference configuration format
// (docs/abi.md 9: "issuer <key id> <64 hex digits>", "skew_ms <n>",
// "revoke <32 hex digits>", '#' comments) and breaks exactly one rule, chosen
// at build time:
//
//   FAULTY_ACCEPTS_EXPIRED      checks a grant against the wall clock only to refuse not-yet-valid ones
//                               (docs/rules.md G1 requires both ends of the window)
//   FAULTY_SKIPS_BAD_LINES      skips the configuration lines it cannot parse instead of refusing the
//                               configuration (abi.md 9: a bad configuration is LK_ERR_INVALID_ARGUMENT,
//                               logged with why)
//   FAULTY_IGNORES_REVOCATIONS  reads the revoke lines and never checks them (docs/rules.md G1: a revoked
//                               grant never counts)
#include <latchkey/cpp/plugin.hpp>
#include <latchkey/crypto/grants.hpp>

#include <array>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace {

using latchkey::plugin::Error;
namespace crypto = latchkey::crypto;

using GrantId = std::array<uint8_t, LK_GRANT_ID_SIZE>;

#ifdef FAULTY_SKIPS_BAD_LINES
constexpr bool kSkipsBadLines = true;
#else
constexpr bool kSkipsBadLines = false;
#endif

[[noreturn]] void refuse(std::size_t line, const std::string& problem) {
  throw Error(LK_ERR_INVALID_ARGUMENT, "configuration line " + std::to_string(line) + ": " + problem);
}

lk_authz_refusal_code code_of(crypto::GrantRefusal refusal) {
  switch (refusal) {
    case crypto::GrantRefusal::kMalformed: return LK_REFUSAL_MALFORMED;
    case crypto::GrantRefusal::kUnknownIssuer: return LK_REFUSAL_UNKNOWN_ISSUER;
    case crypto::GrantRefusal::kBadSignature: return LK_REFUSAL_BAD_SIGNATURE;
    case crypto::GrantRefusal::kNotYetValid: return LK_REFUSAL_NOT_YET_VALID;
    case crypto::GrantRefusal::kExpired: return LK_REFUSAL_EXPIRED;
    case crypto::GrantRefusal::kWrongHub: return LK_REFUSAL_WRONG_HUB;
    case crypto::GrantRefusal::kWrongDoor: return LK_REFUSAL_WRONG_DOOR;
    case crypto::GrantRefusal::kLifetime: return LK_REFUSAL_LIFETIME;
    case crypto::GrantRefusal::kNone: break;
  }
  return LK_REFUSAL_OTHER;
}

class FaultyAuthz final : public latchkey::plugin::AuthzProvider {
 public:
  static std::unique_ptr<FaultyAuthz> open(std::string_view config) {
    auto provider = std::make_unique<FaultyAuthz>();
    std::istringstream lines{std::string(config)};
    std::size_t number = 0;
    for (std::string line; std::getline(lines, line);) {
      ++number;
      line = line.substr(0, line.find('#'));
      std::istringstream in(line);
      std::vector<std::string> words;
      for (std::string w; in >> w;) words.push_back(w);
      if (words.empty()) continue;
      if (const std::string problem = provider->apply(words); !problem.empty()) {
        if (kSkipsBadLines) continue;  // the bug: a line it cannot parse is dropped without a word
        refuse(number, problem);
      }
    }
    if (provider->issuers_.empty()) throw Error(LK_ERR_INVALID_ARGUMENT, "the configuration pins no issuer");
    return provider;
  }

  bool verify(const lk_authz_context& context, const uint8_t* credential, std::size_t size, lk_grant_info& grant,
              lk_authz_refusal& refusal) override {
    crypto::GrantExpectations expect;
    expect.hub_id = context.hub_id;
    expect.door_id = context.door_id;
    expect.now_unix_ms = context.now_unix_ms;
    expect.skew_ms = skew_ms_;
    const crypto::IssuerKeyLookup lookup = [this](const std::string& id) -> std::optional<crypto::PublicKey> {
      auto it = issuers_.find(id);
      if (it == issuers_.end()) return std::nullopt;
      return it->second;
    };
    crypto::GrantCheck check = crypto::check_signed_grant({credential, size}, lookup, expect);
#ifdef FAULTY_ACCEPTS_EXPIRED
    if (check.refusal == crypto::GrantRefusal::kExpired) {
      // The bug: an expired grant is checked again as if it were still its last valid moment.
      latchkey::v1::SignedGrant signed_grant;
      latchkey::v1::Grant inner;
      if (signed_grant.ParseFromArray(credential, static_cast<int>(size)) && inner.ParseFromString(signed_grant.grant())) {
        expect.now_unix_ms = inner.not_after_unix_ms();
        check = crypto::check_signed_grant({credential, size}, lookup, expect);
      }
    }
#endif
    if (!check.ok()) {
      refusal.code = code_of(check.refusal);
      latchkey::plugin::copy_text(refusal.message, check.message);
      return false;
    }
    const latchkey::v1::Grant& g = check.grant;
    GrantId id{};
    std::memcpy(id.data(), g.grant_id().data(), id.size());  // size checked by check_signed_grant
#ifndef FAULTY_IGNORES_REVOCATIONS  // the bug: the revoked set is read and never consulted
    if (revoked_.count(id) != 0) {
      refusal.code = LK_REFUSAL_REVOKED;
      latchkey::plugin::copy_text(refusal.message, "grant " + crypto::to_hex(id) + " is revoked");
      return false;
    }
#endif
    grant.uses = g.uses();
    std::memcpy(grant.grant_id, id.data(), id.size());
    latchkey::plugin::copy_text(grant.issuer_key_id, g.issuer_key_id());
    latchkey::plugin::copy_text(grant.hub_id, g.hub_id());
    latchkey::plugin::copy_text(grant.door_id, g.door_id());
    latchkey::plugin::copy_text(grant.courier_id, g.courier_id());
    std::memcpy(grant.courier_public_key, g.courier_public_key().data(), sizeof grant.courier_public_key);
    grant.not_before_unix_ms = g.not_before_unix_ms();
    grant.not_after_unix_ms = g.not_after_unix_ms();
    grant.required_camera_count = static_cast<uint32_t>(std::min<int>(g.required_camera_ids_size(), LK_GRANT_MAX_CAMERAS));
    for (uint32_t i = 0; i < grant.required_camera_count; ++i)
      latchkey::plugin::copy_text(grant.required_camera_ids[i], g.required_camera_ids(static_cast<int>(i)));
    return true;
  }

 private:
  // Applies one directive; the problem with it, or empty.
  std::string apply(const std::vector<std::string>& words) {
    const std::string& directive = words[0];
    if (directive == "issuer") {
      const auto key = words.size() == 3 ? crypto::from_hex(words[2]) : std::nullopt;
      if (!key || key->size() != 32) return "expected 'issuer <key id> <64 hex digits>'";
      crypto::PublicKey pk{};
      std::copy(key->begin(), key->end(), pk.begin());
      if (!issuers_.emplace(words[1], pk).second) return "issuer '" + words[1] + "' given twice";
      return {};
    }
    if (directive == "skew_ms") {
      if (words.size() != 2 || words[1].size() > 6 ||
          words[1].find_first_not_of("0123456789") != std::string::npos || std::stol(words[1]) > 300'000)
        return "expected 'skew_ms <0 to 300000>'";
      skew_ms_ = std::stol(words[1]);
      return {};
    }
    if (directive == "revoke") {
      const auto id = words.size() == 2 ? crypto::from_hex(words[1]) : std::nullopt;
      if (!id || id->size() != LK_GRANT_ID_SIZE) return "expected 'revoke <32 hex digits>'";
      GrantId grant_id{};
      std::copy(id->begin(), id->end(), grant_id.begin());
      revoked_.insert(grant_id);
      return {};
    }
    return "unknown directive '" + directive + "'";
  }

  std::map<std::string, crypto::PublicKey> issuers_;
  std::set<GrantId> revoked_;
  int64_t skew_ms_ = 60'000;
};

#define FAULTY_STRING2(x) #x
#define FAULTY_STRING(x) FAULTY_STRING2(x)

struct FaultyAuthzPlugin {
  static constexpr const char* vendor = "Latchkey conformance";
  static constexpr const char* driver_id = "org.latchkey.conformance.faulty." FAULTY_STRING(FAULTY_NAME);
  static constexpr const char* driver_version = "1.0.0";
  static constexpr const char* description = "An authorization provider that breaks one rule on purpose";
  using Authz = FaultyAuthz;
};

}  // namespace

LK_PLUGIN_EXPORT(FaultyAuthzPlugin)
