// Signed checkpoints of the audit chain and the head file beside the log (A2).
//
// A checkpoint says "the log held `size` records and record `size` had hash
// `head`", at the given hub times, signed by the hub key under the domain
// kCheckpointDomain. The log stores it twice:
//  - as a record of type "checkpoint" (rule "A2") with seq size + 1, its times
//    equal to the checkpoint's and its detail checkpoint_detail(cp);
//  - in the head file `<db>.head`, replaced atomically (temp file, fsync,
//    rename, fsync of the directory) after the record commits. The head file
//    therefore never runs ahead of the database; a database with fewer than
//    size + 1 records, or whose record size + 1 is not this checkpoint, has
//    lost its tail.
//
// Signed message (big-endian): u64 size || head (32 bytes) || i64 wall_ms || i64 mono_ns.
#ifndef LATCHKEY_AUDIT_CHECKPOINT_HPP
#define LATCHKEY_AUDIT_CHECKPOINT_HPP

#include <latchkey/audit/audit_error.hpp>
#include <latchkey/audit/record.hpp>
#include <latchkey/crypto/crypto.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::audit {

inline constexpr std::string_view kCheckpointDomain = "latchkey.audit.checkpoint.v1";

struct Checkpoint {
  uint64_t size = 0;   // records covered: seq 1 .. size
  Digest head{};       // hash of record `size`, kGenesisHash when size is 0
  int64_t wall_ms = 0;
  int64_t mono_ns = 0;
  crypto::Signature signature{};

  bool operator==(const Checkpoint&) const = default;
};

crypto::Bytes checkpoint_message(const Checkpoint& cp);
// Fills cp.signature with the hub's signature over checkpoint_message(cp).
void sign_checkpoint(Checkpoint& cp, const crypto::SecretKey& hub_secret_key);
bool verify_checkpoint(const Checkpoint& cp, const crypto::PublicKey& hub_public_key);

// The detail of a checkpoint record: {"size":N,"head":"<hex>","sig":"<hex>"}.
std::string checkpoint_detail(const Checkpoint& cp);
// The checkpoint a checkpoint record holds; nullopt unless `record` is of type
// "checkpoint" and its detail is exactly what checkpoint_detail would write.
std::optional<Checkpoint> checkpoint_from_record(const AuditRecord& record);

// Head file text: "latchkey-audit-head v1" then one "key value" line each for
// size, head, wall_ms, mono_ns and signature (hex), newline-terminated.
std::string encode_head_file(const Checkpoint& cp);
std::optional<Checkpoint> parse_head_file(std::string_view text);

// `<db>.head`
std::filesystem::path head_file_path(const std::filesystem::path& db_path);
// nullopt when the file does not exist; throws AuditError when it exists but
// cannot be read or parsed.
std::optional<Checkpoint> read_head_file(const std::filesystem::path& path);
// Atomic replace: write `<path>.tmp`, fsync, rename over `path`, fsync the
// directory. Throws AuditError naming the step that failed.
void write_head_file(const std::filesystem::path& path, const Checkpoint& cp);

}  // namespace latchkey::audit

#endif  // LATCHKEY_AUDIT_CHECKPOINT_HPP
