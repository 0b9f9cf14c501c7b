// verify_log and lk-audit-verify: each kind of tampering the verifier must
// report (A2), the consumed-grant checks (I2) and what it cannot see.
#include "audit_test_support.hpp"

#include <latchkey/audit/verify.hpp>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

namespace latchkey::audit {
namespace {

using test::copy_log;
using test::decision_entry;
using test::hub_key;
using test::RawDb;
using test::sample_entry;
using test::ScratchDir;

constexpr int64_t kWall = 1'800'000'000'000;

class VerifyTest : public ::testing::Test {
 protected:
  // 40 records: entries, decisions consuming g1..g3 (seq 9, 18, 27),
  // checkpoints at seq 10, 20, 30, a batch (36-39) and the final checkpoint
  // of close (seq 40).
  void SetUp() override {
    auto log = AuditLog::open(db_path, key);
    int64_t t = 0;
    for (int i = 1; i <= 35; ++i, ++t) {
      if (i % 10 == 0) {
        log->checkpoint(kWall + t, t * 1000);
      } else if (i % 9 == 0) {
        const std::string grant = "g" + std::to_string(i / 9);
        ASSERT_TRUE(log->commit_decision(decision_entry(grant), grant, kWall + t, t * 1000).committed());
      } else {
        log->append(sample_entry(i), kWall + t, t * 1000);
      }
    }
    const std::vector<AuditEntry> batch = {sample_entry(36), sample_entry(37), sample_entry(38), sample_entry(39)};
    log->append_batch(batch, kWall + t, t * 1000);
    log->close(kWall + t + 1, (t + 1) * 1000);
    ASSERT_EQ(log->last_seq(), 40u);
  }

  VerifyReport verify(const VerifyOptions& options) const { return verify_log(db_path, options); }
  VerifyReport verify() const { return verify_log(db_path, key.public_key); }

  ScratchDir dir;
  std::filesystem::path db_path = dir / "audit.db";
  crypto::KeyPair key = hub_key();
};

TEST_F(VerifyTest, A2_IntactLogVerifies) {
  const VerifyReport report = verify();
  ASSERT_TRUE(report.ok) << report.message;
  EXPECT_EQ(report.problem, VerifyProblem::kNone);
  EXPECT_EQ(report.record_count, 40u);
  EXPECT_EQ(report.checkpoint_count, 4u);
  ASSERT_TRUE(report.last_checkpoint.has_value());
  EXPECT_EQ(report.last_checkpoint->size, 39u);
  EXPECT_TRUE(report.head_file_checked);
  EXPECT_TRUE(report.notes.empty());
}

TEST_F(VerifyTest, A2_DeletedRecordIsDetected) {
  RawDb(db_path).exec("DELETE FROM records WHERE seq = 17");
  const VerifyReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem, VerifyProblem::kSeqGap);
  EXPECT_EQ(report.problem_seq, 17u);
}

TEST_F(VerifyTest, A2_DeletedRecordWithRenumberedSuccessorsIsDetected) {
  {
    RawDb raw(db_path);
    raw.exec("DELETE FROM records WHERE seq = 17");
    raw.exec("UPDATE records SET seq = seq - 1 WHERE seq > 17");
  }
  const VerifyReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem_seq, 17u);
}

TEST_F(VerifyTest, A2_ModifiedRecordIsDetectedWhicheverFieldChanged) {
  const std::vector<std::string> changes = {
      "wall_ms = wall_ms + 1",       "mono_ns = mono_ns - 1",  "type = 'alarm'",
      "rule = 'U5'",                 "door_id = 'back'",       "subject = subject || 'x'",
      "detail = '{}'",               "consumes_grant = 'g9'",  "prev_hash = zeroblob(32)",
      "hash = randomblob(32)",       "wall_ms = 'text'",       "hash = x'00'"};
  for (const std::string& change : changes) {
    const auto copy = dir / "copy.db";
    copy_log(db_path, copy);
    RawDb(copy).exec("UPDATE records SET " + change + " WHERE seq = 12");
    const VerifyReport report = verify_log(copy, key.public_key);
    EXPECT_FALSE(report.ok) << change;
    EXPECT_EQ(report.problem_seq, 12u) << change << ": " << report.message;
  }
}

