// HubApi: what the HTTP server (and anything else outside the loop) may ask
// of the running hub. The runtime implements it by marshalling each call onto
// its libuv loop and waiting for the answer, so every method is thread-safe
// and may block for as long as the decision takes (unlock: recording and the
// durable commit, a few seconds at most).
//
// Answers are plain structs or an ApiError; events are a variant of plain
// structs. Nothing here knows HTTP or JSON: the HTTP layer
// (hal_reference/daemon/http) alone chooses status codes and renders each
// type as docs/api.md describes it.
#ifndef LATCHKEY_HUB_HUB_API_HPP
#define LATCHKEY_HUB_HUB_API_HPP

#include <latchkey/rules/record_kind.hpp>
#include <latchkey/rules/rule.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace latchkey::hub {

using Bytes = std::vector<uint8_t>;

// Why a call gave no answer.
enum class ApiErrorKind {
  kBadRequest,   // the request names an action, fault or device kind the hub does not know
  kNotFound,     // unknown door, camera or lock; or test control is not enabled
  kConflict,     // the device refused what was asked of it
  kUnavailable,  // the hub is stopping, did not answer in time, or cannot record (A2, U3)
};

struct ApiError {
  ApiErrorKind kind = ApiErrorKind::kUnavailable;
  std::string message;
  Rule rule = Rule::kNone;  // the rule that applies, if one does (docs/rules.md)
};

