// The engine and its doors: lock and door events, lock commands and relocks
// (U4, U5, U7, U8, F1, F2), sessions ending completed or compromised (I3),
// and what a failed plugin means for its devices (F1).
#include "engine_state.hpp"

#include <latchkey/cpp/names.hpp>

#include <algorithm>

namespace latchkey::gate {

using engine_detail::hex;
using engine_detail::to_ms;
using engine_detail::view;

void GateEngine::State::command_lock(Door& door, Rule rule, MonoNs now) {
  if (door.op.id != 0) {  // one command at a time; relock when the current one finishes
    door.relock_wanted = true;
    door.relock_rule = rule;
    return;
  }
  door.relock_wanted = false;
  door.op = Operation{++next_operation_id, false, now + ms_to_ns(setup.config.lock_command_timeout_ms), rule};
  actions.push_back(CommandLock{door.setup.door_id, door.op.id, rule});
  audit("command", rule, door.setup.door_id, "", "lock, operation " + std::to_string(door.op.id));
}

void GateEngine::State::schedule_relock_retry(Door& door, MonoNs now) {
  door.relock_wanted = false;
  door.relock_retry_at = now + kRelockRetryNs;
  if (door.relock_rule == Rule::kNone) door.relock_rule = Rule::F1;
}

void GateEngine::State::try_relock(Door& door, MonoNs now) {
  if (door.relock_wanted && door.op.id == 0 && door.door == LK_DOOR_STATE_CLOSED)
    command_lock(door, door.relock_rule, now);
}

// Ends an open session as compromised (I3): alarm, and relock at once with
// the door closed, or as soon as it closes (U5, U7, F1).
void GateEngine::State::compromise(Door& door, Rule rule, const std::string& message, MonoNs now) {
  Session& s = *door.session;
  alarm(rule, door.setup.door_id, "", "session compromised: " + message);
  audit("session", rule, door.setup.door_id, hex(s.view.session_id), "ended compromised: " + message,
        RecordKind::kSessionCompromised);
  door.session.reset();  // recording continues: it is the evidence
  if (door.door == LK_DOOR_STATE_CLOSED)
    command_lock(door, rule, now);
  else {
    door.relock_wanted = true;
    door.relock_rule = rule;
  }
}

void GateEngine::State::complete(Door& door, MonoNs now) {
  Session& s = *door.session;
  audit("session", Rule::U8, door.setup.door_id, hex(s.view.session_id),
        "completed: verified relock after " + std::to_string(s.view.door_opens) + " door cycle(s), " +
            std::to_string(to_ms(now - s.view.unlock_sent_at)) + " ms after unlock",
        RecordKind::kSessionCompleted);
  for (const std::string& camera_id : s.view.camera_ids) actions.push_back(StopRecording{camera_id});
  door.session.reset();
  door.relock_wanted = false;
}

// Denies the door's pending (not yet unlocked) request.
void GateEngine::State::deny_pending(Door& door, Rule rule, const std::string& message, MonoNs now) {
  Session& s = *door.session;
  reserved.erase(s.grant_hex);
  for (const std::string& camera_id : s.view.camera_ids) actions.push_back(StopRecording{camera_id});
  const uint64_t request_id = s.request_id;
  const std::string subject = s.grant_hex;
  door.session.reset();
  deny(request_id, &door, door.setup.door_id, rule, message, subject, now);
}

// F1 while a request waits for recording: any doubt about the lock or door
// denies it, whatever the cameras say next.
void GateEngine::State::check_pending_door(Door& door, MonoNs now) {
  if (!door.session || door.session->view.unlocked || door.session->phase != Phase::kAwaitingRecording) return;
  if (auto doubt = door_doubt(door)) deny_pending(door, Rule::F1, *doubt, now);
}

// F1: the door's own state allows an unlock.
std::optional<std::string> GateEngine::State::door_doubt(const Door& door) const {
  if (door.lock_faulted) return "lock plugin is in fault";
  if (door.lock != LK_LOCK_STATE_LOCKED && door.lock != LK_LOCK_STATE_UNLOCKED)
    return std::string("lock state is ") + lock_state_name(door.lock);
  if (door.door != LK_DOOR_STATE_CLOSED) return std::string("door state is ") + door_state_name(door.door);
  if (door.op.id != 0) return "a lock command is still in progress";
  return std::nullopt;
}

void GateEngine::on_plugin_failed(const std::string& plugin, const std::string& reason, int64_t restart_in_ms,
                                  MonoNs now) {
  s_->refresh_cameras(now);
  const std::string why = "plugin '" + plugin + "' failed: " + reason;
  s_->alarm(Rule::F1, "", "",
            why + (restart_in_ms >= 0 ? "; restarting in " + std::to_string(restart_in_ms) + " ms" : std::string()));
  for (const DoorSetup& d : s_->setup.doors)
    if (!d.lock_plugin.empty() && d.lock_plugin == plugin) on_lock_fault(d.door_id, why, now);
  for (const CameraSetup& c : s_->setup.cameras)
    if (!c.plugin.empty() && c.plugin == plugin) on_camera_fault(c.camera_id, why, now);
  if (!s_->setup.authz_plugin.empty() && s_->setup.authz_plugin == plugin)
    s_->audit("plugin_fault", Rule::F1, "", plugin, why + "; unlock requests are refused meanwhile");
}

void GateEngine::on_plugin_quarantined(const std::string& plugin, const std::string& reason, MonoNs now) {
  s_->refresh_cameras(now);
  s_->alarm(Rule::F1, "", "",
            "plugin '" + plugin + "' quarantined: " + reason + "; its devices stay Unknown until the hub restarts");
  s_->audit("plugin", Rule::F1, "", plugin, "quarantined: " + reason);
}

void GateEngine::on_plugin_restored(const std::string& plugin, int64_t host_pid, MonoNs now) {
  s_->refresh_cameras(now);
  s_->audit("plugin", Rule::kNone, "", plugin,
            "restarted (host pid " + std::to_string(host_pid) + "), devices reopened");
}

void GateEngine::on_lock_state(const std::string& door_id, lk_lock_state state, MonoNs now) {
  s_->refresh_cameras(now);
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) return;
  State::Door& door = it->second;
  const lk_lock_state previous = door.lock;
  door.lock = state;
  door.lock_faulted = false;
  if (state == LK_LOCK_STATE_LOCKED) {  // whoever locked it, nothing is left to retry
    door.relock_retry_at = kNever;
    door.relock_failures = 0;
  }
  if (previous != state)
    s_->audit("event", Rule::kNone, door_id, "", std::string("lock ") + lock_state_name(state));
  if (state == LK_LOCK_STATE_LOCKED && door.door == LK_DOOR_STATE_OPEN) {
    if (!door.inconsistency_alarmed) {
      door.inconsistency_alarmed = true;
      s_->alarm(Rule::U8, door_id, "", "lock reports Locked while the door sensor reports Open");
    }
  } else {
    door.inconsistency_alarmed = false;
  }
  if (door.session && door.session->view.unlocked) {
    if (state != LK_LOCK_STATE_LOCKED && state != LK_LOCK_STATE_UNLOCKED && state != LK_LOCK_STATE_UNLATCHED) {
      s_->compromise(door, Rule::F1, std::string("lock state became ") + lock_state_name(state), now);
    } else if (state == LK_LOCK_STATE_LOCKED && door.door == LK_DOOR_STATE_CLOSED &&
               door.session->phase == State::Phase::kOpen) {
      s_->complete(door, now);  // U8: locked after a lock operation (the hub's or the lock's own, U4)
    }
  }
  s_->check_pending_door(door, now);
  s_->try_relock(door, now);
}

