// AuditLog: appending, reading back, checkpoints, decision commits with grant
// consumption (G3, I2, U3), storage failures and reopening (A1-A3).
// A list of cases over one class: long by nature.
#include "audit_test_support.hpp"

#include <latchkey/audit/audit_log.hpp>

#include <gtest/gtest.h>

#include <fstream>

namespace latchkey::audit {
namespace {

using test::decision_entry;
using test::hub_key;
using test::RawDb;
using test::sample_entry;
using test::ScratchDir;

constexpr int64_t kWall = 1'800'000'000'000;
constexpr int64_t kMono = 5'000'000'000;

class AuditLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<AuditLog> open_log() { return AuditLog::open(db_path, key); }

  ScratchDir dir;
  std::filesystem::path db_path = dir / "audit.db";
  crypto::KeyPair key = hub_key();
};

TEST_F(AuditLogTest, A1_AppendNumbersRecordsFromOneAndChainsThem) {
  auto log = open_log();
  EXPECT_EQ(log->last_seq(), 0u);
  EXPECT_EQ(log->head_hash(), kGenesisHash);
  EXPECT_EQ(log->append(sample_entry(1), kWall, kMono), 1u);
  EXPECT_EQ(log->append(sample_entry(2), kWall + 1, kMono + 1), 2u);
  EXPECT_EQ(log->append(sample_entry(3), kWall + 2, kMono + 2), 3u);

  const auto records = log->records();
  ASSERT_EQ(records.size(), 3u);
  Digest prev = kGenesisHash;
  for (const AuditRecord& r : records) {
    EXPECT_EQ(r.prev_hash, prev);
    EXPECT_EQ(r.hash, compute_record_hash(r));
    prev = r.hash;
  }
  EXPECT_EQ(log->head_hash(), records.back().hash);
  EXPECT_EQ(log->last_seq(), 3u);
}

TEST_F(AuditLogTest, A1_RecordsReadBackEveryFieldAndTheCallersTimes) {
  auto log = open_log();
  const AuditEntry entry{"alarm", Rule::U5, "back-door", "cam-7", std::string("bytes \0 and \xff", 13)};
  log->append(entry, -12, 987'654'321);
  const auto records = log->records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].seq, 1u);
  EXPECT_EQ(records[0].wall_ms, -12);
  EXPECT_EQ(records[0].mono_ns, 987'654'321);
  EXPECT_EQ(records[0].entry, entry);
  EXPECT_TRUE(records[0].consumes_grant.empty());
}

TEST_F(AuditLogTest, A1_RecordsFromSeqHonoursStartAndLimit) {
  auto log = open_log();
  for (int i = 1; i <= 10; ++i) log->append(sample_entry(i), kWall + i, kMono + i);
  const auto tail = log->records(8);
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail.front().seq, 8u);
  const auto page = log->records(3, 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].seq, 3u);
  EXPECT_EQ(page[1].seq, 4u);
  EXPECT_TRUE(log->records(11).empty());
  EXPECT_TRUE(log->records(1, 0).empty());
}

TEST_F(AuditLogTest, A1_AppendBatchWritesOneContiguousRun) {
  auto log = open_log();
  log->append(sample_entry(0), kWall, kMono);
  const std::vector<AuditEntry> batch = {sample_entry(1), sample_entry(2), sample_entry(3)};
  EXPECT_EQ(log->append_batch(batch, kWall + 5, kMono + 5), 2u);
  EXPECT_EQ(log->last_seq(), 4u);
  EXPECT_EQ(log->append_batch({}, kWall, kMono), 0u);
  const auto records = log->records();
  ASSERT_EQ(records.size(), 4u);
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(records[i].entry, batch[i - 1]);
    EXPECT_EQ(records[i].wall_ms, kWall + 5);
  }
  EXPECT_TRUE(verify_log(db_path, key.public_key).ok);
}