// A T or the ApiError saying why there is none.
template <class T>
class ApiResult {
 public:
  ApiResult(T value) : result_(std::move(value)) {}         // NOLINT: implicit on purpose
  ApiResult(ApiError error) : result_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const noexcept { return std::holds_alternative<T>(result_); }
  // Throw std::bad_variant_access when the result is the other one. On a
  // temporary they return by value, so `for (auto& x : hub.alarms(0).value())`
  // does not iterate a destroyed result.
  const T& value() const& { return std::get<T>(result_); }
  T value() && { return std::get<T>(std::move(result_)); }
  const ApiError& error() const& { return std::get<ApiError>(result_); }
  ApiError error() && { return std::get<ApiError>(std::move(result_)); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, ApiError> result_;
};

// Matter's vocabulary for a lock and its door sensor.
enum class LockState { kUnknown, kLocked, kUnlocked, kNotFullyLocked, kUnlatched };
enum class DoorState { kUnknown, kOpen, kClosed, kJammed, kForcedOpen, kAjar };

// The names docs/api.md gives these values ("not_fully_locked", "forced_open").
constexpr const char* to_string(LockState s) noexcept {
  switch (s) {
    case LockState::kLocked: return "locked";
    case LockState::kUnlocked: return "unlocked";
    case LockState::kNotFullyLocked: return "not_fully_locked";
    case LockState::kUnlatched: return "unlatched";
    case LockState::kUnknown: break;
  }
  return "unknown";
}
constexpr const char* to_string(DoorState s) noexcept {
  switch (s) {
    case DoorState::kOpen: return "open";
    case DoorState::kClosed: return "closed";
    case DoorState::kJammed: return "jammed";
    case DoorState::kForcedOpen: return "forced_open";
    case DoorState::kAjar: return "ajar";
    case DoorState::kUnknown: break;
  }
  return "unknown";
}

struct Health {
  bool storage_failed = false;  // U3: a decision commit failed; nothing is granted
  bool audit_verified = true;   // A2: false when the log did not verify at start
  int64_t uptime_ms = 0;
  uint64_t doors = 0;
  uint64_t cameras = 0;
  uint64_t audit_records = 0;
};

// G2: a fresh single-use challenge.
struct Challenge {
  std::string door;
  Bytes challenge;
  int64_t expires_in_ms = 0;
};

// The decision on an unlock request: an allow names the session, a deny the
// rule and why.
struct UnlockOutcome {
  bool allowed = false;
  std::string door;
  Bytes session;        // allow
  Rule rule = Rule::kNone;     // deny
  std::string message;  // deny
  uint64_t request_id = 0;
};

// A session still open (or pending its unlock).
struct OpenSession {
  Bytes session;
  std::string door;
  Bytes grant;
  std::string courier;
  bool unlocked = false;
  int64_t door_opens = 0;
  std::vector<std::string> cameras;
};

// A session's transition as audited: opened, completed or compromised.
enum class SessionEnd { kOpen, kCompleted, kCompromised };
constexpr const char* to_string(SessionEnd e) noexcept {
  switch (e) {
    case SessionEnd::kCompleted: return "completed";
    case SessionEnd::kCompromised: return "compromised";
    case SessionEnd::kOpen: break;
  }
  return "open";
}
struct SessionChange {
  std::string session;  // as the audit record names it (hex)
  std::string door;
  Rule rule = Rule::kNone;
  std::string detail;
  SessionEnd end = SessionEnd::kOpen;
};

struct Sessions {
  std::vector<OpenSession> open;
  std::vector<SessionChange> ended;  // newest first
};

// C8: what a camera last measured of its view.
struct SceneMeasures {
  uint32_t mean_luminance = 0;
  uint32_t sharpness = 0;
  uint32_t reference_similarity = 0;
};

struct CameraStatus {
  std::string id;
  bool live = false;
  std::optional<int64_t> last_accepted_age_ms;
  uint64_t counter = 0;
  Bytes recording_session;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  std::optional<SceneMeasures> scene;
};

// Whether a remote unlock would be admitted at the door now (given a valid
// grant with a fresh proof of presence), and if not, the rule and why: the
// gate engine's own checks (GateEngine::unlock_refusal).
struct RemoteUnlockState {
  bool allowed = true;
  Rule rule = Rule::kNone;
  std::string reason;
};

struct DoorStatus {
  std::string id;
  LockState lock_state = LockState::kUnknown;
  DoorState door_state = DoorState::kUnknown;
  bool lock_faulted = false;
  int64_t lockout_remaining_ms = 0;  // G4
  std::optional<OpenSession> session;
  std::vector<CameraStatus> cameras;
  RemoteUnlockState remote_unlock;
};

struct Alarm {
  uint64_t id = 0;
  int64_t time_ms = 0;  // wall clock
  Rule rule = Rule::kNone;
  std::string door;
  std::string camera;
  std::string message;
  int64_t mono_us = 0;  // hub monotonic clock when raised (docs/api.md)
};

struct AuditRecord {
  uint64_t seq = 0;
  int64_t wall_ms = 0;
  std::string type;
  Rule rule = Rule::kNone;
  std::string door;
  std::string subject;
  std::string detail;
  std::string consumes_grant;  // the grant id (hex) this decision consumed, else empty
  Bytes hash;
  RecordKind kind = RecordKind::kNone;  // what a restart reads back (record_kind.hpp)
  int64_t value = 0;                    // the kind's number: a lockout's ms, a recovery's cut-off
};

// What the fleet witness said of the log in this run ([fleet], docs/fleet.md).
struct WitnessStatus {
  std::string state;   // "awaiting" (no answer yet: nothing granted), "confirmed" or "refused" (rolled back)
  std::string detail;  // the last verdict: what the witness holds and what the log has ("" before any)
  std::string via;     // [fleet] via: "direct" or "bridge" (the hub broker's bridge)
  bool upstream_up = false;  // the fleet broker is reachable now (link connected; through the bridge: bridge up)
};

struct AuditVerification {
  bool ok = false;
  uint64_t records = 0;
  Bytes head;
  uint64_t problem_seq = 0;  // when not ok
  std::string error;         // when not ok
  // With [fleet] on, or a rollback the witness showed earlier: the local
  // verification cannot see a log put back whole; the witness can.
  std::optional<WitnessStatus> witness;
};

enum class PluginMode { kInProcess, kIsolated };
enum class PluginState { kRunning, kRestarting, kQuarantined, kStopped };
constexpr const char* to_string(PluginMode m) noexcept { return m == PluginMode::kIsolated ? "isolated" : "in_process"; }
constexpr const char* to_string(PluginState s) noexcept {
  switch (s) {
    case PluginState::kRunning: return "running";
    case PluginState::kRestarting: return "restarting";
    case PluginState::kQuarantined: return "quarantined";
    case PluginState::kStopped: break;
  }
  return "stopped";
}
struct PluginStatus {
  std::string name;
  std::string driver;
  std::string version;
  PluginMode mode = PluginMode::kInProcess;
  PluginState state = PluginState::kRunning;
  int64_t pid = 0;  // the plugin host's; 0 in-process or while down
  uint64_t failures = 0;
  uint64_t recent_failures = 0;
  uint64_t restarts = 0;
  std::string last_fault;
  int64_t restart_in_ms = 0;
};

// A command from a home controller (Home Assistant, docs/home-assistant.md)
// as the gate engine decided it: a LOCK accepted or refused with its rule; an
// UNLOCK always refused (G1). Both are audited by the engine.
struct RemoteCommandAnswer {
  bool accepted = false;
  Rule rule = Rule::kNone;  // why refused
  std::string message;
};

// A test control request was carried out.
struct TestControlDone {};

// ---- Events ----

// "decision": the answer an unlock request got (an ApiError when a deny could
// not be recorded, U3).
struct DecisionEvent {
  ApiResult<UnlockOutcome> result;
};
// "audit": a record appended to the log.
struct AuditAppended {
  uint64_t seq = 0;
  std::string type;
  Rule rule = Rule::kNone;
  std::string door;
  std::string subject;
  std::string detail;
};
// "door": a lock or unlock command left the hub.
struct DoorCommand {
  std::string door;
  bool unlock = false;
  uint64_t operation = 0;
  Rule rule = Rule::kNone;
  std::string result;  // the device call's lk_result name
  int64_t mono_us = 0; // when the lock's plugin had taken the command
};
// "door": what the lock reported.
struct LockStateChanged {
  std::string door;
  LockState lock_state = LockState::kUnknown;
};
struct DoorStateChanged {
  std::string door;
  DoorState door_state = DoorState::kUnknown;
};
struct LockAlarmReported {
  std::string door;
  uint64_t lock_alarm = 0;
};
// "camera": a change of liveness.
struct CameraLiveness {
  std::string camera;
  bool live = false;
  int64_t mono_us = 0;
  std::optional<int64_t> last_accepted_mono_us;
};
// "camera": messages on the camera's link were refused.
struct CameraRefused {
  std::string camera;
  std::string reason;
};
// "camera": the camera's plugin reported a status (lk_camera_status).
struct CameraStatusReported {
  std::string camera;
  uint64_t status = 0;
};
// "plugin": a plugin's supervision state changed.
struct PluginChanged {
  std::string plugin;
  PluginState state = PluginState::kRunning;
  std::string reason;
};

// "alarm" is an Alarm, "session" a SessionChange.
using EventData = std::variant<Alarm, DecisionEvent, SessionChange, DoorCommand, LockStateChanged, DoorStateChanged,
                               LockAlarmReported, CameraLiveness, CameraRefused, CameraStatusReported, AuditAppended,
                               PluginChanged>;

// A camera's picture as the plugin gave it (lk_snapshot_info).
struct CameraSnapshot {
  std::string camera;
  enum class Format { kJpeg, kPpm } format = Format::kJpeg;
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint8_t> image;
};

struct HubEvent {
  uint64_t id = 0;  // increasing
  EventData data;
  int64_t wall_ms = 0;  // when the hub published it (Unix ms)
};

class HubApi {
 public:
  virtual ~HubApi() = default;

