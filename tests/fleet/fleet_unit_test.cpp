// witness_verdict, the fleet messages, the witness's store and its message
// handling (docs/fleet.md), without a broker.
#include <latchkey/fleet/protocol.hpp>
#include <latchkey/fleet/verdict.hpp>
#include <latchkey/fleet/witness.hpp>
#include <latchkey/fleet/witness_store.hpp>

#include <latchkey/fleet.pb.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <vector>

namespace latchkey::fleet {
namespace {

using Kind = WitnessVerdict::Kind;

crypto::KeyPair key(uint8_t b) {
  std::array<uint8_t, 32> seed{};
  seed.fill(b);
  return crypto::KeyPair::from_seed(seed);
}

const crypto::KeyPair kHub = key(0x11);
const crypto::KeyPair kOtherHub = key(0x22);
const crypto::KeyPair kWitness = key(0x33);

// A log of n records whose record i hashes to digest(i, fork).
audit::Digest digest(uint64_t seq, uint8_t fork = 0) {
  std::string text = "record " + std::to_string(seq) + " fork " + std::to_string(fork);
  return crypto::blake2b256(crypto::view(text));
}

LocalLogView log_of(uint64_t size, uint8_t fork = 0) {
  return {size, [size, fork](uint64_t seq) -> std::optional<audit::Digest> {
            if (seq == 0 || seq > size) return std::nullopt;
            return digest(seq, fork);
          }};
}

audit::Checkpoint checkpoint(uint64_t size, uint8_t fork = 0, const crypto::KeyPair& signer = kHub) {
  audit::Checkpoint cp;
  cp.size = size;
  cp.head = digest(size, fork);
  cp.wall_ms = 1'700'000'000'000 + static_cast<int64_t>(size);
  cp.mono_ns = 5'000 + static_cast<int64_t>(size);
  audit::sign_checkpoint(cp, signer.secret_key);
  return cp;
}

crypto::Bytes nonce(uint8_t b = 7) { return crypto::Bytes(kNonceBytes, b); }

Answer answer(std::optional<audit::Checkpoint> cp, const crypto::Bytes& n = nonce(), std::string hub = "hub-a") {
  Answer a;
  a.hub_id = std::move(hub);
  a.nonce = n;
  a.checkpoint = cp;
  return a;
}

WitnessVerdict judge(const LocalLogView& log, const Answer& a) {
  return witness_verdict(log, a, "hub-a", nonce(), kHub.public_key);
}

// ---- witness_verdict ----

TEST(WitnessVerdict, NoCheckpointHeldIsOk) { EXPECT_EQ(judge(log_of(5), answer(std::nullopt)).kind, Kind::kOk); }

TEST(WitnessVerdict, SameSizeSameHeadIsOk) { EXPECT_EQ(judge(log_of(9), answer(checkpoint(9))).kind, Kind::kOk); }

TEST(WitnessVerdict, LongerLogThatExtendsIsOk) {
  const WitnessVerdict v = judge(log_of(40), answer(checkpoint(9)));
  EXPECT_EQ(v.kind, Kind::kOk) << v.detail;
}

TEST(WitnessVerdict, ShorterLogIsBehind) {
  const WitnessVerdict v = judge(log_of(8), answer(checkpoint(9)));
  EXPECT_EQ(v.kind, Kind::kBehind);
  EXPECT_NE(v.detail.find("size 9"), std::string::npos) << v.detail;
  EXPECT_NE(v.detail.find("only 8 records"), std::string::npos) << v.detail;
}

TEST(WitnessVerdict, EmptyLogIsBehind) { EXPECT_EQ(judge(log_of(0), answer(checkpoint(1))).kind, Kind::kBehind); }

TEST(WitnessVerdict, OtherHeadAtThatSizeIsDiverged) {
  const WitnessVerdict v = judge(log_of(20, 1), answer(checkpoint(9)));
  EXPECT_EQ(v.kind, Kind::kDiverged);
  EXPECT_NE(v.detail.find(crypto::to_hex(digest(9, 1))), std::string::npos) << v.detail;
}

TEST(WitnessVerdict, SameSizeOtherHeadIsDiverged) {
  EXPECT_EQ(judge(log_of(9, 1), answer(checkpoint(9))).kind, Kind::kDiverged);
}

TEST(WitnessVerdict, UnreadableRecordIsDiverged) {
  LocalLogView v{12, [](uint64_t) { return std::optional<audit::Digest>(); }};
  EXPECT_EQ(judge(v, answer(checkpoint(9))).kind, Kind::kDiverged);
  LocalLogView no_lookup{12, nullptr};
  EXPECT_EQ(judge(no_lookup, answer(checkpoint(9))).kind, Kind::kDiverged);
}

TEST(WitnessVerdict, WrongNonceIsBadAnswer) {
  EXPECT_EQ(judge(log_of(9), answer(checkpoint(9), nonce(8))).kind, Kind::kBadAnswer);
  EXPECT_EQ(judge(log_of(9), answer(std::nullopt, crypto::Bytes(15, 7))).kind, Kind::kBadAnswer);
  // A replayed "none" for another query must not open the hub either.
  EXPECT_EQ(judge(log_of(9), answer(std::nullopt, nonce(9))).kind, Kind::kBadAnswer);
}

TEST(WitnessVerdict, EmptyExpectedNonceIsBadAnswer) {
  EXPECT_EQ(witness_verdict(log_of(9), answer(std::nullopt, {}), "hub-a", {}, kHub.public_key).kind, Kind::kBadAnswer);
}

TEST(WitnessVerdict, OtherHubIsBadAnswer) {
  EXPECT_EQ(judge(log_of(9), answer(checkpoint(9), nonce(), "hub-b")).kind, Kind::kBadAnswer);
}

TEST(WitnessVerdict, CheckpointNotSignedByTheHubIsBadAnswer) {
  EXPECT_EQ(judge(log_of(20), answer(checkpoint(9, 0, kOtherHub))).kind, Kind::kBadAnswer);
  audit::Checkpoint tampered = checkpoint(9);
  tampered.size = 10;  // a bigger size with the old signature
  EXPECT_EQ(judge(log_of(3), answer(tampered)).kind, Kind::kBadAnswer);
}

TEST(WitnessVerdict, Names) {
  EXPECT_EQ(name(Kind::kOk), "ok");
  EXPECT_EQ(name(Kind::kBehind), "behind");
  EXPECT_EQ(name(Kind::kDiverged), "diverged");
  EXPECT_EQ(name(Kind::kBadAnswer), "bad_answer");
}

// ---- the messages ----

TEST(FleetProtocol, Topics) {
  EXPECT_EQ(topic("hub-a", Channel::kCheckpoint), "latchkey/fleet/v1/hub-a/up/checkpoint");
  EXPECT_EQ(topic("hub-a", Channel::kQuery), "latchkey/fleet/v1/hub-a/witness/query");
  EXPECT_EQ(topic("hub-a", Channel::kAnswer), "latchkey/fleet/v1/hub-a/witness/answer");
  EXPECT_EQ(subscription(Channel::kQuery), "latchkey/fleet/v1/+/witness/query");
  auto t = parse_topic("latchkey/fleet/v1/hub-a/witness/query");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->hub_id, "hub-a");
  EXPECT_EQ(t->channel, Channel::kQuery);
  EXPECT_FALSE(parse_topic("latchkey/fleet/v1/hub-a/witness/other"));
  EXPECT_FALSE(parse_topic("latchkey/fleet/v1/+/witness/query"));
  EXPECT_FALSE(parse_topic("latchkey/fleet/v2/hub-a/up/checkpoint"));
  EXPECT_FALSE(parse_topic("latchkey/fleet/v1/hub-a"));
}

TEST(FleetProtocol, HubIds) {
  EXPECT_EQ(hub_id_problem("hub-01.home_x"), "");
  EXPECT_NE(hub_id_problem(""), "");
  EXPECT_NE(hub_id_problem("a/b"), "");
  EXPECT_NE(hub_id_problem("a+"), "");
  EXPECT_NE(hub_id_problem(std::string(65, 'a')), "");
}

TEST(FleetProtocol, CheckpointRoundTrip) {
  const audit::Checkpoint cp = checkpoint(12);
  const std::string bytes = encode_checkpoint("hub-a", cp);
  auto d = decode_checkpoint(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(std::holds_alternative<HubCheckpoint>(d)) << std::get<std::string>(d);
  EXPECT_EQ(std::get<HubCheckpoint>(d).hub_id, "hub-a");
  EXPECT_EQ(std::get<HubCheckpoint>(d).checkpoint, cp);
}

TEST(FleetProtocol, BadCheckpointsNamed) {
  const std::string junk = "\xff\xff\xff";
  auto d = decode_checkpoint(reinterpret_cast<const uint8_t*>(junk.data()), junk.size());
  ASSERT_TRUE(std::holds_alternative<std::string>(d));
  EXPECT_NE(std::get<std::string>(d).find("not a protobuf"), std::string::npos);
  v1::AuditCheckpoint m;
  m.set_hub_id("hub-a");
  m.set_size(3);
  m.set_head(std::string(31, 'x'));
  m.set_signature(std::string(64, 's'));
  std::string bytes = m.SerializeAsString();
  d = decode_checkpoint(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(std::holds_alternative<std::string>(d));
  EXPECT_NE(std::get<std::string>(d).find("head must be 32 bytes"), std::string::npos);
}

TEST(FleetProtocol, QueryNonceLength) {
  const std::string ok = encode_query("hub-a", nonce());
  EXPECT_TRUE(std::holds_alternative<Query>(decode_query(reinterpret_cast<const uint8_t*>(ok.data()), ok.size())));
  const crypto::Bytes short_nonce(8, 1);
  const std::string bad = encode_query("hub-a", short_nonce);
  auto d = decode_query(reinterpret_cast<const uint8_t*>(bad.data()), bad.size());
  ASSERT_TRUE(std::holds_alternative<std::string>(d));
  EXPECT_NE(std::get<std::string>(d).find("nonce must be 16 bytes"), std::string::npos);
}

TEST(FleetProtocol, SignedAnswerRoundTripAndForgery) {
  Answer a = answer(checkpoint(5));
  a.fork_seen = true;
  const std::string bytes = encode_signed_answer(a, kWitness.secret_key);
  auto d = decode_signed_answer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), kWitness.public_key);
  ASSERT_TRUE(std::holds_alternative<Answer>(d)) << std::get<std::string>(d);
  EXPECT_EQ(std::get<Answer>(d).checkpoint, a.checkpoint);
  EXPECT_TRUE(std::get<Answer>(d).fork_seen);
  // Another witness key, and one flipped byte: refused.
  auto other = decode_signed_answer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), kHub.public_key);
  ASSERT_TRUE(std::holds_alternative<std::string>(other));
  EXPECT_NE(std::get<std::string>(other).find("not signed by the pinned witness key"), std::string::npos);
  std::string flipped = bytes;
  flipped[6] = static_cast<char>(flipped[6] ^ 1);
  EXPECT_TRUE(std::holds_alternative<std::string>(
      decode_signed_answer(reinterpret_cast<const uint8_t*>(flipped.data()), flipped.size(), kWitness.public_key)));
}

