// AuditLog: the hub's tamper-evident, durable audit log (A1-A3, G3, U3, I2, I6).
//
// One SQLite database (WAL, synchronous=FULL) holds the hash-chained records
// (record.hpp), the consumed grants and the hub public key; signed checkpoints
// (checkpoint.hpp) go into the chain and into the head file `<db>.head`.
//
// Threads: an AuditLog owns one SQLite connection and is not thread-safe. Use
// it from one thread (the hub's event loop); other threads and processes may
// read the file with verify_log() or their own read-only connection. One
// AuditLog at a time may write a given file: each write transaction checks
// that nobody else extended the chain and fails if someone did.
//
// Durability: a write call (append, append_batch, commit_decision,
// checkpoint) returns only after its transaction committed with
// synchronous=FULL, so an acknowledged record survives a crash or power cut
// (A3). A failed write leaves the log as it was before the call.
//
// Errors: write calls and open throw AuditError (audit_error.hpp), except
// commit_decision, which reports failures in its DecisionCommit result.
#ifndef LATCHKEY_AUDIT_AUDIT_LOG_HPP
#define LATCHKEY_AUDIT_AUDIT_LOG_HPP

#include <latchkey/audit/audit_error.hpp>
#include <latchkey/audit/checkpoint.hpp>
#include <latchkey/audit/record.hpp>
#include <latchkey/crypto/crypto.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace latchkey::audit {

// Schema 2: records carry a kind and a value (record.hpp). open() migrates a
// schema-1 log in place (three columns added; its records keep format 1 and
// verify as they did), inside one transaction.
inline constexpr int kSchemaVersion = 2;

struct OpenOptions {
  // How long a write waits for another connection's lock before failing
  // with SQLITE_BUSY (a storage failure for U3).
  int busy_timeout_ms = 1000;
  // Called for every record, in seq order, as open() verifies it: what a hub
  // rebuilds from the log (consumed grants, open sessions, lockouts) comes
  // from verified records only. When open() then throws, the caller must
  // discard what it built.
  std::function<void(const AuditRecord&)> on_verified_record;
};

// A grant id consumed by the decision record `seq` (G3).
struct ConsumedGrant {
  std::string grant_id;
  uint64_t seq = 0;

  bool operator==(const ConsumedGrant&) const = default;
};

// The outcome of commit_decision. Only kCommitted allows an unlock (U3).
struct DecisionCommit {
  enum class Status {
    kCommitted,        // record and consumption durable; seq is the record's
    kAlreadyConsumed,  // G3/I2: nothing written
    kStorageFailed,    // U3: nothing written; stop granting until storage recovers
    kInvalidEntry,     // not a decision entry, empty grant id or a field too long: nothing written
  };
  Status status = Status::kStorageFailed;
  uint64_t seq = 0;        // the decision record's seq
  uint64_t first_seq = 0;  // the first record written (== seq without preceding records)
  std::string error;  // why, unless kCommitted

  bool committed() const { return status == Status::kCommitted; }
};

class AuditLog {
 public:
  // Creates the log at `path`, or reopens it. On reopen the stored hub key
  // must equal hub_key.public_key, the whole chain is verified from seq 1 to
  // the tail (hashes, links, seq without gaps, every checkpoint's signature;
  // about 0.5 s per 10^5 records, docs/performance.md), every consumed grant
  // must have its decision record and back, and the head file must not run
  // ahead of the database. A head file behind the database's last checkpoint
  // (a crash between the two writes) is brought up to date. A chain that
  // does not verify throws AuditChainError naming the record; other failures
  // throw AuditError. Either way the log stays closed for writing.
  static std::unique_ptr<AuditLog> open(const std::filesystem::path& path, const crypto::KeyPair& hub_key,
                                        const OpenOptions& options = {});

  // Closes the connection without a checkpoint (as a crash would); prefer close().
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one record; durable when it returns. Returns its seq.
  uint64_t append(const AuditEntry& entry, int64_t wall_ms, int64_t mono_ns);
  // Appends all entries in one transaction (one fsync), all with the same
  // times. Returns the seq of the first; the rest follow in order. An empty
  // span writes nothing and returns 0.
  uint64_t append_batch(std::span<const AuditEntry> entries, int64_t wall_ms, int64_t mono_ns);

  // U3/G3: appends the decision record (entry.type must be "decision") and
  // consumes grant_id in ONE transaction; the record carries the grant id in
  // consumes_grant. Never throws AuditError: an already consumed grant gives
  // kAlreadyConsumed, any storage error (or a closed log) kStorageFailed;
  // either way nothing is written and the caller must deny.
  DecisionCommit commit_decision(const AuditEntry& entry, const std::string& grant_id, int64_t wall_ms,
                                 int64_t mono_ns);
  // The same, with the records that came before the decision written first in
  // the same transaction (group commit: one fsync on the unlock path). On
  // any failure none of them is written.
  DecisionCommit commit_decision(std::span<const AuditEntry> preceding, const AuditEntry& entry,
                                 const std::string& grant_id, int64_t wall_ms, int64_t mono_ns);

  bool is_consumed(const std::string& grant_id);
  // Every consumed grant in seq order, read from the decision records (which
  // open() verified or this object wrote), not from the consumed_grants
  // table: what the gate engine starts from (F2, G3, I2).
  std::vector<ConsumedGrant> consumed_grants();

  // Records with seq >= from_seq in order, at most `limit` of them.
  std::vector<AuditRecord> records(uint64_t from_seq = 1,
                                   std::size_t limit = std::numeric_limits<std::size_t>::max());

  // A2: signs (size, head, times) with the hub key, appends it as a
  // checkpoint record, then replaces the head file. Returns the checkpoint.
  // The daemon calls it at least every 60 s and on close.
  Checkpoint checkpoint(int64_t wall_ms, int64_t mono_ns);

  // Writes a final checkpoint and closes the connection. Any later call
  // throws AuditError (commit_decision reports kStorageFailed).
  void close(int64_t wall_ms, int64_t mono_ns);

  uint64_t last_seq() const { return tail_seq_; }
  const Digest& head_hash() const { return tail_hash_; }
  const std::filesystem::path& path() const { return path_; }

  // Test hook for "no log, no unlock" (U3): the next `count` write
  // transactions fail at COMMIT as a storage error would and are rolled back.
  void inject_commit_failures(int count) { injected_commit_failures_ = count; }

 private:
  class Db;
  AuditLog(std::filesystem::path path, const crypto::KeyPair& hub_key);

  void create_or_check_schema();
  void verify_chain(const OpenOptions& options);
  void reconcile_head_file();
  // Appends `entries` (the last one consuming `grant_id` unless it is
  // empty) in one transaction; returns the first seq. Entries are checked
  // by the public callers.
  uint64_t write_records(std::span<const AuditEntry> entries, const std::string& grant_id, int64_t wall_ms,
                         int64_t mono_ns);
  void require_open(const char* operation) const;

  std::filesystem::path path_;
  std::filesystem::path head_path_;
  crypto::KeyPair hub_key_;
  std::unique_ptr<Db> db_;
  uint64_t tail_seq_ = 0;
  Digest tail_hash_{};
  int injected_commit_failures_ = 0;
};

}  // namespace latchkey::audit

#endif  // LATCHKEY_AUDIT_AUDIT_LOG_HPP
