// Bad input: 100,000 malformed, truncated and oversized grants, unlock
// requests and attestations from a seeded mutator. Each is refused with a rule
// and a reason, or (when the mutation left the signed content intact, e.g. an
// unknown field appended to the envelope) judged exactly like the original.
// Nothing crashes; this also runs under ASan and UBSan.
#include <latchkey/crypto/attestations.hpp>
#include <latchkey/crypto/grants.hpp>
#include <latchkey/gate/gate_engine.hpp>
#include <latchkey/gate/liveness_monitor.hpp>

#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

namespace crypto = latchkey::crypto;
namespace gate = latchkey::gate;

namespace {

// Mutated text fields make protobuf log each UTF-8 failure; the refusal is what counts.
class QuietProtobuf : public ::testing::Environment {
 public:
  void SetUp() override {
    google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  }
};
const auto* const kQuiet = ::testing::AddGlobalTestEnvironment(new QuietProtobuf);

uint64_t seed_from_env() {
  if (const char* s = std::getenv("LATCHKEY_FUZZ_SEED")) return std::strtoull(s, nullptr, 10);
  return 20261128;
}

// One random mutation of a valid message.
crypto::Bytes mutate(const crypto::Bytes& valid, std::mt19937_64& rng) {
  crypto::Bytes b = valid;
  auto pos = [&] { return b.empty() ? 0 : static_cast<std::size_t>(rng() % b.size()); };
  switch (rng() % 9) {
    case 0:  // flip bits
      for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n && !b.empty(); ++i) b[pos()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      break;
    case 1:  // overwrite a byte
      if (!b.empty()) b[pos()] = static_cast<uint8_t>(rng());
      break;
    case 2:  // truncate
      b.resize(pos());
      break;
    case 3:  // append garbage
      for (int i = 0, n = 1 + static_cast<int>(rng() % 64); i < n; ++i) b.push_back(static_cast<uint8_t>(rng()));
      break;
    case 4:  // oversized
      b.resize(b.size() + 64 * 1024 + rng() % (1024 * 1024), static_cast<uint8_t>(rng()));
      break;
    case 5:  // insert bytes in the middle
      b.insert(b.begin() + static_cast<std::ptrdiff_t>(pos()), 1 + rng() % 8, static_cast<uint8_t>(rng()));
      break;
    case 6:  // delete a span
      if (!b.empty()) {
        const std::size_t at = pos();
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(at),
                b.begin() + static_cast<std::ptrdiff_t>(std::min(b.size(), at + 1 + rng() % 16)));
      }
      break;
    case 7:  // a huge length prefix where a field begins
      if (b.size() > 2) {
        const std::size_t at = 1 + pos() % (b.size() - 1);
        b[at] = 0xff;
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at) + 1, {0xff, 0xff, 0xff, 0x0f});
      }
      break;
    default:  // pure garbage of random length
      b.resize(rng() % 512);
      for (auto& x : b) x = static_cast<uint8_t>(rng());
      break;
  }
  return b;
}

crypto::KeyPair seeded(uint8_t v) {
  std::array<uint8_t, 32> s{};
  s.fill(v);
  return crypto::KeyPair::from_seed(s);
}

}  // namespace

