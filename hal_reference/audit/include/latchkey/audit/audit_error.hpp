// AuditError: every failure of the audit log that is not a verdict.
//
// Thrown for storage failures (each SQLite error names the operation and
// SQLite's own message), a log that does not verify on open, misuse (a closed
// log, an entry that breaks the record limits) and head-file I/O errors.
// AuditLog::commit_decision never throws it: it reports the same failures in
// its result, because its caller must deny rather than unwind (U3).
#ifndef LATCHKEY_AUDIT_AUDIT_ERROR_HPP
#define LATCHKEY_AUDIT_AUDIT_ERROR_HPP

#include <stdexcept>
#include <string>

namespace latchkey::audit {

class AuditError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace latchkey::audit

#endif  // LATCHKEY_AUDIT_AUDIT_ERROR_HPP
