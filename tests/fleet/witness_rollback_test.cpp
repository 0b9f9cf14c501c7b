// The witness of the audit log end to end (docs/fleet.md, issue 17): real
// latchkeyd processes with simulated devices, a real Mosquitto as the fleet
// broker (the shipped tools/broker/fleet.acl) and a real lk-witness. A hub
// whose log is rolled back - the database and head file replaced by an
// older copy, or the records after an earlier checkpoint deleted and the
// head file rewritten from that checkpoint - verifies on its own, but the
// witness shows it: the consumed grant is refused, with an A2 alarm.
#include "witness_fixture.hpp"

namespace latchkey::tests {
namespace {

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
