// The witness of the audit log end to end (docs/fleet.md, issue 17): real
// latchkeyd processes with simulated devices, a real Mosquitto as the fleet
// broker (the shipped tools/broker/fleet.acl) and a real lk-witness. A hub
// whose log is rolled back - the database and head file replaced by an
// older copy, or the records after an earlier checkpoint deleted and the
// head file rewritten from that checkpoint - verifies on its own, but the
// witness shows it: the consumed grant is refused, with an A2 alarm.
#include "daemon_fixture.hpp"
#include "latchkeyd_command.hpp"

#include <latchkey/audit/audit_log.hpp>
#include <latchkey/audit/checkpoint.hpp>
#include <latchkey/demo/child_process.hpp>

#include <mosquitto_broker.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace latchkey::tests {
namespace {

namespace fs = std::filesystem;

void exec(const fs::path& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(handle);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << message;
}

// One integer a query returns (its first column of its first row), or -1.
int64_t query_int(const fs::path& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  if (sqlite3_open(db.c_str(), &handle) != SQLITE_OK) return -1;
  sqlite3_stmt* stmt = nullptr;
  int64_t out = -1;
  if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW &&
      sqlite3_column_type(stmt, 0) != SQLITE_NULL)
    out = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return out;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The audit files of a data directory: audit.db with its -wal, -shm and .head.
void copy_audit_files(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& entry : fs::directory_iterator(from)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("audit.db", 0) == 0) fs::copy_file(entry.path(), to / name, fs::copy_options::overwrite_existing);
  }
}

void replace_audit_files(const fs::path& data_dir, const fs::path& copy) {
  for (const auto& entry : fs::directory_iterator(data_dir))
    if (entry.path().filename().string().rfind("audit.db", 0) == 0) fs::remove(entry.path());
  copy_audit_files(copy, data_dir);
}

class WitnessRollback : public DaemonTest {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("latchkey-fleet-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    testing::BrokerOptions options;
    options.extra_users = {"hub-1", "lk-witness"};
    options.guard = false;
    options.acl_file = LATCHKEY_FLEET_ACL_FILE;
    broker_ = std::make_unique<testing::MosquittoBroker>(options);
    std::array<uint8_t, 32> seed{};
    seed.fill(0x5a);
    witness_key_ = crypto::KeyPair::from_seed(seed);
    std::ofstream(dir_ / "witness.key") << crypto::to_hex(seed) << "\n";
    fs::permissions(dir_ / "witness.key", fs::perms::owner_read | fs::perms::owner_write);
  }

