#include <latchkey/gate/gate_engine.hpp>

#include <latchkey/cpp/names.hpp>
#include <latchkey/lk_camera.h>
#include <latchkey/crypto/grants.hpp>
#include <latchkey/gate/restart_history.hpp>

#include <algorithm>
#include <stdexcept>

namespace latchkey::gate {

namespace {

crypto::ByteView view(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
std::string hex(const std::string& s) { return crypto::to_hex(view(s)); }
int64_t to_ms(MonoNs ns) { return ns / 1'000'000; }


}  // namespace

struct GateEngine::State {
  struct Camera {
    std::unique_ptr<LivenessMonitor> monitor;
    std::vector<std::string> doors;   // doors this camera is bound to
    bool was_live = false;
    MonoNs not_live_since = 0;
    bool health_alarmed = false;
    bool tamper_alarmed = false;      // C8: one camera-tamper alarm per episode
    struct RefusalPace {
      MonoNs last_record = 0;
      bool recorded = false;
      uint64_t unrecorded = 0;        // refusal reports since the last record
    };
    std::map<uint32_t, RefusalPace> refusals;  // by lk_camera_refusal
    MonoNs next_nonce = kNever;
    MonoNs watch_at = kNever;  // its entry in `watch`: when LIVE ends or C6 is due
  };

  enum class Phase { kAwaitingRecording, kAwaitingCommit, kUnlocking, kOpen };

  struct Session {
    SessionView view;
    Phase phase = Phase::kAwaitingRecording;
    uint64_t request_id = 0;
    std::string grant_hex;
    MonoNs recording_deadline = kNever;   // U2
    uint64_t commit_token = 0;            // U3
    MonoNs session_deadline = kNever;     // U7
    MonoNs hub_relock_at = kNever;        // U4, the hub's own backstop
    bool door_closed_after_open = false;  // U6
  };

  struct Operation {
    uint64_t id = 0;                      // 0: none pending
    bool is_unlock = false;
    MonoNs deadline = kNever;
    Rule rule = Rule::kNone;
  };

  struct Door {
    DoorSetup setup;
    lk_lock_state lock = LK_LOCK_STATE_UNKNOWN;
    lk_door_state door = LK_DOOR_STATE_UNKNOWN;
    bool lock_faulted = false;
    std::optional<Session> session;
    Operation op;
    bool relock_wanted = false;           // relock as soon as the door is closed and the lock idle
    Rule relock_rule = Rule::kNone;
    std::deque<MonoNs> rejections;        // G4
    MonoNs lockout_until = 0;
    int lockouts = 0;
    std::map<std::string, MonoNs> challenges;  // G2: challenge -> issued
    // G2/G4: challenges dropped by a flood of challenge requests, until their
    // TTL: presenting one is denied without counting toward the lockout.
    std::map<std::string, MonoNs> evicted_challenges;
    bool inconsistency_alarmed = false;   // U8
    MonoNs relock_retry_at = kNever;      // a relock that failed or timed out is tried again
    int relock_failures = 0;              // in a row; the first raises the alarm
  };

  GateSetup setup;
  RandomSource random;
  std::map<std::string, Camera> cameras;
  // Deadline indexes, so an event costs O(log cameras), not a walk over all
  // of them: when each camera's liveness or health changes next, and when
  // each is due its next nonce. Filled by start().
  std::set<std::pair<MonoNs, std::string>> watch;
  std::set<std::pair<MonoNs, std::string>> nonces_due;
  bool started = false;
  std::map<std::string, Door> doors;
  std::set<std::string> consumed;        // hex
  std::set<std::string> reserved;        // hex, pending commit
  std::set<std::string> revoked;         // hex
  std::optional<MonoNs> last_clock_sync;
  bool storage_failed = false;
  uint64_t next_request_id = 0;
  uint64_t next_operation_id = 0;
  uint64_t next_token = 0;
  std::vector<Action> actions;

