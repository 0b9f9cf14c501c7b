// The 2017 attack on a real path, a few trials of each fault (docs/attack-path.md).
// Each trial: a delivery session open (door closed on even trials, open on
// odd ones), the camera's link broken or its picture frozen or looped, and
// the hub must relock (door closed) or alarm (door open) within
// live_timeout + 50 ms of the last attestation it accepted (docs/rules.md U5, I4),
// measured on the hub's own monotonic clock from its event stream.
#include "attack_world.hpp"
#include "netns_link.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

namespace latchkey::attack {
namespace {

constexpr int kTrials = 3;

void run_fault(Fault fault, const std::function<void(const TrialResult&)>& check_cause) {
  if (const auto why = testing::netns_unavailable_reason())
    GTEST_SKIP() << "needs network namespaces (run as root): " << *why;
  WorldOptions options = default_world_options();
  options.log = [](const std::string& line) { std::cerr << "  " << line << "\n"; };
  AttackWorld world(options);
  std::cerr << "  setup: " << world.describe_setup() << "\n";
  std::vector<TrialResult> results;
  for (int trial = 0; trial < kTrials; ++trial) {
    const TrialResult r = world.run(fault, trial % 2 == 1);
    std::cerr << "  trial " << trial << ": " << r.describe() << "\n";
    results.push_back(r);
    EXPECT_TRUE(r.valid) << r.describe();
    if (!r.valid) continue;
    EXPECT_TRUE(r.detected) << r.describe();
    EXPECT_TRUE(r.failure.empty()) << r.describe();
    EXPECT_GT(r.last_accepted_us, 0) << r.describe();
    EXPECT_LE(r.delay_us, world.target_us()) << "U5/I4 target missed: " << r.describe();
    check_cause(r);
  }
  const FaultStats s = summarize(results);
  std::cerr << "  " << fault_name(fault) << ": " << s.trials << " valid trial(s), " << s.misses
            << " miss(es); detection delay p50 " << s.p50_ms << " ms, max " << s.max_ms << " ms (target "
            << world.target_us() / 1000 << " ms)\n";
  if (::testing::Test::HasFailure()) std::cerr << world.diagnostics();
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// C1: the camera's private key stays on the camera. With the camera LIVE
// through the hub, no file of the hub's data directory holds its seed (as
// hex or raw) or its expanded Ed25519 secret key; the hub's configuration
// holds its public key, the only thing the hub pins.
TEST(AttackPath, C1_TheHubsDataDirectoryHoldsOnlyTheCamerasPublicKey) {
  if (const auto why = testing::netns_unavailable_reason())
    GTEST_SKIP() << "needs network namespaces (run as root): " << *why;
  AttackWorld world(default_world_options());
  std::ifstream key_in(world.camera_key_file());
  const std::string key_text((std::istreambuf_iterator<char>(key_in)), std::istreambuf_iterator<char>());
  const std::size_t end = key_text.find_last_not_of("\n");
  ASSERT_NE(end, std::string::npos);
  ASSERT_GE(end + 1, 64u) << "unexpected key file: " << world.camera_key_file();
  const std::string seed_hex = key_text.substr(end + 1 - 64, 64);
  std::array<unsigned char, crypto_sign_SEEDBYTES> seed{};
  ASSERT_EQ(sodium_hex2bin(seed.data(), seed.size(), seed_hex.c_str(), seed_hex.size(), nullptr, nullptr, nullptr), 0);
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk{};
  ASSERT_EQ(crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data()), 0);
  std::array<char, 2 * crypto_sign_PUBLICKEYBYTES + 1> pk_hex{};
  sodium_bin2hex(pk_hex.data(), pk_hex.size(), pk.data(), pk.size());

  const std::string raw_seed(seed.begin(), seed.end()), raw_sk(sk.begin(), sk.end());
  std::size_t files = 0;
  bool pinned = false;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(world.hub_data_dir())) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string lower = bytes;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(lower.find(seed_hex), std::string::npos) << entry.path() << " holds the camera's seed (hex)";
    EXPECT_EQ(bytes.find(raw_seed), std::string::npos) << entry.path() << " holds the camera's seed";
    EXPECT_EQ(bytes.find(raw_sk), std::string::npos) << entry.path() << " holds the camera's secret key";
    pinned = pinned || lower.find(pk_hex.data()) != std::string::npos;
  }
  EXPECT_GT(files, 3u) << "the data directory was not searched";
  EXPECT_TRUE(pinned) << "the camera's public key is not pinned in the hub's data directory";
}