TEST_F(AuditLogTest, A2_CheckpointTypeIsReservedForTheLog) {
  auto log = open_log();
  AuditEntry fake{"checkpoint", Rule::A2, "", "", "{}"};
  EXPECT_THROW(log->append(fake, kWall, kMono), AuditError);
  EXPECT_THROW(log->append(AuditEntry{}, kWall, kMono), AuditError);
  AuditEntry huge = sample_entry(1);
  huge.detail.assign(kMaxFieldBytes + 1, 'x');
  EXPECT_THROW(log->append(huge, kWall, kMono), AuditError);
  EXPECT_EQ(log->last_seq(), 0u);
}

TEST_F(AuditLogTest, A2_CheckpointIsSignedChainedAndWrittenToTheHeadFile) {
  auto log = open_log();
  log->append(sample_entry(1), kWall, kMono);
  log->append(sample_entry(2), kWall, kMono);
  const Digest head_before = log->head_hash();
  const Checkpoint cp = log->checkpoint(kWall + 60'000, kMono + 60'000'000'000);
  EXPECT_EQ(cp.size, 2u);
  EXPECT_EQ(cp.head, head_before);
  EXPECT_TRUE(verify_checkpoint(cp, key.public_key));
  EXPECT_FALSE(verify_checkpoint(cp, hub_key(0x01).public_key));

  const auto records = log->records(3);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].entry.type, "checkpoint");
  EXPECT_EQ(records[0].entry.rule, latchkey::Rule::A2);
  EXPECT_EQ(checkpoint_from_record(records[0]), cp);
  EXPECT_EQ(read_head_file(head_file_path(db_path)), cp);
}

TEST_F(AuditLogTest, A2_CloseWritesAFinalCheckpointAndRefusesLaterWrites) {
  auto log = open_log();
  log->append(sample_entry(1), kWall, kMono);
  log->close(kWall + 1, kMono + 1);
  EXPECT_THROW(log->append(sample_entry(2), kWall, kMono), AuditError);
  EXPECT_THROW(log->checkpoint(kWall, kMono), AuditError);
  EXPECT_EQ(log->commit_decision(decision_entry("aa"), "aa", kWall, kMono).status,
            DecisionCommit::Status::kStorageFailed);

  const auto head = read_head_file(head_file_path(db_path));
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->size, 1u);
  const VerifyReport report = verify_log(db_path, key.public_key);
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(report.record_count, 2u);
  EXPECT_TRUE(report.head_file_checked);
}

TEST_F(AuditLogTest, G3_CommitDecisionConsumesTheGrantInTheSameRecord) {
  auto log = open_log();
  EXPECT_FALSE(log->is_consumed("0a0b"));
  const DecisionCommit result = log->commit_decision(decision_entry("0a0b"), "0a0b", kWall, kMono);
  ASSERT_TRUE(result.committed()) << result.error;
  EXPECT_EQ(result.seq, 1u);
  EXPECT_TRUE(log->is_consumed("0a0b"));
  EXPECT_FALSE(log->is_consumed("0a0c"));
  EXPECT_EQ(log->consumed_grants(), (std::vector<ConsumedGrant>{{"0a0b", 1}}));
  const auto records = log->records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].consumes_grant, "0a0b");
}

TEST_F(AuditLogTest, I2_GrantConsumedTwiceIsRefusedAndLeavesNoSecondDecisionRecord) {
  auto log = open_log();
  ASSERT_TRUE(log->commit_decision(decision_entry("g1"), "g1", kWall, kMono).committed());
  log->append(sample_entry(1), kWall, kMono);
  const DecisionCommit again = log->commit_decision(decision_entry("g1"), "g1", kWall + 1, kMono + 1);
  EXPECT_EQ(again.status, DecisionCommit::Status::kAlreadyConsumed);
  EXPECT_NE(again.error.find("G3"), std::string::npos);
  EXPECT_EQ(log->last_seq(), 2u);
  EXPECT_EQ(log->records().size(), 2u);
  EXPECT_EQ(log->consumed_grants().size(), 1u);
  // The log stays usable after the refusal.
  EXPECT_TRUE(log->commit_decision(decision_entry("g2"), "g2", kWall, kMono).committed());
}