  // ---- Output helpers ----
  void audit(std::string type, Rule rule, std::string door_id, std::string subject, std::string detail,
             RecordKind kind = RecordKind::kNone, int64_t value = 0) {
    actions.push_back(AppendAudit{std::move(type), rule, std::move(door_id), std::move(subject), std::move(detail),
                                  kind, value, 0, {}});
  }
  void alarm(Rule rule, const std::string& door_id, const std::string& camera_id,
             const std::string& message) {
    actions.push_back(RaiseAlarm{rule, door_id, camera_id, message});
    audit("alarm", rule, door_id, camera_id, message);
  }

  // ---- Cameras ----
  bool live(const std::string& camera_id, MonoNs now) const {
    auto it = cameras.find(camera_id);
    return it != cameras.end() && it->second.monitor->live(now);
  }

  // Processes the liveness transitions due by `now`: U5 for open sessions,
  // U1 for pending ones, C6 health alarms.
  void refresh_cameras(MonoNs now) {
    while (!watch.empty() && watch.begin()->first <= now) {
      const std::string id = watch.begin()->second;
      refresh_camera(id, now);
    }
  }

  // When this camera's state next changes by itself.
  MonoNs watch_time(const Camera& cam) const {
    if (cam.was_live) return cam.monitor->live_until();
    if (!cam.doors.empty() && !cam.health_alarmed) return cam.not_live_since + ms_to_ns(setup.config.health_timeout_ms);
    return kNever;
  }

  void rewatch(const std::string& id, Camera& cam) {
    if (cam.watch_at != kNever) watch.erase({cam.watch_at, id});
    cam.watch_at = watch_time(cam);
    if (cam.watch_at != kNever) watch.insert({cam.watch_at, id});
  }

  // One camera's transitions at `now` (after an attestation, a fault, or its deadline).
  void refresh_camera(const std::string& id, MonoNs now) {
    if (!started) return;  // no health before the engine runs
    Camera& cam = cameras.at(id);
    {
      const bool is_live = cam.monitor->live(now);
      if (cam.was_live && !is_live) {
        const MonoNs until = cam.monitor->live_until();
        cam.not_live_since = until != kNever && until <= now ? until : now;
        cam.was_live = false;
        const bool tampered = cam.monitor->tampered(now);
        audit("camera", tampered ? Rule::C8 : Rule::C4, "", id,
              tampered ? "camera is no longer LIVE: " + cam.monitor->tamper_problem() + " for longer than " +
                             std::to_string(setup.config.tamper_window_ms) + " ms"
                       : std::string("camera is no longer LIVE"));
        // C8: the camera-tamper alarm when the window ends, once per episode.
        if (tampered && !cam.tamper_alarmed) {
          cam.tamper_alarmed = true;
          const std::string message = "camera-tamper: " + cam.monitor->tamper_problem() + " for longer than " +
                                      std::to_string(setup.config.tamper_window_ms) + " ms";
          for (const std::string& door_id : cam.doors) alarm(Rule::C8, door_id, id, message);
          if (cam.doors.empty()) alarm(Rule::C8, "", id, message);
        }
        camera_lost(id, now);
      } else if (!cam.was_live && is_live) {
        cam.was_live = true;
        cam.health_alarmed = false;
        audit("camera", Rule::C4, "", id, "camera is LIVE");
      }
      if (!is_live && !cam.doors.empty() && !cam.health_alarmed &&
          now - cam.not_live_since >= ms_to_ns(setup.config.health_timeout_ms)) {
        cam.health_alarmed = true;
        for (const std::string& door_id : cam.doors)
          alarm(Rule::C6, door_id, id,
                "camera " + id + " offline for " + std::to_string(to_ms(now - cam.not_live_since)) + " ms");
      }
    }
    rewatch(id, cam);
  }

  void camera_lost(const std::string& camera_id, MonoNs now) {
    for (auto& [door_id, door] : doors) {
      if (!door.session) continue;
      Session& s = *door.session;
      const auto& ids = s.view.camera_ids;
      if (std::find(ids.begin(), ids.end(), camera_id) == ids.end()) continue;
      if (s.view.unlocked)
        compromise(door, Rule::U5, "required camera " + camera_id + " stopped being LIVE during the session", now);
      else
        deny_pending(door, Rule::U1, "required camera " + camera_id + " stopped being LIVE before the unlock", now);
    }
  }

