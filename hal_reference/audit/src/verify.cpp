#include "schema.hpp"
#include "sqlite.hpp"

#include <latchkey/audit/verify.hpp>

#include <algorithm>
#include <map>

namespace latchkey::audit {

const char* to_string(VerifyProblem problem) {
  switch (problem) {
    case VerifyProblem::kNone: return "none";
    case VerifyProblem::kCannotOpen: return "cannot open";
    case VerifyProblem::kBadSchema: return "bad schema";
    case VerifyProblem::kHubKeyMismatch: return "hub key mismatch";
    case VerifyProblem::kMalformedRecord: return "malformed record";
    case VerifyProblem::kSeqGap: return "seq gap";
    case VerifyProblem::kChainBreak: return "chain break";
    case VerifyProblem::kHashMismatch: return "hash mismatch";
    case VerifyProblem::kBadCheckpoint: return "bad checkpoint";
    case VerifyProblem::kBadSignature: return "bad signature";
    case VerifyProblem::kTruncated: return "truncated";
    case VerifyProblem::kHeadNotInChain: return "signed head not in chain";
    case VerifyProblem::kHeadFileInvalid: return "head file invalid";
    case VerifyProblem::kHeadFileMissing: return "head file missing";
    case VerifyProblem::kConsumedWithoutDecision: return "consumed grant without decision";
    case VerifyProblem::kDecisionWithoutConsumed: return "decision without consumed grant";
    case VerifyProblem::kGrantConsumedTwice: return "grant consumed twice";
  }
  return "unknown";
}

namespace {

// Thrown inside the verifier to stop at the first problem.
struct Found {
  VerifyProblem problem;
  uint64_t seq;
  std::string message;
};

[[noreturn]] void found(VerifyProblem problem, uint64_t seq, std::string message) {
  throw Found{problem, seq, std::move(message)};
}

std::string seq_text(uint64_t seq) { return "record " + std::to_string(seq); }

class Verifier {
 public:
  Verifier(const std::filesystem::path& db_path, const VerifyOptions& options, VerifyReport& report)
      : db_path_(db_path), options_(options), report_(report), conn_(db_path, sqlite::Connection::Mode::kReadOnly) {}

  void run() {
    check_schema();
    check_chain();
    // Truncation before the grant rows: a cut tail usually also orphans rows.
    if (options_.trusted_head) check_signed_head(*options_.trusted_head, "trusted head");
    check_head_file();
    check_consumed_grants();
    if (report_.last_checkpoint) {
      const uint64_t unsigned_tail = report_.record_count - (report_.last_checkpoint->size + 1);
      if (unsigned_tail > 0) {
        report_.notes.push_back(std::to_string(unsigned_tail) +
                                " record(s) after the last checkpoint are not yet covered by a signature");
      }
    } else if (report_.record_count > 0) {
      report_.notes.push_back("no checkpoint in the log: no record is covered by a signature");
    }
  }

