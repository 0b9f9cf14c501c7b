// The audit database's tables and the one way records are read back, shared
// by AuditLog and verify_log.
#ifndef LATCHKEY_AUDIT_SRC_SCHEMA_HPP
#define LATCHKEY_AUDIT_SRC_SCHEMA_HPP

#include "sqlite.hpp"

#include <latchkey/audit/record.hpp>

#include <string>
#include <string_view>

namespace latchkey::audit::schema {

// meta: schema_version, hub_public_key (hex). records: the chain.
// consumed_grants: one row per consumed grant, naming its decision record.
// Schema 2 added kind, value and format to records (record.hpp); kMigrate1To2
// turns a schema-1 log into a schema-2 one whose old rows are format 1.
inline constexpr std::string_view kCreate = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records(
  seq INTEGER PRIMARY KEY,
  wall_ms INTEGER NOT NULL,
  mono_ns INTEGER NOT NULL,
  type TEXT NOT NULL,
  rule TEXT NOT NULL,
  door_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL,
  consumes_grant TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  kind TEXT NOT NULL DEFAULT '',
  value INTEGER NOT NULL DEFAULT 0,
  format INTEGER NOT NULL DEFAULT 1);
CREATE INDEX records_checkpoints ON records(seq) WHERE type = 'checkpoint';
CREATE INDEX records_consuming ON records(consumes_grant) WHERE consumes_grant <> '';
CREATE TABLE consumed_grants(grant_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
)sql";

inline constexpr std::string_view kMigrate1To2 = R"sql(
ALTER TABLE records ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN value INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

inline constexpr std::string_view kMetaSchemaVersion = "schema_version";
inline constexpr std::string_view kMetaHubKey = "hub_public_key";

// Columns in the order read_record expects (schema 2).
inline constexpr std::string_view kRecordColumns =
    "seq, wall_ms, mono_ns, type, rule, door_id, subject, detail, consumes_grant, prev_hash, hash, kind, value, format";
// The same read from a schema-1 log (lk-audit-verify reads one as it is).
inline constexpr std::string_view kRecordColumnsV1 =
    "seq, wall_ms, mono_ns, type, rule, door_id, subject, detail, consumes_grant, prev_hash, hash, '' AS kind, "
    "0 AS value, 1 AS format";

// Reads the current row of a statement selecting kRecordColumns. Returns an
// empty string, or what is malformed (a column of the wrong type or size).
std::string read_record(const sqlite::Statement& row, AuditRecord& record);

}  // namespace latchkey::audit::schema

#endif  // LATCHKEY_AUDIT_SRC_SCHEMA_HPP
