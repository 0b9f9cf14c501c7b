// The reference authorization provider through real shared-library loading:
// grant checks of docs/rules.md G1, the refusal codes, and its configuration.
#include "event_recorder.hpp"

#include <latchkey/crypto/grants.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

namespace latchkey::testing {
namespace {

using host::AuthzHandle;
using host::Plugin;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kHour = 3'600'000;

crypto::KeyPair key_from(uint8_t fill) {
  std::array<uint8_t, 32> seed{};
  seed.fill(fill);
  return crypto::KeyPair::from_seed(seed);
}

const crypto::KeyPair& issuer() {
  static const crypto::KeyPair key = key_from(0x01);
  return key;
}
const crypto::KeyPair& courier() {
  static const crypto::KeyPair key = key_from(0x02);
  return key;
}

std::string grant_id_hex(uint8_t fill) { return crypto::to_hex(std::vector<uint8_t>(16, fill)); }

class RefAuthz : public ::testing::Test {
 protected:
  void SetUp() override {
    host::LoadOptions options;
    options.log = recorder_.log_handler();
    plugin_ = Plugin::load(LATCHKEY_REF_AUTHZ_PATH, options);
    const std::string config = "# pinned issuers\n"
                               "issuer parcel-co " + crypto::to_hex(issuer().public_key) + "\n"
                               "skew_ms 60000\n"
                               "revoke " + grant_id_hex(0xEE) + "   # reported lost\n";
    ASSERT_EQ(AuthzHandle::open(plugin_, config, &authz_), LK_OK);
  }

  static v1::Grant valid_grant() {
    v1::Grant g;
    g.set_grant_id(std::string(16, '\x5A'));
    g.set_issuer_key_id("parcel-co");
    g.set_hub_id("hub-1");
    g.set_door_id("front");
    g.set_courier_id("courier-7");
    g.set_courier_public_key(courier().public_key.data(), courier().public_key.size());
    g.set_not_before_unix_ms(kNow - kHour);
    g.set_not_after_unix_ms(kNow + kHour);
    g.set_uses(1);
    g.add_required_camera_ids("porch");
    g.add_required_camera_ids("hall");
    return g;
  }

  lk_result verify(const crypto::Bytes& credential, const std::string& hub = "hub-1",
                   const std::string& door = "front") {
    grant_ = lk_grant_info{};
    grant_.struct_size = sizeof grant_;
    refusal_ = lk_authz_refusal{};
    refusal_.struct_size = sizeof refusal_;
    return authz_->verify(hub, door, kNow, credential, &grant_, &refusal_);
  }

  void expect_refusal(const crypto::Bytes& credential, lk_authz_refusal_code code, const std::string& hub = "hub-1",
                      const std::string& door = "front") {
    EXPECT_EQ(verify(credential, hub, door), LK_ERR_DENIED);
    EXPECT_EQ(refusal_.code, code) << refusal_.message;
    EXPECT_GT(std::strlen(refusal_.message), 0u);
  }

  lk_result open_config(const std::string& config) {
    std::unique_ptr<AuthzHandle> other;
    const lk_result result = AuthzHandle::open(plugin_, config, &other);
    EXPECT_EQ(result == LK_OK, other != nullptr);
    return result;
  }