TEST_F(AuditLogTest, U3_DecisionTakesThePrecedingRecordsIntoItsTransaction) {
  auto log = open_log();
  const std::vector<AuditEntry> before = {sample_entry(1), sample_entry(2)};
  const DecisionCommit r = log->commit_decision(before, decision_entry("g1"), "g1", kWall, kMono);
  ASSERT_TRUE(r.committed()) << r.error;
  EXPECT_EQ(r.first_seq, 1u);
  EXPECT_EQ(r.seq, 3u);
  const auto records = log->records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].entry, before[0]);
  EXPECT_EQ(records[2].consumes_grant, "g1");
  // Refused together: a second consumption writes none of its preceding records.
  const DecisionCommit again = log->commit_decision(before, decision_entry("g1"), "g1", kWall, kMono);
  EXPECT_EQ(again.status, DecisionCommit::Status::kAlreadyConsumed);
  EXPECT_EQ(log->last_seq(), 3u);
  log->inject_commit_failures(1);
  EXPECT_EQ(log->commit_decision(before, decision_entry("g2"), "g2", kWall, kMono).status,
            DecisionCommit::Status::kStorageFailed);
  EXPECT_EQ(log->last_seq(), 3u);
  EXPECT_FALSE(log->is_consumed("g2"));
}

TEST_F(AuditLogTest, G3_CommitDecisionRefusesEntriesThatAreNotDecisions) {
  auto log = open_log();
  EXPECT_EQ(log->commit_decision(sample_entry(1), "g1", kWall, kMono).status,
            DecisionCommit::Status::kInvalidEntry);
  EXPECT_EQ(log->commit_decision(decision_entry("g1"), "", kWall, kMono).status,
            DecisionCommit::Status::kInvalidEntry);
  EXPECT_EQ(log->last_seq(), 0u);
  EXPECT_FALSE(log->is_consumed("g1"));
}

TEST_F(AuditLogTest, G3_ConsumedGrantsSurviveCloseAndReopen) {
  {
    auto log = open_log();
    ASSERT_TRUE(log->commit_decision(decision_entry("g1"), "g1", kWall, kMono).committed());
    log->append(sample_entry(1), kWall, kMono);
    ASSERT_TRUE(log->commit_decision(decision_entry("g2"), "g2", kWall, kMono).committed());
    log->close(kWall, kMono);
  }
  auto log = open_log();
  EXPECT_EQ(log->consumed_grants(), (std::vector<ConsumedGrant>{{"g1", 1}, {"g2", 3}}));
  EXPECT_TRUE(log->is_consumed("g2"));
  EXPECT_EQ(log->commit_decision(decision_entry("g1"), "g1", kWall, kMono).status,
            DecisionCommit::Status::kAlreadyConsumed);
  EXPECT_EQ(log->last_seq(), 4u);
  EXPECT_EQ(log->append(sample_entry(2), kWall, kMono), 5u);
}

TEST_F(AuditLogTest, A3_ReopenWithoutCloseContinuesTheChain) {
  {
    auto log = open_log();
    log->append(sample_entry(1), kWall, kMono);
    log->checkpoint(kWall, kMono);
    log->append(sample_entry(2), kWall, kMono);
  }  // destroyed without close, as after a crash
  auto log = open_log();
  EXPECT_EQ(log->last_seq(), 3u);
  EXPECT_EQ(log->append(sample_entry(3), kWall, kMono), 4u);
  log->close(kWall, kMono);
  EXPECT_TRUE(verify_log(db_path, key.public_key).ok);
}

TEST_F(AuditLogTest, U3_InjectedCommitFailureFailsTheDecisionAndWritesNothing) {
  auto log = open_log();
  log->append(sample_entry(1), kWall, kMono);
  const Digest head = log->head_hash();
  log->inject_commit_failures(1);
  const DecisionCommit failed = log->commit_decision(decision_entry("g1"), "g1", kWall, kMono);
  EXPECT_EQ(failed.status, DecisionCommit::Status::kStorageFailed);
  EXPECT_NE(failed.error.find("commit"), std::string::npos) << failed.error;
  EXPECT_FALSE(log->is_consumed("g1"));
  EXPECT_EQ(log->last_seq(), 1u);
  EXPECT_EQ(log->head_hash(), head);
  EXPECT_EQ(log->records().size(), 1u);

  // Storage back: the same grant commits once.
  EXPECT_TRUE(log->commit_decision(decision_entry("g1"), "g1", kWall, kMono).committed());
  EXPECT_EQ(log->last_seq(), 2u);
  log->inject_commit_failures(1);
  EXPECT_THROW(log->append(sample_entry(2), kWall, kMono), AuditError);
  EXPECT_NO_THROW(log->checkpoint(kWall, kMono));  // one injected failure, spent by the append
  log->close(kWall, kMono);
  EXPECT_TRUE(verify_log(db_path, key.public_key).ok);
}

