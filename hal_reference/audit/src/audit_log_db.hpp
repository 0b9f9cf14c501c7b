// AuditLog's SQLite connection and prepared statements, shared by the
// files that implement AuditLog (opening, writing and reading).
#ifndef LATCHKEY_AUDIT_SRC_AUDIT_LOG_DB_HPP
#define LATCHKEY_AUDIT_SRC_AUDIT_LOG_DB_HPP

#include "schema.hpp"
#include "sqlite.hpp"

#include <latchkey/audit/audit_log.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

namespace latchkey::audit {

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
        conn, "INSERT INTO records(" + columns + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    insert_consumed =
        std::make_unique<sqlite::Statement>(conn, "INSERT INTO consumed_grants(grant_id, seq) VALUES (?1, ?2)");
    find_consumed = std::make_unique<sqlite::Statement>(conn, "SELECT seq FROM consumed_grants WHERE grant_id = ?1");
    // G3: the consumed set follows from the (verified) decision records.
    all_consumed = std::make_unique<sqlite::Statement>(
        conn, "SELECT consumes_grant, seq FROM records WHERE consumes_grant <> '' ORDER BY seq");
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

}  // namespace latchkey::audit

#endif  // LATCHKEY_AUDIT_SRC_AUDIT_LOG_DB_HPP
