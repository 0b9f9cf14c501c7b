// verify_log: the full check of an audit log file (A2, I2, I6), read-only.
//
// It detects a deleted record (seq gap or chain break), a modified record
// (any field: its hash no longer matches), reordered records (chain break),
// truncation (fewer records than the newest signed checkpoint says, whether
// that checkpoint comes from the head file, the caller or the chain), a
// checkpoint that is malformed, inconsistent with the chain or not signed by
// the hub key, a consumed grant without its decision record, a decision
// record whose consumed-grant row is gone (which would let the grant open
// the door again), and a log whose stored hub key is not the pinned one.
//
// It cannot detect, on its own: removal of the tail of the database together
// with the head file (keep a copy of a recent checkpoint elsewhere and pass
// it as trusted_head), or a log rewritten from scratch and re-signed by
// whoever holds the hub's secret key. Without a pinned hub key the
// signatures are checked against the key stored in the log itself, which
// proves internal consistency only.
#ifndef LATCHKEY_AUDIT_VERIFY_HPP
#define LATCHKEY_AUDIT_VERIFY_HPP

#include <latchkey/audit/checkpoint.hpp>
#include <latchkey/audit/record.hpp>
#include <latchkey/crypto/crypto.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::audit {

enum class VerifyProblem {
  kNone,
  kCannotOpen,             // missing file, not SQLite, SQLite error
  kBadSchema,              // tables or meta missing, wrong schema version
  kHubKeyMismatch,         // stored hub key differs from the pinned one
  kMalformedRecord,        // a column of the wrong type or size
  kSeqGap,                 // a record is missing (deleted) or renumbered
  kChainBreak,             // prev_hash is not the previous record's hash: deleted or reordered
  kHashMismatch,           // a field changed after the record was written
  kBadCheckpoint,          // checkpoint record malformed or inconsistent with the chain
  kBadSignature,           // a checkpoint not signed by the hub key (forged)
  kTruncated,              // fewer records than a signed checkpoint covers
  kHeadNotInChain,         // a signed checkpoint (head file, trusted) is not the chain's record size + 1
  kHeadFileInvalid,        // head file unreadable or malformed
  kHeadFileMissing,        // only with require_head_file
  kConsumedWithoutDecision,  // consumed_grants row with no matching decision record
  kDecisionWithoutConsumed,  // decision record consumed a grant whose row is gone (I2)
  kGrantConsumedTwice,       // two records consume one grant (I2)
};

const char* to_string(VerifyProblem problem);

struct VerifyOptions {
  // The hub key checkpoints must be signed with. nullopt: the key stored in
  // the log is used and `notes` says the result proves consistency only.
  std::optional<crypto::PublicKey> hub_key;
  // A checkpoint kept outside the log (e.g. a copy of an earlier head file).
  std::optional<Checkpoint> trusted_head;
  // `<db>.head` is always checked when it exists; this makes its absence a problem.
  bool require_head_file = false;
};

struct VerifyReport {
  bool ok = false;
  VerifyProblem problem = VerifyProblem::kNone;
  uint64_t problem_seq = 0;    // the first record concerned, 0 if none
  std::string message;         // the first problem, for people
  uint64_t record_count = 0;   // records read, in order, until the first problem
  Digest head_hash{};          // hash of the last record read
  uint64_t checkpoint_count = 0;
  std::optional<Checkpoint> last_checkpoint;  // newest checkpoint record in the chain
  bool head_file_checked = false;
  std::vector<std::string> notes;  // things worth knowing that are not problems
};

VerifyReport verify_log(const std::filesystem::path& db_path, const VerifyOptions& options = {});
// The usual call: a pinned hub key and, optionally, a checkpoint kept elsewhere.
VerifyReport verify_log(const std::filesystem::path& db_path, const crypto::PublicKey& hub_key,
                        const std::optional<Checkpoint>& trusted_head = std::nullopt);

}  // namespace latchkey::audit

#endif  // LATCHKEY_AUDIT_VERIFY_HPP
