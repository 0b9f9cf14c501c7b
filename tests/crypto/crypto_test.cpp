// Crypto helpers: signatures with domain separation, grant format checks (the
// signature, pinning, window and lifetime parts of G1) and attestation opening.
#include <latchkey/crypto/attestations.hpp>
#include <latchkey/crypto/grants.hpp>

#include <gtest/gtest.h>

namespace crypto = latchkey::crypto;

namespace {

constexpr int64_t kNow = 1'800'000'000'000;  // a fixed wall-clock instant, ms

crypto::KeyPair key(uint8_t seed_byte) {
  std::array<uint8_t, 32> seed{};
  seed.fill(seed_byte);
  return crypto::KeyPair::from_seed(seed);
}

class GrantTest : public ::testing::Test {
 protected:
  GrantTest() {
    grant.set_grant_id(std::string(16, '\x07'));
    grant.set_issuer_key_id("issuer-1");
    grant.set_hub_id("hub-1");
    grant.set_door_id("front");
    grant.set_courier_id("courier-9");
    grant.set_courier_public_key(std::string(courier.public_key.begin(), courier.public_key.end()));
    grant.set_not_before_unix_ms(kNow - 1000);
    grant.set_not_after_unix_ms(kNow + 3'600'000);
    grant.set_uses(1);
    grant.add_required_camera_ids("porch");
    expect.hub_id = "hub-1";
    expect.door_id = "front";
    expect.now_unix_ms = kNow;
  }

  crypto::GrantCheck check(const crypto::Bytes& bytes) {
    return crypto::check_signed_grant(bytes, lookup, expect);
  }
  crypto::GrantCheck check_minted() { return check(crypto::mint_grant(grant, issuer.secret_key)); }

  crypto::KeyPair issuer = key(1);
  crypto::KeyPair courier = key(2);
  latchkey::v1::Grant grant;
  crypto::GrantExpectations expect;
  crypto::IssuerKeyLookup lookup = [this](const std::string& id) -> std::optional<crypto::PublicKey> {
    if (id == "issuer-1") return issuer.public_key;
    return std::nullopt;
  };
};

}  // namespace

TEST(Crypto, SignatureVerifiesOnlyInItsOwnDomain) {
  const auto k = key(3);
  const crypto::Bytes message = {1, 2, 3, 4};
  const crypto::Signature sig = crypto::sign(crypto::kGrantDomain, message, k.secret_key);
  EXPECT_TRUE(crypto::verify(crypto::kGrantDomain, message, sig, k.public_key));
  EXPECT_FALSE(crypto::verify(crypto::kAttestationDomain, message, sig, k.public_key));
  EXPECT_FALSE(crypto::verify(crypto::kGrantDomain, message, sig, key(4).public_key));
  const crypto::Bytes other = {1, 2, 3, 5};
  EXPECT_FALSE(crypto::verify(crypto::kGrantDomain, other, sig, k.public_key));
  EXPECT_FALSE(crypto::verify(crypto::kGrantDomain, message, crypto::ByteView(sig.data(), 63), k.public_key));
}

TEST(Crypto, SeededKeysAreDeterministicAndGeneratedKeysDiffer) {
  EXPECT_EQ(key(5).public_key, key(5).public_key);
  EXPECT_NE(crypto::KeyPair::generate().public_key, crypto::KeyPair::generate().public_key);
}

TEST(Crypto, HexRoundTripsAndRejectsBadInput) {
  const crypto::Bytes bytes = {0x00, 0xab, 0xff, 0x10};
  EXPECT_EQ(crypto::to_hex(bytes), "00abff10");
  EXPECT_EQ(crypto::from_hex("00ABff10"), bytes);
  EXPECT_FALSE(crypto::from_hex("abc").has_value());
  EXPECT_FALSE(crypto::from_hex("zz").has_value());
}

TEST(Crypto, ConstantTimeEqualityComparesLengthAndContent) {
  const crypto::Bytes a = {1, 2, 3};
  const crypto::Bytes b = {1, 2, 4};
  const crypto::Bytes c = {1, 2};
  EXPECT_TRUE(crypto::equal_constant_time(a, a));
  EXPECT_FALSE(crypto::equal_constant_time(a, b));
  EXPECT_FALSE(crypto::equal_constant_time(a, c));
}

TEST_F(GrantTest, G1_ValidGrantIsAccepted) {
  const auto result = check_minted();
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.grant.courier_id(), "courier-9");
}

TEST_F(GrantTest, G1_UnpinnedKeyIdIsRefused) {
  grant.set_issuer_key_id("issuer-2");
  const auto result = check_minted();
  EXPECT_EQ(result.refusal, crypto::GrantRefusal::kUnknownIssuer);
  EXPECT_NE(result.message.find("issuer-2"), std::string::npos);
}

TEST_F(GrantTest, G1_SignatureByAnotherKeyIsRefused) {
  const auto result = check(crypto::mint_grant(grant, key(9).secret_key));
  EXPECT_EQ(result.refusal, crypto::GrantRefusal::kBadSignature);
}

TEST_F(GrantTest, G1_AnyFlippedBitIsRefused) {
  const crypto::Bytes good = crypto::mint_grant(grant, issuer.secret_key);
  for (std::size_t i = 0; i < good.size(); ++i) {
    crypto::Bytes bad = good;
    bad[i] ^= 0x20;
    EXPECT_FALSE(check(bad).ok()) << "byte " << i;
  }
}

