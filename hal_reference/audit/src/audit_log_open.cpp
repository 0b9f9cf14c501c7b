// AuditLog::open: creating the schema or checking it, verifying the tail of
// the chain and reconciling the head file before the first write.
#include "audit_log_db.hpp"

#include <latchkey/audit/audit_log.hpp>

namespace latchkey::audit {

namespace {

std::string seq_text(uint64_t seq) { return "seq " + std::to_string(seq); }

}  // namespace

std::unique_ptr<AuditLog> AuditLog::open(const std::filesystem::path& path, const crypto::KeyPair& hub_key,
                                         const OpenOptions& options) {
  std::unique_ptr<AuditLog> log(new AuditLog(path, hub_key));
  log->db_ = std::make_unique<Db>(path, options);
  log->create_or_check_schema();
  log->db_->prepare();
  log->verify_chain(options);
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
      if (version == "1") {
        conn.exec(schema::kMigrate1To2, "migrate schema 1 to 2");
      } else if (version != std::to_string(kSchemaVersion)) {
        throw AuditError("audit: open " + path_.string() + ": schema version '" + version + "', expected 1 or " +
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

void AuditLog::verify_chain(const OpenOptions& options) {
  sqlite::Connection& conn = db_->conn;
  const auto refuse = [&](uint64_t seq, const std::string& why) {
    throw AuditChainError("audit: open " + path_.string() + ": the chain does not verify at " + seq_text(seq) + ": " +
                              why + " (run lk-audit-verify; the log stays closed for writing)",
                          seq);
  };
  // The whole chain, every time (A2, G3): a record changed or deleted before
  // the last checkpoint must not slip through, and the consumed set the hub
  // starts from must come from records that verify.
  uint64_t expected = 1;
  Digest prev = kGenesisHash;
  sqlite::Statement rows(conn, "SELECT " + std::string(schema::kRecordColumns) + " FROM records ORDER BY seq");
  while (rows.step("read chain")) {
    AuditRecord record;
    const std::string malformed = schema::read_record(rows, record);
    if (!malformed.empty()) refuse(expected, malformed);
    if (record.seq != expected) refuse(expected, "record missing (next is " + seq_text(record.seq) + ")");
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
    if (options.on_verified_record) options.on_verified_record(record);
    prev = record.hash;
    ++expected;
  }
  tail_seq_ = expected - 1;
  tail_hash_ = prev;
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
    throw AuditChainError("audit: open " + path_.string() + ": head file " + head_path_.string() + ": " + why +
                              " (run lk-audit-verify; the log stays closed for writing)",
                          0);
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

}  // namespace latchkey::audit
