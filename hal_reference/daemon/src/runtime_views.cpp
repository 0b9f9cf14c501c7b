#include "runtime_views.hpp"

#include <latchkey/gate/liveness_monitor.hpp>

namespace latchkey::hub {

Bytes to_bytes(const std::string& raw) { return Bytes(raw.begin(), raw.end()); }

LockState to_lock_state(lk_lock_state state) {
  switch (state) {
    case LK_LOCK_STATE_LOCKED: return LockState::kLocked;
    case LK_LOCK_STATE_UNLOCKED: return LockState::kUnlocked;
    case LK_LOCK_STATE_NOT_FULLY_LOCKED: return LockState::kNotFullyLocked;
    case LK_LOCK_STATE_UNLATCHED: return LockState::kUnlatched;
    default: return LockState::kUnknown;
  }
}

DoorState to_door_state(lk_door_state state) {
  switch (state) {
    case LK_DOOR_STATE_OPEN: return DoorState::kOpen;
    case LK_DOOR_STATE_CLOSED: return DoorState::kClosed;
    case LK_DOOR_STATE_JAMMED: return DoorState::kJammed;
    case LK_DOOR_STATE_FORCED_OPEN: return DoorState::kForcedOpen;
    case LK_DOOR_STATE_AJAR: return DoorState::kAjar;
    default: return DoorState::kUnknown;
  }
}

PluginState to_plugin_state(isolation::PluginState state) {
  switch (state) {
    case isolation::PluginState::kRunning: return PluginState::kRunning;
    case isolation::PluginState::kRestarting: return PluginState::kRestarting;
    case isolation::PluginState::kQuarantined: return PluginState::kQuarantined;
    case isolation::PluginState::kStopped: break;
  }
  return PluginState::kStopped;
}

OpenSession open_session(const gate::SessionView& s) {
  OpenSession o;
  o.session = to_bytes(s.session_id);
  o.door = s.door_id;
  o.grant = to_bytes(s.grant_id);
  o.courier = s.courier_id;
  o.unlocked = s.unlocked;
  o.door_opens = s.door_opens;
  o.cameras = s.camera_ids;
  return o;
}

DoorStatus door_status(const gate::DoorView& d, const std::vector<std::string>& cameras,
                       const gate::GateEngine& engine, gate::MonoNs now) {
  DoorStatus door;
  door.id = d.door_id;
  door.lock_state = to_lock_state(d.lock_state);
  door.door_state = to_door_state(d.door_state);
  door.lock_faulted = d.lock_faulted;
  door.lockout_remaining_ms = d.lockout_until > now ? (d.lockout_until - now) / 1'000'000 : int64_t{0};
  if (d.session) door.session = open_session(*d.session);
  if (auto refusal = engine.unlock_refusal(d.door_id, now))
    door.remote_unlock = RemoteUnlockState{false, refusal->rule, refusal->message};
  for (const auto& cam : cameras) {
    const gate::LivenessMonitor* m = engine.monitor(cam);
    CameraStatus c;
    c.id = cam;
    c.live = m && m->live(now);
    if (m && m->last_accepted()) c.last_accepted_age_ms = (now - *m->last_accepted()) / 1'000'000;
    if (m) {
      c.counter = m->last_counter();
      c.recording_session = to_bytes(m->recording_session());
      c.accepted = m->accepted_count();
      c.rejected = m->rejected_count();
    }
    if (m && m->last_scene()) {  // C8: what the camera last measured of its view
      const auto& scene = *m->last_scene();
      c.scene = SceneMeasures{scene.mean_luminance, scene.sharpness, scene.reference_similarity};
    }
    door.cameras.push_back(std::move(c));
  }
  return door;
}

namespace {
SessionChange session_change(const std::string& session, const std::string& door, Rule rule,
                             const std::string& detail, RecordKind kind) {
  SessionChange s;
  s.session = session;
  s.door = door;
  s.rule = rule;
  s.detail = detail;
  // From the record's kind: the detail is for people and may be reworded.
  if (kind == RecordKind::kSessionCompleted) s.end = SessionEnd::kCompleted;
  else if (kind == RecordKind::kSessionCompromised) s.end = SessionEnd::kCompromised;
  else s.end = SessionEnd::kOpen;
  return s;
}
}  // namespace

SessionChange session_change(const gate::AppendAudit& a) {
  return session_change(a.subject, a.door_id, a.rule, a.detail, a.kind);
}

SessionChange session_change(const audit::AuditEntry& e) {
  return session_change(e.subject, e.door_id, e.rule, e.detail, e.kind);
}

UnlockOutcome unlock_outcome(const gate::Decision& d) {
  UnlockOutcome o;
  o.allowed = d.allowed;
  o.door = d.door_id;
  o.request_id = d.request_id;
  if (d.allowed) {
    o.session = to_bytes(d.session_id);
  } else {
    o.rule = d.rule;
    o.message = d.message;
  }
  return o;
}

AuditRecord audit_record(const audit::AuditRecord& r) {
  AuditRecord a;
  a.seq = r.seq;
  a.wall_ms = r.wall_ms;
  a.type = r.entry.type;
  a.rule = r.entry.rule;
  a.door = r.entry.door_id;
  a.subject = r.entry.subject;
  a.detail = r.entry.detail;
  a.consumes_grant = r.consumes_grant;
  a.kind = r.entry.kind;
  a.value = r.entry.value;
  a.hash = Bytes(r.hash.begin(), r.hash.end());
  return a;
}

AuditAppended audit_appended(uint64_t seq, const audit::AuditEntry& e) {
  return AuditAppended{seq, e.type, e.rule, e.door_id, e.subject, e.detail};
}

AuditVerification audit_verification(const audit::VerifyReport& report) {
  AuditVerification v;
  v.ok = report.ok;
  v.records = report.record_count;
  v.head = Bytes(report.head_hash.begin(), report.head_hash.end());
  if (!report.ok) {
    v.problem_seq = report.problem_seq;
    v.error = report.message;
  }
  return v;
}

PluginStatus plugin_status(const std::string& name, const isolation::PluginRunner& runner) {
  const isolation::PluginStatus st = runner.status();
  PluginStatus p;
  p.name = name;
  p.driver = runner.identity().driver_id;
  p.version = runner.identity().driver_version;
  p.mode = st.mode == isolation::PluginMode::kIsolated ? PluginMode::kIsolated : PluginMode::kInProcess;
  p.state = to_plugin_state(st.state);
  p.pid = st.pid;
  p.failures = st.failures;
  p.recent_failures = st.recent_failures;
  p.restarts = st.restarts;
  p.last_fault = st.last_fault;
  p.restart_in_ms = st.restart_in_ms;
  return p;
}

}  // namespace latchkey::hub
