// [fleet] via = bridge end to end (docs/fleet.md, "The bridge"): two real
// Mosquitto brokers - the hub's (the shipped latchkey.acl and guard, with
// the bridge file latchkeyd --print-fleet-bridge wrote in its include_dir)
// and the fleet's (the shipped fleet.acl, TLS) - a real lk-witness on the
// fleet broker and real latchkeyd processes that reach it only through the
// bridge. The witness confirms a hub, a rollback is still caught, a bridge
// with a wrong password is refused by the fleet broker (and the hub grants
// nothing), and the fleet broker keeps each hub's bridge to its own topics.
#include "witness_fixture.hpp"

#include "fleet_subscriber.hpp"
#include "mqtt_test_client.hpp"

#include <latchkey/hub/daemon_config.hpp>
#include <latchkey/hub/fleet_bridge.hpp>
#include <latchkey/fleet/revocation.hpp>

#include <sys/stat.h>

#include <set>
#include <thread>

namespace latchkey::tests {
namespace {

class FleetBridge : public WitnessRollback {
 protected:
  void SetUp() override {
    WitnessRollback::SetUp();
    if (HasFatalFailure()) return;
    fs::create_directories(dir_ / "conf.d");
    testing::BrokerOptions options;  // the hub's broker: shipped ACL and guard
    options.extra_config = "include_dir " + (dir_ / "conf.d").string() + "\n";
    hub_broker_ = std::make_unique<testing::MosquittoBroker>(options);
  }

  void TearDown() override {
    if (::testing::Test::HasFailure() && hub_broker_) std::cerr << "hub broker log:\n" << hub_broker_->log() << "\n";
    if (::testing::Test::HasFailure() && broker_) std::cerr << "fleet broker log:\n" << broker_->log() << "\n";
    WitnessRollback::TearDown();
    hub_broker_.reset();
  }

  // The fleet broker: TLS, users hub-1, hub-2 and lk-witness, the fleet ACL.
  testing::BrokerOptions fleet_broker_options() override {
    testing::BrokerOptions options = WitnessRollback::fleet_broker_options();
    options.extra_users.push_back("hub-2");
    options.extra_users.push_back("lk-issuer");  // revocation lists (docs/fleet.md "Revocations")
    options.extra_users.push_back("lk-fleet");   // the outbox's subscriber (docs/fleet.md "Alarms and sessions up")
    options.tls = true;
    return options;
  }

  demo::SimHubOptions bridge_options(const fs::path& fleet_password_file) {
    demo::SimHubOptions options = daemon_test_options();
    options.extra_config =
        "[fleet]\nenabled = true\nvia = bridge\nhost = 127.0.0.1\ntls = true\nport = " +
        std::to_string(broker_->tls_port()) + "\ntls_ca_file = " + broker_->ca_file().string() +
        "\nuser = hub-1\npassword_file = " + fleet_password_file.string() + "\nlocal_port = " +
        std::to_string(hub_broker_->port()) + "\nlocal_user = hub\nlocal_password_file = " +
        hub_broker_->password_file("hub").string() + "\nwitness_key = " + crypto::to_hex(witness_key_.public_key) +
        "\nwitness_timeout_ms = 300\n";
    return options;
  }

  // The bridge file into the hub broker's include_dir, as a person installs
  // it (mode 0640), and the hub broker restarted to read it (bridges are
  // read at start only).
  void install_bridge(const std::string& text) {
    const fs::path file = dir_ / "conf.d" / "fleet-bridge.conf";
    std::ofstream(file) << text;
    ::chmod(file.c_str(), 0640);
    hub_broker_->stop();
    ASSERT_NO_THROW(hub_broker_->start()) << "Mosquitto refused the bridge file:\n" << text;
  }