  void TearDown() override {
    if (::testing::Test::HasFailure()) {
      std::cerr << "lk-witness log:\n" << witness_.log_tail(40) << "\n";
      if (hub_) std::cerr << "latchkeyd log:\n" << hub_->log_tail(40) << "\n";
    }
    witness_.kill();
    DaemonTest::TearDown();
    broker_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  demo::SimHubOptions fleet_options() {
    demo::SimHubOptions options = daemon_test_options();
    options.extra_config = "[fleet]\nenabled = true\nhost = 127.0.0.1\nport = " + std::to_string(broker_->port()) +
                           "\nuser = hub-1\npassword_file = " + broker_->password_file("hub-1").string() +
                           "\nwitness_key = " + crypto::to_hex(witness_key_.public_key) +
                           "\nwitness_timeout_ms = 300\n";
    return options;
  }

  // The witness knows the hub's key, which the hub writes at its first start.
  void start_witness() {
    std::ofstream(dir_ / "hub-keys") << "hub-1 " << crypto::to_hex(hub_->hub_public_key()) << "\n";
    witness_.start({LATCHKEY_TEST_WITNESS, "--hub-keys", (dir_ / "hub-keys").string(), "--db",
                    (dir_ / "witness.db").string(), "--key", (dir_ / "witness.key").string(), "--host", "127.0.0.1",
                    "--port", std::to_string(broker_->port()), "--user", "lk-witness", "--password-file",
                    broker_->password_file("lk-witness").string()},
                   dir_ / "witness.log");
  }

  std::size_t witness_stored() { return count(read_file(dir_ / "witness.log"), " stored"); }

  // The audit records in which the hub says the witness confirmed its log.
  std::size_t confirmations() {
    return records("hub", "A2", [](const JsonObject& r) {
             return text(r, "detail").find("fleet witness confirmed") != std::string::npos;
           }).size();
  }
  bool wait_confirmed(std::size_t before = 0) {
    return demo::wait_until([&] { return confirmations() > before; }, 10s);
  }

  void restart_hub() {
    ASSERT_NO_FATAL_FAILURE(hub_->start());
    ASSERT_NO_FATAL_FAILURE(reconnect());
    ASSERT_TRUE(demo::wait_cameras_live(*api_, 10s));
  }

  std::string outcome(const client::MintedGrant& g) {
    try {
      const client::UnlockAnswer a = present("front", g);
      return a.allowed ? "allowed" : "HTTP " + std::to_string(a.status) + " " + a.rule + ": " + a.error;
    } catch (const std::exception& e) {
      return e.what();
    }
  }

  // A delivery at the front door with `g`, through to the verified relock;
  // returns once the witness stored the checkpoint that covers its decision.
  void deliver(const client::MintedGrant& g) {
    const std::size_t stored = witness_stored();
    const client::UnlockAnswer a = present("front", g);
    ASSERT_TRUE(a.allowed) << a.rule << " " << a.error;
    ASSERT_TRUE(wait_door("front", "unlocked", "closed"));
    act("front", "open");
    act("front", "close");
    ASSERT_TRUE(wait_door("front", "locked", "closed"));
    ASSERT_TRUE(demo::wait_until([&] { return witness_stored() > stored; }, 5s))
        << "the witness never stored the checkpoint after the decision";
  }

  void expect_rollback_detected(const client::MintedGrant& used) {
    // On its own the log verifies: only the witness shows the rollback.
    const client::ApiResponse verify = api_->get("/v1/audit/verify");
    EXPECT_NE(verify.body.find("\"ok\":true"), std::string::npos) << verify.body;
    EXPECT_TRUE(demo::wait_until(
        [&] { return api_->get("/v1/alarms").body.find("rolled back") != std::string::npos; }, 5s))
        << "no A2 alarm says the log was rolled back: " << api_->get("/v1/alarms").body;
    const std::string replay = outcome(used);
    EXPECT_NE(replay, "allowed") << "A2: a consumed grant opened the door again on a rolled-back log";
    EXPECT_NE(replay.find("A2"), std::string::npos) << replay;
    EXPECT_NE(replay.find("rolled back"), std::string::npos) << replay;
    const std::string fresh = outcome(grant("front"));
    EXPECT_NE(fresh, "allowed") << "nothing is granted until a person resolves the rollback";
    const std::string verified = api_->get("/v1/audit/verify").body;
    EXPECT_NE(verified.find("\"state\":\"refused\""), std::string::npos) << verified;
    EXPECT_NE(hub_->log_tail(80).find("the witness shows the audit log was rolled back"), std::string::npos);
  }

  fs::path dir_;
  std::unique_ptr<testing::MosquittoBroker> broker_;
  crypto::KeyPair witness_key_;
  demo::ChildProcess witness_;
};

TEST_F(WitnessRollback, A2_OlderCopyOfDatabaseAndHeadIsRefused) {
  start_hub(fleet_options());
  start_witness();
  ASSERT_TRUE(wait_confirmed());
  ASSERT_EQ(hub_->stop(), 0);
  // The attacker's copy, taken before the delivery.
  copy_audit_files(hub_->data_dir(), dir_ / "copy");
  restart_hub();
  ASSERT_TRUE(wait_confirmed());
  const client::MintedGrant used = grant("front");
  ASSERT_NO_FATAL_FAILURE(deliver(used));
  ASSERT_EQ(hub_->stop(), 0);

  replace_audit_files(hub_->data_dir(), dir_ / "copy");
  restart_hub();
  expect_rollback_detected(used);
  ASSERT_EQ(hub_->stop(), 0);

  // The person's way out (docs/fleet.md): the log set aside at the hub with
  // the G3 cut-off, and the witness told to forget the old one.
  const LatchkeydRun recovered = run_latchkeyd({"--config", hub_->config_file().string(), "--recover-audit"});
  EXPECT_EQ(recovered.exit_code, 0) << recovered.out << recovered.err;
  EXPECT_NE(recovered.out.find("the fleet witness showed it was rolled back"), std::string::npos) << recovered.out;
  EXPECT_FALSE(fs::exists(hub_->data_dir() / "witness-refusal"));
  demo::ChildProcess forget;
  forget.start({LATCHKEY_TEST_WITNESS, "--db", (dir_ / "witness.db").string(), "--forget", "hub-1"},
               dir_ / "forget.log");
  EXPECT_EQ(forget.wait(10s), 0) << forget.log_tail();
  restart_hub();
  ASSERT_TRUE(wait_confirmed()) << "the witness did not accept the recovered log";
  EXPECT_NE(outcome(used), "allowed") << "G3: a grant the rolled-back log consumed stays refused after recovery";
  demo::GrantWindow after;
  after.not_before_unix_ms = client::unix_now_ms() + 2'000;  // issued after the recovery (within the G1 skew)
  const client::UnlockAnswer next = present("front", grant("front", after));
  EXPECT_TRUE(next.allowed) << "a grant issued after the recovery opens the door: " << next.rule << " " << next.error;
}

TEST_F(WitnessRollback, A2_TailCutBackToAnEarlierCheckpointIsRefused) {
  start_hub(fleet_options());
  start_witness();
  ASSERT_TRUE(wait_confirmed());
  ASSERT_EQ(hub_->stop(), 0);  // its final checkpoint: the one the attacker cuts back to
  restart_hub();
  ASSERT_TRUE(wait_confirmed());
  const client::MintedGrant used = grant("front");
  ASSERT_NO_FATAL_FAILURE(deliver(used));
  ASSERT_EQ(hub_->stop(), 0);

  // No copy needed: delete every record after the last checkpoint before
  // the decision, with their consumed grants, and write the head file from
  // that checkpoint record (which holds everything the head file says).
  const fs::path db = hub_->audit_db();
  const int64_t decision = query_int(db, "SELECT seq FROM consumed_grants WHERE grant_id = '" +
                                             crypto::to_hex(used.grant_id) + "'");
  ASSERT_GT(decision, 0);
  const int64_t cut = query_int(db, "SELECT MAX(seq) FROM records WHERE type = 'checkpoint' AND seq < " +
                                        std::to_string(decision));
  ASSERT_GT(cut, 0) << "no checkpoint before the decision";
  std::optional<audit::Checkpoint> cp;
  {
    sqlite3* handle = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(handle, "SELECT wall_ms, mono_ns, detail FROM records WHERE seq = ?1", -1, &stmt,
                                 nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(stmt, 1, cut);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    audit::AuditRecord r;
    r.seq = static_cast<uint64_t>(cut);
    r.wall_ms = sqlite3_column_int64(stmt, 0);
    r.mono_ns = sqlite3_column_int64(stmt, 1);
    r.entry.type = "checkpoint";
    r.entry.rule = Rule::A2;
    r.entry.detail = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2));
    sqlite3_finalize(stmt);
    sqlite3_close(handle);
    cp = audit::checkpoint_from_record(r);
  }
  ASSERT_TRUE(cp) << "the checkpoint record at seq " << cut << " does not parse";
  exec(db, "DELETE FROM records WHERE seq > " + std::to_string(cut) + "; DELETE FROM consumed_grants WHERE seq > " +
               std::to_string(cut) + ";");
  audit::write_head_file(audit::head_file_path(db), *cp);

