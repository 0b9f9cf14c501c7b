#include <latchkey/audit/record.hpp>

#include <stdexcept>
#include <string>

namespace latchkey::audit {

namespace {

void put_u64(crypto::Bytes& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

void put_u32(crypto::Bytes& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

// Length-prefixed, so no choice of field contents can make two different
// records encode alike. Fields longer than 4 GiB cannot be stored anyway
// (kMaxFieldBytes bounds what the log accepts).
void put_field(crypto::Bytes& out, std::string_view field) {
  put_u32(out, static_cast<uint32_t>(field.size()));
  out.insert(out.end(), field.begin(), field.end());
}

}  // namespace

crypto::Bytes encode_record(const AuditRecord& record) {
  const AuditEntry& e = record.entry;
  if (record.format != 1 && record.format != 2)
    throw std::invalid_argument("audit record " + std::to_string(record.seq) + ": unknown format " +
                                std::to_string(record.format));
  if (record.format == 1 && (e.kind != RecordKind::kNone || e.value != 0))
    throw std::invalid_argument("audit record " + std::to_string(record.seq) +
                                ": format 1 cannot hold a kind or a value");
  const std::string_view rule = name(e.rule);
  const std::string_view kind = name(e.kind);
  crypto::Bytes out;
  out.reserve(4 * 8 + kRecordDomain.size() + 32 + e.type.size() + rule.size() + e.door_id.size() +
              e.subject.size() + e.detail.size() + record.consumes_grant.size() + kind.size() +
              record.prev_hash.size());
  put_field(out, record.format == 1 ? kRecordDomainV1 : kRecordDomain);
  put_u64(out, record.seq);
  put_u64(out, static_cast<uint64_t>(record.wall_ms));
  put_u64(out, static_cast<uint64_t>(record.mono_ns));
  put_field(out, e.type);
  put_field(out, rule);
  put_field(out, e.door_id);
  put_field(out, e.subject);
  put_field(out, e.detail);
  put_field(out, record.consumes_grant);
  if (record.format == 2) {
    put_field(out, kind);
    put_u64(out, static_cast<uint64_t>(e.value));
  }
  out.insert(out.end(), record.prev_hash.begin(), record.prev_hash.end());
  return out;
}

Digest compute_record_hash(const AuditRecord& record) { return crypto::blake2b256(encode_record(record)); }

}  // namespace latchkey::audit
