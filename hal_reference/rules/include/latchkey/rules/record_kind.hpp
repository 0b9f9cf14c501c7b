// The kinds of audit record whose meaning the hub reads back (schema 2 of
// the audit log, hal_reference/audit/include/latchkey/audit/record.hpp).
//
// A record's `type` groups it for people (decision, session, alarm, ...) and
// its `detail` is text for people, free to change wording; what a restarted
// hub must know (F2, G3, G4, A2) is in the record's kind and value, never in
// the text. Records of other kinds carry kNone.
#ifndef LATCHKEY_RULES_RECORD_KIND_HPP
#define LATCHKEY_RULES_RECORD_KIND_HPP

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string_view>

namespace latchkey {

enum class RecordKind : uint8_t {
  kNone,
  kAllow,                // decision: the allow committed before the unlock (U3); consumes the grant (G3)
  kAllowWithdrawn,       // decision: a committed allow withdrawn before the unlock left (F1, U1, G1)
  kDeny,                 // decision: a deny that counts toward the lockout (G4)
  kDenyUncounted,        // decision: a deny that does not (G4's own, U3, an evicted challenge)
  kSessionOpened,        // session: the unlock command left
  kSessionCompleted,     // session: verified relock (U8)
  kSessionCompromised,   // session: ended compromised, with an alarm (I3)
  kLockout,              // lockout: value = its length in ms (G4)
  kLogRecovered,         // hub: the log was recovered; value = grants issued before it (Unix ms) are refused (A2, G3)
};

// "session_opened"; "" for kNone.
std::string_view name(RecordKind kind) noexcept;
// "" gives kNone; anything else unknown, nothing.
std::optional<RecordKind> record_kind_from_name(std::string_view text) noexcept;

std::ostream& operator<<(std::ostream& out, RecordKind kind);

}  // namespace latchkey

#endif  // LATCHKEY_RULES_RECORD_KIND_HPP