TEST_F(AuditLogTest, U3_DatabaseLockedByAnotherConnectionFailsTheDecisionNamingSqlite) {
  OpenOptions options;
  options.busy_timeout_ms = 0;
  auto log = AuditLog::open(db_path, key, options);
  RawDb other(db_path);
  other.exec("BEGIN IMMEDIATE");
  const DecisionCommit failed = log->commit_decision(decision_entry("g1"), "g1", kWall, kMono);
  EXPECT_EQ(failed.status, DecisionCommit::Status::kStorageFailed);
  EXPECT_NE(failed.error.find("begin append transaction"), std::string::npos) << failed.error;
  EXPECT_NE(failed.error.find("locked"), std::string::npos) << failed.error;
  other.exec("ROLLBACK");
  EXPECT_FALSE(log->is_consumed("g1"));
  EXPECT_TRUE(log->commit_decision(decision_entry("g1"), "g1", kWall, kMono).committed());
}

TEST_F(AuditLogTest, U3_OpenFailsWhereNoLogCanBeWritten) {
  try {
    AuditLog::open(dir / "missing-dir/audit.db", key);
    FAIL() << "open succeeded";
  } catch (const AuditError& e) {
    EXPECT_NE(std::string(e.what()).find("open"), std::string::npos) << e.what();
  }
}

TEST_F(AuditLogTest, A3_SecondWriterMakesTheStaleWriterFailInsteadOfForking) {
  auto first = open_log();
  first->append(sample_entry(1), kWall, kMono);
  auto second = open_log();
  second->append(sample_entry(2), kWall, kMono);
  EXPECT_THROW(first->append(sample_entry(3), kWall, kMono), AuditError);
  EXPECT_EQ(first->commit_decision(decision_entry("g"), "g", kWall, kMono).status,
            DecisionCommit::Status::kStorageFailed);
  second.reset();
  first.reset();
  EXPECT_TRUE(verify_log(db_path, key.public_key).ok);
}

TEST_F(AuditLogTest, A2_OpenRefusesAnotherHubsLog) {
  open_log()->close(kWall, kMono);
  EXPECT_THROW(AuditLog::open(db_path, hub_key(0x07)), AuditError);
}

TEST_F(AuditLogTest, A2_OpenRefusesALogWhoseTailDoesNotVerify) {
  {
    auto log = open_log();
    for (int i = 1; i <= 5; ++i) log->append(sample_entry(i), kWall, kMono);
  }
  {
    RawDb raw(db_path);
    raw.exec("UPDATE records SET detail = 'rewritten' WHERE seq = 4");
  }
  try {
    open_log();
    FAIL() << "open succeeded";
  } catch (const AuditError& e) {
    EXPECT_NE(std::string(e.what()).find("seq 4"), std::string::npos) << e.what();
  }
}

// The attack run's finding: a decision record before the last checkpoint
// edited, or deleted together with its consumed_grants row, used to pass
// open() (only the tail was checked) and the grant opened the door again.
TEST_F(AuditLogTest, A2_OpenVerifiesTheWholeChainNotOnlyTheTail) {
  {
    auto log = open_log();
    ASSERT_TRUE(log->commit_decision(decision_entry("g1"), "g1", kWall, kMono).committed());
    for (int i = 1; i <= 3; ++i) log->append(sample_entry(i), kWall, kMono);
    log->checkpoint(kWall, kMono);
    log->append(sample_entry(4), kWall, kMono);
    log->close(kWall, kMono);
  }
  {
    RawDb raw(db_path);
    raw.exec("UPDATE records SET detail = 'edited' WHERE seq = 2");
  }
  try {
    open_log();
    FAIL() << "open accepted a record changed before the last checkpoint";
  } catch (const AuditChainError& e) {
    EXPECT_EQ(e.seq(), 2u);
    EXPECT_NE(std::string(e.what()).find("seq 2"), std::string::npos) << e.what();
  }
}

