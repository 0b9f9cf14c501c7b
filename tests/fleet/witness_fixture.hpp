// The fixture of the witness's end-to-end tests (docs/fleet.md): a real
// Mosquitto as the fleet broker with the shipped tools/broker/fleet.acl, a
// real lk-witness, real latchkeyd processes with simulated devices, and the
// helpers that roll a hub's audit log back. witness_rollback_test.cpp (the
// hub dials the fleet broker), fleet_bridge_test.cpp (through the hub
// broker's bridge), revocation_broker_test.cpp and outbox_broker_test.cpp
// share it; each adds the broker users it needs (fleet_broker_options).
#ifndef LATCHKEY_TESTS_FLEET_WITNESS_FIXTURE_HPP
#define LATCHKEY_TESTS_FLEET_WITNESS_FIXTURE_HPP

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

namespace fs = std::filesystem;

inline void exec(const fs::path& db, const std::string& sql) {
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
inline int64_t query_int(const fs::path& db, const std::string& sql) {
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

inline std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The audit files of a data directory: audit.db with its -wal, -shm and .head.
inline void copy_audit_files(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& entry : fs::directory_iterator(from)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("audit.db", 0) == 0) fs::copy_file(entry.path(), to / name, fs::copy_options::overwrite_existing);
  }
}

inline void replace_audit_files(const fs::path& data_dir, const fs::path& copy) {
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
    broker_ = std::make_unique<testing::MosquittoBroker>(fleet_broker_options());
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

  // The fleet broker: users hub-1 and lk-witness, the shipped fleet ACL.
  virtual testing::BrokerOptions fleet_broker_options() {
    testing::BrokerOptions options;
    options.extra_users = {"hub-1", "lk-witness"};
    options.guard = false;
    options.acl_file = LATCHKEY_FLEET_ACL_FILE;
    return options;
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

}  // namespace latchkey::tests

#endif  // LATCHKEY_TESTS_FLEET_WITNESS_FIXTURE_HPP
