// GateEngine: the hub's decision logic as a pure, deterministic state machine.
//
// Events and the hub's monotonic time go in; actions come out (take_actions).
// No I/O, no clock reads, no threads: the same inputs always give the same
// outputs, which is what lets a seeded simulator drive it through hundreds of
// thousands of sessions with injected faults. It enforces G1-G4, C2-C6,
// U1-U8 and F1-F3 (docs/rules.md); every deny and every alarm carries its rule ID.
//
// The caller must call tick(now) no later than next_deadline(), and must
// answer every AppendAudit with a durable_token through on_audit_committed()
// before feeding further events.
#ifndef LATCHKEY_GATE_GATE_ENGINE_HPP
#define LATCHKEY_GATE_GATE_ENGINE_HPP

#include <latchkey/gate/actions.hpp>
#include <latchkey/gate/config.hpp>
#include <latchkey/gate/liveness_monitor.hpp>
#include <latchkey/gate/time.hpp>
#include <latchkey/lk_lock.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace latchkey::v1 {
class UnlockRequest;
}

namespace latchkey::gate {

struct DoorSetup {
  std::string door_id;
  std::vector<std::string> camera_ids;  // cameras bound to this door (U1)
  std::string lock_plugin{};            // the plugin driving its lock (F1 when that plugin fails)
};

struct CameraSetup {
  std::string camera_id;
  crypto::PublicKey device_key{};       // pinned at enrolment (C1)
  SceneLimits scene{};                  // set at enrolment (C8)
  std::string plugin{};                 // the plugin driving it (F1 when that plugin fails)
};

// C1: whether a camera device is the one enrolled, from what it says of
// itself (its id and public key). Empty when it is; otherwise why not. The
// hub asks at start (a mismatch is a configuration error) and after the
// camera's plugin restarted (GateEngine::on_camera_reopened).
std::string camera_identity_problem(const std::string& camera_id, const crypto::PublicKey& pinned_key,
                                    const std::string& reported_id, crypto::ByteView reported_key);

// U4: whether a door's lock takes the hub's relock deadline, from what the
// lock declares (lk_lock_description: flags, max_relock_deadline_ms). Empty
// when it does - a lock without LK_LOCK_CAP_RELOCK_DEADLINE ignores the
// deadline (docs/abi.md 7.4) and the hub's own backstop relocks it -;
// otherwise why not. The hub asks at start: a lock that would refuse every
// unlock with LK_ERR_INVALID_ARGUMENT is a configuration error there, not a
// surprise at the first delivery.
std::string relock_deadline_problem(uint32_t lock_flags, uint32_t max_relock_deadline_ms,
                                    int64_t relock_deadline_ms);

// G4 across restarts: what the audit log shows of a door's lockouts
// (restart_history.hpp builds it).
struct DoorHistory {
  int lockouts = 0;                        // lockouts since the last unlock: the doubling goes on from here
  int64_t lockout_remaining_ms = 0;        // of the newest lockout, at start
  std::vector<int64_t> rejection_ages_ms;  // counted rejections since then, their age at start
};

struct GateSetup {
  std::string hub_id;
  GateConfig config;
  std::vector<DoorSetup> doors;
  std::vector<CameraSetup> cameras;
  std::map<std::string, crypto::PublicKey> issuer_keys;  // key id -> pinned issuer key (G1)
  std::set<std::string> consumed_grants;                 // hex grant ids, from the audit log (G3, I2)
  std::set<std::string> revoked_grants;                  // hex grant ids (G1)
  // G1, the fleet's signed revocation lists (docs/fleet.md "Revocations"):
  // issuer key id -> hex grant ids. A list revokes only grants of its own
  // issuer: the grant's issuer_key_id selects the list that can name it.
  std::map<std::string, std::set<std::string>> revoked_by_issuer;
  // F2: sessions the audit log shows open when the hub stopped: door id -> session id (hex).
  std::map<std::string, std::string> sessions_open_at_stop;
  bool authz_plugin_required = true;                     // F3: its verdict is necessary
  std::string authz_plugin;                              // its plugin's name, if any
  std::map<std::string, DoorHistory> door_history;       // G4, by door id
  // A2/G3: the audit log was recovered at this wall time (Unix ms); a grant
  // whose not_before is earlier may have been consumed in the lost log and
  // is refused. 0: never recovered.
  int64_t grants_not_before_ms = 0;
  // A2: non-empty when the audit log did not verify at start (the reason,
  // naming the record): nothing is granted (as U3) and an alarm is raised.
  std::string audit_unverified;
  // A2 with a fleet witness ([fleet], docs/fleet.md): nothing is granted
  // until on_witness_confirmed (fail closed: whoever rolls the log back can
  // also cut the network).
  bool witness_required = false;
};

// What the authorization plugin said about the presented credential (F3).
// kPending: the plugin is being asked while the engine runs its own checks
// and starts recording; its answer comes through on_authz_verdict, and no
// decision is committed before it has come.
struct AuthzVerdict {
  enum class Outcome { kNotConsulted, kAccepted, kRefused, kFailed, kPending };
  Outcome outcome = Outcome::kNotConsulted;
  std::string grant_id;                 // raw 16 bytes, when accepted
  std::string door_id;
  std::string message;
};

enum class SessionEnd { kNone, kCompleted, kCompromised };

struct SessionView {
  std::string session_id;               // raw bytes
  std::string door_id;
  std::string grant_id;                 // raw bytes
  std::string courier_id;
  std::vector<std::string> camera_ids;
  bool unlocked = false;                // the unlock command was sent
  int door_opens = 0;
  SessionEnd end = SessionEnd::kNone;
  Rule end_rule = Rule::kNone;
  MonoNs unlock_sent_at = 0;
};

// Why an unlock request at a door would be refused now, whatever its grant.
struct UnlockRefusal {
  Rule rule = Rule::kNone;
  std::string message;
};

struct DoorView {
  std::string door_id;
  lk_lock_state lock_state = LK_LOCK_STATE_UNKNOWN;
  lk_door_state door_state = LK_DOOR_STATE_UNKNOWN;
  bool lock_faulted = false;
  MonoNs lockout_until = 0;             // G4: remote unlock refused until then
  std::optional<SessionView> session;   // pending or open
};

// The engine's answer to a command from a home controller (Home Assistant,
// docs/home-assistant.md), which holds no grant and no proof of presence.
struct RemoteAnswer {
  bool accepted = false;
  Rule rule = Rule::kNone;    // why it was refused
  std::string message;        // for the log and the controller
  uint64_t operation_id = 0;  // the lock command it started, if any
};

class GateEngine {
 public:
  // Throws ConfigError on an invalid config or a door naming an unknown camera.
  GateEngine(GateSetup setup, RandomSource random);