  virtual ApiResult<Health> health() = 0;
  // G2: a fresh single-use challenge for a door.
  virtual ApiResult<Challenge> challenge(const std::string& door_id) = 0;
  // Submits a serialized UnlockRequest (grant + proof of presence); answers
  // with the decision, allow or deny with the rule ID.
  virtual ApiResult<UnlockOutcome> unlock(const std::string& door_id, const std::vector<uint8_t>& unlock_request) = 0;
  virtual ApiResult<std::vector<DoorStatus>> doors() = 0;
  virtual ApiResult<Sessions> sessions() = 0;
  virtual ApiResult<std::vector<Alarm>> alarms(uint64_t since_id) = 0;
  virtual ApiResult<std::vector<AuditRecord>> audit(uint64_t from_seq, std::size_t limit) = 0;
  virtual ApiResult<AuditVerification> audit_verify() = 0;
  // Each plugin: mode (isolated or in_process), state (running, restarting,
  // quarantined), host pid, failures, restarts and the last fault.
  virtual ApiResult<std::vector<PluginStatus>> plugins() = 0;

  // Test control, only when the hub's configuration enables it (otherwise
  // kNotFound). action: open, close, manual_lock, manual_unlock.
  virtual ApiResult<TestControlDone> test_door_action(const std::string& door_id, const std::string& action) = 0;
  // fault: freeze, offline, replay, ignore_nonce, repeat_counter, wrong_key, clock_jump, covered, clear.
  virtual ApiResult<TestControlDone> test_camera_fault(const std::string& camera_id, const std::string& fault,
                                                       int64_t parameter) = 0;

  // Commands from a home controller that holds no grant (docs/home-assistant.md).
  // `source` names the controller in the audit record. A hub that takes none
  // answers kNotFound (the default).
  virtual ApiResult<RemoteCommandAnswer> remote_lock(const std::string& door_id, const std::string& source) {
    (void)door_id;
    (void)source;
    return ApiError{ApiErrorKind::kNotFound, "this hub takes no remote commands", Rule::kNone};
  }
  // The camera's latest picture, where the camera offers snapshots
  // (LK_CAMERA_CAP_SNAPSHOT): kNotFound for an unknown camera or one
  // without, kUnavailable when the camera does not give one now.
  virtual ApiResult<CameraSnapshot> snapshot(const std::string& camera_id) {
    (void)camera_id;
    return ApiError{ApiErrorKind::kNotFound, "this hub serves no snapshots", Rule::kNone};
  }
  // G1: always refused and audited; `what` is what was asked ("unlock", "open").
  virtual ApiResult<RemoteCommandAnswer> remote_unlock(const std::string& door_id, const std::string& source,
                                                       const std::string& what) {
    (void)door_id;
    (void)source;
    (void)what;
    return ApiError{ApiErrorKind::kNotFound, "this hub takes no remote commands", Rule::kNone};
  }

  // Live events. The callback runs on the hub's loop thread and must not
  // block: queue and return. Events with id > since_id still in the hub's
  // recent history are replayed first. Returns a subscription id.
  virtual uint64_t subscribe(uint64_t since_id, std::function<void(const HubEvent&)> on_event) = 0;
  virtual void unsubscribe(uint64_t subscription) = 0;
};

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_HUB_API_HPP
