#include "engine_state.hpp"

#include <latchkey/gate/restart_history.hpp>
#include <latchkey/lk_lock.h>

#include <algorithm>
#include <stdexcept>

namespace latchkey::gate {

std::string relock_deadline_problem(uint32_t lock_flags, uint32_t max_relock_deadline_ms, int64_t relock_deadline_ms) {
  if ((lock_flags & LK_LOCK_CAP_RELOCK_DEADLINE) == 0) return {};  // ignores the deadline; the hub's backstop relocks
  if (relock_deadline_ms <= static_cast<int64_t>(max_relock_deadline_ms)) return {};
  return "accepts relock deadlines up to " + std::to_string(max_relock_deadline_ms) + " ms, but [gate] relock_deadline_ms is " +
         std::to_string(relock_deadline_ms) + " (U4): every unlock would be refused";
}

using engine_detail::hex;
using engine_detail::to_ms;

GateEngine::GateEngine(GateSetup setup, RandomSource random) : s_(std::make_unique<State>()) {
  setup.config.validate();
  s_->random = std::move(random);
  for (const CameraSetup& c : setup.cameras) {
    try {
      c.scene.validate();
    } catch (const std::invalid_argument& e) {
      throw ConfigError("camera '" + c.camera_id + "': " + e.what());
    }
    State::Camera cam;
    cam.monitor = std::make_unique<LivenessMonitor>(c.camera_id, c.device_key, setup.config, c.scene);
    if (!s_->cameras.emplace(c.camera_id, std::move(cam)).second)
      throw ConfigError("camera '" + c.camera_id + "' is enrolled twice");
  }
  for (const DoorSetup& d : setup.doors) {
    for (const std::string& camera_id : d.camera_ids) {
      auto it = s_->cameras.find(camera_id);
      if (it == s_->cameras.end())
        throw ConfigError("door '" + d.door_id + "' binds unknown camera '" + camera_id + "'");
      it->second.doors.push_back(d.door_id);
    }
    State::Door door;
    door.setup = d;
    if (!s_->doors.emplace(d.door_id, std::move(door)).second)
      throw ConfigError("door '" + d.door_id + "' is configured twice");
  }
  s_->consumed = setup.consumed_grants;
  s_->revoked = setup.revoked_grants;
  s_->revoked_by_issuer = setup.revoked_by_issuer;
  s_->setup = std::move(setup);
}

GateEngine::~GateEngine() = default;

void GateEngine::start(MonoNs now) {
  s_->started = true;
  // G4 across restarts: lockouts and their doubling as the audit log shows them.
  for (const auto& [door_id, h] : s_->setup.door_history) {
    auto it = s_->doors.find(door_id);
    if (it == s_->doors.end()) continue;
    State::Door& door = it->second;
    door.lockouts = std::clamp(h.lockouts, 0, 20);
    const int64_t remaining = std::clamp<int64_t>(h.lockout_remaining_ms, 0, GateConfig::kLockoutMaxMs);
    if (remaining > 0) {
      door.lockout_until = now + ms_to_ns(remaining);
      s_->audit("hub", Rule::G4, door_id, "",
                "lockout carried over the restart: remote unlock locked for " + std::to_string(remaining) + " ms more");
    }
    std::vector<int64_t> ages = h.rejection_ages_ms;
    std::sort(ages.rbegin(), ages.rend());  // oldest first
    for (const int64_t age : ages)
      if (age >= 0 && age <= GateConfig::kLockoutWindowMs) door.rejections.push_back(now - ms_to_ns(age));
  }
  // A2, [fleet]: a refusal given before start (a rollback found in an earlier run) stays.
  if (s_->setup.witness_required && s_->witness_hold == WitnessHold::kNone) s_->witness_hold = WitnessHold::kAwaiting;
  if (!s_->setup.audit_unverified.empty()) {
    // A2: a log that does not verify cannot say which grants were consumed.
    s_->storage_failed = true;
    s_->alarm(Rule::A2, "", "",
              "the audit log does not verify: " + s_->setup.audit_unverified +
                  "; no unlock until it is recovered (latchkeyd --recover-audit)");
  }
  for (auto& [id, cam] : s_->cameras) {
    cam.next_nonce = now;
    s_->nonces_due.insert({now, id});
    cam.not_live_since = now;
    s_->rewatch(id, cam);
  }
  // F2: no unlock at boot; sessions open at the stop end compromised, with a relock.
  for (const auto& [door_id, session_hex] : s_->setup.sessions_open_at_stop) {
    auto it = s_->doors.find(door_id);
    if (it == s_->doors.end()) continue;
    s_->alarm(Rule::F2, door_id, "", "hub restarted during session " + session_hex + ": closed as compromised");
    s_->audit("session", Rule::F2, door_id, session_hex, "ended compromised: hub restarted during the session",
              RecordKind::kSessionCompromised);
    State::Door& door = it->second;
    if (door.door == LK_DOOR_STATE_CLOSED) {
      s_->command_lock(door, Rule::F2, now);
    } else {
      door.relock_wanted = true;  // the bolt cannot go into an open door: relock when it closes
      door.relock_rule = Rule::F2;
    }
  }
  s_->audit("hub", Rule::kNone, "", s_->setup.hub_id,
            "gate engine started with " + std::to_string(s_->doors.size()) + " door(s), " +
                std::to_string(s_->cameras.size()) + " camera(s), " + std::to_string(s_->consumed.size()) +
                " consumed grant(s)");
  tick(now);
}

void GateEngine::tick(MonoNs now) {
  s_->refresh_cameras(now);
  const MonoNs period = ms_to_ns(s_->setup.config.nonce_period_ms);
  while (!s_->nonces_due.empty() && s_->nonces_due.begin()->first <= now) {
    const std::string id = s_->nonces_due.begin()->second;
    s_->nonces_due.erase(s_->nonces_due.begin());
    State::Camera& cam = s_->cameras.at(id);
    s_->actions.push_back(SendNonce{id, cam.monitor->issue_nonce(now, s_->random)});
    cam.next_nonce += period;
    if (cam.next_nonce <= now) cam.next_nonce = now + period;  // fell behind: do not burst
    s_->nonces_due.insert({cam.next_nonce, id});
  }
  for (auto& [door_id, door] : s_->doors) {
    if (door.op.id != 0 && now >= door.op.deadline) {
      const State::Operation op = door.op;
      door.op = {};
      door.lock_faulted = true;
      door.lock = LK_LOCK_STATE_UNKNOWN;
      s_->audit("plugin_fault", Rule::F1, door_id, "",
                std::string(op.is_unlock ? "unlock" : "lock") + " operation " + std::to_string(op.id) +
                    " did not complete in time");
      s_->alarm(Rule::F1, door_id, "", "lock did not complete a command in time: state unknown");
      if (door.session && door.session->view.unlocked)
        s_->compromise(door, Rule::F1, "lock command did not complete", now);
      if (!op.is_unlock && door.op.id == 0) s_->schedule_relock_retry(door, now);
    }
    if (door.relock_retry_at <= now) {
      door.relock_retry_at = kNever;
      door.relock_wanted = door.lock != LK_LOCK_STATE_LOCKED;
    }
    if (!door.session) continue;
    State::Session& s = *door.session;
    if (s.phase == State::Phase::kAwaitingRecording && now >= s.recording_deadline) {
      if (s.authz_pending)
        s_->deny_pending(door, Rule::F3, "no authorization plugin verdict in time", now);
      else
        s_->deny_pending(door, Rule::U2, "cameras did not acknowledge recording in time", now);
      continue;
    }
    if (!s.view.unlocked) continue;
    if (now >= s.session_deadline) {
      s_->compromise(door, Rule::U7, "door not closed and locked within session_max", now);
      continue;
    }
    if (!s_->clock_synced(now)) {
      s_->compromise(door, Rule::F1, "the wall clock lost synchronisation", now);
      continue;
    }
    if (now >= s.hub_relock_at) {
      // The hub's backstop to the lock's own deadline: relock now, or as soon
      // as the door closes and the lock is idle.
      s.hub_relock_at = kNever;
      if (door.lock != LK_LOCK_STATE_LOCKED) {
        door.relock_wanted = true;
        door.relock_rule = Rule::U4;
      }
    }
  }
  for (auto& [door_id, door] : s_->doors) s_->try_relock(door, now);
}

MonoNs GateEngine::next_deadline() const {
  MonoNs next = kNever;
  if (!s_->nonces_due.empty()) next = std::min(next, s_->nonces_due.begin()->first);
  if (!s_->watch.empty()) next = std::min(next, s_->watch.begin()->first);
  for (const auto& [door_id, door] : s_->doors) {
    if (door.op.id != 0) next = std::min(next, door.op.deadline);
    next = std::min(next, door.relock_retry_at);
    if (!door.session) continue;
    const State::Session& s = *door.session;
    if (s.phase == State::Phase::kAwaitingRecording) next = std::min(next, s.recording_deadline);
    if (s.view.unlocked) {
      next = std::min(next, s.session_deadline);
      next = std::min(next, s.hub_relock_at);
      if (s_->last_clock_sync) next = std::min(next, *s_->last_clock_sync + ms_to_ns(GateConfig::kClockSyncMaxAgeMs) + 1);
    }
  }
  return next;
}

std::vector<Action> GateEngine::take_actions() {
  std::vector<Action> out;
  out.swap(s_->actions);
  return out;
}

std::vector<DoorView> GateEngine::doors() const {
  std::vector<DoorView> out;
  for (const auto& [id, door] : s_->doors) out.push_back(*this->door(id));
  return out;
}

std::optional<DoorView> GateEngine::door(const std::string& door_id) const {
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) return std::nullopt;
  const State::Door& d = it->second;
  DoorView v;
  v.door_id = door_id;
  v.lock_state = d.lock;
  v.door_state = d.door;
  v.lock_faulted = d.lock_faulted;
  v.lockout_until = d.lockout_until;
  if (d.session) v.session = d.session->view;
  return v;
}

const GateConfig& GateEngine::config() const noexcept { return s_->setup.config; }

bool GateEngine::storage_failed() const noexcept { return s_->storage_failed; }
GateEngine::WitnessHold GateEngine::witness_hold() const noexcept { return s_->witness_hold; }

}  // namespace latchkey::gate