TEST_F(AuditLogTest, G3_OpenRefusesADecisionDeletedBeforeTheLastCheckpoint) {
  {
    auto log = open_log();
    log->append(sample_entry(1), kWall, kMono);
    ASSERT_TRUE(log->commit_decision(decision_entry("g1"), "g1", kWall, kMono).committed());
    log->append(sample_entry(2), kWall, kMono);
    log->checkpoint(kWall, kMono);
    log->close(kWall, kMono);
  }
  {
    RawDb raw(db_path);
    raw.exec("DELETE FROM records WHERE seq = 2");
    raw.exec("DELETE FROM consumed_grants WHERE grant_id = 'g1'");
  }
  try {
    open_log();
    FAIL() << "open accepted a log whose consumed grant's decision was deleted";
  } catch (const AuditChainError& e) {
    EXPECT_EQ(e.seq(), 2u) << e.what();
  }
}

TEST_F(AuditLogTest, G3_ConsumedGrantsAndTheVisitorComeFromVerifiedRecords) {
  {
    auto log = open_log();
    ASSERT_TRUE(log->commit_decision(decision_entry("g1"), "g1", kWall, kMono).committed());
    log->checkpoint(kWall, kMono);
    ASSERT_TRUE(log->commit_decision(decision_entry("g2"), "g2", kWall, kMono).committed());
    log->close(kWall, kMono);
  }
  std::vector<uint64_t> seen;
  OpenOptions options;
  options.on_verified_record = [&](const AuditRecord& r) { seen.push_back(r.seq); };
  auto log = AuditLog::open(db_path, key, options);
  ASSERT_EQ(seen.size(), log->last_seq());
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
  const auto consumed = log->consumed_grants();
  ASSERT_EQ(consumed.size(), 2u);
  EXPECT_EQ(consumed[0].grant_id, "g1");
  EXPECT_EQ(consumed[1].grant_id, "g2");
}

TEST_F(AuditLogTest, I2_OpenRefusesALogThatLostAConsumedGrantRow) {
  {
    auto log = open_log();
    ASSERT_TRUE(log->commit_decision(decision_entry("g1"), "g1", kWall, kMono).committed());
    log->close(kWall, kMono);
  }
  {
    RawDb raw(db_path);
    raw.exec("DELETE FROM consumed_grants");
  }
  EXPECT_THROW(open_log(), AuditError);
}

TEST_F(AuditLogTest, A2_OpenRefusesADatabaseBehindItsHeadFile) {
  {
    auto log = open_log();
    for (int i = 1; i <= 5; ++i) log->append(sample_entry(i), kWall, kMono);
    log->close(kWall, kMono);
  }
  {
    RawDb raw(db_path);
    raw.exec("DELETE FROM records WHERE seq >= 5");
  }
  try {
    open_log();
    FAIL() << "open succeeded";
  } catch (const AuditError& e) {
    EXPECT_NE(std::string(e.what()).find("lost its tail"), std::string::npos) << e.what();
  }
}

TEST_F(AuditLogTest, A2_OpenBringsAHeadFileLeftBehindByACrashUpToDate) {
  Checkpoint newest;
  const auto head_path = head_file_path(db_path);
  const auto old_head = dir / "old.head";
  {
    auto log = open_log();
    log->append(sample_entry(1), kWall, kMono);
    log->checkpoint(kWall, kMono);
    std::filesystem::copy_file(head_path, old_head);
    log->append(sample_entry(2), kWall, kMono);
    newest = log->checkpoint(kWall + 1, kMono + 1);
  }
  // As if the process died after committing the second checkpoint record
  // and before replacing the head file.
  std::filesystem::copy_file(old_head, head_path, std::filesystem::copy_options::overwrite_existing);
  EXPECT_TRUE(verify_log(db_path, key.public_key).ok);
  auto log = open_log();
  EXPECT_EQ(read_head_file(head_path), newest);
}

