// Revocation lists down the fleet link end to end (docs/fleet.md
// "Revocations", issue 17 point 2): a real latchkeyd with simulated devices,
// a real Mosquitto as the fleet broker with the shipped tools/broker/fleet.acl,
// a real lk-witness (the hub grants nothing before it confirms the log), and
// the issuer's side through lkctl revoke / publish-revocations or, for the
// lists lkctl would never make, a plain MQTT client as user lk-issuer.
#include "latchkeyd_command.hpp"
#include "witness_fixture.hpp"

#include <latchkey/client/grant_minting.hpp>
#include <latchkey/client/key_files.hpp>
#include <latchkey/demo/child_process.hpp>
#include <latchkey/fleet/revocation.hpp>

#include <mosquitto_broker.hpp>
#include <mqtt_test_client.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace latchkey::tests {
namespace {

namespace fs = std::filesystem;

const char* const kIssuerB = "issuer-b";  // a second issuer some tests pin

class FleetRevocation : public WitnessRollback {
 protected:
  // The fleet broker of WitnessRollback, and the issuer's user.
  testing::BrokerOptions fleet_broker_options() override {
    testing::BrokerOptions options = WitnessRollback::fleet_broker_options();
    options.extra_users.push_back("lk-issuer");
    return options;
  }

  void TearDown() override {
    if (::testing::Test::HasFailure()) {
      std::cerr << "lkctl log:\n" << demo::file_tail(dir_ / "lkctl.log", 20) << "\n";
      const std::string broker_log = broker_->log();
      std::cerr << "broker log (end):\n" << broker_log.substr(broker_log.size() > 3000 ? broker_log.size() - 3000 : 0)
                << "\n";
    }
    issuer_client_.reset();
    WitnessRollback::TearDown();
  }

  // WitnessRollback's hub, with the issuers add_issuer_b() pins.
  demo::SimHubOptions fleet_options() {
    demo::SimHubOptions options = WitnessRollback::fleet_options();
    options.extra_config += extra_config_;
    return options;
  }

  // The hub exists (its issuer key too) but is not started yet.
  void make_hub() {
    hub_ = std::make_unique<demo::SimHub>(fleet_options());
    client::write_secret_key(dir_ / "issuer.key", hub_->issuer());
  }

  void start_made_hub() {
    ASSERT_NO_FATAL_FAILURE(hub_->start());
    ASSERT_NO_FATAL_FAILURE(reconnect());
    ASSERT_TRUE(demo::wait_cameras_live(*api_, 10s));
  }

  // A started, confirmed hub with an issuer listening for acknowledgements.
  void start_fleet_hub() {
    make_hub();
    ASSERT_NO_FATAL_FAILURE(start_made_hub());
    start_witness();
    ASSERT_TRUE(wait_confirmed()) << "the witness never confirmed the log";
    ASSERT_NO_FATAL_FAILURE(listen_for_acks());
  }

  void listen_for_acks() {
    testing::ClientOptions o;
    o.port = broker_->port();
    o.user = "lk-issuer";
    o.password = broker_->password("lk-issuer");
    issuer_client_ = std::make_unique<testing::MqttTestClient>(o);
    ASSERT_EQ(issuer_client_->connect(), 0);
    ASSERT_EQ(issuer_client_->subscribe(fleet::revocations_applied_subscription(), 1), 1);
  }

  // The acknowledgements received so far, decoded.
  std::vector<fleet::RevocationsApplied> acks() {
    std::vector<fleet::RevocationsApplied> out;
    for (const testing::Received& r : issuer_client_->received(fleet::revocations_applied_topic("hub-1"))) {
      auto d = fleet::decode_revocations_applied(r.payload.data(), r.payload.size());
      if (auto* a = std::get_if<fleet::RevocationsApplied>(&d)) out.push_back(*a);
    }
    return out;
  }
  std::size_t ack_count(uint64_t sequence, const std::string& issuer = "") {
    std::size_t n = 0;
    for (const fleet::RevocationsApplied& a : acks())
      if (a.sequence == sequence && a.hub_id == "hub-1" &&
          a.issuer_key_id == (issuer.empty() ? hub_->issuer_key_id() : issuer))
        ++n;
    return n;
  }
  bool wait_ack(uint64_t sequence, std::chrono::milliseconds timeout = 5s, const std::string& issuer = "") {
    return demo::wait_until([&] { return ack_count(sequence, issuer) > 0; }, timeout);
  }