// ---- the store ----

class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(LATCHKEY_FLEET_TEST_DIR) /
            (std::string(info->test_suite_name()) + "." + info->name() + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
    path_ /= name;
  }
  ~ScratchFile() {
    std::error_code ec;
    std::filesystem::remove_all(path_.parent_path(), ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(WitnessStore, LargerSizeWinsAndSurvivesReopen) {
  ScratchFile f("witness.db");
  {
    WitnessStore s(f.path());
    EXPECT_FALSE(s.newest("hub-a"));
    EXPECT_EQ(s.offer("hub-a", checkpoint(5)), WitnessStore::Offer::kStored);
    EXPECT_EQ(s.offer("hub-a", checkpoint(9)), WitnessStore::Offer::kStored);
    EXPECT_EQ(s.offer("hub-a", checkpoint(7)), WitnessStore::Offer::kOlder);
    EXPECT_EQ(s.offer("hub-a", checkpoint(9)), WitnessStore::Offer::kSame);
    EXPECT_EQ(s.offer("hub-b", checkpoint(2)), WitnessStore::Offer::kStored);
  }
  WitnessStore s(f.path());
  ASSERT_TRUE(s.newest("hub-a"));
  EXPECT_EQ(s.newest("hub-a")->checkpoint, checkpoint(9));
  EXPECT_FALSE(s.newest("hub-a")->fork_seen);
  EXPECT_EQ(s.newest("hub-b")->checkpoint.size, 2u);
}

TEST(WitnessStore, ForkKeepsTheFirst) {
  ScratchFile f("witness.db");
  WitnessStore s(f.path());
  EXPECT_EQ(s.offer("hub-a", checkpoint(9)), WitnessStore::Offer::kStored);
  EXPECT_EQ(s.offer("hub-a", checkpoint(9, 1)), WitnessStore::Offer::kFork);
  ASSERT_TRUE(s.newest("hub-a"));
  EXPECT_EQ(s.newest("hub-a")->checkpoint, checkpoint(9));
  EXPECT_TRUE(s.newest("hub-a")->fork_seen);
}

TEST(WitnessStore, Forget) {
  ScratchFile f("witness.db");
  WitnessStore s(f.path());
  s.offer("hub-a", checkpoint(9));
  EXPECT_TRUE(s.forget("hub-a"));
  EXPECT_FALSE(s.forget("hub-a"));
  EXPECT_FALSE(s.newest("hub-a"));
  EXPECT_EQ(s.offer("hub-a", checkpoint(3)), WitnessStore::Offer::kStored);
}

TEST(WitnessStore, UnopenableFileNamed) {
  try {
    WitnessStore s("/nonexistent-dir-for-latchkey/witness.db");
    FAIL() << "opened";
  } catch (const WitnessStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("nonexistent-dir-for-latchkey"), std::string::npos);
  }
}

// ---- the witness ----

struct WitnessHarness {
  ScratchFile file{"witness.db"};
  WitnessStore store{file.path()};
  std::vector<std::string> lines;
  Witness witness{{{"hub-a", kHub.public_key}}, store, kWitness, [this](const std::string& l) { lines.push_back(l); },
                  [] { return int64_t{42}; }};

  std::optional<Reply> send(const std::string& topic_name, const std::string& payload) {
    return witness.handle(topic_name, reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  }
  Answer ask(const crypto::Bytes& n = nonce()) {
    auto reply = send(topic("hub-a", Channel::kQuery), encode_query("hub-a", n));
    EXPECT_TRUE(reply);
    if (!reply) return {};
    EXPECT_EQ(reply->topic, "latchkey/fleet/v1/hub-a/witness/answer");
    auto d = decode_signed_answer(reinterpret_cast<const uint8_t*>(reply->payload.data()), reply->payload.size(),
                                  kWitness.public_key);
    EXPECT_TRUE(std::holds_alternative<Answer>(d));
    return std::holds_alternative<Answer>(d) ? std::get<Answer>(d) : Answer{};
  }
  bool logged(const std::string& part) const {
    for (const auto& l : lines)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }
};

TEST(Witness, StoresAndAnswersTheNewest) {
  WitnessHarness h;
  EXPECT_FALSE(h.ask().checkpoint);
  EXPECT_FALSE(h.send(topic("hub-a", Channel::kCheckpoint), encode_checkpoint("hub-a", checkpoint(4))));
  h.send(topic("hub-a", Channel::kCheckpoint), encode_checkpoint("hub-a", checkpoint(8)));
  h.send(topic("hub-a", Channel::kCheckpoint), encode_checkpoint("hub-a", checkpoint(6)));
  const Answer a = h.ask(nonce(3));
  ASSERT_TRUE(a.checkpoint);
  EXPECT_EQ(*a.checkpoint, checkpoint(8));
  EXPECT_EQ(a.nonce, nonce(3));
  EXPECT_EQ(a.witness_wall_ms, 42);
  // What the hub makes of it: a log rolled back to 6 records is behind.
  EXPECT_EQ(witness_verdict(log_of(6), a, "hub-a", nonce(3), kHub.public_key).kind, Kind::kBehind);
}

TEST(Witness, IgnoresUnknownHubsForgeriesAndJunk) {
  WitnessHarness h;
  EXPECT_FALSE(h.send(topic("hub-x", Channel::kCheckpoint), encode_checkpoint("hub-x", checkpoint(4))));
  EXPECT_TRUE(h.logged("hub 'hub-x': unknown hub"));
  EXPECT_FALSE(h.send(topic("hub-x", Channel::kQuery), encode_query("hub-x", nonce())));
  h.send(topic("hub-a", Channel::kCheckpoint), encode_checkpoint("hub-a", checkpoint(50, 0, kOtherHub)));
  EXPECT_TRUE(h.logged("not signed by the hub's key"));
  h.send(topic("hub-a", Channel::kCheckpoint), "garbage\x01\x02");
  EXPECT_TRUE(h.logged("bad payload ignored, nothing stored"));
  // A checkpoint of another hub sent on this hub's topic.
  h.send(topic("hub-a", Channel::kCheckpoint), encode_checkpoint("hub-b", checkpoint(60)));
  EXPECT_TRUE(h.logged("names hub 'hub-b'"));
  EXPECT_FALSE(h.store.newest("hub-a"));
  EXPECT_FALSE(h.send(topic("hub-a", Channel::kQuery), encode_query("hub-a", crypto::Bytes(3, 1))));
}

TEST(Witness, ForkAnsweredWithTheFirst) {
  WitnessHarness h;
  h.send(topic("hub-a", Channel::kCheckpoint), encode_checkpoint("hub-a", checkpoint(8)));
  h.send(topic("hub-a", Channel::kCheckpoint), encode_checkpoint("hub-a", checkpoint(8, 1)));
  EXPECT_TRUE(h.logged("FORK"));
  const Answer a = h.ask();
  ASSERT_TRUE(a.checkpoint);
  EXPECT_EQ(*a.checkpoint, checkpoint(8));
  EXPECT_TRUE(a.fork_seen);
  EXPECT_EQ(witness_verdict(log_of(8, 1), a, "hub-a", nonce(), kHub.public_key).kind, Kind::kDiverged);
}

TEST(HubKeys, FileAndDirectory) {
  ScratchFile f("keys");
  const std::filesystem::path dir = f.path().parent_path() / "keys.d";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a") << "# fleet\nhub-a " << crypto::to_hex(kHub.public_key) << "  # the first\n\n";
  std::ofstream(dir / "b") << "hub-b " << crypto::to_hex(kOtherHub.public_key) << "\n";
  const auto keys = load_hub_keys(dir);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.at("hub-b"), kOtherHub.public_key);
  std::ofstream(f.path()) << "hub-a " << crypto::to_hex(kHub.public_key) << "\nhub-a "
                          << crypto::to_hex(kHub.public_key) << "\n";
  try {
    load_hub_keys(f.path());
    FAIL() << "a hub listed twice was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  std::ofstream(f.path()) << "hub-a abcd\n";
  EXPECT_THROW(load_hub_keys(f.path()), std::runtime_error);
}

}  // namespace
}  // namespace latchkey::fleet
