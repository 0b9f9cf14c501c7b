// AuditError: every failure of the audit log that is not a verdict.
//
// Thrown for storage failures (each SQLite error names the operation and
// SQLite's own message), a log that does not verify on open, misuse (a closed
// log, an entry that breaks the record limits) and head-file I/O errors.
// AuditLog::commit_decision never throws it: it reports the same failures in
// its result, because its caller must deny rather than unwind (U3).
#ifndef LATCHKEY_AUDIT_AUDIT_ERROR_HPP
#define LATCHKEY_AUDIT_AUDIT_ERROR_HPP

#include <cstdint>
#include <stdexcept>
#include <string>

namespace latchkey::audit {

class AuditError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// AuditLog::open found a log that does not verify: a record changed, deleted
// or reordered, a checkpoint not signed by the hub, consumed grants that do
// not match their decision records, or a head file ahead of the database.
// seq() names the first record concerned (0 when none, e.g. the head file).
// A hub must not grant on such a log (docs/rules.md A2, G3, U3).
class AuditChainError : public AuditError {
 public:
  AuditChainError(const std::string& message, uint64_t seq) : AuditError(message), seq_(seq) {}
  uint64_t seq() const noexcept { return seq_; }

 private:
  uint64_t seq_;
};

}  // namespace latchkey::audit

#endif  // LATCHKEY_AUDIT_AUDIT_ERROR_HPP