  // A second issuer the hub pins ([issuer.issuer-b]); call before make_hub.
  void add_issuer_b() {
    std::array<uint8_t, 32> seed{};
    seed.fill(0x3c);
    issuer_b_ = crypto::KeyPair::from_seed(seed);
    extra_config_ += "\n[" + std::string("issuer.") + kIssuerB + "]\nkey = " + crypto::to_hex(issuer_b_.public_key) + "\n";
  }
  // A grant of issuer B for this hub.
  client::MintedGrant grant_of_b(const std::string& door) {
    client::GrantSpec spec;
    spec.issuer_key_id = kIssuerB;
    spec.hub_id = hub_->hub_id();
    spec.door_id = door;
    spec.courier_id = courier_.id;
    spec.courier_public_key = courier_.key.public_key;
    spec.not_before_unix_ms = client::unix_now_ms();
    spec.not_after_unix_ms = spec.not_before_unix_ms + 3'600'000;
    return client::mint_grant(spec, issuer_b_.secret_key);
  }

  int lkctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {LATCHKEY_TEST_LKCTL};
    argv.insert(argv.end(), args.begin(), args.end());
    demo::ChildProcess p;
    p.start(argv, dir_ / "lkctl.log");
    return p.wait(15s);
  }

  // lkctl revoke: the signed list in a file.
  fs::path revoke(uint64_t sequence, const std::vector<client::MintedGrant>& grants) {
    return revoke_as(dir_ / "issuer.key", hub_->issuer_key_id(), sequence, grants);
  }
  fs::path revoke_as(const fs::path& key_file, const std::string& key_id, uint64_t sequence,
                     const std::vector<client::MintedGrant>& grants) {
    const fs::path out = dir_ / ("list-" + std::to_string(sequence) + "-" + std::to_string(next_file_++));
    std::vector<std::string> args = {"revoke", "--issuer", key_file.string(), "--key-id",
                                     key_id, "--hub", "hub-1", "--sequence", std::to_string(sequence),
                                     "--out", out.string()};
    for (const client::MintedGrant& g : grants) {
      args.push_back("--grant");
      args.push_back(crypto::to_hex(g.grant_id));
    }
    EXPECT_EQ(lkctl(args), 0) << demo::file_tail(dir_ / "lkctl.log", 10);
    return out;
  }

  void publish(const fs::path& list) {
    ASSERT_EQ(lkctl({"publish-revocations", "--file", list.string(), "--host", "127.0.0.1", "--port",
                     std::to_string(broker_->port()), "--user", "lk-issuer", "--password-file",
                     broker_->password_file("lk-issuer").string()}),
              0)
        << demo::file_tail(dir_ / "lkctl.log", 10);
  }

  // A payload lkctl would never make, published retained as the issuer on
  // the topic of `topic_issuer` (default: the hub's issuer).
  void publish_raw(const std::string& bytes, const std::string& topic_issuer = "") {
    const testing::Bytes payload(bytes.begin(), bytes.end());
    const std::string issuer = topic_issuer.empty() ? hub_->issuer_key_id() : topic_issuer;
    ASSERT_EQ(issuer_client_->publish(fleet::revocations_topic("hub-1", issuer), payload, 1, true), 0);
  }