  restart_hub();
  expect_rollback_detected(used);

  // A restart does not lift it, nor does a witness that forgot: the
  // refusal is kept in the data directory until --recover-audit.
  ASSERT_EQ(hub_->stop(), 0);
  witness_.stop();
  restart_hub();
  const std::string replay = outcome(used);
  EXPECT_NE(replay, "allowed");
  EXPECT_NE(replay.find("kept from an earlier run"), std::string::npos) << replay;
  // latchkeyd --check says so too.
  ASSERT_EQ(hub_->stop(), 0);
  const LatchkeydRun check = run_latchkeyd({"--config", hub_->config_file().string(), "--check"});
  EXPECT_NE((check.out + check.err).find("the fleet witness showed the audit log was rolled back"), std::string::npos)
      << check.out << check.err;
}

TEST_F(WitnessRollback, A2_NormalRestartIsConfirmed) {
  start_hub(fleet_options());
  start_witness();
  ASSERT_TRUE(wait_confirmed());
  const client::MintedGrant used = grant("front");
  ASSERT_NO_FATAL_FAILURE(deliver(used));
  ASSERT_EQ(hub_->stop(), 0);

  restart_hub();
  // The first run's confirmation is in the log; the second run adds its own.
  ASSERT_TRUE(wait_confirmed(1)) << "the restarted hub was not confirmed";
  const std::string replay = outcome(used);
  EXPECT_NE(replay, "allowed");
  EXPECT_NE(replay.find("G3"), std::string::npos) << "the replay is refused as consumed, not for the witness: " << replay;
  const client::MintedGrant next = grant("front");
  const client::UnlockAnswer a = present("front", next);
  EXPECT_TRUE(a.allowed) << a.rule << " " << a.error;
  EXPECT_EQ(api_->get("/v1/alarms").body.find("rolled back"), std::string::npos);
  const std::string verified = api_->get("/v1/audit/verify").body;
  EXPECT_NE(verified.find("\"state\":\"confirmed\""), std::string::npos) << verified;
}

TEST_F(WitnessRollback, A2_WitnessUnreachableAtStartKeepsGrantingClosed) {
  start_hub(fleet_options());
  const client::MintedGrant g = grant("front");
  const std::string early = outcome(g);
  EXPECT_NE(early, "allowed") << "granted before the witness confirmed the log";
  EXPECT_NE(early.find("A2"), std::string::npos) << early;
  EXPECT_NE(early.find("waiting for the fleet witness"), std::string::npos) << early;
  // Still closed a while later: unanswered queries are asked again, nothing opens.
  std::this_thread::sleep_for(1s);
  EXPECT_NE(outcome(g), "allowed");
  EXPECT_NE(hub_->log_tail(40).find("did not answer"), std::string::npos) << hub_->log_tail(40);
  const std::string verified = api_->get("/v1/audit/verify").body;
  EXPECT_NE(verified.find("\"state\":\"awaiting\""), std::string::npos) << verified;

  start_witness();
  ASSERT_TRUE(wait_confirmed()) << "the hub never heard the witness";
  const client::UnlockAnswer a = present("front", g);
  EXPECT_TRUE(a.allowed) << "the same grant opens once the witness answered: " << a.rule << " " << a.error;
}

}  // namespace
}  // namespace latchkey::tests
