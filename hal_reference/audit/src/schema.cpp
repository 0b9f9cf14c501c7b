#include "schema.hpp"

#include <algorithm>
#include <array>

namespace latchkey::audit::schema {

namespace {

constexpr std::array<const char*, 14> kColumnNames = {
    "seq",    "wall_ms",        "mono_ns",   "type", "rule", "door_id", "subject",
    "detail", "consumes_grant", "prev_hash", "hash", "kind", "value",   "format"};

bool read_digest(const sqlite::Statement& row, int column, Digest& out) {
  if (row.column_type(column) != SQLITE_BLOB) return false;
  const auto blob = row.column_blob(column);
  if (blob.size() != out.size()) return false;
  std::copy(blob.begin(), blob.end(), out.begin());
  return true;
}

}  // namespace

std::string read_record(const sqlite::Statement& row, AuditRecord& record) {
  for (int column = 0; column < 3; ++column) {
    if (row.column_type(column) != SQLITE_INTEGER) {
      return std::string("column ") + kColumnNames[static_cast<std::size_t>(column)] + " is not an integer";
    }
  }
  for (int column = 3; column < 9; ++column) {
    if (row.column_type(column) != SQLITE_TEXT) {
      return std::string("column ") + kColumnNames[static_cast<std::size_t>(column)] + " is not text";
    }
  }
  if (row.column_type(11) != SQLITE_TEXT) return "column kind is not text";
  for (int column = 12; column < 14; ++column) {
    if (row.column_type(column) != SQLITE_INTEGER) {
      return std::string("column ") + kColumnNames[static_cast<std::size_t>(column)] + " is not an integer";
    }
  }
  const std::string rule = row.column_text(4);
  const auto parsed_rule = rule_from_name(rule);
  if (!parsed_rule) return "column rule names no rule of docs/rules.md: '" + rule.substr(0, 16) + "'";
  const std::string kind = row.column_text(11);
  const auto parsed_kind = record_kind_from_name(kind);
  if (!parsed_kind) return "column kind names no record kind: '" + kind.substr(0, 32) + "'";
  const int64_t format = row.column_int(13);
  if (format != 1 && format != 2) return "column format is " + std::to_string(format) + ", not 1 or 2";
  record.format = static_cast<uint8_t>(format);
  record.entry.kind = *parsed_kind;
  record.entry.value = row.column_int(12);
  if (format == 1 && (record.entry.kind != RecordKind::kNone || record.entry.value != 0))
    return "a format-1 record carries a kind or a value (format 1 has neither)";
  record.seq = static_cast<uint64_t>(row.column_int(0));
  record.wall_ms = row.column_int(1);
  record.mono_ns = row.column_int(2);
  record.entry.type = row.column_text(3);
  record.entry.rule = *parsed_rule;
  record.entry.door_id = row.column_text(5);
  record.entry.subject = row.column_text(6);
  record.entry.detail = row.column_text(7);
  record.consumes_grant = row.column_text(8);
  if (!read_digest(row, 9, record.prev_hash)) return "column prev_hash is not a 32-byte blob";
  if (!read_digest(row, 10, record.hash)) return "column hash is not a 32-byte blob";
  return {};
}

}  // namespace latchkey::audit::schema
