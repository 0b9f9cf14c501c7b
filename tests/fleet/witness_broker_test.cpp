// lk-witness itself on a real Mosquitto with the shipped tools/broker/fleet.acl
// (docs/fleet.md): each hub reaches only its own topics, the witness stores
// what a hub sends and answers signed, durably across its restart, and
// ignores what it must not believe.
#include <latchkey/demo/child_process.hpp>
#include <latchkey/fleet/protocol.hpp>

#include <mosquitto_broker.hpp>
#include <mqtt_test_client.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace latchkey::fleet {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Bytes;

crypto::KeyPair key(uint8_t b) {
  std::array<uint8_t, 32> seed{};
  seed.fill(b);
  return crypto::KeyPair::from_seed(seed);
}

audit::Checkpoint checkpoint(uint64_t size, const crypto::KeyPair& signer) {
  audit::Checkpoint cp;
  cp.size = size;
  const std::string text = "record " + std::to_string(size);
  cp.head = crypto::blake2b256(crypto::view(text));
  cp.wall_ms = 1'700'000'000'000;
  cp.mono_ns = 77;
  audit::sign_checkpoint(cp, signer.secret_key);
  return cp;
}

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

class WitnessBroker : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("latchkey-witness-broker-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    testing::BrokerOptions options;
    options.extra_users = {"hub-1", "hub-2", "lk-witness"};
    options.guard = false;
    options.acl_file = LATCHKEY_FLEET_ACL_FILE;
    broker_ = std::make_unique<testing::MosquittoBroker>(options);
    std::ofstream(dir_ / "witness.key") << crypto::to_hex(std::array<uint8_t, 32>{9}) << "\n";
    fs::permissions(dir_ / "witness.key", fs::perms::owner_read | fs::perms::owner_write);
    witness_key_ = crypto::KeyPair::from_seed(std::array<uint8_t, 32>{9});
    // hub-2 has no key at the witness.
    std::ofstream(dir_ / "hubs") << "# the fleet\nhub-1 " << crypto::to_hex(hub_.public_key) << "\n";
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "lk-witness log:\n" << witness_.log_tail(40) << "\n";
    witness_.kill();
    broker_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::size_t connections() {
    const std::string log = witness_log();
    std::size_t n = 0;
    for (std::size_t at = log.find("connected to the fleet broker"); at != std::string::npos;
         at = log.find("connected to the fleet broker", at + 1))
      ++n;
    return n;
  }
  void start_witness() {
    const std::size_t before = connections();
    witness_.start({LATCHKEY_TEST_WITNESS, "--hub-keys", (dir_ / "hubs").string(), "--db", (dir_ / "witness.db").string(),
                    "--key", (dir_ / "witness.key").string(), "--host", "127.0.0.1", "--port",
                    std::to_string(broker_->port()), "--user", "lk-witness", "--password-file",
                    broker_->password_file("lk-witness").string()},
                   dir_ / "witness.log");
    const auto end = std::chrono::steady_clock::now() + 5s;
    while (connections() == before && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(20ms);
    ASSERT_GT(connections(), before) << witness_.log_tail();
    std::this_thread::sleep_for(100ms);  // its subscriptions follow the connection
  }
  std::string witness_log() {
    std::ifstream in(dir_ / "witness.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool wait_log(const std::string& part, std::chrono::milliseconds timeout = 5s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (witness_log().find(part) != std::string::npos) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  std::unique_ptr<testing::MqttTestClient> hub_client(const std::string& user) {
    testing::ClientOptions o;
    o.port = broker_->port();
    o.user = user;
    o.password = broker_->password(user);
    auto c = std::make_unique<testing::MqttTestClient>(o);
    EXPECT_EQ(c->connect(), 0);
    return c;
  }
  // Asks as hub-1 and returns the decoded answer (or the problem).
  std::variant<Answer, std::string> ask(testing::MqttTestClient& c, const crypto::Bytes& nonce, std::size_t nth) {
    EXPECT_EQ(c.publish(topic("hub-1", Channel::kQuery), bytes(encode_query("hub-1", nonce)), 1), 0);
    if (!c.wait_received(topic("hub-1", Channel::kAnswer), nth)) return std::string("no answer");
    const Bytes payload = c.received(topic("hub-1", Channel::kAnswer)).back().payload;
    return decode_signed_answer(payload.data(), payload.size(), witness_key_.public_key);
  }

  fs::path dir_;
  std::unique_ptr<testing::MosquittoBroker> broker_;
  crypto::KeyPair hub_ = key(0x41);
  crypto::KeyPair witness_key_;
  demo::ChildProcess witness_;
};

TEST_F(WitnessBroker, EachHubReachesOnlyItsOwnTopics) {
  auto other = hub_client("hub-2");
  const Bytes cp = bytes(encode_checkpoint("hub-1", checkpoint(5, hub_)));
  EXPECT_EQ(other->publish(topic("hub-1", Channel::kCheckpoint), cp, 1), 0x87) << "hub-2 wrote hub-1's checkpoint";
  EXPECT_EQ(other->publish(topic("hub-1", Channel::kQuery), bytes("q"), 1), 0x87);
  EXPECT_EQ(other->publish(topic("hub-2", Channel::kAnswer), bytes("forged"), 1), 0x87) << "a hub wrote an answer";
  EXPECT_EQ(other->subscribe(topic("hub-2", Channel::kAnswer), 1), 1);
  EXPECT_EQ(other->publish(topic("hub-2", Channel::kCheckpoint), cp, 1), 0);
}

TEST_F(WitnessBroker, StoresAnswersSignedAndRemembersAcrossARestart) {
  ASSERT_NO_FATAL_FAILURE(start_witness());
  auto hub = hub_client("hub-1");
  ASSERT_EQ(hub->subscribe(topic("hub-1", Channel::kAnswer), 1), 1);
  // Mosquitto grants any subscription and then delivers only what the ACL lets the user read.
  auto other = hub_client("hub-2");
  other->subscribe(topic("hub-1", Channel::kAnswer), 1);
  const crypto::Bytes n1(kNonceBytes, 1);
  auto first = ask(*hub, n1, 1);
  ASSERT_TRUE(std::holds_alternative<Answer>(first)) << std::get<std::string>(first);
  EXPECT_FALSE(std::get<Answer>(first).checkpoint) << "a hub never seen has no checkpoint";
  EXPECT_EQ(std::get<Answer>(first).nonce, n1);

  ASSERT_EQ(hub->publish(topic("hub-1", Channel::kCheckpoint), bytes(encode_checkpoint("hub-1", checkpoint(9, hub_))), 1), 0);
  ASSERT_TRUE(wait_log("checkpoint size 9 stored"));
  // Not believed: garbage, a checkpoint signed by another key, a smaller one.
  ASSERT_EQ(hub->publish(topic("hub-1", Channel::kCheckpoint), bytes("\x08\xff\xff"), 1), 0);
  ASSERT_EQ(hub->publish(topic("hub-1", Channel::kCheckpoint), bytes(encode_checkpoint("hub-1", checkpoint(50, key(7)))), 1), 0);
  ASSERT_EQ(hub->publish(topic("hub-1", Channel::kCheckpoint), bytes(encode_checkpoint("hub-1", checkpoint(4, hub_))), 1), 0);
  EXPECT_TRUE(wait_log("bad payload ignored, nothing stored"));
  EXPECT_TRUE(wait_log("not signed by the hub's key"));
  EXPECT_TRUE(wait_log("older than the one held"));

  // Restarted (SIGKILL: nothing flushed at exit), it still holds size 9.
  witness_.kill();
  ASSERT_NO_FATAL_FAILURE(start_witness());
  const crypto::Bytes n2(kNonceBytes, 2);
  auto second = ask(*hub, n2, 2);
  ASSERT_TRUE(std::holds_alternative<Answer>(second)) << std::get<std::string>(second);
  ASSERT_TRUE(std::get<Answer>(second).checkpoint);
  EXPECT_EQ(*std::get<Answer>(second).checkpoint, checkpoint(9, hub_));
  EXPECT_EQ(std::get<Answer>(second).nonce, n2);
  EXPECT_TRUE(other->received(topic("hub-1", Channel::kAnswer)).empty()) << "hub-2 read hub-1's answers";
}

TEST_F(WitnessBroker, AnUnknownHubIsLoggedAndNotAnswered) {
  ASSERT_NO_FATAL_FAILURE(start_witness());
  auto other = hub_client("hub-2");
  ASSERT_EQ(other->subscribe(topic("hub-2", Channel::kAnswer), 1), 1);
  ASSERT_EQ(other->publish(topic("hub-2", Channel::kQuery), bytes(encode_query("hub-2", crypto::Bytes(16, 3))), 1), 0);
  EXPECT_TRUE(wait_log("hub 'hub-2': unknown hub"));
  EXPECT_FALSE(other->wait_received(topic("hub-2", Channel::kAnswer), 1, 500ms));
}

TEST_F(WitnessBroker, BadOptionsAreNamed) {
  demo::ChildProcess bad;
  bad.start({LATCHKEY_TEST_WITNESS, "--hub-keys", (dir_ / "missing").string(), "--db", (dir_ / "w.db").string(),
             "--key", (dir_ / "witness.key").string(), "--host", "127.0.0.1"},
            dir_ / "bad.log");
  EXPECT_EQ(bad.wait(10s), 1);
  EXPECT_NE(bad.log_tail().find("hub keys " + (dir_ / "missing").string() + ": cannot be read"), std::string::npos)
      << bad.log_tail();
  demo::ChildProcess usage;
  usage.start({LATCHKEY_TEST_WITNESS, "--db"}, dir_ / "usage.log");
  EXPECT_EQ(usage.wait(10s), 2);
  EXPECT_NE(usage.log_tail().find("--db needs a value"), std::string::npos) << usage.log_tail();
  demo::ChildProcess help;
  help.start({LATCHKEY_TEST_WITNESS, "--help"}, dir_ / "help.log");
  EXPECT_EQ(help.wait(10s), 0);
  EXPECT_NE(help.log_tail(40).find("--forget HUB_ID"), std::string::npos) << help.log_tail(40);
}

}  // namespace
}  // namespace latchkey::fleet