TEST_F(VerifyTest, A2_ReorderedRecordsAreDetected) {
  {
    RawDb raw(db_path);
    raw.exec("UPDATE records SET seq = -1 WHERE seq = 5");
    raw.exec("UPDATE records SET seq = 5 WHERE seq = 6");
    raw.exec("UPDATE records SET seq = 6 WHERE seq = -1");
  }
  const VerifyReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem, VerifyProblem::kChainBreak);
  EXPECT_EQ(report.problem_seq, 5u);
}

TEST_F(VerifyTest, A2_TruncationIsDetectedByTheHeadFile) {
  RawDb(db_path).exec("DELETE FROM records WHERE seq > 25");
  const VerifyReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem, VerifyProblem::kTruncated);
  EXPECT_EQ(report.problem_seq, 26u);
}

TEST_F(VerifyTest, A2_RemovingOnlyTheFinalCheckpointIsDetected) {
  RawDb(db_path).exec("DELETE FROM records WHERE seq = 40");
  const VerifyReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem, VerifyProblem::kTruncated);
}

TEST_F(VerifyTest, A2_TruncationTogetherWithTheHeadFileNeedsACheckpointKeptElsewhere) {
  const auto kept = read_head_file(head_file_path(db_path));
  ASSERT_TRUE(kept.has_value());
  {
    // A careful attacker also drops the rows of the grants consumed in the
    // cut tail, which makes those grants usable again.
    RawDb raw(db_path);
    raw.exec("DELETE FROM records WHERE seq > 25");
    raw.exec("DELETE FROM consumed_grants WHERE seq > 25");
  }
  std::filesystem::remove(head_file_path(db_path));

  // The log alone cannot show it: this is the documented limit.
  const VerifyReport alone = verify();
  EXPECT_TRUE(alone.ok) << alone.message;
  EXPECT_FALSE(alone.head_file_checked);
  EXPECT_FALSE(alone.notes.empty());

  const VerifyReport with_copy = verify_log(db_path, key.public_key, kept);
  EXPECT_FALSE(with_copy.ok);
  EXPECT_EQ(with_copy.problem, VerifyProblem::kTruncated);

  VerifyOptions strict;
  strict.hub_key = key.public_key;
  strict.require_head_file = true;
  EXPECT_EQ(verify(strict).problem, VerifyProblem::kHeadFileMissing);
}

TEST_F(VerifyTest, A2_ForgedCheckpointSignatureIsDetected) {
  // A well-formed, correctly chained checkpoint record signed by another key.
  AuditRecord last;
  {
    auto log = AuditLog::open(db_path, key);
    last = log->records(40).at(0);
  }
  Checkpoint forged;
  forged.size = 40;
  forged.head = last.hash;
  forged.wall_ms = kWall + 100;
  sign_checkpoint(forged, hub_key(0x66).secret_key);
  AuditRecord record;
  record.seq = 41;
  record.wall_ms = forged.wall_ms;
  record.mono_ns = forged.mono_ns;
  record.entry = AuditEntry{"checkpoint", Rule::A2, "", "", checkpoint_detail(forged)};
  record.prev_hash = last.hash;
  record.hash = compute_record_hash(record);
  RawDb(db_path).insert_record(record);
  const VerifyReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem, VerifyProblem::kBadSignature);
  EXPECT_EQ(report.problem_seq, 41u);
  EXPECT_THROW(AuditLog::open(db_path, key), AuditError);
}

TEST_F(VerifyTest, A2_ForgedHeadFileIsDetected) {
  auto head = read_head_file(head_file_path(db_path));
  ASSERT_TRUE(head.has_value());
  head->size = 60;
  sign_checkpoint(*head, hub_key(0x66).secret_key);
  write_head_file(head_file_path(db_path), *head);
  EXPECT_EQ(verify().problem, VerifyProblem::kBadSignature);
}

TEST_F(VerifyTest, A2_HeadFileNotInTheChainIsDetected) {
  auto head = read_head_file(head_file_path(db_path));
  ASSERT_TRUE(head.has_value());
  head->wall_ms += 1;  // validly signed, but no such checkpoint was ever recorded
  sign_checkpoint(*head, key.secret_key);
  write_head_file(head_file_path(db_path), *head);
  EXPECT_EQ(verify().problem, VerifyProblem::kHeadNotInChain);
  std::ofstream(head_file_path(db_path)) << "latchkey-audit-head v1\nsize x\n";
  EXPECT_EQ(verify().problem, VerifyProblem::kHeadFileInvalid);
}

