// TC-AUTHZ: an authorization provider's verdicts on credentials the suite mints (docs/rules.md G1).
#include "support.hpp"

#include <latchkey/crypto/grants.hpp>

#include <gtest/gtest.h>

#include <cstring>

namespace latchkey::certify {
namespace {

constexpr const char* kHub = "hub-cert";
constexpr const char* kDoor = "front";

int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
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
  lk_result result = LK_ERR_INTERNAL;
  lk_grant_info grant{};
  lk_authz_refusal refusal{};
};

Verdict verify(const Subject& s, const crypto::Bytes& credential, const std::string& door = kDoor) {
  Verdict v;
  std::unique_ptr<host::AuthzDevice> authz;
  std::string error;
  const lk_result opened = open_authz(s, s.authz.config, &authz, &error);
  EXPECT_EQ(opened, LK_OK) << "the provider refused the configuration" << (error.empty() ? "" : ": " + error);
  if (opened != LK_OK) return v;
  v.grant.struct_size = sizeof v.grant;
  v.refusal.struct_size = sizeof v.refusal;
  v.result = authz->verify(kHub, door, wall_now_ms(), credential, &v.grant, &v.refusal);
  return v;
}

void expect_refused(const Verdict& v, std::initializer_list<lk_authz_refusal_code> codes, const std::string& what) {
  EXPECT_EQ(v.result, LK_ERR_DENIED) << what << " was answered " << host::result_name(v.result)
                                     << (v.result == LK_OK ? " (accepted)" : "");
  if (v.result != LK_ERR_DENIED) return;
  bool listed = false;
  for (auto c : codes) listed |= v.refusal.code == c;
  EXPECT_TRUE(listed) << what << " was refused with code " << v.refusal.code << " (" << v.refusal.message << ")";
}

void normalized_grant(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const v1::Grant g = base_grant(s);
  const Verdict v = verify(s, crypto::mint_grant(g, s.authz.issuer.secret_key));
  ASSERT_EQ(v.result, LK_OK) << "a valid credential was refused: " << v.refusal.message;
  const lk_grant_info& out = v.grant;
  EXPECT_EQ(std::memcmp(out.grant_id, g.grant_id().data(), LK_GRANT_ID_SIZE), 0) << "grant id";
  EXPECT_EQ(std::string(out.issuer_key_id), g.issuer_key_id());
  EXPECT_EQ(std::string(out.hub_id), g.hub_id());
  EXPECT_EQ(std::string(out.door_id), g.door_id());
  EXPECT_EQ(std::string(out.courier_id), g.courier_id());
  EXPECT_EQ(std::memcmp(out.courier_public_key, g.courier_public_key().data(), 32), 0) << "courier public key";
  EXPECT_EQ(out.not_before_unix_ms, g.not_before_unix_ms());
  EXPECT_EQ(out.not_after_unix_ms, g.not_after_unix_ms());
  EXPECT_EQ(out.uses, g.uses());
  ASSERT_EQ(out.required_camera_count, 2u);
  EXPECT_EQ(std::string(out.required_camera_ids[0]), "porch");
  EXPECT_EQ(std::string(out.required_camera_ids[1]), "hall");
}

void forged(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  const v1::Grant g = base_grant(s);
  const auto impostor = crypto::KeyPair::generate();
  expect_refused(verify(s, crypto::mint_grant(g, impostor.secret_key)), {LK_REFUSAL_BAD_SIGNATURE},
                 "a credential signed by another key under the pinned key id");
  crypto::Bytes tampered = crypto::mint_grant(g, s.authz.issuer.secret_key);
  v1::SignedGrant sg;
  ASSERT_TRUE(sg.ParseFromArray(tampered.data(), static_cast<int>(tampered.size())));
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

void bad_config(CaseContext& ctx) {
  const Subject& s = ctx.subject;
  for (const std::string& config : {std::string("issuer only-a-key-id\n"), std::string("issuer k1 not-hex-at-all\n"),
                                    std::string("")}) {
    std::unique_ptr<host::AuthzDevice> authz;
    std::string error;
    const lk_result r = open_authz(s, config, &authz, &error);
    EXPECT_EQ(r, LK_ERR_INVALID_ARGUMENT) << "configuration '" << config << "' was answered " << host::result_name(r)
                                          << (error.empty() ? "" : ": " + error);
  }
}

std::optional<std::string> needs_reference_format(const Subject& s, const std::string& uri) {
  if (auto r = needs_authz(s, uri)) return r;
  if (!s.authz.reference_format) return "the provider's configuration format is its own; the suite cannot write a bad one";
  return std::nullopt;
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
  c.push_back({"TC-AUTHZ-3.1", "A bad configuration is refused with LK_ERR_INVALID_ARGUMENT",
               "abi.md 9 Authorization interface (open)", Scope::kAuthz, needs_reference_format, bad_config});
}

}  // namespace latchkey::certify
