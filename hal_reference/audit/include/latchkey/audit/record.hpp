// Audit records and their hash chain (A1, A2).
//
// A caller appends an AuditEntry; the log turns it into an AuditRecord by
// giving it the next sequence number, the times the caller passed in, the
// previous record's hash and its own hash. The hash is BLAKE2b-256 over the
// canonical encoding below, so changing any field of any record, or the
// order of records, breaks the chain.
//
// Canonical encoding of format 2, what the log writes (all integers
// big-endian; lp(x) = u32 length || bytes):
//   lp("latchkey.audit.record.v2")
//   u64 seq || i64 wall_ms || i64 mono_ns
//   lp(type) || lp(rule) || lp(door_id) || lp(subject) || lp(detail) || lp(consumes_grant)
//   lp(kind) || i64 value
//   prev_hash (32 bytes; 32 zero bytes for seq 1)
// Format 1, the records of logs written before kinds existed (schema 1), is
// the same without lp(kind) || i64 value and with the domain
// "latchkey.audit.record.v1"; such a record has no kind and value 0. A log
// of schema 1 is migrated at open (its records stay as they were, chained
// and checkpointed; new records are format 2).
#ifndef LATCHKEY_AUDIT_RECORD_HPP
#define LATCHKEY_AUDIT_RECORD_HPP

#include <latchkey/crypto/crypto.hpp>
#include <latchkey/rules/record_kind.hpp>
#include <latchkey/rules/rule.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::audit {

using crypto::Digest;

// What a caller appends. `type` names the kind of event: decision, session,
// alarm, attestation_rejected, plugin_fault, command, config, ... The type
// "checkpoint" is reserved for the log's own signed checkpoints.
struct AuditEntry {
  std::string type;
  Rule rule = Rule::kNone;  // the rule applied (docs/rules.md), stored by its name
  std::string door_id;      // empty when the event concerns no door
  std::string subject;      // grant id (hex), camera id, session id (hex), ...
  std::string detail;       // text for people: never read back to recover state
  RecordKind kind = RecordKind::kNone;  // what a restarted hub reads (record_kind.hpp)
  int64_t value = 0;                    // the kind's number, if it has one

  bool operator==(const AuditEntry&) const = default;
};

// A record as stored and chained.
struct AuditRecord {
  uint8_t format = 2;       // of the encoding: 2, or 1 for a record of a migrated schema-1 log
  uint64_t seq = 0;         // 1, 2, 3, ... without gaps
  int64_t wall_ms = 0;      // wall clock, Unix ms, as the caller passed it
  int64_t mono_ns = 0;      // hub monotonic clock, ns, as the caller passed it
  AuditEntry entry;
  std::string consumes_grant;  // the grant id this decision consumed (G3), else empty
  Digest prev_hash{};
  Digest hash{};

  bool operator==(const AuditRecord&) const = default;
};

inline constexpr std::string_view kRecordDomain = "latchkey.audit.record.v2";
inline constexpr std::string_view kRecordDomainV1 = "latchkey.audit.record.v1";
inline constexpr uint8_t kRecordFormat = 2;
inline constexpr std::string_view kCheckpointType = "checkpoint";
// Longest accepted value of any one text field, in bytes.
inline constexpr std::size_t kMaxFieldBytes = 1u << 20;
// prev_hash of record 1.
inline constexpr Digest kGenesisHash{};

// The canonical encoding above of the record's format, with its `hash`
// ignored. Throws std::invalid_argument for a format other than 1 or 2, and
// for a format-1 record with a kind or a value (format 1 cannot hold them).
crypto::Bytes encode_record(const AuditRecord& record);
// BLAKE2b-256 of encode_record(record): what record.hash must be.
Digest compute_record_hash(const AuditRecord& record);

}  // namespace latchkey::audit

#endif  // LATCHKEY_AUDIT_RECORD_HPP