  // A hub in bridge mode, its bridge made by latchkeyd --print-fleet-bridge.
  void start_bridged_hub(const fs::path& fleet_password_file) {
    ASSERT_NO_FATAL_FAILURE(start_hub(bridge_options(fleet_password_file)));
    const LatchkeydRun printed = run_latchkeyd({"--config", hub_->config_file().string(), "--print-fleet-bridge"});
    ASSERT_EQ(printed.exit_code, 0) << printed.err;
    ASSERT_NE(printed.out.find("connection latchkey-fleet"), std::string::npos) << printed.out;
    ASSERT_NO_FATAL_FAILURE(install_bridge(printed.out));
  }

  std::string witness_block() { return api_->get("/v1/audit/verify").body; }
  bool wait_upstream(bool up) {
    const std::string want = std::string("\"upstream_up\":") + (up ? "true" : "false");
    return demo::wait_until([&] { return witness_block().find(want) != std::string::npos; }, 10s);
  }

  testing::ClientOptions fleet_client(const std::string& user) {
    testing::ClientOptions o;
    o.port = broker_->tls_port();
    o.ca_file = broker_->ca_file().string();
    o.user = user;
    o.password = broker_->password(user);
    return o;
  }
  testing::ClientOptions hub_client() {
    testing::ClientOptions o;
    o.port = hub_broker_->port();
    o.user = "hub";
    o.password = hub_broker_->password("hub");
    return o;
  }

