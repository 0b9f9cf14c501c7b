#include <latchkey/hub/audit_recovery.hpp>

#include <latchkey/audit/audit_log.hpp>
#include <latchkey/audit/verify.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace latchkey::hub {

namespace fs = std::filesystem;

AuditRecovery recover_audit_log(const fs::path& db, const crypto::KeyPair& hub_key, int64_t now_wall_ms,
                                int64_t now_mono_ns) {
  AuditRecovery out;
  std::error_code ec;
  if (!fs::exists(db, ec)) {
    out.message = db.string() + " does not exist: nothing to recover (the hub creates a new log at start)";
    return out;
  }
  const audit::VerifyReport report = audit::verify_log(db, hub_key.public_key);
  const fs::path refusal_file = witness_refusal_path(db.parent_path());
  std::string refusal;
  if (fs::exists(refusal_file, ec)) {
    std::ifstream in(refusal_file);
    std::getline(in, refusal);
    if (refusal.empty()) refusal = "(the file " + refusal_file.string() + " is empty)";
  }
  if (report.ok && refusal.empty()) {
    out.message = db.string() + " verifies (" + std::to_string(report.record_count) + " records): nothing to recover";
    return out;
  }
  if (!report.ok && report.problem == audit::VerifyProblem::kHubKeyMismatch) {
    // Another hub's log, or this hub's key replaced: recovering would hide it.
    out.message = db.string() + " belongs to another hub key: " + report.message +
                  "; restore this hub's hub.key instead of recovering";
    return out;
  }

  // Keep the evidence: every file of the log under a name no later start reuses.
  const std::string suffix = ".broken-" + std::to_string(now_wall_ms);
  out.archived = fs::path(db.string() + suffix);
  for (const char* part : {"", "-wal", "-shm", ".head"}) {
    const fs::path from(db.string() + part);
    if (!fs::exists(from, ec)) continue;
    const fs::path to(db.string() + suffix + part);
    if (std::rename(from.c_str(), to.c_str()) != 0)
      throw std::runtime_error("recover audit log: cannot rename " + from.string() + " to " + to.string() + ": " +
                               std::strerror(errno));
  }

  std::string why = "the previous log, kept as " + out.archived.filename().string();
  if (!report.ok) {
    why += ", does not verify at seq " + std::to_string(report.problem_seq) + " (" + audit::to_string(report.problem) +
           "): " + report.message;
  } else {
    why += ", verifies, but the fleet witness showed it was rolled back: " + refusal;
  }
  if (!refusal.empty()) {
    const fs::path to(db.string() + suffix + ".witness-refusal");
    if (std::rename(refusal_file.c_str(), to.c_str()) != 0)
      throw std::runtime_error("recover audit log: cannot rename " + refusal_file.string() + " to " + to.string() +
                               ": " + std::strerror(errno));
  }
  auto log = audit::AuditLog::open(db, hub_key);
  // The cut-off is the record's value (kLogRecovered): the restart history
  // reads that, never the text.
  log->append({"hub", Rule::A2, "", "",
               "audit log recovered: grants issued before " + std::to_string(now_wall_ms) +
                   " ms (Unix) are refused; " + why,
               RecordKind::kLogRecovered, now_wall_ms},
              now_wall_ms, now_mono_ns);
  log->close(now_wall_ms, now_mono_ns);
  out.recovered = true;
  out.grants_not_before_ms = now_wall_ms;
  out.message = "recovered: " + why + ". A new log was started; grants issued before " + std::to_string(now_wall_ms) +
                " (Unix ms) are refused from now on (G3)";
  return out;
}

fs::path witness_refusal_path(const fs::path& data_dir) { return data_dir / "witness-refusal"; }

}  // namespace latchkey::hub
