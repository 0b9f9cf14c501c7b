// Revocation lists without a broker (docs/fleet.md "Revocations"): signing,
// the hub's checks (issuer, signature, hub, shape), the sequence rule, the
// acknowledgement and the hub's file of kept lists.
#include <latchkey/fleet/revocation.hpp>

#include <latchkey/fleet.pb.h>

#include <gtest/gtest.h>

#include <map>

namespace latchkey::fleet {
namespace {

crypto::KeyPair key(uint8_t b) {
  std::array<uint8_t, 32> seed{};
  seed.fill(b);
  return crypto::KeyPair::from_seed(seed);
}

const crypto::KeyPair kIssuer = key(0x41);
const crypto::KeyPair kOtherIssuer = key(0x42);
const std::string kGrantA = "00112233445566778899aabbccddeeff";
const std::string kGrantB = "ffeeddccbbaa99887766554433221100";

RevocationList list(uint64_t sequence = 3, std::string hub = "hub-a", std::string issuer = "iss-1") {
  RevocationList l;
  l.hub_id = std::move(hub);
  l.issuer_key_id = std::move(issuer);
  l.sequence = sequence;
  l.grant_ids = {kGrantA, kGrantB};
  l.issued_wall_ms = 1'700'000'000'000;
  return l;
}

// The hub pins iss-1 (kIssuer) and iss-2 (kOtherIssuer).
IssuerKeyLookup pinned() {
  return [](const std::string& id) -> std::optional<crypto::PublicKey> {
    if (id == "iss-1") return kIssuer.public_key;
    if (id == "iss-2") return kOtherIssuer.public_key;
    return std::nullopt;
  };
}

std::variant<RevocationList, std::string> decode(const std::string& bytes, std::string_view hub = "hub-a") {
  return decode_signed_revocation_list(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), hub, pinned());
}

std::string problem_of(const std::string& bytes, std::string_view hub = "hub-a") {
  auto d = decode(bytes, hub);
  if (auto* p = std::get_if<std::string>(&d)) return *p;
  return "";
}

TEST(Revocations, Topics) {
  EXPECT_EQ(revocations_topic("hub-a", "issuer-1"), "latchkey/fleet/v1/hub-a/down/revocations/issuer-1");
  EXPECT_EQ(revocations_subscription("hub-a"), "latchkey/fleet/v1/hub-a/down/revocations/+");
  EXPECT_EQ(revocations_topic_issuer("hub-a", "latchkey/fleet/v1/hub-a/down/revocations/issuer-1"), "issuer-1");
  EXPECT_EQ(revocations_topic_issuer("hub-a", "latchkey/fleet/v1/hub-a/down/revocations"), std::nullopt);
  EXPECT_EQ(revocations_topic_issuer("hub-a", "latchkey/fleet/v1/hub-a/down/revocations/"), std::nullopt);
  EXPECT_EQ(revocations_topic_issuer("hub-a", "latchkey/fleet/v1/hub-a/down/revocations/a/b"), std::nullopt);
  EXPECT_EQ(revocations_topic_issuer("hub-a", "latchkey/fleet/v1/hub-b/down/revocations/issuer-1"), std::nullopt);
  for (const char* bad : {"", "a/b", "a+", "#"})
    EXPECT_THROW(revocations_topic("hub-a", bad), std::invalid_argument) << bad;
  EXPECT_EQ(revocations_applied_topic("hub-a"), "latchkey/fleet/v1/hub-a/up/revocations_applied");
  EXPECT_EQ(revocations_applied_subscription(), "latchkey/fleet/v1/+/up/revocations_applied");
}

TEST(Revocations, G1_SignedListRoundTrips) {
  const std::string bytes = encode_signed_revocation_list(list(), kIssuer.secret_key);
  auto d = decode(bytes);
  ASSERT_TRUE(std::holds_alternative<RevocationList>(d)) << std::get<std::string>(d);
  const RevocationList& got = std::get<RevocationList>(d);
  EXPECT_EQ(got.hub_id, "hub-a");
  EXPECT_EQ(got.issuer_key_id, "iss-1");
  EXPECT_EQ(got.sequence, 3u);
  EXPECT_EQ(got.grant_ids, (std::set<std::string>{kGrantA, kGrantB}));
  EXPECT_EQ(got.issued_wall_ms, 1'700'000'000'000);
  // The signature covers exactly the list's bytes in its own domain.
  v1::SignedRevocationList s;
  ASSERT_TRUE(s.ParseFromString(bytes));
  EXPECT_TRUE(crypto::verify(kRevocationDomain, crypto::view(s.list()), crypto::view(s.signature()), kIssuer.public_key));
  EXPECT_FALSE(crypto::verify("latchkey.grant.v1", crypto::view(s.list()), crypto::view(s.signature()),
                              kIssuer.public_key));
}

TEST(Revocations, G1_EmptyListIsValid) {
  RevocationList l = list();
  l.grant_ids.clear();
  auto d = decode(encode_signed_revocation_list(l, kIssuer.secret_key));
  ASSERT_TRUE(std::holds_alternative<RevocationList>(d)) << std::get<std::string>(d);
  EXPECT_TRUE(std::get<RevocationList>(d).grant_ids.empty());
}

TEST(Revocations, G1_UnknownIssuerIsRefused) {
  const std::string p = problem_of(encode_signed_revocation_list(list(3, "hub-a", "iss-9"), kIssuer.secret_key));
  EXPECT_NE(p.find("unknown issuer 'iss-9'"), std::string::npos) << p;
}

TEST(Revocations, G1_BadSignatureIsRefused) {
  // Signed by another issuer's key than the one pinned for its key id.
  std::string p = problem_of(encode_signed_revocation_list(list(), kOtherIssuer.secret_key));
  EXPECT_NE(p.find("bad signature"), std::string::npos) << p;
  EXPECT_NE(p.find("list iss-1 #3"), std::string::npos) << p;
  // One grant id changed after signing.
  v1::SignedRevocationList s;
  ASSERT_TRUE(s.ParseFromString(encode_signed_revocation_list(list(), kIssuer.secret_key)));
  v1::RevocationList inner;
  ASSERT_TRUE(inner.ParseFromString(s.list()));
  inner.set_sequence(4);
  s.set_list(inner.SerializeAsString());
  p = problem_of(s.SerializeAsString());
  EXPECT_NE(p.find("bad signature"), std::string::npos) << p;
  // A truncated signature.
  s.set_signature(s.signature().substr(0, 10));
  p = problem_of(s.SerializeAsString());
  EXPECT_NE(p.find("signature is 10 bytes"), std::string::npos) << p;
}

TEST(Revocations, G1_ListForAnotherHubIsRefused) {
  const std::string p = problem_of(encode_signed_revocation_list(list(3, "hub-b"), kIssuer.secret_key));
  EXPECT_NE(p.find("for hub 'hub-b', not this hub 'hub-a'"), std::string::npos) << p;
}

TEST(Revocations, G1_GarbageIsRefused) {
  EXPECT_NE(problem_of("garbage").find("not a protobuf SignedRevocationList"), std::string::npos);
  EXPECT_NE(problem_of("").find("not a protobuf SignedRevocationList"), std::string::npos);
  v1::SignedRevocationList s;
  s.set_list("\xff\xff\xff");
  s.set_signature(std::string(64, 'x'));
  EXPECT_NE(problem_of(s.SerializeAsString()).find("not a RevocationList"), std::string::npos);
}

// A list whose inner fields are wrong, signed properly (a buggy issuer).
std::string signed_raw(const v1::RevocationList& inner) {
  v1::SignedRevocationList s;
  s.set_list(inner.SerializeAsString());
  const crypto::Signature sig = crypto::sign(kRevocationDomain, crypto::view(s.list()), kIssuer.secret_key);
  s.set_signature(std::string(reinterpret_cast<const char*>(sig.data()), sig.size()));
  return s.SerializeAsString();
}

TEST(Revocations, G1_MalformedFieldsAreRefused) {
  v1::RevocationList inner;
  inner.set_hub_id("hub-a");
  inner.set_issuer_key_id("iss-1");
  inner.set_sequence(0);
  std::string p = problem_of(signed_raw(inner));
  EXPECT_NE(p.find("sequence 0"), std::string::npos) << p;
  inner.set_sequence(2);
  inner.add_grant_ids(std::string(16, 'a'));
  inner.add_grant_ids(std::string(15, 'b'));
  p = problem_of(signed_raw(inner));
  EXPECT_NE(p.find("grant id #2 is 15 bytes, not 16"), std::string::npos) << p;
}

TEST(Revocations, G1_EncodeRefusesABadList) {
  RevocationList l = list();
  l.grant_ids.insert("1234");
  EXPECT_THROW(encode_signed_revocation_list(l, kIssuer.secret_key), std::invalid_argument);
  l = list(0);
  EXPECT_NE(revocation_list_problem(l).find("sequence 0"), std::string::npos);
  l = list(1, "hub/a");
  EXPECT_NE(revocation_list_problem(l).find("hub id"), std::string::npos);
  l = list(1, "hub-a", "has space");
  EXPECT_NE(revocation_list_problem(l).find("issuer key id"), std::string::npos);
  l = list(1);
  l.grant_ids = {"00112233445566778899AABBCCDDEEFF"};  // upper case: not the form the hub compares
  EXPECT_NE(revocation_list_problem(l).find("lower-case"), std::string::npos);
}

TEST(Revocations, G1_SequenceRule) {
  EXPECT_EQ(judge_sequence(std::nullopt, 1), SequenceVerdict::kNewer);
  EXPECT_EQ(judge_sequence(3, 4), SequenceVerdict::kNewer);
  EXPECT_EQ(judge_sequence(3, 3), SequenceVerdict::kSame);
  EXPECT_EQ(judge_sequence(3, 2), SequenceVerdict::kOlder);
  EXPECT_EQ(judge_sequence(UINT64_MAX - 1, UINT64_MAX), SequenceVerdict::kNewer);
}

TEST(Revocations, G1_NewlyRevoked) {
  EXPECT_EQ(newly_revoked({kGrantA}, {kGrantA, kGrantB}), std::set<std::string>{kGrantB});
  EXPECT_TRUE(newly_revoked({kGrantA, kGrantB}, {kGrantA}).empty());
}

TEST(Revocations, PeekNeedsNoKey) {
  const std::string bytes = encode_signed_revocation_list(list(7, "hub-z", "iss-9"), kIssuer.secret_key);
  auto d = peek_revocation_list(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(std::holds_alternative<RevocationList>(d));
  EXPECT_EQ(std::get<RevocationList>(d).hub_id, "hub-z");
  EXPECT_EQ(std::get<RevocationList>(d).sequence, 7u);
}

TEST(Revocations, AppliedRoundTrips) {
  const std::string bytes = encode_revocations_applied({"hub-a", "iss-1", 5, 1234});
  auto d = decode_revocations_applied(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(std::holds_alternative<RevocationsApplied>(d)) << std::get<std::string>(d);
  EXPECT_EQ(std::get<RevocationsApplied>(d).hub_id, "hub-a");
  EXPECT_EQ(std::get<RevocationsApplied>(d).issuer_key_id, "iss-1");
  EXPECT_EQ(std::get<RevocationsApplied>(d).sequence, 5u);
  EXPECT_EQ(std::get<RevocationsApplied>(d).applied_wall_ms, 1234);
  const std::string zero = encode_revocations_applied({"hub-a", "iss-1", 0, 1});
  EXPECT_TRUE(std::holds_alternative<std::string>(
      decode_revocations_applied(reinterpret_cast<const uint8_t*>(zero.data()), zero.size())));
}

TEST(Revocations, StoredListsRoundTrip) {
  const std::string one = encode_signed_revocation_list(list(1), kIssuer.secret_key);
  const std::string two = encode_signed_revocation_list(list(2, "hub-a", "iss-2"), kOtherIssuer.secret_key);
  auto d = decode_stored_revocation_lists(encode_stored_revocation_lists({one, two}));
  ASSERT_TRUE(std::holds_alternative<std::vector<std::string>>(d));
  const auto& lists = std::get<std::vector<std::string>>(d);
  ASSERT_EQ(lists.size(), 2u);
  // Kept exactly as received: the signatures still verify.
  EXPECT_TRUE(std::holds_alternative<RevocationList>(decode(lists[0])));
  EXPECT_TRUE(std::holds_alternative<RevocationList>(decode(lists[1])));
  EXPECT_TRUE(std::holds_alternative<std::string>(decode_stored_revocation_lists("\xff\xff garbage")));
}

}  // namespace
}  // namespace latchkey::fleet