TEST_F(GrantTest, G1_WrongHubAndWrongDoorAreRefused) {
  expect.door_id = "back";
  EXPECT_EQ(check_minted().refusal, crypto::GrantRefusal::kWrongDoor);
  expect.door_id = "front";
  expect.hub_id = "hub-2";
  EXPECT_EQ(check_minted().refusal, crypto::GrantRefusal::kWrongHub);
}

TEST_F(GrantTest, G1_WindowHonoursSkewAtBothEnds) {
  grant.set_not_before_unix_ms(kNow + 60'000);  // exactly at skew: accepted
  grant.set_not_after_unix_ms(kNow + 120'000);
  EXPECT_TRUE(check_minted().ok());
  grant.set_not_before_unix_ms(kNow + 60'001);
  EXPECT_EQ(check_minted().refusal, crypto::GrantRefusal::kNotYetValid);
  grant.set_not_before_unix_ms(kNow - 120'000);
  grant.set_not_after_unix_ms(kNow - 60'000);  // expired exactly skew ago: accepted
  EXPECT_TRUE(check_minted().ok());
  grant.set_not_after_unix_ms(kNow - 60'001);
  EXPECT_EQ(check_minted().refusal, crypto::GrantRefusal::kExpired);
  expect.skew_ms = 0;
  grant.set_not_after_unix_ms(kNow - 1);
  EXPECT_EQ(check_minted().refusal, crypto::GrantRefusal::kExpired);
}

TEST_F(GrantTest, G1_LifetimeOver24HoursIsRefused) {
  grant.set_not_before_unix_ms(kNow - 1000);
  grant.set_not_after_unix_ms(kNow - 1000 + crypto::kMaxGrantLifetimeMs);
  EXPECT_TRUE(check_minted().ok());
  grant.set_not_after_unix_ms(kNow - 1000 + crypto::kMaxGrantLifetimeMs + 1);
  EXPECT_EQ(check_minted().refusal, crypto::GrantRefusal::kLifetime);
}

TEST_F(GrantTest, MalformedFieldsAreRefusedWithTheFieldNamed) {
  grant.set_grant_id("short");
  auto result = check_minted();
  EXPECT_EQ(result.refusal, crypto::GrantRefusal::kMalformed);
  EXPECT_NE(result.message.find("grant_id"), std::string::npos);
  grant.set_grant_id(std::string(16, '\x01'));
  grant.set_courier_public_key("abc");
  result = check_minted();
  EXPECT_EQ(result.refusal, crypto::GrantRefusal::kMalformed);
  EXPECT_NE(result.message.find("courier_public_key"), std::string::npos);
  EXPECT_EQ(check({}).refusal, crypto::GrantRefusal::kMalformed);
  EXPECT_EQ(check({0xff, 0xff, 0xff}).refusal, crypto::GrantRefusal::kMalformed);
}

TEST(Attestation, OpensWithTheDeviceKeyOnly) {
  const auto device = key(11);
  latchkey::v1::Attestation a;
  a.set_camera_id("porch");
  a.set_counter(7);
  a.set_hub_nonce(std::string(16, '\x33'));
  const crypto::Bytes bytes = crypto::sign_attestation(a, device.secret_key);
  const auto opened = crypto::open_attestation(bytes, device.public_key);
  ASSERT_TRUE(opened.ok) << opened.error;
  EXPECT_EQ(opened.attestation.counter(), 7u);
  EXPECT_EQ(crypto::open_attestation(bytes, key(12).public_key).error, "bad signature");
  EXPECT_FALSE(crypto::open_attestation({}, device.public_key).ok);
  crypto::Bytes truncated(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2));
  EXPECT_FALSE(crypto::open_attestation(truncated, device.public_key).ok);
}

TEST(Attestation, GrantSignatureCannotPassAsAttestation) {
  // Same key, same bytes, other domain: domain separation refuses it.
  const auto k = key(13);
  latchkey::v1::Attestation a;
  a.set_camera_id("porch");
  const std::string body = a.SerializeAsString();
  const crypto::Signature sig =
      crypto::sign(crypto::kGrantDomain, {reinterpret_cast<const uint8_t*>(body.data()), body.size()}, k.secret_key);
  latchkey::v1::SignedAttestation signed_attestation;
  signed_attestation.set_attestation(body);
  signed_attestation.set_signature(sig.data(), sig.size());
  const std::string bytes = signed_attestation.SerializeAsString();
  EXPECT_FALSE(crypto::open_attestation({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, k.public_key).ok);
}

TEST_F(GrantTest, G1_ExtremeTimestampsAreRefusedWithoutOverflow) {
  grant.set_not_before_unix_ms(INT64_MIN);
  grant.set_not_after_unix_ms(INT64_MAX);
  EXPECT_EQ(check_minted().refusal, crypto::GrantRefusal::kMalformed);
  grant.set_not_before_unix_ms(INT64_MAX - 1);
  grant.set_not_after_unix_ms(INT64_MAX);
  EXPECT_EQ(check_minted().refusal, crypto::GrantRefusal::kMalformed);
}