  // Replaces the hub's kept lists file (mode 0600) with these lists.
  void write_kept(const std::vector<std::string>& signed_lists) {
    const fs::path kept = hub_->data_dir() / "revocations";
    {
      std::ofstream out(kept, std::ios::trunc | std::ios::binary);
      out << fleet::encode_stored_revocation_lists(signed_lists);
    }
    fs::permissions(kept, fs::perms::owner_read | fs::perms::owner_write);
  }

  std::string outcome(const std::string& door, const client::MintedGrant& g) {
    try {
      const client::UnlockAnswer a = present(door, g);
      return a.allowed ? "allowed" : "HTTP " + std::to_string(a.status) + " " + a.rule + ": " + a.error;
    } catch (const std::exception& e) {
      return e.what();
    }
  }

  std::size_t revocation_records(uint64_t sequence) {
    const std::string reason = "revoked by list " + hub_->issuer_key_id() + " #" + std::to_string(sequence);
    return records("grant", "G1", [&](const JsonObject& r) { return text(r, "detail") == reason; }).size();
  }

  bool wait_log(const std::string& part, std::chrono::milliseconds timeout = 5s) {
    return demo::wait_until([&] { return read_file(hub_->log_file()).find(part) != std::string::npos; }, timeout);
  }

  std::unique_ptr<testing::MqttTestClient> issuer_client_;
  crypto::KeyPair issuer_b_;
  std::string extra_config_;
  int next_file_ = 0;
};

const char* const kRevoked = "G1: grant is revoked";

