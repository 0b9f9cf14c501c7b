// recover_audit_log: the person's way out of an audit log that does not
// verify (docs/rules.md A2, G3; docs/latchkeyd.md "Recovering a broken audit log").
//
// A hub whose log does not verify grants nothing: it cannot tell which grants
// were consumed. Recovery keeps the broken log as evidence (renamed, never
// deleted) and starts a new one whose first record says when and why. From
// then on a grant issued before that moment is refused (G3): the lost log may
// have consumed it. Grants live at most 24 h (G1), so after a day every grant
// in use was issued after the recovery.
//
// Run it with the daemon stopped (latchkeyd --recover-audit). It refuses a
// log that verifies, unless the fleet witness showed it was rolled back
// (the data directory's witness-refusal file, docs/fleet.md), and touches
// nothing but the log's files and that file.
#ifndef LATCHKEY_HUB_AUDIT_RECOVERY_HPP
#define LATCHKEY_HUB_AUDIT_RECOVERY_HPP

#include <latchkey/crypto/crypto.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace latchkey::hub {

struct AuditRecovery {
  bool recovered = false;
  std::string message;                  // for the person: what was found and done, or why nothing was
  std::filesystem::path archived;       // the broken log's new name
  int64_t grants_not_before_ms = 0;     // grants issued earlier are refused from now on
};

// `db` is the log (data_dir/audit.db); its -wal, -shm and .head files move
// with it, and so does `<data_dir>/witness-refusal` when present. Throws
// std::runtime_error when a rename or the new log fails.
AuditRecovery recover_audit_log(const std::filesystem::path& db, const crypto::KeyPair& hub_key, int64_t now_wall_ms,
                                int64_t now_mono_ns);

// <data_dir>/witness-refusal: written (mode 0600) when the fleet witness
// showed the log was rolled back; while it exists the hub grants nothing.
std::filesystem::path witness_refusal_path(const std::filesystem::path& data_dir);

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_AUDIT_RECOVERY_HPP