void GateEngine::on_door_state(const std::string& door_id, lk_door_state state, MonoNs now) {
  s_->refresh_cameras(now);
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) return;
  State::Door& door = it->second;
  const lk_door_state previous = door.door;
  door.door = state;
  if (previous != state) s_->audit("event", Rule::kNone, door_id, "", std::string("door ") + door_state_name(state));
  if (state == LK_DOOR_STATE_OPEN && door.lock == LK_LOCK_STATE_LOCKED && !door.inconsistency_alarmed) {
    door.inconsistency_alarmed = true;
    s_->alarm(Rule::U8, door_id, "", "door sensor reports Open while the lock reports Locked");
  }
  if (door.session && door.session->view.unlocked) {
    State::Session& s = *door.session;
    if (state == LK_DOOR_STATE_OPEN && previous != LK_DOOR_STATE_OPEN) {
      if (s.door_closed_after_open) {
        s_->compromise(door, Rule::U6, "the door opened a second time in one session", now);
      } else {
        ++s.view.door_opens;
      }
    } else if (state == LK_DOOR_STATE_CLOSED && previous != LK_DOOR_STATE_CLOSED && s.view.door_opens > 0) {
      s.door_closed_after_open = true;
      s_->command_lock(door, Rule::U8, now);  // relock at once after the door cycle
    } else if (state != LK_DOOR_STATE_OPEN && state != LK_DOOR_STATE_CLOSED) {
      s_->compromise(door, Rule::F1, std::string("door state became ") + door_state_name(state), now);
    }
  }
  s_->check_pending_door(door, now);
  s_->try_relock(door, now);
}