TEST_F(FleetRevocation, G1_RevokedGrantRefusedWithinSecondsAndAcknowledged) {
  ASSERT_NO_FATAL_FAILURE(start_fleet_hub());
  const client::MintedGrant revoked = grant("front");
  const client::MintedGrant kept = grant("back");
  const fs::path list = revoke(1, {revoked});

  const auto published = std::chrono::steady_clock::now();
  ASSERT_NO_FATAL_FAILURE(publish(list));
  // Applied: its audit record (G1, naming the list), then the refusal.
  ASSERT_TRUE(demo::wait_until([&] { return revocation_records(1) == 1; }, 5s))
      << "no G1 record 'revoked by list ... #1'";
  const std::string refused = outcome("front", revoked);
  const auto elapsed = std::chrono::steady_clock::now() - published;
  EXPECT_NE(refused.find(kRevoked), std::string::npos) << refused;
  EXPECT_LT(elapsed, 5s) << "publication to refusal took "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
  std::cerr << "publication to refusal: " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
            << " ms\n";
  // Only the listed grant.
  EXPECT_EQ(outcome("back", kept), "allowed");

  ASSERT_TRUE(wait_ack(1)) << "no RevocationsApplied #1 on up/revocations_applied";
  for (const fleet::RevocationsApplied& a : acks()) EXPECT_GT(a.applied_wall_ms, 0);
  // Kept in the data directory, private.
  struct stat st {};
  ASSERT_EQ(::stat((hub_->data_dir() / "revocations").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(wait_log("[fleet] revocation list " + hub_->issuer_key_id() + " #1 applied: 1 grant(s) revoked, 1 newly"));
}

TEST_F(FleetRevocation, G1_KeptAcrossRestartWithTheFleetBrokerDown) {
  ASSERT_NO_FATAL_FAILURE(start_fleet_hub());
  const client::MintedGrant revoked = grant("front");
  ASSERT_NO_FATAL_FAILURE(publish(revoke(1, {revoked})));
  ASSERT_TRUE(wait_ack(1));
  ASSERT_EQ(hub_->stop(), 0);
  witness_.kill();
  issuer_client_.reset();
  broker_->stop();
  // With the fleet broker down a hub with [fleet] on waits for the witness
  // (A2) and grants nothing anyway; turned off, it grants on its own rules,
  // and the kept list is what refuses the revoked grant.
  std::string config = read_file(hub_->config_file());
  const std::size_t at = config.find("enabled = true", config.find("[fleet]"));
  ASSERT_NE(at, std::string::npos);
  config.replace(at, std::string("enabled = true").size(), "enabled = false");
  std::ofstream(hub_->config_file()) << config;
  ASSERT_NO_FATAL_FAILURE(start_made_hub());

  EXPECT_NE(outcome("front", revoked).find(kRevoked), std::string::npos) << outcome("front", revoked);
  EXPECT_EQ(outcome("back", grant("back")), "allowed") << "a grant the list does not name is refused";
  EXPECT_TRUE(wait_log("revocation list " + hub_->issuer_key_id() + " #1 in force (kept): 1 grant(s) revoked"));
  EXPECT_EQ(revocation_records(1), 1u) << "the kept list is not audited again at start";
}

TEST_F(FleetRevocation, G1_AKeptFileThatCannotBeReadStopsTheStartAndCheckNamesIt) {
  ASSERT_NO_FATAL_FAILURE(start_fleet_hub());
  ASSERT_NO_FATAL_FAILURE(publish(revoke(1, {grant("front")})));
  ASSERT_TRUE(wait_ack(1));
  ASSERT_EQ(hub_->stop(), 0);
  const fs::path kept = hub_->data_dir() / "revocations";
  {
    std::ofstream(kept, std::ios::trunc) << "\xff\xff not protobuf";
  }
  LatchkeydRun check = run_latchkeyd({"--config", hub_->config_file().string(), "--check"});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE((check.out + check.err).find(kept.string() + ": not a protobuf StoredRevocationLists"), std::string::npos)
      << check.out << check.err;
  LatchkeydRun start = run_latchkeyd({"--config", hub_->config_file().string()});
  EXPECT_FALSE(start.listened) << "latchkeyd started without the kept revocation lists";
  EXPECT_NE(start.err.find("not a protobuf StoredRevocationLists"), std::string::npos) << start.err;
  // Readable by others: refused as well.
  fs::permissions(kept, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  check = run_latchkeyd({"--config", hub_->config_file().string(), "--check"});
  EXPECT_NE((check.out + check.err).find("expected mode 0600"), std::string::npos) << "OUT:" << check.out << "ERR:" << check.err;
}

TEST_F(FleetRevocation, G1_OlderOrEqualSequenceIsIgnored) {
  ASSERT_NO_FATAL_FAILURE(start_fleet_hub());
  const client::MintedGrant g1 = grant("front");
  const client::MintedGrant g2 = grant("back");
  const client::MintedGrant g3 = grant("front");
  ASSERT_NO_FATAL_FAILURE(publish(revoke(2, {g1})));
  ASSERT_TRUE(wait_ack(2));
  // Older: ignored, logged.
  ASSERT_NO_FATAL_FAILURE(publish(revoke(1, {g2})));
  EXPECT_TRUE(wait_log("revocation list " + hub_->issuer_key_id() + " #1 ignored: older than #2 in force"));
  // Equal, with other content: refused, logged as an error, not acknowledged.
  ASSERT_NO_FATAL_FAILURE(publish(revoke(2, {g3})));
  EXPECT_TRUE(wait_log("revocation list " + hub_->issuer_key_id() +
                       " #2: same sequence, different list: ignored; the issuer must use a larger sequence"));
  EXPECT_FALSE(demo::wait_until([&] { return ack_count(2) > 1; }, 1s)) << "the different list #2 was acknowledged";
  EXPECT_EQ(ack_count(2), 1u);
  EXPECT_EQ(revocation_records(1), 0u);
  EXPECT_EQ(revocation_records(2), 1u);
  EXPECT_NE(outcome("front", g1).find(kRevoked), std::string::npos);
  EXPECT_EQ(outcome("back", g2), "allowed");
  EXPECT_EQ(outcome("front", g3), "allowed");
}

TEST_F(FleetRevocation, G1_NewerListReplacesTheOlderWhole) {
  ASSERT_NO_FATAL_FAILURE(start_fleet_hub());
  const client::MintedGrant g1 = grant("front");
  const client::MintedGrant g2 = grant("back");
  ASSERT_NO_FATAL_FAILURE(publish(revoke(1, {g1})));
  ASSERT_TRUE(wait_ack(1));
  // #2 names g2 and no longer g1 (cumulative lists: the issuer dropped it).
  ASSERT_NO_FATAL_FAILURE(publish(revoke(2, {g2})));
  ASSERT_TRUE(wait_ack(2));
  EXPECT_EQ(revocation_records(2), 1u);
  EXPECT_NE(outcome("back", g2).find(kRevoked), std::string::npos);
  EXPECT_EQ(outcome("front", g1), "allowed");
}

TEST_F(FleetRevocation, G1_BadListsAreIgnoredAndNothingApplied) {
  ASSERT_NO_FATAL_FAILURE(start_fleet_hub());
  const client::MintedGrant g = grant("front");
  const std::string gid = crypto::to_hex(g.grant_id);
  fleet::RevocationList list;
  list.hub_id = "hub-1";
  list.issuer_key_id = hub_->issuer_key_id();
  list.sequence = 1;
  list.grant_ids = {gid};
  std::array<uint8_t, 32> seed{};
  seed.fill(0x77);
  const crypto::KeyPair stranger = crypto::KeyPair::from_seed(seed);

  // Signed by a key the hub does not pin for this key id.
  ASSERT_NO_FATAL_FAILURE(publish_raw(fleet::encode_signed_revocation_list(list, stranger.secret_key)));
  EXPECT_TRUE(wait_log("[fleet] revocation list ignored, nothing applied: list " + hub_->issuer_key_id() +
                       " #1: bad signature"));
  // An issuer the hub does not pin.
  fleet::RevocationList unknown = list;
  unknown.issuer_key_id = "nobody";
  ASSERT_NO_FATAL_FAILURE(publish_raw(fleet::encode_signed_revocation_list(unknown, stranger.secret_key)));
  EXPECT_TRUE(wait_log("nothing applied: list nobody #1: unknown issuer 'nobody'"));
  // For another hub, on this hub's topic.
  fleet::RevocationList other = list;
  other.hub_id = "hub-2";
  ASSERT_NO_FATAL_FAILURE(publish_raw(fleet::encode_signed_revocation_list(other, hub_->issuer().secret_key)));
  EXPECT_TRUE(wait_log("for hub 'hub-2', not this hub 'hub-1'"));
  // Well signed, but on another issuer's topic (it would replace that
  // issuer's retained list): refused naming both.
  ASSERT_NO_FATAL_FAILURE(publish_raw(fleet::encode_signed_revocation_list(list, hub_->issuer().secret_key), "someone"));
  EXPECT_TRUE(wait_log("revocation list " + hub_->issuer_key_id() + " #1 ignored, nothing applied: issuer '" +
                       hub_->issuer_key_id() + "' received on the topic of issuer 'someone'"));
  // Garbage.
  ASSERT_NO_FATAL_FAILURE(publish_raw("garbage"));
  EXPECT_TRUE(wait_log("nothing applied: revocation list: not a protobuf SignedRevocationList"));

  EXPECT_TRUE(acks().empty());
  EXPECT_FALSE(fs::exists(hub_->data_dir() / "revocations"));
  EXPECT_EQ(revocation_records(1), 0u);
  EXPECT_EQ(outcome("front", g), "allowed");
}

TEST_F(FleetRevocation, G1_RetainedListReachesAHubStartedAfterPublication) {
  make_hub();
  const client::MintedGrant revoked = grant("front");
  ASSERT_NO_FATAL_FAILURE(publish(revoke(1, {revoked})));
  ASSERT_NO_FATAL_FAILURE(listen_for_acks());
  ASSERT_NO_FATAL_FAILURE(start_made_hub());
  start_witness();
  ASSERT_TRUE(wait_ack(1)) << "the hub did not apply the retained list on connecting";
  ASSERT_TRUE(wait_confirmed());
  EXPECT_NE(outcome("front", revoked).find(kRevoked), std::string::npos) << outcome("front", revoked);
  EXPECT_EQ(outcome("back", grant("back")), "allowed");
}

TEST_F(FleetRevocation, G1_PublicationRefusedToAUserOtherThanTheIssuer) {
  ASSERT_NO_FATAL_FAILURE(start_fleet_hub());
  const fs::path list = revoke(1, {grant("front")});
  // The hub's own user may not write its revocations (fleet.acl): lkctl says so.
  EXPECT_EQ(lkctl({"publish-revocations", "--file", list.string(), "--host", "127.0.0.1", "--port",
                   std::to_string(broker_->port()), "--user", "hub-1", "--password-file",
                   broker_->password_file("hub-1").string()}),
            1);
  EXPECT_NE(read_file(dir_ / "lkctl.log").find("the broker refused the publication"), std::string::npos)
      << read_file(dir_ / "lkctl.log");
}

// Issue 17 point 2: each issuer's list is retained on its own topic, so a
// hub connecting after both published (a clean session) receives both.
TEST_F(FleetRevocation, G1_EveryIssuersRetainedListReachesAHubStartedAfterwards) {
  add_issuer_b();
  make_hub();
  client::write_secret_key(dir_ / "issuer-b.key", issuer_b_);
  const client::MintedGrant revoked_a = grant("front");
  const client::MintedGrant revoked_b = grant_of_b("front");
  ASSERT_NO_FATAL_FAILURE(publish(revoke(1, {revoked_a})));
  ASSERT_NO_FATAL_FAILURE(publish(revoke_as(dir_ / "issuer-b.key", kIssuerB, 3, {revoked_b})));
  ASSERT_NO_FATAL_FAILURE(listen_for_acks());
  ASSERT_NO_FATAL_FAILURE(start_made_hub());
  start_witness();
  EXPECT_TRUE(wait_ack(1)) << "issuer A's retained list did not reach the hub";
  EXPECT_TRUE(wait_ack(3, 5s, kIssuerB)) << "issuer B's retained list did not reach the hub";
  ASSERT_TRUE(wait_confirmed());
  EXPECT_NE(outcome("front", revoked_a).find(kRevoked), std::string::npos) << outcome("front", revoked_a);
  EXPECT_NE(outcome("front", revoked_b).find(kRevoked), std::string::npos) << outcome("front", revoked_b);
  EXPECT_EQ(outcome("back", grant("back")), "allowed");
}

// A list whose write failed is applied but not acknowledged; when it comes
// again (retained, on a reconnect) the write is tried again and only a
// successful one is acknowledged.
TEST_F(FleetRevocation, G1_AListNotKeptIsAcknowledgedOnlyOnceWritten) {
  ASSERT_NO_FATAL_FAILURE(start_fleet_hub());
  const client::MintedGrant g = grant("front");
  const fs::path kept = hub_->data_dir() / "revocations";
  // The atomic replace's temporary file cannot be removed nor created while
  // a non-empty directory holds its name (root included).
  const fs::path obstacle = hub_->data_dir() / "revocations.tmp";
  fs::create_directories(obstacle / "in-the-way");
  const fs::path list = revoke(1, {g});
  ASSERT_NO_FATAL_FAILURE(publish(list));
  EXPECT_TRUE(wait_log("revocation list " + hub_->issuer_key_id() + " #1 could not be kept"));
  EXPECT_TRUE(wait_log("revocation list " + hub_->issuer_key_id() + " #1 applied"));
  EXPECT_NE(outcome("front", g).find(kRevoked), std::string::npos) << "applied until the hub stops";
  EXPECT_FALSE(wait_ack(1, 1s)) << "acknowledged though not kept";
  EXPECT_FALSE(fs::exists(kept));

  // The same list again, obstacle still there: still no acknowledgement.
  ASSERT_NO_FATAL_FAILURE(publish(list));
  EXPECT_FALSE(wait_ack(1, 1s)) << "acknowledged on its second arrival though still not kept";
  EXPECT_FALSE(fs::exists(kept));

  fs::remove_all(obstacle);
  ASSERT_NO_FATAL_FAILURE(publish(list));
  ASSERT_TRUE(wait_ack(1)) << "not acknowledged once the write succeeded";
  EXPECT_TRUE(fs::exists(kept));
  EXPECT_TRUE(wait_log("revocation list " + hub_->issuer_key_id() + " #1 in force, now kept"));
  EXPECT_EQ(revocation_records(1), 1u) << "applied once";
}

// Fail closed at start: a kept list of a configured issuer that does not
// verify stops the start (and --check names it); only a list whose issuer
// is no longer configured is skipped.
TEST_F(FleetRevocation, G1_AKeptListThatDoesNotVerifyStopsTheStart) {
  make_hub();
  ASSERT_NO_FATAL_FAILURE(start_made_hub());
  ASSERT_EQ(hub_->stop(), 0);
  const fs::path kept = hub_->data_dir() / "revocations";
  const client::MintedGrant g = grant("front");
  fleet::RevocationList list;
  list.hub_id = "hub-1";
  list.issuer_key_id = hub_->issuer_key_id();
  list.sequence = 4;
  list.grant_ids = {crypto::to_hex(g.grant_id)};
  const std::string good = fleet::encode_signed_revocation_list(list, hub_->issuer().secret_key);
  std::array<uint8_t, 32> seed{};
  seed.fill(0x77);
  const crypto::KeyPair stranger = crypto::KeyPair::from_seed(seed);
  const std::string name = "list " + hub_->issuer_key_id() + " #4";

  // Bad signature.
  write_kept({fleet::encode_signed_revocation_list(list, stranger.secret_key)});
  LatchkeydRun check = run_latchkeyd({"--config", hub_->config_file().string(), "--check"});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE((check.out + check.err).find(kept.string() + ": a kept revocation list does not verify: " + name +
                                         ": bad signature"),
            std::string::npos)
      << check.out << check.err;
  LatchkeydRun start = run_latchkeyd({"--config", hub_->config_file().string()});
  EXPECT_FALSE(start.listened) << "latchkeyd started with a kept list that does not verify";
  EXPECT_NE(start.err.find(name + ": bad signature"), std::string::npos) << start.err;

  // For another hub.
  fleet::RevocationList other = list;
  other.hub_id = "hub-2";
  write_kept({good, fleet::encode_signed_revocation_list(other, hub_->issuer().secret_key)});
  check = run_latchkeyd({"--config", hub_->config_file().string(), "--check"});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE((check.out + check.err).find(kept.string() + ": a kept revocation list does not verify: " + name +
                                         ": for hub 'hub-2', not this hub 'hub-1'"),
            std::string::npos)
      << check.out << check.err;

  // An issuer no longer configured: skipped, logged; the start goes on and
  // the configured issuer's list is in force.
  fleet::RevocationList gone = list;
  gone.issuer_key_id = "gone";
  write_kept({good, fleet::encode_signed_revocation_list(gone, stranger.secret_key)});
  check = run_latchkeyd({"--config", hub_->config_file().string(), "--check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE((check.out + check.err).find("the kept revocation list gone #4 is dropped: issuer 'gone' is no longer "
                                         "configured"),
            std::string::npos)
      << check.out << check.err;
  ASSERT_NO_FATAL_FAILURE(start_made_hub());
  EXPECT_TRUE(wait_log("issuer 'gone' is no longer configured"));
  EXPECT_TRUE(wait_log("revocation " + name + " in force (kept): 1 grant(s) revoked"));
}

}  // namespace
}  // namespace latchkey::tests