  std::unique_ptr<testing::MosquittoBroker> hub_broker_;
};

TEST_F(FleetBridge, A2_HubIsConfirmedByTheWitnessThroughTheBridge) {
  ASSERT_NO_FATAL_FAILURE(start_bridged_hub(broker_->password_file("hub-1")));
  start_witness();
  ASSERT_TRUE(wait_confirmed()) << "the witness never confirmed the hub through the bridge";
  EXPECT_NE(witness_block().find("\"via\":\"bridge\""), std::string::npos) << witness_block();
  EXPECT_TRUE(wait_upstream(true)) << witness_block();
  // The checkpoint of a decision reaches the witness through the bridge (up/ out).
  ASSERT_NO_FATAL_FAILURE(deliver(grant("front")));

  // The fleet broker goes away: the hub broker says its bridge is down, the
  // hub knows it; when it is back the hub asks the witness again, as on a
  // reconnect of the direct link, and is confirmed again.
  // (The audit log records the first confirmation of a run only: the log says the others.)
  auto confirmed_in_log = [&] { return count(hub_->log_tail(400), "the witness confirms the audit log"); };
  const std::size_t before = confirmed_in_log();
  broker_->kill();
  EXPECT_TRUE(wait_upstream(false)) << witness_block();
  EXPECT_TRUE(demo::wait_until([&] { return hub_->log_tail(40).find("bridge to the fleet broker is down") !=
                                            std::string::npos; }, 5s));
  broker_->start();
  EXPECT_TRUE(wait_upstream(true)) << witness_block();
  EXPECT_TRUE(demo::wait_until([&] { return confirmed_in_log() > before; }, 10s))
      << "no new confirmation after the bridge came back";
  EXPECT_NE(hub_->log_tail(80).find("bridge to the fleet broker is up; asking the witness"), std::string::npos);
  const client::UnlockAnswer a = present("front", grant("front"));
  EXPECT_TRUE(a.allowed) << a.rule << " " << a.error;
}

TEST_F(FleetBridge, A2_RollbackIsCaughtThroughTheBridge) {
  ASSERT_NO_FATAL_FAILURE(start_bridged_hub(broker_->password_file("hub-1")));
  start_witness();
  ASSERT_TRUE(wait_confirmed());
  ASSERT_EQ(hub_->stop(), 0);
  copy_audit_files(hub_->data_dir(), dir_ / "copy");  // the attacker's copy, before the delivery
  restart_hub();
  ASSERT_TRUE(wait_confirmed(1));
  const client::MintedGrant used = grant("front");
  ASSERT_NO_FATAL_FAILURE(deliver(used));
  ASSERT_EQ(hub_->stop(), 0);

  replace_audit_files(hub_->data_dir(), dir_ / "copy");
  restart_hub();
  expect_rollback_detected(used);
}

TEST_F(FleetBridge, A2_BridgeWithAWrongPasswordIsRefusedAndTheHubGrantsNothing) {
  const fs::path wrong = dir_ / "wrong-password";
  std::ofstream(wrong) << "not-the-password\n";
  ::chmod(wrong.c_str(), 0600);
  ASSERT_NO_FATAL_FAILURE(start_bridged_hub(wrong));
  start_witness();
  EXPECT_TRUE(demo::wait_until([&] { return broker_->log().find("not authorised") != std::string::npos; }, 10s))
      << "the fleet broker did not refuse the bridge";
  std::this_thread::sleep_for(1s);
  const std::string outcome_text = outcome(grant("front"));
  EXPECT_NE(outcome_text, "allowed") << "granted without the witness";
  EXPECT_NE(outcome_text.find("waiting for the fleet witness"), std::string::npos) << outcome_text;
  const std::string block = witness_block();
  EXPECT_NE(block.find("\"state\":\"awaiting\""), std::string::npos) << block;
  EXPECT_NE(block.find("\"upstream_up\":false"), std::string::npos) << block;
  EXPECT_EQ(confirmations(), 0u);
}

// No latchkeyd here: the bridges and two MQTT clients, one on each broker.
// A revocation list published (retained) on the fleet broker reaches the
// hub through its broker's bridge (down/# in) and its acknowledgement comes
// back (up/# out).
TEST_F(FleetBridge, G1_RevocationListReachesTheHubThroughTheBridge) {
  ASSERT_NO_FATAL_FAILURE(start_bridged_hub(broker_->password_file("hub-1")));
  start_witness();
  ASSERT_TRUE(wait_confirmed());
  testing::MqttTestClient issuer(fleet_client("lk-issuer"));
  ASSERT_EQ(issuer.connect(), 0);
  ASSERT_EQ(issuer.subscribe(fleet::revocations_applied_subscription(), 1), 1);
  const client::MintedGrant revoked = grant("front");
  fleet::RevocationList list;
  list.hub_id = "hub-1";
  list.issuer_key_id = hub_->issuer_key_id();
  list.sequence = 1;
  list.grant_ids = {crypto::to_hex(revoked.grant_id)};
  const std::string bytes = fleet::encode_signed_revocation_list(list, hub_->issuer().secret_key);
  ASSERT_EQ(issuer.publish(fleet::revocations_topic("hub-1", list.issuer_key_id), testing::Bytes(bytes.begin(), bytes.end()), 1, true), 0);
  ASSERT_TRUE(issuer.wait_received(fleet::revocations_applied_topic("hub-1"), 1, 5s))
      << "no acknowledgement through the bridge";
  const client::UnlockAnswer a = present("front", revoked);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.rule, "G1");
  EXPECT_NE(a.error.find("grant is revoked"), std::string::npos) << a.error;
}

TEST_F(FleetBridge, TheFleetAclKeepsEachHubsBridgeToItsOwnTopics) {
  auto bridge_for = [&](const std::string& user, const std::string& hub_id) {
    hub::FleetConfig f;
    f.enabled = true;
    f.via = hub::FleetConfig::Via::kBridge;
    f.host = "127.0.0.1";
    f.port = broker_->tls_port();
    f.tls = true;
    f.tls_ca_file = broker_->ca_file();
    f.user = user;
    f.hub_id = hub_id;
    f.client_id = "lkf-" + hub_id;
    return hub::fleet_bridge_config(f, broker_->password(user));
  };
  const std::string up = "latchkey/fleet/v1/hub-2/up/checkpoint";
  const std::string answer = "latchkey/fleet/v1/hub-2/witness/answer";
  // Both ways through the hub broker's bridge: true when both arrived.
  auto carried = [&](const std::string& tag) {
    testing::MqttTestClient fleet(fleet_client("lk-witness"));
    testing::MqttTestClient hub(hub_client());
    EXPECT_EQ(fleet.connect(), 0);
    EXPECT_EQ(hub.connect(), 0);
    EXPECT_LT(fleet.subscribe("latchkey/fleet/v1/#", 1), 0x80);
    EXPECT_LT(hub.subscribe("latchkey/fleet/#", 1), 0x80);
    // The bridge is up (so its user was let in) before anything is judged.
    EXPECT_TRUE(demo::wait_until([&] {
      for (const testing::Received& r : hub.received(hub::kFleetBridgeStateTopic))
        if (r.payload == testing::Bytes{'1'}) return true;
      return false;
    }, 10s)) << tag << ": the bridge never came up";
    const testing::Bytes payload{'x'};
    EXPECT_EQ(hub.publish(up, payload, 1), 0);
    EXPECT_EQ(fleet.publish(answer, payload, 1), 0);
    const bool out = fleet.wait_received(up, 1, 1500ms);
    const bool in = hub.wait_received(answer, 1, 1500ms);
    return std::make_pair(out, in);
  };
  // hub-1's credentials with hub-2's topics (a hub that tries to speak for another).
  ASSERT_NO_FATAL_FAILURE(install_bridge(bridge_for("hub-1", "hub-2")));
  const auto [foreign_out, foreign_in] = carried("hub-1 as hub-2");
  EXPECT_FALSE(foreign_out) << "hub-1's bridge published on hub-2's topics";
  EXPECT_FALSE(foreign_in) << "hub-1's bridge received hub-2's answers";
  // The same bridge with hub-2's own credentials carries both ways: the
  // refusals above are the fleet ACL's, not a broken bridge.
  ASSERT_NO_FATAL_FAILURE(install_bridge(bridge_for("hub-2", "hub-2")));
  const auto [own_out, own_in] = carried("hub-2");
  EXPECT_TRUE(own_out) << "hub-2's bridge did not carry its checkpoint";
  EXPECT_TRUE(own_in) << "hub-2's bridge did not carry its answer";
}

TEST_F(FleetBridge, PrintFleetBridgeRefusesABadFleetSection) {
  ASSERT_NO_FATAL_FAILURE(start_hub(fleet_options()));  // via = direct
  ASSERT_EQ(hub_->stop(), 0);
  const LatchkeydRun direct = run_latchkeyd({"--config", hub_->config_file().string(), "--print-fleet-bridge"});
  EXPECT_EQ(direct.exit_code, 1);
  EXPECT_EQ(direct.out, "") << "nothing a person could install by mistake";
  EXPECT_NE(direct.err.find("[fleet] via = bridge is needed"), std::string::npos) << direct.err;
  std::string ini = read_file(hub_->config_file());
  const std::size_t fleet_at = ini.find("[fleet]\n");
  ASSERT_NE(fleet_at, std::string::npos);
  ini.insert(fleet_at + 8, "via = tunnel\n");
  std::ofstream(hub_->config_file()) << ini;
  const LatchkeydRun bad = run_latchkeyd({"--config", hub_->config_file().string(), "--print-fleet-bridge"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.out, "");
  EXPECT_NE(bad.err.find("[fleet] via = 'tunnel' must be 'direct' or 'bridge'"), std::string::npos) << bad.err;
  const LatchkeydRun both =
      run_latchkeyd({"--config", hub_->config_file().string(), "--print-fleet-bridge", "--check"});
  EXPECT_EQ(both.exit_code, 2) << both.err;
}

// The outbox through the bridge (docs/fleet.md "Alarms and sessions up: the
// outbox"): with the fleet broker gone the hub broker's bridge is down, and
// the outbox keeps the outage's session outcomes on disk instead of handing
// them to the hub broker; once the bridge is back they reach the fleet's
// subscriber, sequences without a gap.
TEST_F(FleetBridge, OutboxWaitsOnDiskWhileTheBridgeIsDown) {
  ASSERT_NO_FATAL_FAILURE(start_bridged_hub(broker_->password_file("hub-1")));
  start_witness();
  ASSERT_TRUE(wait_confirmed());
  ASSERT_TRUE(wait_upstream(true)) << witness_block();
  auto subscriber = std::make_unique<FleetSubscriber>(broker_->port(), broker_->password("lk-fleet"), true);
  ASSERT_TRUE(demo::wait_until([&] { return subscriber->subscribed() >= 3; }, 5s));
  const fs::path outbox = hub_->data_dir() / "fleet-outbox.db";
  std::vector<std::string> sessions;
  auto delivery = [&] {
    const client::UnlockAnswer a = present("front", grant("front"));
    ASSERT_TRUE(a.allowed) << a.rule << " " << a.error;
    ASSERT_TRUE(wait_door("front", "unlocked", "closed"));
    act("front", "open");
    act("front", "close");
    ASSERT_TRUE(wait_door("front", "locked", "closed"));
    ASSERT_TRUE(demo::wait_session_end(*api_, a.session, "completed", 5s));
    sessions.push_back(a.session);
  };
  ASSERT_NO_FATAL_FAILURE(delivery());
  ASSERT_TRUE(demo::wait_until([&] { return outbox_query_int(outbox, "SELECT COUNT(*) FROM rows") == 0; }, 5s))
      << "the outbox did not drain through the bridge";
  const auto before = subscriber->messages();

  broker_->kill();
  ASSERT_TRUE(wait_upstream(false)) << witness_block();
  for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(delivery());
  // The hub broker is up and latchkeyd connected to it, yet nothing left
  // the outbox: "may I drain now" includes the bridge.
  EXPECT_TRUE(demo::wait_until([&] { return outbox_query_int(outbox, "SELECT COUNT(*) FROM rows") >= 3; }, 5s))
      << "the outbox handed the outage's sessions to the hub broker while its bridge was down";
  std::this_thread::sleep_for(500ms);
  EXPECT_GE(outbox_query_int(outbox, "SELECT COUNT(*) FROM rows"), 3);

  // The fleet broker returns; a subscriber is there before the bridge (which
  // waits at least 2 s to reconnect) and the outbox drains.
  broker_->start();
  subscriber = std::make_unique<FleetSubscriber>(broker_->port(), broker_->password("lk-fleet"), true);
  ASSERT_TRUE(demo::wait_until([&] { return subscriber->subscribed() >= 3; }, 5s));
  ASSERT_TRUE(wait_upstream(true)) << witness_block();
  FleetReceived got;
  EXPECT_TRUE(demo::wait_until([&] {
    std::vector<std::pair<std::string, std::string>> all = before;
    for (auto& m : subscriber->messages()) all.push_back(m);
    got = decode(all);
    return got.sessions.size() >= sessions.size() && outbox_query_int(outbox, "SELECT COUNT(*) FROM rows") == 0;
  }, 20s)) << "received " << got.sessions.size() << " of " << sessions.size() << " sessions";
  std::set<std::string> received;
  std::set<uint64_t> sequences;
  for (const auto& [seq, s] : got.sessions) {
    received.insert(crypto::to_hex(s.session_id));
    sequences.insert(seq);
  }
  for (const auto& [seq, a] : got.alarms) sequences.insert(seq);
  for (const std::string& s : sessions) EXPECT_TRUE(received.count(s)) << "session " << s << " never arrived";
  ASSERT_FALSE(sequences.empty());
  EXPECT_EQ(*sequences.begin(), 1u);
  EXPECT_EQ(*sequences.rbegin(), sequences.size()) << "a gap in the outbox sequences";
}

}  // namespace
}  // namespace latchkey::tests
