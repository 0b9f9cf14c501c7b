// TC-AUTHZ: an authorization provider's verdicts on credentials the suite mints (docs/rules.md G1).
#include "support.hpp"

#include <latchkey/crypto/grants.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace latchkey::certify {
namespace {

using namespace std::chrono_literals;

constexpr const char* kHub = "hub-cert";
constexpr const char* kDoor = "front";

int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* refusal_text(lk_authz_refusal_code code) {
  switch (code) {
    case LK_REFUSAL_NONE: return "LK_REFUSAL_NONE";
    case LK_REFUSAL_MALFORMED: return "LK_REFUSAL_MALFORMED";
    case LK_REFUSAL_UNKNOWN_ISSUER: return "LK_REFUSAL_UNKNOWN_ISSUER";
    case LK_REFUSAL_BAD_SIGNATURE: return "LK_REFUSAL_BAD_SIGNATURE";
    case LK_REFUSAL_NOT_YET_VALID: return "LK_REFUSAL_NOT_YET_VALID";
    case LK_REFUSAL_EXPIRED: return "LK_REFUSAL_EXPIRED";
    case LK_REFUSAL_WRONG_HUB: return "LK_REFUSAL_WRONG_HUB";
    case LK_REFUSAL_WRONG_DOOR: return "LK_REFUSAL_WRONG_DOOR";
    case LK_REFUSAL_LIFETIME: return "LK_REFUSAL_LIFETIME";
    case LK_REFUSAL_REVOKED: return "LK_REFUSAL_REVOKED";
    case LK_REFUSAL_OTHER: return "LK_REFUSAL_OTHER";
    default: return "(unknown refusal code)";
  }
}

std::optional<std::string> needs_authz(const Subject& s, const std::string&) {
  if (!s.loaded()) return "the host refused the plugin (TC-ABI-1.3)";
  if (!s.offers_authz()) return std::string(kNotApplicablePrefix) + "the plugin offers no authorization interface";
  return std::nullopt;
}

std::optional<std::string> needs_minting(const Subject& s, const std::string& uri) {
  if (auto r = needs_authz(s, uri)) return r;
  if (!s.authz.can_mint)
    return "the suite cannot mint credentials this provider trusts (give --authz-issuer KEYID:SEEDHEX with --authz-config)";
  return std::nullopt;
}

// The cases that write configuration lines of their own: only in the reference format.
std::optional<std::string> needs_reference_format(const Subject& s, const std::string& uri) {
  if (auto r = needs_authz(s, uri)) return r;
  if (!s.authz.reference_format)
    return std::string(kNotApplicablePrefix) +
           "the provider reads its own configuration format, not the reference one (--authz-reference-format)";
  return std::nullopt;
}

std::optional<std::string> needs_minting_in_reference_format(const Subject& s, const std::string& uri) {
  if (auto r = needs_reference_format(s, uri)) return r;
  return needs_minting(s, uri);
}

// The run's configuration, ending with a newline, so that lines can follow it.
std::string base_config(const Subject& s) {
  std::string config = s.authz.config;
  if (!config.empty() && config.back() != '\n') config += '\n';
  return config;
}

v1::Grant base_grant(const Subject& s) {
  v1::Grant g;
  const auto id = crypto::random_bytes(16);
  g.set_grant_id(id.data(), id.size());
  g.set_issuer_key_id(s.authz.issuer_key_id);
  g.set_hub_id(kHub);
  g.set_door_id(kDoor);
  g.set_courier_id("courier-cert");
  const auto courier = crypto::KeyPair::generate();
  g.set_courier_public_key(courier.public_key.data(), courier.public_key.size());
  const int64_t now = wall_now_ms();
  g.set_not_before_unix_ms(now - 60'000);
  g.set_not_after_unix_ms(now + 3'600'000);
  g.set_uses(1);
  g.add_required_camera_ids("porch");
  g.add_required_camera_ids("hall");
  return g;
}

struct Verdict {
  bool opened = false;  // the provider accepted the configuration
  lk_result result = LK_ERR_INTERNAL;
  lk_grant_info grant{};
  lk_authz_refusal refusal{};
};

std::string answer_text(const Verdict& v) {
  if (v.result == LK_OK) return "LK_OK (accepted)";
  if (v.result == LK_ERR_DENIED)
    return std::string("LK_ERR_DENIED with ") + refusal_text(v.refusal.code) + " (" + v.refusal.message + ")";
  return host::result_name(v.result);
}

Verdict verify_with(const Subject& s, const std::string& config, const crypto::Bytes& credential,
                    const std::string& door = kDoor) {
  Verdict v;
  std::unique_ptr<host::AuthzDevice> authz;
  std::string error;
  const lk_result opened = open_authz(s, config, &authz, &error);
  if (opened != LK_OK) {
    fail_case("the provider refused the suite's configuration", "open LK_OK with:\n" + config,
              std::string(host::result_name(opened)) + (error.empty() ? "" : ": " + error));
    return v;
  }
  v.opened = true;
  v.grant.struct_size = sizeof v.grant;
  v.refusal.struct_size = sizeof v.refusal;
  v.result = authz->verify(kHub, door, wall_now_ms(), credential, &v.grant, &v.refusal);
  return v;
}

Verdict verify(const Subject& s, const crypto::Bytes& credential, const std::string& door = kDoor) {
  return verify_with(s, s.authz.config, credential, door);
}

void expect_refused(const Verdict& v, std::initializer_list<lk_authz_refusal_code> codes, const std::string& what,
                    const std::string& rule = "docs/rules.md G1") {
  if (!v.opened) return;  // reported by verify_with
  std::string wanted;
  bool listed = false;
  for (auto c : codes) {
    wanted += (wanted.empty() ? "" : " or ") + std::string(refusal_text(c));
    listed |= v.result == LK_ERR_DENIED && v.refusal.code == c;
  }
  if (v.result != LK_ERR_DENIED)
    fail_case(what + " was not refused (" + rule + ")", "LK_ERR_DENIED with " + wanted, answer_text(v));
  else if (!listed)
    fail_case(what + " was refused for the wrong reason", "LK_ERR_DENIED with " + wanted, answer_text(v));
}

std::string hex_of(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  return crypto::to_hex(crypto::ByteView(bytes, size));
}

void normalized_grant(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const v1::Grant g = base_grant(s);
  const Verdict v = verify(s, crypto::mint_grant(g, s.authz.issuer.secret_key));
  if (!v.opened) return;
  if (v.result != LK_OK) {
    fail_case("a valid credential was refused", "LK_OK with the grant normalized", answer_text(v));
    return;
  }
  const lk_grant_info& out = v.grant;
  auto field = [](const std::string& name, const std::string& want, const std::string& came) {
    if (want != came) fail_case("the normalized grant's " + name + " differs from the credential's", want, came);
  };
  field("grant_id", hex_of(g.grant_id().data(), g.grant_id().size()), hex_of(out.grant_id, LK_GRANT_ID_SIZE));
  field("issuer_key_id", g.issuer_key_id(), out.issuer_key_id);
  field("hub_id", g.hub_id(), out.hub_id);
  field("door_id", g.door_id(), out.door_id);
  field("courier_id", g.courier_id(), out.courier_id);
  field("courier_public_key", hex_of(g.courier_public_key().data(), g.courier_public_key().size()),
        hex_of(out.courier_public_key, sizeof out.courier_public_key));
  field("not_before_unix_ms", std::to_string(g.not_before_unix_ms()), std::to_string(out.not_before_unix_ms));
  field("not_after_unix_ms", std::to_string(g.not_after_unix_ms()), std::to_string(out.not_after_unix_ms));
  field("uses", std::to_string(g.uses()), std::to_string(out.uses));
  field("required_camera_count", "2", std::to_string(out.required_camera_count));
  if (out.required_camera_count == 2) {
    field("required_camera_ids[0]", "porch", out.required_camera_ids[0]);
    field("required_camera_ids[1]", "hall", out.required_camera_ids[1]);
  }
}

void forged(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const v1::Grant g = base_grant(s);
  const auto impostor = crypto::KeyPair::generate();
  expect_refused(verify(s, crypto::mint_grant(g, impostor.secret_key)), {LK_REFUSAL_BAD_SIGNATURE},
                 "a credential signed by another key under the pinned key id");
  crypto::Bytes tampered = crypto::mint_grant(g, s.authz.issuer.secret_key);
  v1::SignedGrant sg;
  ASSERT_TRUE(sg.ParseFromArray(tampered.data(), static_cast<int>(tampered.size()))) << "the suite's own grant did not parse";
  v1::Grant changed = g;
  changed.set_door_id("back");
  sg.set_grant(changed.SerializeAsString());
  tampered.assign(sg.ByteSizeLong(), 0);
  sg.SerializeToArray(tampered.data(), static_cast<int>(tampered.size()));
  expect_refused(verify(s, tampered, "back"), {LK_REFUSAL_BAD_SIGNATURE}, "a credential altered after signing");
  v1::Grant unknown = g;
  unknown.set_issuer_key_id("lk-certify-unknown-issuer");
  expect_refused(verify(s, crypto::mint_grant(unknown, s.authz.issuer.secret_key)), {LK_REFUSAL_UNKNOWN_ISSUER},
                 "a credential from an issuer that is not pinned");
  const crypto::Bytes garbage = crypto::random_bytes(40);
  expect_refused(verify(s, garbage), {LK_REFUSAL_MALFORMED, LK_REFUSAL_BAD_SIGNATURE, LK_REFUSAL_UNKNOWN_ISSUER},
                 "random bytes");
}

void expired(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  v1::Grant g = base_grant(s);
  const int64_t now = wall_now_ms();
  g.set_not_before_unix_ms(now - 4 * 3'600'000);
  g.set_not_after_unix_ms(now - 2 * 3'600'000);
  expect_refused(verify(s, crypto::mint_grant(g, s.authz.issuer.secret_key)), {LK_REFUSAL_EXPIRED},
                 "a credential that expired two hours ago");
  g.set_not_before_unix_ms(now + 2 * 3'600'000);
  g.set_not_after_unix_ms(now + 4 * 3'600'000);
  expect_refused(verify(s, crypto::mint_grant(g, s.authz.issuer.secret_key)), {LK_REFUSAL_NOT_YET_VALID},
                 "a credential valid only from two hours from now");
  g.set_not_before_unix_ms(now - 60'000);
  g.set_not_after_unix_ms(now + 25 * 3'600'000);
  expect_refused(verify(s, crypto::mint_grant(g, s.authz.issuer.secret_key)), {LK_REFUSAL_LIFETIME},
                 "a credential valid for 25 hours");
}

void wrong_place(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  v1::Grant g = base_grant(s);
  g.set_door_id("back");
  expect_refused(verify(s, crypto::mint_grant(g, s.authz.issuer.secret_key)), {LK_REFUSAL_WRONG_DOOR},
                 "a credential for another door");
  g = base_grant(s);
  g.set_hub_id("another-hub");
  expect_refused(verify(s, crypto::mint_grant(g, s.authz.issuer.secret_key)), {LK_REFUSAL_WRONG_HUB},
                 "a credential for another hub");
}

// The run's configuration and a revoke line for one of two valid credentials:
// that one is refused LK_REFUSAL_REVOKED, the other still accepted.
void revoked(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const v1::Grant revoked_grant = base_grant(s);
  const v1::Grant other = base_grant(s);
  const std::string revoke_line = "revoke " + hex_of(revoked_grant.grant_id().data(), revoked_grant.grant_id().size());
  const std::string config = base_config(s) + revoke_line + "\n";
  expect_refused(verify_with(s, config, crypto::mint_grant(revoked_grant, s.authz.issuer.secret_key)),
                 {LK_REFUSAL_REVOKED}, "a credential whose grant id the configuration revokes ('" + revoke_line + "')");
  const Verdict v = verify_with(s, config, crypto::mint_grant(other, s.authz.issuer.secret_key));
  if (v.opened && v.result != LK_OK)
    fail_case("a valid credential was refused when another grant was revoked",
              "LK_OK: the revoke line names another grant id", answer_text(v));
}

void bad_config(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  for (const std::string& config : {std::string("issuer only-a-key-id\n"), std::string("issuer k1 not-hex-at-all\n"),
                                    std::string("")}) {
    std::unique_ptr<host::AuthzDevice> authz;
    std::string error;
    const lk_result r = open_authz(s, config, &authz, &error);
    if (r != LK_ERR_INVALID_ARGUMENT)
      fail_case("a bad configuration was not refused",
                "LK_ERR_INVALID_ARGUMENT for the configuration '" + config + "'",
                std::string(host::result_name(r)) + (error.empty() ? "" : ": " + error));
  }
}

// Does `line` (a plugin log line) name configuration line `number`: "line 3"
// (any case, not "line 31"), or quote the bad line's text?
bool names_line(const std::string& line, std::size_t number, const std::string& text) {
  if (line.find(text) != std::string::npos) return true;
  std::string lower = line;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const std::string needle = "line " + std::to_string(number);
  for (std::size_t at = lower.find(needle); at != std::string::npos; at = lower.find(needle, at + 1)) {
    const std::size_t end = at + needle.size();
    if (end == lower.size() || !std::isdigit(static_cast<unsigned char>(lower[end]))) return true;
  }
  return false;
}

// The run's (valid) configuration with one line the provider cannot parse
// appended: open refuses it with LK_ERR_INVALID_ARGUMENT and logs why, naming
// that line (abi.md 9), instead of skipping it.
void bad_line_among_good(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const std::string base = base_config(s);
  const std::size_t number = static_cast<std::size_t>(std::count(base.begin(), base.end(), '\n')) + 1;
  for (const std::string bad : {"unlock_everything yes", "issuer lk-certify-second", "skew_ms soon", "revoke 00ff"}) {
    const std::string config = base + bad + "\n";
    const std::size_t mark = plugin_log_mark(s);
    std::unique_ptr<host::AuthzDevice> authz;
    std::string error;
    const lk_result r = open_authz(s, config, &authz, &error);
    if (r != LK_ERR_INVALID_ARGUMENT) {
      fail_case("a configuration with a line the provider cannot parse was accepted",
                "LK_ERR_INVALID_ARGUMENT, the whole configuration refused because of line " + std::to_string(number) +
                    " '" + bad + "'",
                std::string(host::result_name(r)) + (error.empty() ? "" : ": " + error));
      continue;
    }
    std::vector<std::string> lines;
    const bool named = wait_plugin_log(
        s, mark,
        [&](const std::vector<std::string>& since) {
          lines = since;
          return std::any_of(since.begin(), since.end(), [&](const std::string& l) { return names_line(l, number, bad); });
        },
        1s);
    if (!named) {
      std::string came;
      for (const auto& l : lines) came += (came.empty() ? "" : "\n  ") + l;
      fail_case("the provider refused the configuration without saying which line",
                "a log line through host services naming line " + std::to_string(number) + " ('" + bad + "')",
                came.empty() ? "no log line" : "log lines:\n  " + came);
    }
  }
}

}  // namespace

void add_authz_cases(std::vector<CaseDef>& c) {
  c.push_back({"TC-AUTHZ-1.1", "A valid credential is accepted and normalized field for field",
               "abi.md 9 Authorization interface", Scope::kAuthz, needs_minting, normalized_grant});
  c.push_back({"TC-AUTHZ-2.1", "Forged, altered, unknown-issuer and garbage credentials are refused", "docs/rules.md G1",
               Scope::kAuthz, needs_minting, forged});
  c.push_back({"TC-AUTHZ-2.2", "Expired, not yet valid and over-long (> 24 h) credentials are refused", "docs/rules.md G1",
               Scope::kAuthz, needs_minting, expired});
  c.push_back({"TC-AUTHZ-2.3", "Credentials for another door or another hub are refused", "docs/rules.md G1", Scope::kAuthz,
               needs_minting, wrong_place});
  c.push_back({"TC-AUTHZ-2.4",
               "A credential the configuration revokes (a revoke line) is refused LK_REFUSAL_REVOKED; another one is still "
               "accepted",
               "docs/rules.md G1", Scope::kAuthz, needs_minting_in_reference_format, revoked});
  c.push_back({"TC-AUTHZ-3.1", "A bad configuration is refused with LK_ERR_INVALID_ARGUMENT",
               "abi.md 9 Authorization interface (open)", Scope::kAuthz, needs_reference_format, bad_config});
  c.push_back({"TC-AUTHZ-3.2",
               "A valid configuration with one line the provider cannot parse is refused with LK_ERR_INVALID_ARGUMENT and "
               "a log line naming that line, never accepted with the line skipped",
               "abi.md 9 Authorization interface (open)", Scope::kAuthz, needs_reference_format, bad_line_among_good});
}

}  // namespace latchkey::certify