TEST_F(VerifyTest, A2_RechainedLogWithoutTheHubKeyIsDetected) {
  // Delete record 15 and recompute every later seq, link and hash: only the
  // checkpoints, which need the hub key, still tell.
  std::vector<AuditRecord> records;
  {
    auto log = AuditLog::open(db_path, key);
    records = log->records();
  }
  records.erase(records.begin() + 14);
  RawDb raw(db_path);
  raw.exec("DELETE FROM records");
  Digest prev = kGenesisHash;
  uint64_t seq = 0;
  for (AuditRecord& r : records) {
    r.seq = ++seq;
    r.prev_hash = prev;
    r.hash = compute_record_hash(r);
    prev = r.hash;
    raw.insert_record(r);
  }
  raw.exec("UPDATE consumed_grants SET seq = seq - 1 WHERE seq > 15");
  const VerifyReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.problem, VerifyProblem::kBadCheckpoint);
  EXPECT_EQ(report.problem_seq, 19u);  // the first checkpoint after the hole, renumbered
}

TEST_F(VerifyTest, A2_LogOfAnotherHubIsDetected) {
  EXPECT_EQ(verify_log(db_path, hub_key(0x01).public_key).problem, VerifyProblem::kHubKeyMismatch);
  VerifyOptions unpinned;
  const VerifyReport report = verify(unpinned);
  EXPECT_TRUE(report.ok);
  ASSERT_FALSE(report.notes.empty());
  EXPECT_NE(report.notes[0].find("not pinned"), std::string::npos);
}

TEST_F(VerifyTest, I2_ConsumedGrantWithoutItsDecisionRecordIsDetected) {
  RawDb(db_path).exec("INSERT INTO consumed_grants VALUES ('g-extra', 12)");
  const VerifyReport report = verify();
  EXPECT_EQ(report.problem, VerifyProblem::kConsumedWithoutDecision);
  EXPECT_EQ(report.problem_seq, 12u);
}

TEST_F(VerifyTest, I2_DeletedConsumedGrantRowIsDetected) {
  RawDb(db_path).exec("DELETE FROM consumed_grants WHERE grant_id = 'g2'");
  const VerifyReport report = verify();
  EXPECT_EQ(report.problem, VerifyProblem::kDecisionWithoutConsumed);
  EXPECT_EQ(report.problem_seq, 18u);
}

TEST_F(VerifyTest, A2_NotAnAuditLogIsReported) {
  EXPECT_EQ(verify_log(dir / "none.db", key.public_key).problem, VerifyProblem::kCannotOpen);
  std::ofstream(dir / "junk.db") << std::string(4096, 'j');
  EXPECT_EQ(verify_log(dir / "junk.db", key.public_key).problem, VerifyProblem::kCannotOpen);
}

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) result.output += buffer;
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

TEST_F(VerifyTest, A2_VerifierCommandPrintsOkWithCountAndHead) {
  const auto report = verify();
  const CommandResult r = run_command(std::string(LK_AUDIT_VERIFY_PATH) + " " + db_path.string() + " --hub-key " +
                                      crypto::to_hex(key.public_key));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("OK 40 records, head " + crypto::to_hex(report.head_hash), 0), 0u) << r.output;
}

TEST_F(VerifyTest, A2_VerifierCommandPrintsTheFirstProblemWithItsSeq) {
  RawDb(db_path).exec("DELETE FROM records WHERE seq = 8");
  const CommandResult r = run_command(std::string(LK_AUDIT_VERIFY_PATH) + " " + db_path.string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output.rfind("FAIL at seq 8: seq gap", 0), 0u) << r.output;

  const auto kept = dir / "kept.head";
  std::filesystem::copy_file(head_file_path(db_path), kept);
  const CommandResult usage = run_command(std::string(LK_AUDIT_VERIFY_PATH) + " --hub-key zz " + db_path.string());
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  const CommandResult with_head =
      run_command(std::string(LK_AUDIT_VERIFY_PATH) + " " + db_path.string() + " --head " + kept.string());
  EXPECT_EQ(with_head.exit_code, 1) << with_head.output;
}

}  // namespace
}  // namespace latchkey::audit