 private:
  void check_schema() {
    sqlite::Statement tables(conn_, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
    std::vector<std::string> names;
    while (tables.step("read schema")) names.push_back(tables.column_text(0));
    if (names != std::vector<std::string>{"consumed_grants", "meta", "records"}) {
      found(VerifyProblem::kBadSchema, 0, "not an audit log: tables missing or unexpected");
    }
    sqlite::Statement meta(conn_, "SELECT value FROM meta WHERE key = ?1");
    meta.bind(1, schema::kMetaSchemaVersion);
    const std::string version = meta.step("read schema version") ? meta.column_text(0) : "";
    meta.reset();
    if (version != "1" && version != "2")
      found(VerifyProblem::kBadSchema, 0, "schema version '" + version + "', expected 1 or 2");
    schema_version_ = version == "1" ? 1 : 2;
    meta.bind(1, schema::kMetaHubKey);
    const std::string key_hex = meta.step("read hub key") ? meta.column_text(0) : "";
    meta.reset();
    const auto stored = crypto::from_hex(key_hex);
    if (!stored || stored->size() != hub_key_.size()) found(VerifyProblem::kBadSchema, 0, "stored hub key malformed");
    std::copy(stored->begin(), stored->end(), hub_key_.begin());
    if (options_.hub_key) {
      if (*options_.hub_key != hub_key_) {
        found(VerifyProblem::kHubKeyMismatch, 0,
              "the log names hub key " + key_hex + ", the pinned key is " + crypto::to_hex(*options_.hub_key));
      }
    } else {
      report_.notes.push_back("hub key not pinned: checkpoints checked against the key stored in the log, " +
                              key_hex + ", which proves consistency only");
    }
  }

  // A2: seq without gaps, every link, every hash, every checkpoint.
  void check_chain() {
    const std::string_view columns = schema_version_ == 1 ? schema::kRecordColumnsV1 : schema::kRecordColumns;
    sqlite::Statement rows(conn_, "SELECT " + std::string(columns) + " FROM records ORDER BY seq");
    uint64_t expected = 1;
    Digest prev = kGenesisHash;
    while (rows.step("read records")) {
      AuditRecord record;
      const std::string malformed = schema::read_record(rows, record);
      if (!malformed.empty()) found(VerifyProblem::kMalformedRecord, expected, seq_text(expected) + ": " + malformed);
      if (record.seq != expected) {
        found(VerifyProblem::kSeqGap, expected,
              record.seq > expected
                  ? "records " + std::to_string(expected) + ".." + std::to_string(record.seq - 1) +
                        " are missing (deleted or renumbered)"
                  : "unexpected seq " + std::to_string(static_cast<int64_t>(record.seq)) + " where " +
                        std::to_string(expected) + " belongs");
      }
      if (record.prev_hash != prev) {
        found(VerifyProblem::kChainBreak, record.seq,
              seq_text(record.seq) + ": prev_hash is not the hash of the record before it (deleted, reordered or "
                                     "changed)");
      }
      if (compute_record_hash(record) != record.hash) {
        found(VerifyProblem::kHashMismatch, record.seq, seq_text(record.seq) + ": changed after it was written");
      }
      if (record.entry.type == kCheckpointType) check_checkpoint_record(record);
      if (!record.consumes_grant.empty()) {
        if (record.entry.type != "decision") {
          found(VerifyProblem::kMalformedRecord, record.seq,
                seq_text(record.seq) + ": consumes a grant but is not a decision");
        }
        const auto [it, inserted] = consuming_.emplace(record.consumes_grant, record.seq);
        if (!inserted) {
          found(VerifyProblem::kGrantConsumedTwice, record.seq,
                seq_text(record.seq) + ": grant " + record.consumes_grant + " was already consumed by " +
                    seq_text(it->second) + " (I2)");
        }
      }
      prev = record.hash;
      report_.record_count = record.seq;
      report_.head_hash = record.hash;
      ++expected;
    }
  }

  void check_checkpoint_record(const AuditRecord& record) {
    const auto cp = checkpoint_from_record(record);
    if (!cp) found(VerifyProblem::kBadCheckpoint, record.seq, seq_text(record.seq) + ": malformed checkpoint");
    if (cp->size + 1 != record.seq || cp->head != record.prev_hash) {
      found(VerifyProblem::kBadCheckpoint, record.seq,
            seq_text(record.seq) + ": checkpoint does not describe the records before it");
    }
    if (!verify_checkpoint(*cp, hub_key_)) {
      found(VerifyProblem::kBadSignature, record.seq,
            seq_text(record.seq) + ": checkpoint signature does not verify with the hub key (forged)");
    }
    report_.last_checkpoint = cp;
    ++report_.checkpoint_count;
  }

  // G3/I2: each consumed grant names its decision record, and each decision
  // that consumed a grant still has its row (else the grant could open again).
  void check_consumed_grants() {
    sqlite::Statement rows(conn_, "SELECT grant_id, seq FROM consumed_grants ORDER BY seq, grant_id");
    std::map<std::string, uint64_t> unmatched = consuming_;
    while (rows.step("read consumed grants")) {
      if (rows.column_type(0) != SQLITE_TEXT || rows.column_type(1) != SQLITE_INTEGER) {
        found(VerifyProblem::kConsumedWithoutDecision, 0, "consumed_grants holds a malformed row");
      }
      const std::string grant = rows.column_text(0);
      const auto seq = static_cast<uint64_t>(rows.column_int(1));
      const auto it = unmatched.find(grant);
      if (it == unmatched.end() || it->second != seq) {
        found(VerifyProblem::kConsumedWithoutDecision, seq,
              "consumed grant " + grant + " names " + seq_text(seq) + ", which is not its decision record");
      }
      unmatched.erase(it);
    }
    if (!unmatched.empty()) {
      const auto& [grant, seq] = *std::min_element(unmatched.begin(), unmatched.end(),
                                                   [](const auto& a, const auto& b) { return a.second < b.second; });
      found(VerifyProblem::kDecisionWithoutConsumed, seq,
            seq_text(seq) + " consumed grant " + grant + ", which is missing from consumed_grants (I2)");
    }
  }

  // A signed checkpoint from outside the database: the chain must reach it.
  void check_signed_head(const Checkpoint& cp, const std::string& source) {
    if (!verify_checkpoint(cp, hub_key_)) {
      found(VerifyProblem::kBadSignature, cp.size + 1, source + ": signature does not verify with the hub key");
    }
    if (report_.record_count < cp.size + 1) {
      found(VerifyProblem::kTruncated, report_.record_count + 1,
            source + " says the log held " + std::to_string(cp.size) + " records and then its checkpoint; only " +
                std::to_string(report_.record_count) + " remain (truncated)");
    }
    sqlite::Statement stmt(conn_, "SELECT " + std::string(schema::kRecordColumns) + " FROM records WHERE seq = ?1");
    stmt.bind(1, static_cast<int64_t>(cp.size + 1));
    AuditRecord record;
    if (!stmt.step("read checkpoint record") || !schema::read_record(stmt, record).empty() ||
        checkpoint_from_record(record) != cp) {
      found(VerifyProblem::kHeadNotInChain, cp.size + 1,
            source + ": its checkpoint is not " + seq_text(cp.size + 1) + " of the chain");
    }
  }

  void check_head_file() {
    const auto path = head_file_path(db_path_);
    std::optional<Checkpoint> head;
    try {
      head = read_head_file(path);
    } catch (const AuditError& e) {
      found(VerifyProblem::kHeadFileInvalid, 0, e.what());
    }
    if (!head) {
      if (options_.require_head_file) found(VerifyProblem::kHeadFileMissing, 0, "no head file " + path.string());
      if (report_.checkpoint_count > 0) {
        report_.notes.push_back("no head file: a cut tail of the database cannot be detected");
      }
      return;
    }
    check_signed_head(*head, "head file");
    report_.head_file_checked = true;
  }

  std::filesystem::path db_path_;
  const VerifyOptions& options_;
  VerifyReport& report_;
  sqlite::Connection conn_;
  crypto::PublicKey hub_key_{};
  int schema_version_ = 2;
  std::map<std::string, uint64_t> consuming_;  // grant id -> decision record seq
};

}  // namespace

VerifyReport verify_log(const std::filesystem::path& db_path, const VerifyOptions& options) {
  VerifyReport report;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_path, ec)) {
    report.problem = VerifyProblem::kCannotOpen;
    report.message = "audit: open " + db_path.string() + ": no such file";
    return report;
  }
  try {
    Verifier verifier(db_path, options, report);
    verifier.run();
    report.ok = true;
  } catch (const Found& f) {
    report.problem = f.problem;
    report.problem_seq = f.seq;
    report.message = f.message;
  } catch (const AuditError& e) {
    report.problem = VerifyProblem::kCannotOpen;
    report.message = e.what();
  }
  return report;
}

VerifyReport verify_log(const std::filesystem::path& db_path, const crypto::PublicKey& hub_key,
                        const std::optional<Checkpoint>& trusted_head) {
  VerifyOptions options;
  options.hub_key = hub_key;
  options.trusted_head = trusted_head;
  return verify_log(db_path, options);
}

}  // namespace latchkey::audit
