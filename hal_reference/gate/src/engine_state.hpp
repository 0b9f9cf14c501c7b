// GateEngine::State: the engine's state and the steps its event handlers
// share, private to the engine's sources. What lives where:
//   gate_engine.cpp       construction, start (F2), tick and deadlines, views
//   camera_watch.cpp      attestations, liveness transitions, C6 health, C8
//                         tamper alarms, camera faults and re-enrolment
//   door_sessions.cpp     lock and door events, lock commands and relocks,
//                         session completion and compromise, plugin failures
//   unlock_admission.cpp  challenges, unlock requests (G1-G4, F3, U1, U2),
//                         the durable commit (U3) and the unlock itself
#ifndef LATCHKEY_GATE_SRC_ENGINE_STATE_HPP
#define LATCHKEY_GATE_SRC_ENGINE_STATE_HPP

#include <latchkey/gate/gate_engine.hpp>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace latchkey::gate {

namespace engine_detail {

inline crypto::ByteView view(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string hex(const std::string& s) { return crypto::to_hex(view(s)); }
inline int64_t to_ms(MonoNs ns) { return ns / 1'000'000; }

}  // namespace engine_detail

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
    std::string issuer_key_id;            // G1: whose fleet revocation list may name the grant
    MonoNs recording_deadline = kNever;   // U2, and F3 while the plugin's verdict is pending
    bool authz_pending = false;           // F3: no commit before the plugin's verdict
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
  std::map<std::string, std::set<std::string>> revoked_by_issuer;  // issuer key id -> hex (fleet lists)
  std::optional<MonoNs> last_clock_sync;
  bool storage_failed = false;
  GateEngine::WitnessHold witness_hold = GateEngine::WitnessHold::kNone;  // A2, [fleet]
  std::string witness_refusal;                                          // what the witness showed
  uint64_t next_request_id = 0;
  uint64_t next_operation_id = 0;
  uint64_t next_token = 0;
  std::vector<Action> actions;

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
  bool live(const std::string& camera_id, MonoNs now) const {
    auto it = cameras.find(camera_id);
    return it != cameras.end() && it->second.monitor->live(now);
  }
  // Processes the liveness transitions due by `now`: U5 for open sessions,
  // U1 for pending ones, C6 health alarms.
  void refresh_cameras(MonoNs now);
  // When this camera's state next changes by itself.
  MonoNs watch_time(const Camera& cam) const {
    if (cam.was_live) return cam.monitor->live_until();
    if (!cam.doors.empty() && !cam.health_alarmed) return cam.not_live_since + ms_to_ns(setup.config.health_timeout_ms);
    return kNever;
  }
  void rewatch(const std::string& id, Camera& cam);
  // One camera's transitions at `now` (after an attestation, a fault, or its deadline).
  void refresh_camera(const std::string& id, MonoNs now);
  void camera_lost(const std::string& camera_id, MonoNs now);
  void command_lock(Door& door, Rule rule, MonoNs now);
  // A lock that would not lock is asked again later: a door must not stay
  // unlocked because one command failed (U5, U7). The first failure alarms.
  static constexpr MonoNs kRelockRetryNs = 30'000'000'000LL;
  void schedule_relock_retry(Door& door, MonoNs now);
  void try_relock(Door& door, MonoNs now);
  // Ends an open session as compromised (I3): alarm, and relock at once with
  // the door closed, or as soon as it closes (U5, U7, F1).
  void compromise(Door& door, Rule rule, const std::string& message, MonoNs now);
  void complete(Door& door, MonoNs now);
  // G4: counts a rejected request; the fifth within 10 minutes locks remote unlock.
  void count_rejection(Door& door, MonoNs now);
  // G4 counts rejected requests. Not counted: a lockout's own denies, and
  // requests refused for the hub's own reasons (its storage failing, U3) or
  // because a challenge flood evicted the courier's challenge.
  void deny(uint64_t request_id, Door* door, const std::string& door_id, Rule rule,
            const std::string& message, const std::string& subject, MonoNs now, bool counted = true);
  // Denies the door's pending (not yet unlocked) request.
  void deny_pending(Door& door, Rule rule, const std::string& message, MonoNs now);
  // G1: the grant is revoked, by the hub's own list or its issuer's fleet list.
  bool grant_revoked(const std::string& grant_hex, const std::string& issuer_key_id) const {
    if (revoked.count(grant_hex)) return true;
    const auto listed = revoked_by_issuer.find(issuer_key_id);
    return listed != revoked_by_issuer.end() && listed->second.count(grant_hex) > 0;
  }
  // G1 after admission: a request still waiting for its cameras (U2) whose
  // grant was revoked meanwhile is denied; its grant is not consumed.
  void deny_revoked_pending(MonoNs now);
  // F1 while a request waits for recording: any doubt about the lock or door
  // denies it, whatever the cameras say next.
  void check_pending_door(Door& door, MonoNs now);
  // U2: once every required camera acknowledges recording for this session
  // in an accepted attestation, the decision goes to the audit log (U3).
  void check_recording(Door& door, MonoNs now);
  bool clock_synced(MonoNs now) const {
    return last_clock_sync && now - *last_clock_sync <= ms_to_ns(GateConfig::kClockSyncMaxAgeMs);
  }
  // F1: the door's own state allows an unlock.
  std::optional<std::string> door_doubt(const Door& door) const;
  // The checks of an unlock request before its grant: the hub's storage
  // (U3), the door's lockout (G4), the wall clock (F1).
  std::optional<UnlockRefusal> hub_refusal(const Door& door, MonoNs now) const;
  // The checks after the grant and its proof: one session per door (U6),
  // the door's state (F1), every required camera enrolled and LIVE (U1) and
  // not recording another door's session (U2).
  std::optional<UnlockRefusal> door_refusal(const std::string& door_id, const Door& door,
                                            const std::vector<std::string>& required, MonoNs now) const;
};

}  // namespace latchkey::gate

#endif  // LATCHKEY_GATE_SRC_ENGINE_STATE_HPP
