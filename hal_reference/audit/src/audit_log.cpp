#include "schema.hpp"
#include "sqlite.hpp"

#include <latchkey/audit/audit_log.hpp>

#include <sodium.h>

#include <algorithm>

namespace latchkey::audit {

namespace {

// Internal signal from write_records to commit_decision (G3, I2).
struct GrantAlreadyConsumed {};

std::string check_entry(const AuditEntry& entry) {
  if (entry.type.empty()) return "entry type is empty";
  for (const std::string* field : {&entry.type, &entry.rule, &entry.door_id, &entry.subject, &entry.detail}) {
    if (field->size() > kMaxFieldBytes) return "entry field longer than " + std::to_string(kMaxFieldBytes) + " bytes";
  }
  return {};
}

std::string seq_text(uint64_t seq) { return "seq " + std::to_string(seq); }

}  // namespace

// The connection and its prepared statements. Statements are prepared once
// the schema exists and are finalized before the connection closes.
class AuditLog::Db {
 public:
  Db(const std::filesystem::path& path, const OpenOptions& options)
      : conn(path, sqlite::Connection::Mode::kReadWriteCreate) {
    conn.exec("PRAGMA busy_timeout = " + std::to_string(std::max(0, options.busy_timeout_ms)), "set busy timeout");
    sqlite::Statement wal(conn, "PRAGMA journal_mode = WAL");
    if (!wal.step("enable WAL") || wal.column_text(0) != "wal") {
      throw AuditError("audit: enable WAL (" + path.string() + "): journal mode stays " + wal.column_text(0));
    }
    wal.reset();
    // FULL: a WAL commit is fsynced before COMMIT returns (A3).
    conn.exec("PRAGMA synchronous = FULL", "set synchronous=FULL");
  }