  EventRecorder recorder_;
  std::shared_ptr<Plugin> plugin_;
  std::unique_ptr<AuthzHandle> authz_;
  lk_grant_info grant_{};
  lk_authz_refusal refusal_{};
};

TEST_F(RefAuthz, G1_ValidGrant_IsNormalized) {
  EXPECT_EQ(plugin_->identity().driver_id, "org.latchkey.ref-authz");
  ASSERT_EQ(verify(crypto::mint_grant(valid_grant(), issuer().secret_key)), LK_OK) << refusal_.message;
  EXPECT_EQ(std::memcmp(grant_.grant_id, std::string(16, '\x5A').data(), 16), 0);
  EXPECT_STREQ(grant_.issuer_key_id, "parcel-co");
  EXPECT_STREQ(grant_.hub_id, "hub-1");
  EXPECT_STREQ(grant_.door_id, "front");
  EXPECT_STREQ(grant_.courier_id, "courier-7");
  EXPECT_EQ(std::memcmp(grant_.courier_public_key, courier().public_key.data(), 32), 0);
  EXPECT_EQ(grant_.not_before_unix_ms, kNow - kHour);
  EXPECT_EQ(grant_.not_after_unix_ms, kNow + kHour);
  EXPECT_EQ(grant_.uses, 1u);
  ASSERT_EQ(grant_.required_camera_count, 2u);
  EXPECT_STREQ(grant_.required_camera_ids[0], "porch");
  EXPECT_STREQ(grant_.required_camera_ids[1], "hall");
}

TEST_F(RefAuthz, G1_ForgedSignature_IsRefused) {
  expect_refusal(crypto::mint_grant(valid_grant(), key_from(0x66).secret_key), LK_REFUSAL_BAD_SIGNATURE);
}

TEST_F(RefAuthz, G1_TamperedGrant_IsRefused) {
  v1::SignedGrant signed_grant;
  const crypto::Bytes good = crypto::mint_grant(valid_grant(), issuer().secret_key);
  ASSERT_TRUE(signed_grant.ParseFromArray(good.data(), static_cast<int>(good.size())));
  v1::Grant body = valid_grant();
  body.set_door_id("back");  // same key id and signature, another door
  signed_grant.set_grant(body.SerializeAsString());
  const std::string bytes = signed_grant.SerializeAsString();
  expect_refusal(crypto::Bytes(bytes.begin(), bytes.end()), LK_REFUSAL_BAD_SIGNATURE, "hub-1", "back");
}

TEST_F(RefAuthz, G1_Expired_IsRefused) {
  v1::Grant g = valid_grant();
  g.set_not_before_unix_ms(kNow - 3 * kHour);
  g.set_not_after_unix_ms(kNow - kHour);
  expect_refusal(crypto::mint_grant(g, issuer().secret_key), LK_REFUSAL_EXPIRED);
}

TEST_F(RefAuthz, G1_NotYetValid_IsRefused) {
  v1::Grant g = valid_grant();
  g.set_not_before_unix_ms(kNow + kHour);
  g.set_not_after_unix_ms(kNow + 2 * kHour);
  expect_refusal(crypto::mint_grant(g, issuer().secret_key), LK_REFUSAL_NOT_YET_VALID);
}

TEST_F(RefAuthz, G1_WithinConfiguredSkew_IsAccepted) {
  v1::Grant g = valid_grant();
  g.set_not_before_unix_ms(kNow + 30'000);  // 30 s early, skew is 60 s
  EXPECT_EQ(verify(crypto::mint_grant(g, issuer().secret_key)), LK_OK) << refusal_.message;
}

TEST_F(RefAuthz, G1_WrongDoor_IsRefused) {
  expect_refusal(crypto::mint_grant(valid_grant(), issuer().secret_key), LK_REFUSAL_WRONG_DOOR, "hub-1", "garage");
}

TEST_F(RefAuthz, G1_WrongHub_IsRefused) {
  expect_refusal(crypto::mint_grant(valid_grant(), issuer().secret_key), LK_REFUSAL_WRONG_HUB, "hub-2", "front");
}

TEST_F(RefAuthz, G1_UnknownIssuer_IsRefused) {
  v1::Grant g = valid_grant();
  g.set_issuer_key_id("someone-else");
  expect_refusal(crypto::mint_grant(g, key_from(0x66).secret_key), LK_REFUSAL_UNKNOWN_ISSUER);
}

TEST_F(RefAuthz, G1_Revoked_IsRefused) {
  v1::Grant g = valid_grant();
  g.set_grant_id(std::string(16, '\xEE'));
  expect_refusal(crypto::mint_grant(g, issuer().secret_key), LK_REFUSAL_REVOKED);
}

TEST_F(RefAuthz, G1_LifetimeOver24Hours_IsRefused) {
  v1::Grant g = valid_grant();
  g.set_not_before_unix_ms(kNow - kHour);
  g.set_not_after_unix_ms(kNow - kHour + 24 * kHour + 1);
  expect_refusal(crypto::mint_grant(g, issuer().secret_key), LK_REFUSAL_LIFETIME);
}

TEST_F(RefAuthz, MalformedBytes_AreRefused) {
  expect_refusal(crypto::Bytes{0xFF, 0xFF, 0xFF, 0x01}, LK_REFUSAL_MALFORMED);
  expect_refusal(crypto::Bytes{}, LK_REFUSAL_MALFORMED);
  v1::Grant g = valid_grant();
  g.set_grant_id("short");
  expect_refusal(crypto::mint_grant(g, issuer().secret_key), LK_REFUSAL_MALFORMED);
}

TEST_F(RefAuthz, BadConfig_IsRefusedNamingTheLine) {
  const std::string key = crypto::to_hex(issuer().public_key);
  struct Case {
    std::string config;
    std::string logged;
  };
  const Case cases[] = {
      {"", "no issuer"},
      {"# only a comment\n", "no issuer"},
      {"issuer a " + key + "\nissuer b 1234\n", "line 2"},
      {"issuer a " + key + "\nissuer a " + key + "\n", "given twice"},
      {"issuer a " + key + "\n\nskew_ms 300001\n", "line 3"},
      {"issuer a " + key + "\nskew_ms -5\n", "skew_ms"},
      {"issuer a " + key + "\nrevoke abc\n", "revoke"},
      {"issuer a " + key + "\ntrust everyone\n", "unknown directive 'trust'"},
      {"issuer a\n", "line 1"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(open_config(c.config), LK_ERR_INVALID_ARGUMENT) << c.config;
    EXPECT_TRUE(recorder_.logged(c.logged)) << "expected a log line naming '" << c.logged << "' for:\n" << c.config;
  }
  EXPECT_EQ(open_config("issuer a " + key + "\r\nskew_ms 0\r\n"), LK_OK);
}

}  // namespace
}  // namespace latchkey::testing