// Bad input on the camera's topic from the attacker's namespace: refused by
// the broker's guard, reported to the hub's plugin, audited by the hub
// (docs/camera-link.md "Refused messages"); the camera stays LIVE.
TEST(AttackPath, C1_ForeignAndOversizedMessagesOnTheCamerasTopicAreRefusedAndAudited) {
  if (const auto why = testing::netns_unavailable_reason())
    GTEST_SKIP() << "needs network namespaces (run as root): " << *why;
  AttackWorld world(default_world_options());
  const std::vector<std::string> audited = world.send_bad_messages();
  std::string all;
  for (const std::string& line : audited) all += "  " + line + "\n";
  auto has = [&](const std::string& fragment) { return all.find(fragment) != std::string::npos; };
  EXPECT_TRUE(has("C1: foreign: the broker refused: user 'hub' published 100 bytes on latchkey/camera/"))
      << "audited:\n" << all << world.diagnostics();
  EXPECT_TRUE(has(": oversized: the broker refused: user '")) << "audited:\n" << all;
  EXPECT_TRUE(has("published 2000 bytes on latchkey/camera/")) << "audited:\n" << all;
}

// Silence: nothing reaches the hub, LIVE ends at live_timeout.
void expect_timeout(const TrialResult& r) { EXPECT_EQ(r.cause, "timeout") << r.describe(); }

TEST(AttackPath, LinkDown) { run_fault(Fault::kLinkDown, expect_timeout); }

TEST(AttackPath, Loss100Percent) { run_fault(Fault::kLoss, expect_timeout); }

// Attestations arrive, but later than live_timeout: LIVE ends first, and
// they echo nonces older than 3 periods (C2).
TEST(AttackPath, DelayBeyondLiveTimeout) { run_fault(Fault::kDelay, expect_timeout); }

// The camera cut off; the attacker replays its recorded attestations with
// the camera's password. Each is rejected (C3 counter, C2 stale nonce); the
// first rejection ends LIVE, none extends it.
TEST(AttackPath, ReplayFromAttackerNamespace) {
  run_fault(Fault::kReplay, [](const TrialResult& r) {
    EXPECT_TRUE(starts_with(r.cause, "rejected C3") || starts_with(r.cause, "rejected C2") || r.cause == "timeout")
        << r.describe();
    EXPECT_GE(r.replay_published, 10) << r.describe();
    EXPECT_GE(r.replay_rejected, r.replay_published) << r.describe();
    EXPECT_FALSE(r.replay_accepted) << r.describe();
    EXPECT_FALSE(r.replay_made_live) << r.describe();
    for (const auto& rule : r.replay_rules) EXPECT_TRUE(rule == "C2" || rule == "C3") << rule << ": " << r.describe();
  });
}

// The agent freezes mid-session (--freeze-after): perfectly signed, fresh
// attestations of one picture; C5 rejects them after freeze_window. The
// clock starts at the last accepted attestation before that rejection.
TEST(AttackPath, FrozenSource) {
  run_fault(Fault::kFrozen, [](const TrialResult& r) { EXPECT_TRUE(starts_with(r.cause, "rejected C5")) << r.describe(); });
}

// A clip made now with ffmpeg, played with --loop: at its second pass the
// digests return to accepted ones (C7).
TEST(AttackPath, LoopedFile) {
  run_fault(Fault::kLooped, [](const TrialResult& r) { EXPECT_TRUE(starts_with(r.cause, "rejected C7")) << r.describe(); });
}

}  // namespace
}  // namespace latchkey::attack
