// AuditLog: appends, decision commits, reads, checkpoints and close.
#include "audit_log_db.hpp"

#include <latchkey/audit/audit_log.hpp>

#include <sodium.h>

#include <algorithm>

namespace latchkey::audit {

namespace {

// Internal signal from write_records to commit_decision (G3, I2).
struct GrantAlreadyConsumed {};

std::string check_entry(const AuditEntry& entry) {
  if (entry.type.empty()) return "entry type is empty";
  for (const std::string* field : {&entry.type, &entry.door_id, &entry.subject, &entry.detail}) {
    if (field->size() > kMaxFieldBytes) return "entry field longer than " + std::to_string(kMaxFieldBytes) + " bytes";
  }
  if (!rule_from_name(name(entry.rule))) return "entry names no rule of docs/rules.md";
  if (!record_kind_from_name(name(entry.kind))) return "entry has an unknown kind";
  return {};
}

}  // namespace

AuditLog::AuditLog(std::filesystem::path path, const crypto::KeyPair& hub_key)
    : path_(std::move(path)), head_path_(head_file_path(path_)), hub_key_(hub_key) {}

AuditLog::~AuditLog() { sodium_memzero(hub_key_.secret_key.data(), hub_key_.secret_key.size()); }

void AuditLog::require_open(const char* operation) const {
  if (!db_) throw AuditError(std::string("audit: ") + operation + " (" + path_.string() + "): the log is closed");
}

uint64_t AuditLog::write_records(std::span<const AuditEntry> entries, const std::string& grant_id, int64_t wall_ms,
                                 int64_t mono_ns) {
  require_open("append");
  Db& db = *db_;
  db.conn.exec("BEGIN IMMEDIATE", "begin append transaction");
  uint64_t seq = tail_seq_;
  Digest prev = tail_hash_;
  try {
    // One writer per file: if someone else extended the chain, ours is stale.
    if (db.read_max_seq() != tail_seq_) {
      throw AuditError("audit: append (" + path_.string() + "): the log changed since this process last wrote " +
                       "(another writer, or a failed commit that landed); reopen it");
    }
    if (!grant_id.empty()) {
      db.find_consumed->bind(1, grant_id);
      const bool consumed = db.find_consumed->step("check consumed grant");
      db.find_consumed->reset();
      if (consumed) throw GrantAlreadyConsumed{};
    }
    for (std::size_t i = 0; i < entries.size(); ++i) {
      AuditRecord record;
      record.seq = ++seq;
      record.wall_ms = wall_ms;
      record.mono_ns = mono_ns;
      record.entry = entries[i];
      if (i + 1 == entries.size()) record.consumes_grant = grant_id;
      record.prev_hash = prev;
      record.hash = compute_record_hash(record);
      const AuditEntry& e = record.entry;
      db.insert_record->bind(1, static_cast<int64_t>(record.seq))
          .bind(2, record.wall_ms)
          .bind(3, record.mono_ns)
          .bind(4, e.type)
          .bind(5, name(e.rule))
          .bind(6, e.door_id)
          .bind(7, e.subject)
          .bind(8, e.detail)
          .bind(9, record.consumes_grant)
          .bind_blob(10, record.prev_hash)
          .bind_blob(11, record.hash)
          .bind(12, name(e.kind))
          .bind(13, e.value)
          .bind(14, static_cast<int64_t>(record.format))
          .run("insert record");
      prev = record.hash;
    }
    if (!grant_id.empty()) {
      db.insert_consumed->bind(1, grant_id).bind(2, static_cast<int64_t>(seq)).run("insert consumed grant");
    }
    if (injected_commit_failures_ > 0) {
      --injected_commit_failures_;
      throw AuditError("audit: commit (" + path_.string() + "): injected storage failure");
    }
    db.conn.exec("COMMIT", "commit");
  } catch (...) {
    db.rollback_if_open();
    throw;
  }
  const uint64_t first = tail_seq_ + 1;
  tail_seq_ = seq;
  tail_hash_ = prev;
  return first;
}

uint64_t AuditLog::append(const AuditEntry& entry, int64_t wall_ms, int64_t mono_ns) {
  return append_batch(std::span<const AuditEntry>(&entry, 1), wall_ms, mono_ns);
}

uint64_t AuditLog::append_batch(std::span<const AuditEntry> entries, int64_t wall_ms, int64_t mono_ns) {
  require_open("append");
  if (entries.empty()) return 0;
  for (const AuditEntry& entry : entries) {
    std::string invalid = check_entry(entry);
    if (invalid.empty() && entry.type == kCheckpointType) invalid = "type 'checkpoint' is reserved for the log";
    if (!invalid.empty()) throw AuditError("audit: append (" + path_.string() + "): " + invalid);
  }
  return write_records(entries, {}, wall_ms, mono_ns);
}

DecisionCommit AuditLog::commit_decision(const AuditEntry& entry, const std::string& grant_id, int64_t wall_ms,
                                         int64_t mono_ns) {
  return commit_decision({}, entry, grant_id, wall_ms, mono_ns);
}

DecisionCommit AuditLog::commit_decision(std::span<const AuditEntry> preceding, const AuditEntry& entry,
                                         const std::string& grant_id, int64_t wall_ms, int64_t mono_ns) {
  DecisionCommit result;
  std::string invalid;
  for (const AuditEntry& e : preceding) {
    if (invalid.empty()) invalid = check_entry(e);
    if (invalid.empty() && e.type == kCheckpointType) invalid = "type 'checkpoint' is reserved for the log";
  }
  if (invalid.empty()) invalid = check_entry(entry);
  if (invalid.empty() && entry.type != "decision") invalid = "entry type is '" + entry.type + "', not 'decision'";
  if (invalid.empty() && grant_id.empty()) invalid = "grant id is empty";
  if (invalid.empty() && grant_id.size() > kMaxFieldBytes) invalid = "grant id too long";
  if (!invalid.empty()) {
    result.status = DecisionCommit::Status::kInvalidEntry;
    result.error = "audit: commit decision: " + invalid;
    return result;
  }
  try {
    std::vector<AuditEntry> all(preceding.begin(), preceding.end());
    all.push_back(entry);
    const uint64_t first = write_records(all, grant_id, wall_ms, mono_ns);
    result.first_seq = first;
    result.seq = first + preceding.size();
    result.status = DecisionCommit::Status::kCommitted;
  } catch (const GrantAlreadyConsumed&) {
    result.status = DecisionCommit::Status::kAlreadyConsumed;
    result.error = "audit: commit decision: grant " + grant_id + " is already consumed (G3)";
  } catch (const std::exception& e) {
    result.status = DecisionCommit::Status::kStorageFailed;
    result.error = e.what();
  }
  return result;
}

bool AuditLog::is_consumed(const std::string& grant_id) {
  require_open("is_consumed");
  db_->find_consumed->bind(1, grant_id);
  const bool consumed = db_->find_consumed->step("check consumed grant");
  db_->find_consumed->reset();
  return consumed;
}

std::vector<ConsumedGrant> AuditLog::consumed_grants() {
  require_open("consumed_grants");
  std::vector<ConsumedGrant> out;
  while (db_->all_consumed->step("read consumed grants")) {
    out.push_back({db_->all_consumed->column_text(0), static_cast<uint64_t>(db_->all_consumed->column_int(1))});
  }
  db_->all_consumed->reset();
  return out;
}

std::vector<AuditRecord> AuditLog::records(uint64_t from_seq, std::size_t limit) {
  require_open("records");
  std::vector<AuditRecord> out;
  if (limit == 0) return out;
  sqlite::Statement& stmt = *db_->records_from;
  const auto max_limit = static_cast<std::size_t>(std::numeric_limits<int64_t>::max());
  stmt.bind(1, static_cast<int64_t>(std::min<uint64_t>(from_seq, static_cast<uint64_t>(max_limit))))
      .bind(2, static_cast<int64_t>(std::min(limit, max_limit)));
  try {
    while (stmt.step("read records")) {
      AuditRecord record;
      const std::string malformed = schema::read_record(stmt, record);
      if (!malformed.empty()) {
        throw AuditError("audit: read records (" + path_.string() + "): record " +
                         std::to_string(stmt.column_int(0)) + ": " + malformed);
      }
      out.push_back(std::move(record));
    }
  } catch (...) {
    stmt.reset();
    throw;
  }
  stmt.reset();
  return out;
}

Checkpoint AuditLog::checkpoint(int64_t wall_ms, int64_t mono_ns) {
  require_open("checkpoint");
  Checkpoint cp;
  cp.size = tail_seq_;
  cp.head = tail_hash_;
  cp.wall_ms = wall_ms;
  cp.mono_ns = mono_ns;
  sign_checkpoint(cp, hub_key_.secret_key);
  const AuditEntry entry{std::string(kCheckpointType), Rule::A2, "", "", checkpoint_detail(cp)};
  write_records(std::span<const AuditEntry>(&entry, 1), {}, wall_ms, mono_ns);
  // After the record is durable, so the head file never runs ahead of the chain.
  write_head_file(head_path_, cp);
  return cp;
}

void AuditLog::close(int64_t wall_ms, int64_t mono_ns) {
  require_open("close");
  try {
    checkpoint(wall_ms, mono_ns);
  } catch (...) {
    db_.reset();
    throw;
  }
  db_.reset();
}

}  // namespace latchkey::audit