  // ---- Doors and sessions ----
  void command_lock(Door& door, Rule rule, MonoNs now) {
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

  // A lock that would not lock is asked again later: a door must not stay
  // unlocked because one command failed (U5, U7). The first failure alarms.
  static constexpr MonoNs kRelockRetryNs = 30'000'000'000LL;
  void schedule_relock_retry(Door& door, MonoNs now) {
    door.relock_wanted = false;
    door.relock_retry_at = now + kRelockRetryNs;
    if (door.relock_rule == Rule::kNone) door.relock_rule = Rule::F1;
  }

  void try_relock(Door& door, MonoNs now) {
    if (door.relock_wanted && door.op.id == 0 && door.door == LK_DOOR_STATE_CLOSED)
      command_lock(door, door.relock_rule, now);
  }

  // Ends an open session as compromised (I3): alarm, and relock at once with
  // the door closed, or as soon as it closes (U5, U7, F1).
  void compromise(Door& door, Rule rule, const std::string& message, MonoNs now) {
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

  void complete(Door& door, MonoNs now) {
    Session& s = *door.session;
    audit("session", Rule::U8, door.setup.door_id, hex(s.view.session_id),
          "completed: verified relock after " + std::to_string(s.view.door_opens) + " door cycle(s), " +
              std::to_string(to_ms(now - s.view.unlock_sent_at)) + " ms after unlock",
          RecordKind::kSessionCompleted);
    for (const std::string& camera_id : s.view.camera_ids) actions.push_back(StopRecording{camera_id});
    door.session.reset();
    door.relock_wanted = false;
  }

  // G4: counts a rejected request; the fifth within 10 minutes locks remote unlock.
  void count_rejection(Door& door, MonoNs now) {
    door.rejections.push_back(now);
    while (!door.rejections.empty() && now - door.rejections.front() > ms_to_ns(GateConfig::kLockoutWindowMs))
      door.rejections.pop_front();
    if (static_cast<int64_t>(door.rejections.size()) < GateConfig::kLockoutThreshold) return;
    door.rejections.clear();
    const int64_t ms = std::min(GateConfig::kLockoutBaseMs << std::min(door.lockouts, 20), GateConfig::kLockoutMaxMs);
    ++door.lockouts;
    door.lockout_until = now + ms_to_ns(ms);
    // Durable state for the next start (restart_history.cpp): a restart must
    // not lift a lockout nor restart the doubling.
    audit("lockout", Rule::G4, door.setup.door_id, "",
          "locked for " + std::to_string(ms) + " ms, lockout " + std::to_string(door.lockouts), RecordKind::kLockout,
          ms);
    alarm(Rule::G4, door.setup.door_id, "",
          "5 rejected unlock requests within 10 min: remote unlock locked for " + std::to_string(ms / 1000) + " s");
  }

  // G4 counts rejected requests. Not counted: a lockout's own denies, and
  // requests refused for the hub's own reasons (its storage failing, U3) or
  // because a challenge flood evicted the courier's challenge.
  void deny(uint64_t request_id, Door* door, const std::string& door_id, Rule rule,
            const std::string& message, const std::string& subject, MonoNs now, bool counted = true) {
    counted = counted && door != nullptr && rule != Rule::G4 && rule != Rule::U3;
    actions.push_back(Decision{request_id, door_id, false, rule, message, {}});
    audit("decision", rule, door_id, subject, counted ? "deny: " + message : "deny (not counted for G4): " + message,
          counted ? RecordKind::kDeny : RecordKind::kDenyUncounted);
    if (counted) count_rejection(*door, now);
  }

  // Denies the door's pending (not yet unlocked) request.
  void deny_pending(Door& door, Rule rule, const std::string& message, MonoNs now) {
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
  void check_pending_door(Door& door, MonoNs now) {
    if (!door.session || door.session->view.unlocked || door.session->phase != Phase::kAwaitingRecording) return;
    if (auto doubt = door_doubt(door)) deny_pending(door, Rule::F1, *doubt, now);
  }

  // U2: once every required camera acknowledges recording for this session
  // in an accepted attestation, the decision goes to the audit log (U3).
  void check_recording(Door& door, MonoNs now) {
    if (!door.session || door.session->phase != Phase::kAwaitingRecording) return;
    Session& s = *door.session;
    std::string counters;
    for (const std::string& camera_id : s.view.camera_ids) {
      const LivenessMonitor& m = *cameras.at(camera_id).monitor;
      if (m.recording_session() != s.view.session_id) return;
      counters += (counters.empty() ? "" : ", ") + camera_id + "#" + std::to_string(m.last_counter());
    }
    s.phase = Phase::kAwaitingCommit;
    s.commit_token = ++next_token;
    // The subject is the session: this durable record is what tells a
    // restarted hub that a session may have begun (F2), whatever follows.
    actions.push_back(AppendAudit{"decision", Rule::kNone, door.setup.door_id, hex(s.view.session_id),
                                  "allow: grant " + s.grant_hex + ", courier " + s.view.courier_id + ", cameras " +
                                      counters,
                                  RecordKind::kAllow, 0, s.commit_token, s.grant_hex});
    (void)now;
  }

  bool clock_synced(MonoNs now) const {
    return last_clock_sync && now - *last_clock_sync <= ms_to_ns(GateConfig::kClockSyncMaxAgeMs);
  }

  // F1: the door's own state allows an unlock.
  std::optional<std::string> door_doubt(const Door& door) const {
    if (door.lock_faulted) return "lock plugin is in fault";
    if (door.lock != LK_LOCK_STATE_LOCKED && door.lock != LK_LOCK_STATE_UNLOCKED)
      return std::string("lock state is ") + lock_state_name(door.lock);
    if (door.door != LK_DOOR_STATE_CLOSED) return std::string("door state is ") + door_state_name(door.door);
    if (door.op.id != 0) return "a lock command is still in progress";
    return std::nullopt;
  }
};

std::string camera_identity_problem(const std::string& camera_id, const crypto::PublicKey& pinned_key,
                                    const std::string& reported_id, crypto::ByteView reported_key) {
  if (reported_key.size() != pinned_key.size() || !std::equal(pinned_key.begin(), pinned_key.end(), reported_key.begin()))
    return "holds the key " + crypto::to_hex(reported_key) + ", not the pinned key " + crypto::to_hex(pinned_key);
  if (reported_id != camera_id) return "calls itself '" + reported_id + "', not '" + camera_id + "'";
  return {};
}

// ---------------------------------------------------------------------------

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

void GateEngine::on_attestation(const std::string& camera_id, crypto::ByteView bytes, MonoNs now) {
  s_->refresh_cameras(now);
  auto it = s_->cameras.find(camera_id);
  if (it == s_->cameras.end()) {
    s_->audit("attestation_rejected", Rule::C1, "", camera_id, "attestation from a camera that is not enrolled");
    return;
  }
  const AttestationVerdict v = it->second.monitor->on_attestation(bytes, now);
  if (!v.accepted) s_->audit("attestation_rejected", v.rule, "", camera_id, v.reason);
  // C8: a camera-tamper alarm, once until the camera's view is good again.
  auto& cam = it->second;
  if (!v.accepted && v.rule == Rule::C8 && !cam.tamper_alarmed) {
    cam.tamper_alarmed = true;
    for (const std::string& door_id : cam.doors) s_->alarm(Rule::C8, door_id, camera_id, "camera-tamper: " + v.reason);
    if (cam.doors.empty()) s_->alarm(Rule::C8, "", camera_id, "camera-tamper: " + v.reason);
  } else if (v.accepted) {
    cam.tamper_alarmed = false;
  }
  s_->refresh_camera(camera_id, now);
  if (v.accepted && v.recording)
    for (const std::string& door_id : it->second.doors) s_->check_recording(s_->doors.at(door_id), now);
  // A grant may name extra cameras not bound to the door.
  if (v.accepted && v.recording)
    for (auto& [door_id, door] : s_->doors)
      if (door.session) s_->check_recording(door, now);
}

void GateEngine::on_camera_fault(const std::string& camera_id, const std::string& reason, MonoNs now) {
  s_->refresh_cameras(now);
  auto it = s_->cameras.find(camera_id);
  if (it == s_->cameras.end()) return;
  s_->audit("plugin_fault", Rule::F1, "", camera_id, reason);
  it->second.monitor->mark_not_live();
  s_->refresh_camera(camera_id, now);
}

void GateEngine::on_camera_message_refused(const std::string& camera_id, uint32_t refusal, const std::string& reason,
                                           MonoNs now) {
  auto it = s_->cameras.find(camera_id);
  if (it == s_->cameras.end()) return;
  // Plugins send at most one a second per kind (lk_camera.h); a plugin that
  // sends more gets at most two records a second, the rest counted. Unknown
  // kinds share one count.
  const uint32_t bucket = refusal >= LK_CAMERA_REFUSED_MALFORMED && refusal <= LK_CAMERA_REFUSED_FOREIGN ? refusal : 0;
  auto& pace = it->second.refusals[bucket];
  if (pace.recorded && now - pace.last_record < ms_to_ns(500)) {
    ++pace.unrecorded;
    return;
  }
  const char* kind = refusal == LK_CAMERA_REFUSED_MALFORMED   ? "malformed"
                     : refusal == LK_CAMERA_REFUSED_OVERSIZED ? "oversized"
                     : refusal == LK_CAMERA_REFUSED_FOREIGN   ? "foreign"
                                                              : "refused";
  std::string detail = std::string(kind) + ": " + reason;
  if (pace.unrecorded > 0)
    detail += " (and " + std::to_string(pace.unrecorded) + " more refusal reports since the last record)";
  pace = {now, true, 0};
  s_->audit("message_refused", refusal == LK_CAMERA_REFUSED_FOREIGN ? Rule::C1 : Rule::kNone, "", camera_id, detail);
}

void GateEngine::on_camera_reenrolled(const std::string& camera_id, MonoNs now, const std::string& why) {
  s_->refresh_cameras(now);
  auto it = s_->cameras.find(camera_id);
  if (it == s_->cameras.end()) return;
  s_->audit("camera", Rule::C3, "", camera_id, "re-enrolled (" + why + "): the next boot id is accepted");
  it->second.monitor->allow_new_boot();
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

void GateEngine::on_camera_reopened(const std::string& camera_id, const std::string& reported_id,
                                    crypto::ByteView reported_key, MonoNs now) {
  const auto setup = std::find_if(s_->setup.cameras.begin(), s_->setup.cameras.end(),
                                  [&](const CameraSetup& c) { return c.camera_id == camera_id; });
  if (setup == s_->setup.cameras.end()) return;
  const std::string problem = camera_identity_problem(camera_id, setup->device_key, reported_id, reported_key);
  if (problem.empty()) {
    on_camera_reenrolled(camera_id, now);
    return;
  }
  // Not the enrolled camera: it stays not LIVE (C1) and people must look.
  const std::string why = "after its plugin restarted, camera " + camera_id + " " + problem + "; it stays not LIVE";
  on_camera_fault(camera_id, why, now);
  s_->alarm(Rule::C1, "", camera_id, why);
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

void GateEngine::on_wall_clock_synced(MonoNs now) { s_->last_clock_sync = now; }

void GateEngine::on_audit_committed(uint64_t token, bool ok, MonoNs now) {
  for (auto& [door_id, door] : s_->doors) {
    if (!door.session || door.session->phase != State::Phase::kAwaitingCommit || door.session->commit_token != token)
      continue;
    State::Session& s = *door.session;
    if (!ok) {
      s_->storage_failed = true;
      s_->alarm(Rule::U3, door_id, "", "audit log commit failed: no log, no unlock; granting stops until storage recovers");
      s_->deny_pending(door, Rule::U3, "the decision could not be committed to the audit log", now);
      return;
    }
    s_->reserved.erase(s.grant_hex);
    s_->consumed.insert(s.grant_hex);  // durable now (G3)
    // Time passed while cameras acknowledged and the log committed: the lock,
    // the door (F1) and the cameras (U1) must still be right now.
    if (auto doubt = s_->door_doubt(door)) {
      s_->audit("decision", Rule::F1, door_id, hex(s.view.session_id),
                "allow withdrawn: " + *doubt + "; grant " + s.grant_hex + " stays consumed",
                RecordKind::kAllowWithdrawn);
      s_->deny_pending(door, Rule::F1, *doubt, now);
      return;
    }
    for (const std::string& camera_id : s.view.camera_ids) {
      if (!s_->live(camera_id, now)) {
        s_->audit("decision", Rule::U1, door_id, hex(s.view.session_id),
                  "allow withdrawn: camera " + camera_id + " not LIVE at commit; grant " + s.grant_hex + " stays consumed",
                  RecordKind::kAllowWithdrawn);
        s_->deny_pending(door, Rule::U1, "camera " + camera_id + " stopped being LIVE before the unlock", now);
        return;
      }
    }
    s.view.unlocked = true;
    s.view.unlock_sent_at = now;
    // The hub itself opens the door now: an older relock, pending or to be
    // retried, belongs to the past and must not cut this session short.
    door.relock_wanted = false;
    door.relock_retry_at = kNever;
    s.phase = State::Phase::kUnlocking;
    s.session_deadline = now + ms_to_ns(s_->setup.config.session_max_ms);
    s.hub_relock_at = now + ms_to_ns(s_->setup.config.relock_deadline_ms);
    door.lockouts = 0;
    door.op = State::Operation{++s_->next_operation_id, true, now + ms_to_ns(s_->setup.config.lock_command_timeout_ms),
                               Rule::U3};
    s_->actions.push_back(Decision{s.request_id, door_id, true, Rule::kNone, "unlock", s.view.session_id});
    s_->actions.push_back(
        CommandUnlock{door_id, door.op.id, s_->setup.config.relock_deadline_ms, s.view.session_id});
    s_->audit("session", Rule::kNone, door_id, hex(s.view.session_id),
              "opened: unlock operation " + std::to_string(door.op.id) + ", grant " + s.grant_hex + ", relock deadline " +
                  std::to_string(s_->setup.config.relock_deadline_ms) + " ms",
              RecordKind::kSessionOpened);
    return;
  }
}

void GateEngine::on_storage_recovered(MonoNs now) {
  if (!s_->storage_failed) return;
  s_->storage_failed = false;
  s_->audit("hub", Rule::U3, "", "", "storage recovered: granting resumes");
  (void)now;
}

void GateEngine::revoke(const std::string& grant_id_hex, MonoNs now) {
  s_->revoked.insert(grant_id_hex);
  s_->audit("grant", Rule::G1, "", grant_id_hex, "revoked");
  (void)now;
}

crypto::Bytes GateEngine::issue_challenge(const std::string& door_id, MonoNs now) {
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) return {};
  auto& challenges = it->second.challenges;
  auto& evicted = it->second.evicted_challenges;
  const MonoNs ttl = ms_to_ns(s_->setup.config.challenge_ttl_ms);
  const auto expired = [&](const auto& entry) { return now - entry.second > ttl; };
  std::erase_if(challenges, expired);
  std::erase_if(evicted, expired);
  while (static_cast<int>(challenges.size()) >= GateConfig::kMaxChallengesPerDoor) {
    auto oldest = std::min_element(challenges.begin(), challenges.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    // Remembered until its TTL; when that memory is full too, the oldest
    // dropped challenge goes (a flood must then outrun 4096 requests within
    // one courier's sign-and-submit time to cost the courier a counted deny).
    if (static_cast<int>(evicted.size()) >= GateConfig::kMaxEvictedChallengesPerDoor) {
      evicted.erase(std::min_element(evicted.begin(), evicted.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
    evicted.insert(*oldest);
    challenges.erase(oldest);
  }
  crypto::Bytes challenge(32);  // 256 bits (G2 asks >= 128)
  s_->random(std::span<uint8_t>(challenge));
  challenges[std::string(challenge.begin(), challenge.end())] = now;
  return challenge;
}

uint64_t GateEngine::request_unlock(const std::string& door_id, crypto::ByteView bytes, const AuthzVerdict& verdict,
                                    int64_t wall_ms, MonoNs now) {
  s_->refresh_cameras(now);
  const uint64_t id = ++s_->next_request_id;
  auto it = s_->doors.find(door_id);
  if (it == s_->doors.end()) {
    s_->deny(id, nullptr, door_id, Rule::G1, "unknown door '" + door_id + "'", "", now);
    return id;
  }
  State::Door& door = it->second;
  auto deny = [&](Rule rule, const std::string& message, const std::string& subject = "") {
    s_->deny(id, &door, door_id, rule, message, subject, now);
    return id;
  };

  if (s_->storage_failed) {
    if (!s_->setup.audit_unverified.empty())
      return deny(Rule::U3, "the audit log does not verify: no log, no unlock (latchkeyd --recover-audit)");
    return deny(Rule::U3, "the audit log is failing: no log, no unlock");
  }
  if (door.lockout_until > now)
    return deny(Rule::G4, "remote unlock is locked out for " + std::to_string(to_ms(door.lockout_until - now)) + " ms");
  if (!s_->clock_synced(now)) return deny(Rule::F1, "the wall clock has not been synchronised within 24 h");

  v1::UnlockRequest request;
  if (bytes.empty() || !request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return deny(Rule::G2, "unlock request does not parse");

  // G1, the hub's own check whatever the plugin said (F3).
  crypto::GrantExpectations expect{s_->setup.hub_id, door_id, wall_ms, s_->setup.config.grant_skew_ms};
  const auto& keys = s_->setup.issuer_keys;
  const crypto::GrantCheck check = crypto::check_signed_grant(
      view(request.signed_grant()),
      [&](const std::string& key_id) -> std::optional<crypto::PublicKey> {
        auto k = keys.find(key_id);
        if (k == keys.end()) return std::nullopt;
        return k->second;
      },
      expect);
  if (!check.ok()) return deny(Rule::G1, std::string(crypto::to_string(check.refusal)) + ": " + check.message);
  const v1::Grant& grant = check.grant;
  const std::string grant_hex = hex(grant.grant_id());
  if (s_->revoked.count(grant_hex)) return deny(Rule::G1, "grant is revoked", grant_hex);
  if (s_->consumed.count(grant_hex) || s_->reserved.count(grant_hex))
    return deny(Rule::G3, "grant has already been used", grant_hex);
  if (grant.not_before_unix_ms() < s_->setup.grants_not_before_ms)
    return deny(Rule::G3,
                "grant was issued before the audit log was recovered (" +
                    std::to_string(s_->setup.grants_not_before_ms) + " ms): the hub cannot prove it unused",
                grant_hex);

  // F3: the authorization plugin's verdict is necessary, never sufficient.
  using Outcome = AuthzVerdict::Outcome;
  if (verdict.outcome == Outcome::kRefused) return deny(Rule::F3, "authorization plugin refused: " + verdict.message, grant_hex);
  if (verdict.outcome == Outcome::kFailed) return deny(Rule::F3, "authorization plugin failed: " + verdict.message, grant_hex);
  if (verdict.outcome == Outcome::kNotConsulted && s_->setup.authz_plugin_required)
    return deny(Rule::F3, "no authorization plugin verdict", grant_hex);
  if (verdict.outcome == Outcome::kAccepted && (verdict.grant_id != grant.grant_id() || verdict.door_id != door_id))
    return deny(Rule::F3, "authorization plugin's grant differs from the presented one", grant_hex);

  // G2: proof of presence over (grant id, door id, a fresh single-use hub challenge).
  v1::PresenceStatement presence;
  if (!presence.ParseFromString(request.presence())) return deny(Rule::G2, "presence statement does not parse", grant_hex);
  if (presence.grant_id() != grant.grant_id()) return deny(Rule::G2, "presence names another grant", grant_hex);
  if (presence.door_id() != door_id) return deny(Rule::G2, "presence names another door", grant_hex);
  auto challenge = door.challenges.find(presence.challenge());
  if (challenge == door.challenges.end()) {
    // A challenge the hub issued and then dropped under a flood of challenge
    // requests: the courier did nothing wrong and must not be locked out (G4).
    if (auto evicted = door.evicted_challenges.find(presence.challenge()); evicted != door.evicted_challenges.end()) {
      door.evicted_challenges.erase(evicted);
      s_->deny(id, &door, door_id, Rule::G2,
               "challenge was dropped by a flood of challenge requests at this door; request a new one", grant_hex, now,
               false);
      return id;
    }
    return deny(Rule::G2, "challenge was never issued for this door or was already used", grant_hex);
  }
  const MonoNs issued = challenge->second;
  door.challenges.erase(challenge);  // usable once, whatever happens next
  if (now - issued > ms_to_ns(s_->setup.config.challenge_ttl_ms))
    return deny(Rule::G2, "challenge expired " + std::to_string(to_ms(now - issued)) + " ms after issue", grant_hex);
  crypto::PublicKey courier_key;
  std::copy(grant.courier_public_key().begin(), grant.courier_public_key().end(), courier_key.begin());
  if (!crypto::verify(crypto::kPresenceDomain, view(request.presence()), view(request.presence_signature()),
                      courier_key))
    return deny(Rule::G2, "proof of presence is not signed by the grant's courier key", grant_hex);

  // One session per door at a time (U6).
  if (door.session) return deny(Rule::U6, "a session is already under way at this door", grant_hex);
  // F1: the lock and door must be in a known, consistent state.
  if (auto doubt = s_->door_doubt(door)) return deny(Rule::F1, *doubt, grant_hex);
  // U1: every bound camera and every camera the grant names must be LIVE.
  std::vector<std::string> required = door.setup.camera_ids;
  for (const std::string& c : grant.required_camera_ids())
    if (std::find(required.begin(), required.end(), c) == required.end()) required.push_back(c);
  if (required.empty()) return deny(Rule::U1, "no camera is bound to this door", grant_hex);
  for (const std::string& c : required) {
    if (!s_->cameras.count(c)) return deny(Rule::U1, "required camera '" + c + "' is not enrolled", grant_hex);
    if (!s_->live(c, now)) return deny(Rule::U1, "required camera '" + c + "' is not LIVE", grant_hex);
  }
  // U2: a camera records one session at a time; another door's session keeps it.
  for (const auto& [other_id, other] : s_->doors) {
    if (!other.session || other_id == door_id) continue;
    for (const std::string& c : required)
      for (const std::string& busy : other.session->view.camera_ids)
        if (c == busy)
          return deny(Rule::U2, "camera '" + c + "' is recording a session at door '" + other_id + "'", grant_hex);
  }

  // U2: ask every required camera to record this session before anything moves.
  State::Session s;
  s.request_id = id;
  s.grant_hex = grant_hex;
  s.view.session_id.resize(16);
  s_->random(std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.view.session_id.data()), 16));
  s.view.door_id = door_id;
  s.view.grant_id = grant.grant_id();
  s.view.courier_id = grant.courier_id();
  s.view.camera_ids = required;
  s.recording_deadline = now + ms_to_ns(s_->setup.config.recording_ack_timeout_ms);
  const std::string session_id = s.view.session_id;
  door.session = std::move(s);
  s_->reserved.insert(grant_hex);
  s_->audit("request", Rule::U2, door_id, grant_hex, "checks passed; waiting for cameras to record session " + hex(session_id));
  for (const std::string& c : required) s_->actions.push_back(StartRecording{c, session_id});
  s_->check_recording(door, now);
  return id;
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

bool GateEngine::camera_live(const std::string& camera_id, MonoNs now) const { return s_->live(camera_id, now); }

const LivenessMonitor* GateEngine::monitor(const std::string& camera_id) const {
  auto it = s_->cameras.find(camera_id);
  return it == s_->cameras.end() ? nullptr : it->second.monitor.get();
}

const GateConfig& GateEngine::config() const noexcept { return s_->setup.config; }
bool GateEngine::storage_failed() const noexcept { return s_->storage_failed; }

}  // namespace latchkey::gate