  // F2: closes sessions open at the last stop as compromised and relocks.
  void start(MonoNs now);

  // ---- Events ----
  void on_attestation(const std::string& camera_id, crypto::ByteView signed_attestation, MonoNs now);
  void on_camera_fault(const std::string& camera_id, const std::string& reason, MonoNs now);  // F1
  // Messages on a camera's link were refused (LK_CAMERA_STATUS_MESSAGE_REFUSED):
  // audited as "message_refused" (rule C1 when they were not the camera's
  // own); a plugin sends at most one per kind a second (lk_camera.h), the
  // engine records at most two, counting the rest into the next record.
  // Liveness is untouched: it comes from attestations.
  void on_camera_message_refused(const std::string& camera_id, uint32_t refusal, const std::string& reason,
                                 MonoNs now);
  // C3 re-enrolment: the camera's plugin restarted and the device proved the
  // pinned key again; its next attestation may carry a new boot id.
  void on_camera_reenrolled(const std::string& camera_id, MonoNs now,
                            const std::string& why = "its plugin restarted");
  // The plugin host's supervisor (isolated plugins). The engine decides what
  // each means (F1): a failure puts every door and camera of the plugin in
  // fault (open sessions compromised, pending requests denied) with an alarm;
  // restart_in_ms < 0 when no restart follows. Quarantine is an alarm; a
  // restore is audited, and each of its cameras is then checked again with
  // on_camera_reopened.
  void on_plugin_failed(const std::string& plugin, const std::string& reason, int64_t restart_in_ms, MonoNs now);
  void on_plugin_quarantined(const std::string& plugin, const std::string& reason, MonoNs now);
  void on_plugin_restored(const std::string& plugin, int64_t host_pid, MonoNs now);
  // C1/C3 after a camera's plugin restarted: the device as it describes
  // itself. The enrolled camera re-enrols (its next boot id is accepted);
  // any other stays not LIVE, with a C1 alarm.
  void on_camera_reopened(const std::string& camera_id, const std::string& reported_id,
                          crypto::ByteView reported_key, MonoNs now);
  void on_lock_state(const std::string& door_id, lk_lock_state state, MonoNs now);
  void on_door_state(const std::string& door_id, lk_door_state state, MonoNs now);
  void on_lock_alarm(const std::string& door_id, lk_alarm_code code, MonoNs now);
  void on_lock_completion(const std::string& door_id, uint64_t operation_id, lk_result result, lk_lock_state state,
                          MonoNs now);
  void on_lock_fault(const std::string& door_id, const std::string& reason, MonoNs now);  // F1
  void on_wall_clock_synced(MonoNs now);                                                  // F1
  void on_audit_committed(uint64_t token, bool ok, MonoNs now);                           // U3
  void on_storage_recovered(MonoNs now);                                                  // U3
  // A2, the fleet witness (docs/fleet.md). Confirmed: the witness's newest
  // checkpoint is one the log extends; lifts the hold of witness_required
  // (audited once). Refused: the log is shorter than the witness's
  // checkpoint or does not extend it (rolled back): an A2 alarm, and nothing
  // is granted again in this run, whatever the witness says later, until a
  // person resolves it. `detail` says what the witness holds and what the log has.
  void on_witness_confirmed(const std::string& detail, MonoNs now);
  void on_witness_refused(const std::string& detail, MonoNs now);
  void revoke(const std::string& grant_id_hex, MonoNs now);                               // G1
  // G1: the issuer's revocation list now in force replaces the one before
  // (lists are cumulative). Each grant it names that was not revoked by this
  // issuer before gets an audit record (G1, `reason`, e.g. "revoked by list
  // <issuer> #<seq>"); returns how many. A session already running on a
  // revoked grant is not cut: the refusal applies to unlock requests after it.
  std::size_t set_issuer_revocations(const std::string& issuer_key_id, const std::set<std::string>& grant_ids_hex,
                                     const std::string& reason, MonoNs now);

