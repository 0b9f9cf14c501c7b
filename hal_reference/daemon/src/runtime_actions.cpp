// The runtime's action executor: every gate::Action the engine asks for,
// carried out on the loop (nonces and recording on the cameras, lock
// commands, alarms, audit records and decision commits), and the answers to
// waiting unlock requests.
#include "runtime_impl.hpp"

#include "runtime_views.hpp"

#include <algorithm>

namespace latchkey::hub {
namespace {


}  // namespace

void Runtime::Impl::process_actions() {
  for (int rounds = 0; rounds < 1000; ++rounds) {
    std::vector<gate::Action> actions = engine->take_actions();
    if (actions.empty()) return;
    for (const gate::Action& action : actions) execute(action);
  }
  log_line("error", "engine actions did not settle after 1000 rounds");
}

void Runtime::Impl::execute(const gate::Action& action) {
  if (const auto* a = std::get_if<gate::SendNonce>(&action)) {
    auto it = cameras.find(a->camera_id);
    if (it == cameras.end()) return;
    const lk_result r = it->second->deliver_nonce(a->nonce.data(), a->nonce.size());
    if (r != LK_OK && !plugin_down(config.cameras.at(a->camera_id).plugin))
      engine->on_camera_fault(a->camera_id, std::string("deliver_nonce failed: ") + host::result_name(r), now());
  } else if (const auto* a = std::get_if<gate::StartRecording>(&action)) {
    auto it = cameras.find(a->camera_id);
    if (it == cameras.end() || a->session_id.size() != LK_SESSION_ID_SIZE) return;
    uint8_t sid[LK_SESSION_ID_SIZE];
    std::copy(a->session_id.begin(), a->session_id.end(), sid);
    const lk_result r = it->second->start_recording(sid);
    if (r != LK_OK && !plugin_down(config.cameras.at(a->camera_id).plugin))
      engine->on_camera_fault(a->camera_id, std::string("start_recording failed: ") + host::result_name(r), now());
  } else if (const auto* a = std::get_if<gate::StopRecording>(&action)) {
    auto it = cameras.find(a->camera_id);
    if (it != cameras.end()) it->second->stop_recording();
  } else if (const auto* a = std::get_if<gate::CommandUnlock>(&action)) {
    command(a->door_id, a->operation_id, true, a->relock_deadline_ms, Rule::U3);
  } else if (const auto* a = std::get_if<gate::CommandLock>(&action)) {
    command(a->door_id, a->operation_id, false, 0, a->rule);
  } else if (const auto* a = std::get_if<gate::RaiseAlarm>(&action)) {
    Alarm alarm{++next_alarm_id, wall_ms(), *a, mono_us()};
    alarms.push_back(alarm);
    if (alarms.size() > kAlarmHistory) alarms.pop_front();
    log_line("alarm", std::string(name(a->rule)) + " " + a->door_id + " " + a->camera_id + ": " + a->message);
    publish(alarm_view(alarm));
    outbox_alarm(alarm);
  } else if (const auto* a = std::get_if<gate::AppendAudit>(&action)) {
    const audit::AuditEntry entry{a->type, a->rule, a->door_id, a->subject, a->detail, a->kind, a->value};
    if (a->type == "session") {
      remember_session(*a);
      outbox_session_record(*a);
    }
    if (a->durable_token == 0) {
      pending_audit.push_back(entry);
      return;
    }
    // U3: the decision and the grant's consumption, durable before anything
    // moves, in one transaction with the records still waiting (one fsync).
    audit::DecisionCommit r;
    r.error = "the audit log did not verify at start";
    if (log) r = log->commit_decision(pending_audit, entry, a->consumes_grant, wall_ms(), now());
    if (!r.committed()) {
      log_line("error", "decision commit failed: " + r.error);
    } else {
      for (std::size_t i = 0; i < pending_audit.size(); ++i) publish_audit(r.first_seq + i, pending_audit[i]);
      pending_audit.clear();
      publish_audit(r.seq, entry);
      // [fleet]: a consumed grant reaches the witness in a checkpoint at
      // once, not at the next periodic one (docs/fleet.md).
      if (config.fleet.enabled && !a->consumes_grant.empty()) fleet_checkpoint_due = true;
    }
    engine->on_audit_committed(a->durable_token, r.committed(), now());
  } else if (const auto* a = std::get_if<gate::LivenessChanged>(&action)) {
    CameraLiveness change{a->camera_id, a->live, mono_us(), std::nullopt};
    // The hub time of the last accepted attestation: where U5's
    // live_timeout + 50 ms is counted from.
    if (a->last_accepted != gate::kNever) change.last_accepted_mono_us = static_cast<int64_t>(a->last_accepted / 1000);
    publish(change);
  } else if (const auto* a = std::get_if<gate::Decision>(&action)) {
    const ApiResult<UnlockOutcome> response = unlock_outcome(*a);
    if (!a->allowed) {
      // Its record is among the pending ones: answered after they commit.
      denies_awaiting_commit.emplace_back(a->request_id, response);
      return;
    }
    publish(DecisionEvent{response});  // an allow's record is durable already (U3)
    answer(a->request_id, response);
  }
}

void Runtime::Impl::command(const std::string& door, uint64_t op, bool unlock, int64_t relock_deadline_ms, Rule rule) {
  auto lock_it = locks.find(door_lock[door]);
  if (lock_it == locks.end()) return;
  auto done = [this, door, op](const lk_lock_completion& c) {
    const lk_result result = c.result;
    const lk_lock_state state = c.lock_state;
    post([this, door, op, result, state] { engine->on_lock_completion(door, op, result, state, now()); });
  };
  lk_result r;
  if (unlock) {
    lk_unlock_params p{};
    p.struct_size = sizeof p;
    p.relock_deadline_ms = static_cast<uint32_t>(relock_deadline_ms);
    p.operation_id = op;
    r = lock_it->second.handle->unlock(p, done);
  } else {
    r = lock_it->second.handle->lock(op, done);
  }
  // mono_us: when the lock's plugin had taken the command (after the call returned).
  publish(DoorCommand{door, unlock, op, rule, host::result_name(r), mono_us()});
  // A failed start never completes (ABI): tell the engine now.
  if (r != LK_OK) engine->on_lock_completion(door, op, r, LK_LOCK_STATE_UNKNOWN, now());
}

void Runtime::Impl::remember_session(const gate::AppendAudit& a) {
  const SessionChange change = session_change(a);
  publish(change);
  if (change.end != SessionEnd::kOpen) {
    ended_sessions.push_back(change);
    if (ended_sessions.size() > kEndedSessions) ended_sessions.pop_front();
  }
}

hub::Alarm Runtime::Impl::alarm_view(const Alarm& a) {
  return {a.id, a.time_ms, a.alarm.rule, a.alarm.door_id, a.alarm.camera_id, a.alarm.message, a.mono_us};
}

// A3: a deny is acknowledged only once its decision record committed. The
// denies of one round of work share one transaction (one fsync); when it
// fails, the client hears that the request was refused and not recorded.
void Runtime::Impl::answer_denies() {
  if (denies_awaiting_commit.empty()) return;
  flush_audit();
  const bool durable = log && pending_audit.empty();
  for (auto& [request_id, response] : denies_awaiting_commit) {
    if (!durable) response = unavailable("denied, but the decision could not be recorded: no log, no unlock", Rule::U3);
    publish(DecisionEvent{response});
    answer(request_id, response);
  }
  denies_awaiting_commit.clear();
}

void Runtime::Impl::answer(uint64_t request_id, const ApiResult<UnlockOutcome>& response) {
  if (auto it = pending_unlocks.find(request_id); it != pending_unlocks.end()) {
    it->second->set_value(response);
    pending_unlocks.erase(it);
  }
}
}  // namespace latchkey::hub