void GateEngine::on_lock_alarm(const std::string& door_id, lk_alarm_code code, MonoNs now) {
  s_->refresh_cameras(now);
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) return;
  State::Door& door = it->second;
  const std::string what = code == LK_ALARM_LOCK_JAMMED ? "lock jammed" : "lock alarm code " + std::to_string(code);
  s_->alarm(Rule::F1, door_id, "", what);
  if (code == LK_ALARM_LOCK_JAMMED) {
    door.lock = LK_LOCK_STATE_NOT_FULLY_LOCKED;
    if (door.session && door.session->view.unlocked) s_->compromise(door, Rule::F1, what, now);
  }
  s_->check_pending_door(door, now);
}

void GateEngine::on_lock_completion(const std::string& door_id, uint64_t operation_id, lk_result result,
                                    lk_lock_state state, MonoNs now) {
  s_->refresh_cameras(now);
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) return;
  State::Door& door = it->second;
  if (door.op.id == 0 || door.op.id != operation_id) {
    s_->audit("plugin_fault", Rule::F1, door_id, "", "completion for unknown operation " + std::to_string(operation_id));
    if (door.lock_faulted && door.op.id == 0) {
      // A late answer after a timeout: the lock responds again and says where the bolt is.
      door.lock_faulted = false;
      door.lock = state;
      s_->try_relock(door, now);
    }
    return;
  }
  const State::Operation op = door.op;
  door.op = {};
  s_->audit("event", Rule::kNone, door_id, "",
            std::string(op.is_unlock ? "unlock" : "lock") + " operation " + std::to_string(op.id) + " completed: " +
                (result == LK_OK ? "ok" : "error " + std::to_string(result)) + ", lock " + lock_state_name(state));
  door.lock = state;
  if (op.is_unlock) {
    const bool opened = result == LK_OK && (state == LK_LOCK_STATE_UNLOCKED || state == LK_LOCK_STATE_UNLATCHED);
    if (door.session && door.session->view.unlocked) {
      if (opened)
        door.session->phase = State::Phase::kOpen;
      else
        s_->compromise(door, Rule::F1, "unlock failed: result " + std::to_string(result) + ", lock " +
                                       lock_state_name(state), now);
    }
  } else {
    if (result != LK_OK || state != LK_LOCK_STATE_LOCKED) {
      if (++door.relock_failures == 1)
        s_->alarm(Rule::F1, door_id, "", std::string("relock failed: lock ") + lock_state_name(state));
      if (door.session && door.session->view.unlocked) s_->compromise(door, Rule::F1, "relock failed", now);
      s_->schedule_relock_retry(door, now);
    } else {
      door.relock_failures = 0;
      door.relock_retry_at = kNever;
      if (door.session && door.session->view.unlocked && door.door == LK_DOOR_STATE_CLOSED &&
          door.session->phase == State::Phase::kOpen)
        s_->complete(door, now);
    }
  }
  s_->try_relock(door, now);
}

void GateEngine::on_lock_fault(const std::string& door_id, const std::string& reason, MonoNs now) {
  s_->refresh_cameras(now);
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) return;
  State::Door& door = it->second;
  s_->audit("plugin_fault", Rule::F1, door_id, "", reason);
  door.lock_faulted = true;
  door.lock = LK_LOCK_STATE_UNKNOWN;
  if (door.session) {
    if (door.session->view.unlocked)
      s_->compromise(door, Rule::F1, "lock plugin fault: " + reason, now);
    else if (door.session->phase == State::Phase::kAwaitingRecording)
      s_->deny_pending(door, Rule::F1, "lock plugin fault: " + reason, now);
  }
}

}  // namespace latchkey::gate