  // G2: a fresh single-use challenge for a door (empty for an unknown door).
  crypto::Bytes issue_challenge(const std::string& door_id, MonoNs now);

  // An unlock request (serialized UnlockRequest). Returns a request id; the
  // Decision action follows, at once for a deny, after recording (U2) and the
  // durable commit (U3) for an allow.
  uint64_t request_unlock(const std::string& door_id, crypto::ByteView unlock_request, const AuthzVerdict& verdict,
                          int64_t wall_ms, MonoNs now);
  // The same for a request the caller parsed once (nullptr: it did not
  // parse, which is denied and counted like any malformed request).
  uint64_t request_unlock(const std::string& door_id, const v1::UnlockRequest* request, const AuthzVerdict& verdict,
                          int64_t wall_ms, MonoNs now);
  // F3: the authorization plugin's answer to a request made with a pending
  // verdict. A request already decided (denied by the engine's own checks)
  // ignores it; a refusal, a failure or a different grant denies the request
  // (F3), an acceptance lets it go on to the commit once cameras record (U2).
  void on_authz_verdict(uint64_t request_id, const AuthzVerdict& verdict, MonoNs now);

  // ---- Commands from a home controller (docs/home-assistant.md) ----
  // A LOCK request. It never breaks a rule, so it is refused (and audited,
  // A1) while a session is open or pending at the door (the session relocks
  // itself: U8 after the door cycle, U7 at session_max), while the door is
  // not reported Closed (a bolt thrown into an open door is U8's Locked-
  // while-Open inconsistency), and while the lock's plugin is in fault (F1).
  // Accepted otherwise: a lock command leaves unless the lock already
  // reports Locked or a lock command is already running. `source` names the
  // controller in the record. Unknown doors are refused without a record.
  RemoteAnswer request_remote_lock(const std::string& door_id, const std::string& source, MonoNs now);
  // G1: an UNLOCK (or OPEN) from a home controller carries no grant, so it is
  // refused, always, and audited as a deny that does not count toward G4's
  // lockout (a household's own controller must not be able to lock
  // couriers out). Nothing moves. `what` says what was asked.
  RemoteAnswer refuse_remote_unlock(const std::string& door_id, const std::string& source, const std::string& what,
                                    MonoNs now);

  // Timers: nonces, liveness deadlines, session deadlines.
  void tick(MonoNs now);
  MonoNs next_deadline() const;

  std::vector<Action> take_actions();

  // ---- Views ----
  std::vector<DoorView> doors() const;
  std::optional<DoorView> door(const std::string& door_id) const;
  bool camera_live(const std::string& camera_id, MonoNs now) const;
  // What an unlock request at this door would be refused for now, before
  // its grant is looked at - the checks of request_unlock that concern the
  // hub, the door and its bound cameras (U3, G4, F1, U6, U1, U2), in its
  // order; nullopt when a valid grant with a fresh proof would be admitted
  // (and an unknown door). One source for the status page and the deny.
  std::optional<UnlockRefusal> unlock_refusal(const std::string& door_id, MonoNs now) const;
  const LivenessMonitor* monitor(const std::string& camera_id) const;
  const GateConfig& config() const noexcept;
  bool storage_failed() const noexcept;
  enum class WitnessHold { kNone, kAwaiting, kRefused };
  WitnessHold witness_hold() const noexcept;

  ~GateEngine();
  GateEngine(const GateEngine&) = delete;
  GateEngine& operator=(const GateEngine&) = delete;

  struct State;

 private:
  std::unique_ptr<State> s_;
};

}  // namespace latchkey::gate

#endif  // LATCHKEY_GATE_GATE_ENGINE_HPP