  void prepare() {
    const std::string columns(schema::kRecordColumns);
    insert_record = std::make_unique<sqlite::Statement>(
        conn, "INSERT INTO records(" + columns + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    insert_consumed =
        std::make_unique<sqlite::Statement>(conn, "INSERT INTO consumed_grants(grant_id, seq) VALUES (?1, ?2)");
    find_consumed = std::make_unique<sqlite::Statement>(conn, "SELECT seq FROM consumed_grants WHERE grant_id = ?1");
    all_consumed =
        std::make_unique<sqlite::Statement>(conn, "SELECT grant_id, seq FROM consumed_grants ORDER BY seq, grant_id");
    max_seq = std::make_unique<sqlite::Statement>(conn, "SELECT max(seq) FROM records");
    records_from = std::make_unique<sqlite::Statement>(
        conn, "SELECT " + columns + " FROM records WHERE seq >= ?1 ORDER BY seq LIMIT ?2");
    record_at = std::make_unique<sqlite::Statement>(conn, "SELECT " + columns + " FROM records WHERE seq = ?1");
  }

  void rollback_if_open() noexcept {
    if (sqlite3_get_autocommit(conn.handle()) == 0) sqlite3_exec(conn.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }

  uint64_t read_max_seq() {
    uint64_t seq = 0;
    if (max_seq->step("read last seq")) seq = static_cast<uint64_t>(max_seq->column_int(0));
    max_seq->reset();
    return seq;
  }

  std::optional<AuditRecord> read_record_at(uint64_t seq, const char* operation) {
    record_at->bind(1, static_cast<int64_t>(seq));
    std::optional<AuditRecord> record;
    if (record_at->step(operation)) {
      record.emplace();
      const std::string malformed = schema::read_record(*record_at, *record);
      if (!malformed.empty()) {
        record_at->reset();
        throw AuditError(std::string("audit: ") + operation + ": record " + std::to_string(seq) + ": " + malformed);
      }
    }
    record_at->reset();
    return record;
  }

  // Declared first so that it is destroyed last, after every statement.
  sqlite::Connection conn;
  std::unique_ptr<sqlite::Statement> insert_record;
  std::unique_ptr<sqlite::Statement> insert_consumed;
  std::unique_ptr<sqlite::Statement> find_consumed;
  std::unique_ptr<sqlite::Statement> all_consumed;
  std::unique_ptr<sqlite::Statement> max_seq;
  std::unique_ptr<sqlite::Statement> records_from;
  std::unique_ptr<sqlite::Statement> record_at;
};

AuditLog::AuditLog(std::filesystem::path path, const crypto::KeyPair& hub_key)
    : path_(std::move(path)), head_path_(head_file_path(path_)), hub_key_(hub_key) {}

AuditLog::~AuditLog() { sodium_memzero(hub_key_.secret_key.data(), hub_key_.secret_key.size()); }

std::unique_ptr<AuditLog> AuditLog::open(const std::filesystem::path& path, const crypto::KeyPair& hub_key,
                                         const OpenOptions& options) {
  std::unique_ptr<AuditLog> log(new AuditLog(path, hub_key));
  log->db_ = std::make_unique<Db>(path, options);
  log->create_or_check_schema();
  log->db_->prepare();
  log->verify_tail();
  log->reconcile_head_file();
  return log;
}

void AuditLog::create_or_check_schema() {
  sqlite::Connection& conn = db_->conn;
  conn.exec("BEGIN IMMEDIATE", "begin schema transaction");
  try {
    sqlite::Statement tables(conn, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
    std::vector<std::string> names;
    while (tables.step("read schema")) names.push_back(tables.column_text(0));
    tables.reset();
    if (names.empty()) {
      conn.exec(schema::kCreate, "create schema");
      sqlite::Statement meta(conn, "INSERT INTO meta(key, value) VALUES (?1, ?2)");
      meta.bind(1, schema::kMetaSchemaVersion).bind(2, std::to_string(kSchemaVersion)).run("write schema version");
      meta.bind(1, schema::kMetaHubKey).bind(2, crypto::to_hex(hub_key_.public_key)).run("write hub key");
    } else {
      const std::vector<std::string> expected = {"consumed_grants", "meta", "records"};
      if (names != expected) throw AuditError("audit: open " + path_.string() + ": not an audit log (unexpected tables)");
      sqlite::Statement meta(conn, "SELECT value FROM meta WHERE key = ?1");
      meta.bind(1, schema::kMetaSchemaVersion);
      const std::string version = meta.step("read schema version") ? meta.column_text(0) : "";
      meta.reset();
      if (version != std::to_string(kSchemaVersion)) {
        throw AuditError("audit: open " + path_.string() + ": schema version '" + version + "', expected " +
                         std::to_string(kSchemaVersion));
      }
      meta.bind(1, schema::kMetaHubKey);
      const std::string key = meta.step("read hub key") ? meta.column_text(0) : "";
      meta.reset();
      if (key != crypto::to_hex(hub_key_.public_key)) {
        throw AuditError("audit: open " + path_.string() + ": the log belongs to hub key " + key +
                         ", not to this hub's key " + crypto::to_hex(hub_key_.public_key));
      }
    }
    conn.exec("COMMIT", "commit schema transaction");
  } catch (...) {
    db_->rollback_if_open();
    throw;
  }
}

void AuditLog::verify_tail() {
  sqlite::Connection& conn = db_->conn;
  const auto refuse = [&](uint64_t seq, const std::string& why) {
    throw AuditError("audit: open " + path_.string() + ": the chain does not verify at " + seq_text(seq) + ": " +
                     why + " (run lk-audit-verify; the log stays closed for writing)");
  };
  uint64_t last_checkpoint = 0;
  {
    sqlite::Statement stmt(conn, "SELECT max(seq) FROM records WHERE type = 'checkpoint'");
    if (stmt.step("find last checkpoint")) last_checkpoint = static_cast<uint64_t>(stmt.column_int(0));
  }
  // From the last signed checkpoint on (or from the start when there is
  // none): every link, hash and seq, and that checkpoint's signature.
  uint64_t expected = std::max<uint64_t>(last_checkpoint, 1);
  Digest prev = kGenesisHash;
  bool first = true;
  sqlite::Statement rows(conn, "SELECT " + std::string(schema::kRecordColumns) +
                                   " FROM records WHERE seq >= ?1 ORDER BY seq");
  rows.bind(1, static_cast<int64_t>(expected));
  while (rows.step("read tail")) {
    AuditRecord record;
    const std::string malformed = schema::read_record(rows, record);
    if (!malformed.empty()) refuse(expected, malformed);
    if (record.seq != expected) refuse(expected, "record missing (next is " + seq_text(record.seq) + ")");
    if (first && last_checkpoint > 1) {
      prev = record.prev_hash;  // vouched for by the checkpoint's signature below
    }
    first = false;
    if (record.prev_hash != prev) refuse(record.seq, "prev_hash is not the previous record's hash");
    if (compute_record_hash(record) != record.hash) refuse(record.seq, "record hash does not match its fields");
    if (record.entry.type == kCheckpointType) {
      const auto cp = checkpoint_from_record(record);
      if (!cp) refuse(record.seq, "malformed checkpoint");
      if (cp->size + 1 != record.seq || cp->head != record.prev_hash) {
        refuse(record.seq, "checkpoint does not match the chain");
      }
      if (!verify_checkpoint(*cp, hub_key_.public_key)) refuse(record.seq, "checkpoint signature does not verify");
    }
    prev = record.hash;
    ++expected;
  }
  tail_seq_ = expected - 1;
  tail_hash_ = prev;
  if (last_checkpoint == 0 && tail_seq_ == 0) tail_hash_ = kGenesisHash;
  const uint64_t max_seq = db_->read_max_seq();
  if (max_seq != tail_seq_) refuse(tail_seq_ + 1, "seq out of order");

  // I2: consumed grants and their decision records must match both ways.
  sqlite::Statement orphan_rows(conn,
                                "SELECT c.grant_id, c.seq FROM consumed_grants c LEFT JOIN records r ON r.seq = c.seq "
                                "WHERE r.seq IS NULL OR r.consumes_grant IS NOT c.grant_id OR r.type IS NOT 'decision' "
                                "LIMIT 1");
  if (orphan_rows.step("check consumed grants")) {
    refuse(static_cast<uint64_t>(orphan_rows.column_int(1)),
           "consumed grant " + orphan_rows.column_text(0) + " has no decision record");
  }
  sqlite::Statement lost_rows(conn,
                              "SELECT r.seq, r.consumes_grant FROM records r LEFT JOIN consumed_grants c "
                              "ON c.grant_id = r.consumes_grant WHERE r.consumes_grant <> '' "
                              "AND (c.grant_id IS NULL OR c.seq IS NOT r.seq) LIMIT 1");
  if (lost_rows.step("check decision records")) {
    refuse(static_cast<uint64_t>(lost_rows.column_int(0)),
           "grant " + lost_rows.column_text(1) + " consumed by this record is missing from consumed_grants");
  }
}

void AuditLog::reconcile_head_file() {
  const auto refuse = [&](const std::string& why) {
    throw AuditError("audit: open " + path_.string() + ": head file " + head_path_.string() + ": " + why +
                     " (run lk-audit-verify; the log stays closed for writing)");
  };
  const std::optional<Checkpoint> head = read_head_file(head_path_);
  if (head) {
    if (!verify_checkpoint(*head, hub_key_.public_key)) refuse("signature does not verify");
    if (head->size + 1 > tail_seq_) {
      refuse("signed checkpoint covers " + std::to_string(head->size) + " records plus itself, the database holds " +
             std::to_string(tail_seq_) + ": the database lost its tail");
    }
    const auto record = db_->read_record_at(head->size + 1, "read head checkpoint record");
    if (!record || compute_record_hash(*record) != record->hash || checkpoint_from_record(*record) != head) {
      refuse("its checkpoint is not record " + std::to_string(head->size + 1) + " of the chain");
    }
    if (head->size > 0) {
      const auto covered = db_->read_record_at(head->size, "read head record");
      if (!covered || covered->hash != head->head) refuse("record " + std::to_string(head->size) + " differs");
    }
  }
  // A crash between committing a checkpoint record and replacing the head
  // file leaves the file behind the chain: bring it up to date.
  sqlite::Statement stmt(db_->conn, "SELECT max(seq) FROM records WHERE type = 'checkpoint'");
  const uint64_t last_checkpoint = stmt.step("find last checkpoint") ? static_cast<uint64_t>(stmt.column_int(0)) : 0;
  stmt.reset();
  if (last_checkpoint > 0 && (!head || head->size + 1 < last_checkpoint)) {
    const auto record = db_->read_record_at(last_checkpoint, "read last checkpoint");
    const auto cp = record ? checkpoint_from_record(*record) : std::nullopt;
    if (!cp) refuse("last checkpoint record unreadable");
    write_head_file(head_path_, *cp);
  }
}

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
          .bind(5, e.rule)
          .bind(6, e.door_id)
          .bind(7, e.subject)
          .bind(8, e.detail)
          .bind(9, record.consumes_grant)
          .bind_blob(10, record.prev_hash)
          .bind_blob(11, record.hash)
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
  DecisionCommit result;
  std::string invalid = check_entry(entry);
  if (invalid.empty() && entry.type != "decision") invalid = "entry type is '" + entry.type + "', not 'decision'";
  if (invalid.empty() && grant_id.empty()) invalid = "grant id is empty";
  if (invalid.empty() && grant_id.size() > kMaxFieldBytes) invalid = "grant id too long";
  if (!invalid.empty()) {
    result.status = DecisionCommit::Status::kInvalidEntry;
    result.error = "audit: commit decision: " + invalid;
    return result;
  }
  try {
    result.seq = write_records(std::span<const AuditEntry>(&entry, 1), grant_id, wall_ms, mono_ns);
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
  const AuditEntry entry{std::string(kCheckpointType), "A2", "", "", checkpoint_detail(cp)};
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
