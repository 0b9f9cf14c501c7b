// A log that does not verify grants nothing, and a person can recover from
// it (docs/latchkeyd.md, "When the audit log does not verify"): the real
// latchkeyd, its audit database edited on disk between two runs, as the
// attack run of issue 13 did it.
#include "daemon_fixture.hpp"
#include "latchkeyd_command.hpp"

#include <latchkey/client/api_json.hpp>

#include <sqlite3.h>

#include <filesystem>

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

class AuditRecovery : public DaemonTest {};

TEST_F(AuditRecovery, A2_G3_ALogThatDoesNotVerifyGrantsNothingUntilRecovered) {
  start_hub();
  const client::MintedGrant used = grant("front");
  ASSERT_TRUE(present("front", used).allowed);
  ASSERT_TRUE(wait_door("front", "unlocked", "closed"));
  act("front", "open");
  act("front", "close");
  ASSERT_TRUE(wait_door("front", "locked", "closed"));
  ASSERT_EQ(hub_->stop(), 0);

  // The attack: the decision that consumed the grant, and its consumed_grants
  // row, deleted from before the last checkpoint.
  const std::string id = crypto::to_hex(used.grant_id);
  exec(hub_->audit_db(), "DELETE FROM records WHERE seq IN (SELECT seq FROM consumed_grants WHERE grant_id = '" + id +
                             "'); DELETE FROM consumed_grants WHERE grant_id = '" + id + "';");

  ASSERT_NO_FATAL_FAILURE(hub_->start());
  ASSERT_NO_FATAL_FAILURE(reconnect());
  // Refused, and said so: the decision cannot even be recorded (503, U3).
  const auto outcome = [&](const client::MintedGrant& g) -> std::string {
    try {
      const client::UnlockAnswer a = present("front", g);
      return a.allowed ? "allowed" : "HTTP " + std::to_string(a.status) + " " + a.rule + ": " + a.error;
    } catch (const std::exception& e) {
      return e.what();
    }
  };
  const std::string replay = outcome(used);
  EXPECT_NE(replay, "allowed") << "A2: a consumed grant opened the door on a log that does not verify";
  EXPECT_NE(replay.find("no log, no unlock"), std::string::npos) << replay;
  const std::string fresh = outcome(grant("front"));
  EXPECT_NE(fresh, "allowed") << "A2: nothing is granted on a log that does not verify";
  const std::string alarms = api_->get("/v1/alarms").body;
  EXPECT_NE(alarms.find("does not verify"), std::string::npos) << "no alarm says the log does not verify: " << alarms;
  EXPECT_NE(hub_->log_tail(50).find("does not verify"), std::string::npos) << hub_->log_tail(50);
  ASSERT_EQ(hub_->stop(), 0);

  // The person's way out.
  const LatchkeydRun recovered = run_latchkeyd({"--config", hub_->config_file().string(), "--recover-audit"});
  EXPECT_EQ(recovered.exit_code, 0) << recovered.out << recovered.err;
  EXPECT_NE(recovered.out.find("recovered"), std::string::npos) << recovered.out << recovered.err;
  bool archived = false;
  for (const auto& entry : fs::directory_iterator(hub_->data_dir()))
    archived = archived || entry.path().filename().string().rfind("audit.db.broken-", 0) == 0;
  EXPECT_TRUE(archived) << "the broken log is kept for inspection";

  ASSERT_NO_FATAL_FAILURE(hub_->start());
  ASSERT_NO_FATAL_FAILURE(reconnect());
  ASSERT_TRUE(demo::wait_cameras_live(*api_, 10s));
  EXPECT_FALSE(present("front", used).allowed) << "G3: a grant the lost log may have consumed stays refused";
  demo::GrantWindow after;
  after.not_before_unix_ms = client::unix_now_ms() + 2'000;  // issued after the recovery (within the G1 skew)
  const client::UnlockAnswer next = present("front", grant("front", after));
  EXPECT_TRUE(next.allowed) << "a grant issued after the recovery opens the door: " << next.rule << " " << next.error;
  // A second run finds nothing to do.
  ASSERT_EQ(hub_->stop(), 0);
  const LatchkeydRun again = run_latchkeyd({"--config", hub_->config_file().string(), "--recover-audit"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("nothing to recover"), std::string::npos) << again.out << again.err;
}

}  // namespace
}  // namespace latchkey::tests