TEST(BadInput, G1_MutatedGrantsAreRefusedWithAReasonOrUnchanged) {
  const uint64_t seed = seed_from_env();
  std::printf("seed %llu (LATCHKEY_FUZZ_SEED overrides)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const auto issuer = seeded(1);
  const auto courier = seeded(2);
  latchkey::v1::Grant g;
  g.set_grant_id(std::string(16, 'g'));
  g.set_issuer_key_id("issuer-1");
  g.set_hub_id("hub-1");
  g.set_door_id("front");
  g.set_courier_id("courier-1");
  g.set_courier_public_key(std::string(courier.public_key.begin(), courier.public_key.end()));
  g.set_not_before_unix_ms(1'000);
  g.set_not_after_unix_ms(3'600'000);
  g.set_uses(1);
  const crypto::Bytes valid = crypto::mint_grant(g, issuer.secret_key);
  const crypto::GrantExpectations expect{"hub-1", "front", 60'000, 60'000};
  const crypto::IssuerKeyLookup keys = [&](const std::string& id) -> std::optional<crypto::PublicKey> {
    if (id == "issuer-1") return issuer.public_key;
    return std::nullopt;
  };
  ASSERT_TRUE(crypto::check_signed_grant(valid, keys, expect).ok());
  int refused = 0, unchanged = 0;
  for (int i = 0; i < 50'000; ++i) {
    const crypto::Bytes bad = mutate(valid, rng);
    const crypto::GrantCheck check = crypto::check_signed_grant(bad, keys, expect);
    if (check.ok()) {
      ASSERT_EQ(check.grant.SerializeAsString(), g.SerializeAsString()) << "trial " << i << ": a changed grant passed";
      ++unchanged;
    } else {
      ASSERT_FALSE(check.message.empty()) << "trial " << i;
      ++refused;
    }
  }
  std::printf("grants: %d refused with a reason, %d with intact signed content\n", refused, unchanged);
}

TEST(BadInput, MutatedUnlockRequestsAreDeniedWithARuleAndAReason) {
  std::mt19937_64 rng(seed_from_env() + 1);
  const auto issuer = seeded(1);
  const auto courier = seeded(2);
  const auto camera = seeded(3);
  gate::GateSetup setup;
  setup.hub_id = "hub-1";
  setup.doors.push_back({"front", {"porch"}});
  setup.cameras.push_back({"porch", camera.public_key});
  setup.issuer_keys["issuer-1"] = issuer.public_key;
  setup.authz_plugin_required = false;
  latchkey::v1::Grant g;
  g.set_grant_id(std::string(16, 'g'));
  g.set_issuer_key_id("issuer-1");
  g.set_hub_id("hub-1");
  g.set_door_id("front");
  g.set_courier_id("courier-1");
  g.set_courier_public_key(std::string(courier.public_key.begin(), courier.public_key.end()));
  g.set_not_before_unix_ms(1'000);
  g.set_not_after_unix_ms(3'600'000);
  g.set_uses(1);
  const crypto::Bytes signed_grant = crypto::mint_grant(g, issuer.secret_key);
  std::unique_ptr<gate::GateEngine> engine;
  int denied = 0;
  for (int i = 0; i < 25'000; ++i) {
    // A fresh engine every few requests keeps G4 lockouts from hiding the parsers.
    if (i % 4 == 0) {
      uint64_t counter = static_cast<uint64_t>(i);
      engine = std::make_unique<gate::GateEngine>(setup, [counter](std::span<uint8_t> out) mutable {
        for (auto& b : out) b = static_cast<uint8_t>(++counter * 131);
      });
      engine->on_wall_clock_synced(0);
      engine->on_lock_state("front", LK_LOCK_STATE_LOCKED, 0);
      engine->on_door_state("front", LK_DOOR_STATE_CLOSED, 0);
      engine->start(0);
    }
    const crypto::Bytes challenge = engine->issue_challenge("front", 1);
    const crypto::Bytes valid = crypto::make_unlock_request(signed_grant, "front", challenge, courier.secret_key);
    const crypto::Bytes bad = mutate(valid, rng);
    const uint64_t id = engine->request_unlock("front", bad, gate::AuthzVerdict{}, 60'000, 2);
    bool decided = false;
    for (const auto& action : engine->take_actions()) {
      if (const auto* d = std::get_if<gate::Decision>(&action); d && d->request_id == id) {
        decided = true;
        ASSERT_FALSE(d->allowed) << "trial " << i;  // no camera is LIVE: nothing may pass
        ASSERT_NE(d->rule, latchkey::Rule::kNone) << "trial " << i;
        ASSERT_FALSE(d->message.empty()) << "trial " << i;
        ++denied;
      }
    }
    ASSERT_TRUE(decided) << "trial " << i << ": no decision";
  }
  std::printf("unlock requests: %d denied with a rule and a reason\n", denied);
}

TEST(BadInput, C1_MutatedAttestationsAreRejectedWithARuleOrUnchanged) {
  std::mt19937_64 rng(seed_from_env() + 2);
  const auto key = seeded(4);
  const std::string nonce(16, 'n');
  latchkey::v1::Attestation a;
  a.set_camera_id("porch");
  a.set_boot_id(std::string(16, 'b'));
  a.set_counter(1);
  a.set_capture_time_ns(1'000'000);
  a.set_frame_digest(std::string(32, 'd'));
  a.set_hub_nonce(nonce);
  const crypto::Bytes valid = crypto::sign_attestation(a, key.secret_key);
  const gate::RandomSource fixed = [&](std::span<uint8_t> out) { std::copy(nonce.begin(), nonce.end(), out.begin()); };
  int rejected = 0, unchanged = 0;
  for (int i = 0; i < 25'000; ++i) {
    gate::LivenessMonitor monitor("porch", key.public_key, gate::GateConfig{});
    monitor.issue_nonce(1'000'000, fixed);
    const crypto::Bytes bad = mutate(valid, rng);
    const gate::AttestationVerdict v = monitor.on_attestation(bad, 2'000'000);
    if (v.accepted) {
      const auto opened = crypto::open_attestation(bad, key.public_key);
      ASSERT_TRUE(opened.ok);
      ASSERT_EQ(opened.attestation.SerializeAsString(), a.SerializeAsString()) << "trial " << i;
      ++unchanged;
    } else {
      ASSERT_NE(v.rule, latchkey::Rule::kNone) << "trial " << i;
      ASSERT_FALSE(v.reason.empty()) << "trial " << i;
      ++rejected;
    }
  }
  std::printf("attestations: %d rejected with a rule, %d with intact signed content\n", rejected, unchanged);
}