TEST_F(AuditLogTest, A2_HeadFileRoundTripsAndRejectsAnythingElse) {
  Checkpoint cp;
  cp.size = 17;
  cp.head.fill(0xab);
  cp.wall_ms = kWall;
  cp.mono_ns = -3;
  sign_checkpoint(cp, key.secret_key);
  const auto path = dir / "x.head";
  write_head_file(path, cp);
  EXPECT_EQ(read_head_file(path), cp);
  EXPECT_FALSE(std::filesystem::exists(dir / "x.head.tmp"));
  std::string text = encode_head_file(cp);
  EXPECT_EQ(parse_head_file(text), cp);
  EXPECT_FALSE(parse_head_file(text + "extra\n").has_value());
  EXPECT_FALSE(parse_head_file(text.substr(0, text.size() - 1)).has_value());
  text.replace(text.find("size 17"), 7, "size 017");
  EXPECT_FALSE(parse_head_file(text).has_value());
  EXPECT_FALSE(read_head_file(dir / "none.head").has_value());
  std::ofstream(dir / "bad.head") << "garbage";
  EXPECT_THROW(read_head_file(dir / "bad.head"), AuditError);
}

// A log as schema 1 wrote it: no kind, value or format columns; records
// hashed in format 1. Two records, the second consuming a grant.
void write_schema_one_log(const std::filesystem::path& db, const crypto::KeyPair& key) {
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    const std::string create = R"sql(
      CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE records(seq INTEGER PRIMARY KEY, wall_ms INTEGER NOT NULL, mono_ns INTEGER NOT NULL,
        type TEXT NOT NULL, rule TEXT NOT NULL, door_id TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL,
        consumes_grant TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL);
      CREATE TABLE consumed_grants(grant_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      INSERT INTO meta VALUES ('schema_version', '1');)sql";
    ASSERT_EQ(sqlite3_exec(raw, create.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    const std::string key_row =
        "INSERT INTO meta VALUES ('hub_public_key', '" + crypto::to_hex(key.public_key) + "')";
    ASSERT_EQ(sqlite3_exec(raw, key_row.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    Digest prev = kGenesisHash;
    for (int i = 1; i <= 2; ++i) {
      AuditRecord r;
      r.format = 1;
      r.seq = static_cast<uint64_t>(i);
      r.wall_ms = kWall + i;
      r.mono_ns = kMono + i;
      r.entry = i == 1 ? AuditEntry{"session", Rule::U8, "front", "s1", "completed: verified relock"}
                       : AuditEntry{"decision", Rule::kNone, "front", "s2", "allow: grant aa"};
      if (i == 2) r.consumes_grant = "aa";
      r.prev_hash = prev;
      r.hash = compute_record_hash(r);
      prev = r.hash;
      sqlite3_stmt* stmt = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(raw, "INSERT INTO records VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", -1,
                                   &stmt, nullptr),
                SQLITE_OK);
      sqlite3_bind_int64(stmt, 1, i);
      sqlite3_bind_int64(stmt, 2, r.wall_ms);
      sqlite3_bind_int64(stmt, 3, r.mono_ns);
      const std::string rule(name(r.entry.rule));
      const std::string* texts[] = {&r.entry.type, &rule, &r.entry.door_id, &r.entry.subject, &r.entry.detail,
                                    &r.consumes_grant};
      for (int t = 0; t < 6; ++t)
        sqlite3_bind_text(stmt, 4 + t, texts[t]->data(), static_cast<int>(texts[t]->size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(stmt, 10, r.prev_hash.data(), 32, SQLITE_TRANSIENT);
      sqlite3_bind_blob(stmt, 11, r.hash.data(), 32, SQLITE_TRANSIENT);
      ASSERT_EQ(sqlite3_step(stmt), SQLITE_DONE);
      sqlite3_finalize(stmt);
    }
    ASSERT_EQ(sqlite3_exec(raw, "INSERT INTO consumed_grants VALUES ('aa', 2)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }
}

TEST_F(AuditLogTest, A2_SchemaOneLogIsMigratedAndKeepsVerifying) {
  ASSERT_NO_FATAL_FAILURE(write_schema_one_log(db_path, key));
  EXPECT_TRUE(verify_log(db_path, key.public_key).ok) << "lk-audit-verify reads a schema-1 log as it is";
  {
    std::vector<AuditRecord> seen;
    OpenOptions options;
    options.on_verified_record = [&](const AuditRecord& r) { seen.push_back(r); };
    auto log = AuditLog::open(db_path, key, options);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].format, 1);
    EXPECT_EQ(seen[0].entry.kind, RecordKind::kNone);
    EXPECT_EQ(seen[1].consumes_grant, "aa");
    EXPECT_EQ(log->append(sample_entry(3), kWall + 3, kMono + 3), 3u);
    const auto records = log->records();
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[2].format, kRecordFormat);
    EXPECT_EQ(records[2].entry.kind, RecordKind::kSessionCompleted);
    EXPECT_EQ(log->consumed_grants().size(), 1u);
    log->close(kWall + 4, kMono + 4);
  }
  RawDb raw(db_path);
  EXPECT_EQ(raw.query_int("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'"), 2);
  EXPECT_TRUE(verify_log(db_path, key.public_key).ok);
  EXPECT_NO_THROW(AuditLog::open(db_path, key)) << "a second open finds schema 2 and migrates nothing";
}

TEST_F(AuditLogTest, A2_KindOrValueGivenToAMigratedRecordIsDetected) {
  for (const char* change : {"UPDATE records SET kind = 'session_completed' WHERE seq = 1",
                             "UPDATE records SET value = 5 WHERE seq = 1", "UPDATE records SET format = 2 WHERE seq = 1",
                             "UPDATE records SET kind = 'no_such_kind' WHERE seq = 1",
                             "UPDATE records SET rule = 'U55' WHERE seq = 1"}) {
    SCOPED_TRACE(change);
    std::filesystem::remove(db_path);
    std::filesystem::remove(head_file_path(db_path));
    ASSERT_NO_FATAL_FAILURE(write_schema_one_log(db_path, key));
    AuditLog::open(db_path, key)->close(kWall + 3, kMono + 3);  // migrates
    RawDb(db_path).exec(change);
    EXPECT_FALSE(verify_log(db_path, key.public_key).ok);
    EXPECT_THROW(AuditLog::open(db_path, key), AuditChainError);
  }
}

TEST(AuditRecordEncoding, A2_HashCoversEveryField) {
  AuditRecord base;
  base.seq = 7;
  base.wall_ms = 1;
  base.mono_ns = 2;
  base.entry = sample_entry(1);
  base.consumes_grant = "g";
  base.prev_hash.fill(3);
  const Digest h = compute_record_hash(base);
  std::vector<AuditRecord> variants(12, base);
  variants[0].seq = 8;
  variants[1].wall_ms = 2;
  variants[2].mono_ns = 3;
  variants[3].entry.type += "x";
  variants[4].entry.rule = Rule::U7;
  variants[5].entry.door_id += "x";
  variants[6].entry.subject += "x";
  variants[7].entry.detail += "x";
  variants[8].consumes_grant += "x";
  variants[9].prev_hash[31] ^= 1;
  variants[10].entry.kind = RecordKind::kSessionCompromised;
  variants[11].entry.value = 1;
  for (const AuditRecord& v : variants) EXPECT_NE(compute_record_hash(v), h);
}

TEST(AuditRecordEncoding, A2_FieldBoundariesCannotBeShifted) {
  AuditRecord a;
  a.entry = AuditEntry{"ab", Rule::kNone, "c", "", ""};
  AuditRecord b;
  b.entry = AuditEntry{"a", Rule::kNone, "bc", "", ""};
  EXPECT_NE(encode_record(a), encode_record(b));
  EXPECT_NE(compute_record_hash(a), compute_record_hash(b));
}

}  // namespace
}  // namespace latchkey::audit
