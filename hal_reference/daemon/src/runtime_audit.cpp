// The runtime's audit pipeline: opening the log at start (and rebuilding the
// engine's restart history from it), the records waiting for the next group
// commit, flushing them, and the periodic signed checkpoints. Decision
// records are committed by the action executor (runtime_actions.cpp).
#include "runtime_impl.hpp"

#include "runtime_views.hpp"

#include <latchkey/gate/restart_history.hpp>

namespace latchkey::hub {
namespace {

constexpr std::size_t kMaxPendingAudit = 100'000;
// Group commit: ordinary audit records wait at most this long (or for the next
// decision, which takes them along in its transaction) before one fsync.
constexpr uint64_t kGroupCommitMs = 5;
constexpr std::size_t kGroupCommitRecords = 256;

}  // namespace

// Opens the audit log, verifying the whole chain (A2) and rebuilding from
// its verified records what the engine must remember across a restart
// (restart_history.hpp). A chain that does not verify leaves the hub up,
// granting nothing, with an alarm (engine start) and a log line naming the
// record, so a person can see it and recover (docs/latchkeyd.md).
void Runtime::Impl::open_audit_log(gate::GateSetup& setup) {
  audit_path = config.data_dir / "audit.db";
  gate::RestartHistory history;
  audit::OpenOptions options;
  options.on_verified_record = [this, &history](const audit::AuditRecord& r) {
    history.add({r.wall_ms, r.entry.type, r.entry.rule, r.entry.door_id, r.entry.subject, r.consumes_grant,
                 r.entry.kind, r.entry.value, r.format, r.entry.detail});
    remember_history(r);
  };
  try {
    log = audit::AuditLog::open(audit_path, hub_key, options);
  } catch (const audit::AuditChainError& e) {
    log.reset();
    setup.audit_unverified = e.what();
    log_line("error", std::string("the audit log does not verify; granting nothing until it is recovered "
                                  "(latchkeyd --recover-audit, docs/latchkeyd.md): ") + e.what());
    return;
  }
  history.apply(setup, wall_ms());
}

void Runtime::Impl::remember_history(const audit::AuditRecord& r) {
  const audit::AuditEntry& e = r.entry;
  if (e.type == "alarm") {
    alarms.push_back(Alarm{++next_alarm_id, r.wall_ms, gate::RaiseAlarm{e.rule, e.door_id, e.subject, e.detail}, 0});
    if (alarms.size() > kAlarmHistory) alarms.pop_front();
  } else if (e.type == "session") {
    const SessionChange change = session_change(e);
    if (change.end == SessionEnd::kOpen) return;
    ended_sessions.push_back(change);
    if (ended_sessions.size() > kEndedSessions) ended_sessions.pop_front();
  }
}

void Runtime::Impl::schedule_group_commit() {
  if (pending_audit.empty()) return;
  if (pending_audit.size() >= kGroupCommitRecords) {
    flush_audit();
    return;
  }
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(&group_commit_timer))) return;
  uv_timer_start(&group_commit_timer, [](uv_timer_t* t) { static_cast<Impl*>(t->data)->flush_audit(); },
                 kGroupCommitMs, 0);
}

void Runtime::Impl::flush_audit() {
  if (pending_audit.empty()) return;
  if (!log) {
    // Nothing can be written to a log that does not verify; keep the newest
    // records in memory only (the alarm says why).
    if (pending_audit.size() > kMaxPendingAudit) pending_audit.erase(pending_audit.begin());
    return;
  }
  try {
    const uint64_t first = log->append_batch(pending_audit, wall_ms(), now());
    for (std::size_t i = 0; i < pending_audit.size(); ++i) publish_audit(first + i, pending_audit[i]);
    pending_audit.clear();
  } catch (const std::exception& e) {
    // Kept for the next attempt; the next decision commit fails on the same
    // storage and stops granting (U3).
    log_line("error", std::string("audit append failed: ") + e.what());
    if (pending_audit.size() > kMaxPendingAudit) pending_audit.erase(pending_audit.begin());
  }
}

void Runtime::Impl::publish_audit(uint64_t seq, const audit::AuditEntry& e) {
  publish(audit_appended(seq, e));
  if (e.type == "session") outbox_session_ended(seq, e);
}

void Runtime::Impl::checkpoint() {
  flush_audit();
  if (!log) return;
  try {
    last_checkpoint = log->checkpoint(wall_ms(), now());
    if (engine->storage_failed()) engine->on_storage_recovered(now());
    fleet_publish_checkpoint();
  } catch (const std::exception& e) {
    log_line("error", std::string("audit checkpoint failed: ") + e.what());
  }
}
}  // namespace latchkey::hub
