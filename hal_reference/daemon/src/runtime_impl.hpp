// Runtime::Impl: the state of the hub's loop and the methods that act on it,
// private to latchkey_runtime. Everything here runs on the loop thread unless
// a comment says otherwise. The methods are defined by responsibility:
//   runtime.cpp          construction, the loop's queue and timers, start/stop,
//                        most of HubApi
//   runtime_devices.cpp  opening plugins, locks, cameras and authz; device and
//                        supervisor events posted onto the loop; test control
//   runtime_actions.cpp  carrying out the engine's actions (commands, records,
//                        alarms, liveness changes); answering decisions
//   runtime_audit.cpp    opening the audit log, pending records, group commit,
//                        checkpoints
//   runtime_events.cpp   publishing events to subscribers, event history
//   runtime_fleet.cpp    [fleet]: asking the witness, judging its answer,
//                        publishing checkpoints
//   runtime_outbox.cpp   [fleet]: alarms, session outcomes and checkpoints
//                        into the durable outbox to the fleet broker
//   runtime_revocations.cpp  [fleet] revocation lists: kept, loaded, applied,
//                        acknowledged
#ifndef LATCHKEY_HUB_RUNTIME_IMPL_HPP
#define LATCHKEY_HUB_RUNTIME_IMPL_HPP

#include <latchkey/hub/log.hpp>
#include <latchkey/hub/runtime.hpp>

#include <latchkey/audit/audit_log.hpp>
#include <latchkey/fleet/outbox.hpp>
#include <latchkey/fleet/revocation.hpp>
#include <latchkey/gate/actions.hpp>
#include <latchkey/gate/gate_engine.hpp>
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>
#include <latchkey/isolation/plugin_runner.hpp>
#include <latchkey/loop/deadline_timer.hpp>
#include <latchkey/loop/task_queue.hpp>
#include <latchkey/mqtt/mqtt_link.hpp>

#include <uv.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace latchkey::hub {
namespace runtime_internal {

inline int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The runtime's log lines (latchkey/hub/log.hpp): "error", "info", "alarm"
// (a warning), and the plugins' lines by their lk_log_level.
inline void log_line(const char* kind, const std::string& message) {
  const std::string_view k(kind);
  if (k == "error") return log(LogLevel::kError, message);
  if (k == "alarm") return log(LogLevel::kWarning, message, "alarm");
  log(LogLevel::kInfo, message, k == "info" ? std::string_view() : k);
}

inline ApiError unavailable(std::string message, Rule rule = Rule::kNone) {
  return {ApiErrorKind::kUnavailable, std::move(message), rule};
}
inline ApiError not_found(std::string message) { return {ApiErrorKind::kNotFound, std::move(message), {}}; }
inline ApiError bad_request(std::string message) { return {ApiErrorKind::kBadRequest, std::move(message), {}}; }
inline ApiError conflict(std::string message) { return {ApiErrorKind::kConflict, std::move(message), {}}; }

}  // namespace runtime_internal

// Only the runtime's own sources include this header.
using runtime_internal::bad_request;
using runtime_internal::conflict;
using runtime_internal::log_line;
using runtime_internal::not_found;
using runtime_internal::unavailable;
using runtime_internal::wall_ms;

struct Runtime::Impl {
  DaemonConfig config;
  uv_loop_t loop{};
  loop::TaskQueue tasks;        // work from other threads; refused once the hub stops
  loop::DeadlineTimer engine_timer;
  uv_timer_t checkpoint_timer{};
  uv_timer_t clock_timer{};
  uv_timer_t group_commit_timer{};
  uv_timer_t heartbeat_timer{};
  std::function<void()> heartbeat;  // Runtime::set_heartbeat
  uint64_t heartbeat_ms = 0;
  uv_signal_t sig_term{}, sig_int{}, sig_hup{};
  bool loop_open = false;

  crypto::KeyPair hub_key;
  std::string token;
  // Null when the log did not verify at start (A2): nothing is granted and
  // nothing is written until the person recovers it (--recover-audit).
  std::unique_ptr<audit::AuditLog> log;
  std::filesystem::path audit_path;
  std::vector<audit::AuditEntry> pending_audit;
  // A1/A3: denies answered only once their record is durable (after_work).
  std::vector<std::pair<uint64_t, ApiResult<UnlockOutcome>>> denies_awaiting_commit;
  std::unique_ptr<gate::GateEngine> engine;
  uint64_t started_ns = 0;

  // Each plugin runs in-process or isolated in its lk-plugin-host; the
  // devices below are the same interface either way.
  std::map<std::string, std::unique_ptr<isolation::PluginRunner>> runners;
  struct Lock {
    std::string door;
    std::string plugin;
    std::unique_ptr<host::LockDevice> handle;
  };
  std::map<std::string, Lock> locks;                      // by lock name
  std::map<std::string, std::string> door_lock;           // door -> lock name
  std::map<std::string, std::unique_ptr<host::CameraDevice>> cameras;
  std::unique_ptr<host::AuthzDevice> authz;
  std::map<std::string, isolation::PluginStatus> plugin_status;  // loop thread: as last noticed
  // A fresh private directory (mkdtemp, 0700) outside data_dir: the hosts'
  // working directories, removed at shutdown.
  std::filesystem::path host_root;

  // Closes what construction opened when shutdown() never ran (runtime.cpp).
  ~Impl();

  std::map<uint64_t, std::shared_ptr<std::promise<ApiResult<UnlockOutcome>>>> pending_unlocks;

  struct Alarm {
    uint64_t id;
    int64_t time_ms;
    gate::RaiseAlarm alarm;
    int64_t mono_us;  // hub monotonic clock when raised (U5 measurements, docs/api.md)
  };
  std::deque<Alarm> alarms;
  uint64_t next_alarm_id = 0;
  std::deque<SessionChange> ended_sessions;               // newest last
  static constexpr std::size_t kAlarmHistory = 1000;      // alarms kept for GET /v1/alarms
  static constexpr std::size_t kEndedSessions = 50;       // ended sessions kept for GET /v1/sessions
  // At start: the alarms and ended sessions the audit log holds, so the
  // status page's history survives a restart (mono_us 0: another boot's clock).
  void remember_history(const audit::AuditRecord& r);

  std::mutex events_mutex;
  std::deque<HubEvent> events;
  uint64_t next_event_id = 0;
  std::map<uint64_t, std::function<void(const HubEvent&)>> subscribers;
  uint64_t next_subscriber = 0;

  gate::MonoNs now() const { return static_cast<gate::MonoNs>(uv_hrtime()); }
  // The same clock in microseconds, as events carry it ("mono_us"): lets a
  // client measure U5/I4 on the hub's own clock (docs/api.md, attack-path.md).
  int64_t mono_us() const { return now() / 1000; }

  // ---- Work from other threads ----
  bool post(std::function<void()> task) { return tasks.post(std::move(task)); }

  // Runs fn on the loop and waits for its answer (unavailable when the hub stops).
  template <class Fn>
  auto call(Fn fn, std::chrono::milliseconds timeout = std::chrono::seconds(10)) -> decltype(fn()) {
    using Result = decltype(fn());
    auto promise = std::make_shared<std::promise<Result>>();
    auto future = promise->get_future();
    if (!post([promise, fn = std::move(fn)] { promise->set_value(fn()); }))
      return unavailable("the hub is shutting down");
    if (future.wait_for(timeout) != std::future_status::ready) return unavailable("the hub did not answer in time");
    try {
      return future.get();
    } catch (const std::exception&) {
      return unavailable("the hub is shutting down");
    }
  }

  // ---- The loop's own work (runtime.cpp) ----
  void drain_queue();
  void after_work();
  void arm_engine_timer();
  void check_clock();

  // ---- Events for subscribers (SSE) (runtime_events.cpp) ----
  void publish(EventData data);

  // ---- Audit (runtime_audit.cpp) ----
  void open_audit_log(gate::GateSetup& setup);
  void schedule_group_commit();
  void flush_audit();
  void publish_audit(uint64_t seq, const audit::AuditEntry& e);
  void checkpoint();

  // ---- The fleet witness ([fleet], runtime_fleet.cpp) ----
  enum class FleetState { kAwaiting, kConfirmed, kRefused };
  // ---- The fleet outbox ([fleet], runtime_outbox.cpp) ----
  // Declared before fleet_link: the link (whose callbacks reach the outbox)
  // goes first. Null unless [fleet] is enabled.
  std::unique_ptr<fleet::Outbox> fleet_outbox;
  void open_outbox();                         // construction (open_fleet)
  void attach_outbox(mqtt::MqttLink& link);   // start_fleet
  void detach_outbox();                       // stop_fleet: before the link goes
  bool fleet_may_drain() const;               // "may I drain now" (the outbox's thread)
  void outbox_alarm(const Alarm& alarm);
  void outbox_session_record(const gate::AppendAudit& a);        // execute(): remembers an opened session
  void outbox_session_ended(uint64_t seq, const audit::AuditEntry& e);  // publish_audit(): the end, committed
  void outbox_overflowed(uint64_t dropped, std::size_t max_rows);
  void raise_hub_alarm(Rule rule, const std::string& message);

  std::unique_ptr<mqtt::MqttLink> fleet_link;  // null unless [fleet] is enabled and run() started it
  std::string fleet_password;
  uv_timer_t fleet_timer{};                    // re-asks an unanswered query
  crypto::Bytes fleet_nonce;                   // of the query awaiting its answer; empty: none
  FleetState fleet_state = FleetState::kAwaiting;
  std::string fleet_verdict;                   // the last verdict, for people ("" before any)
  std::optional<audit::Checkpoint> last_checkpoint;  // the newest the log wrote (head file, then checkpoint())
  bool fleet_checkpoint_due = false;           // a grant was consumed: checkpoint and publish (after_work)
  void open_fleet();   // construction: password, the head file, the timer
  void start_fleet();  // run(): the link's thread
  void stop_fleet();   // stop()/shutdown(): joins the link's thread
  void fleet_connected();
  void fleet_query();
  void fleet_answer(const std::string& payload);
  void fleet_publish_checkpoint();
  void apply_kept_witness_refusal();  // construction, before the engine starts
  std::optional<WitnessStatus> witness_status() const;  // GET /v1/audit/verify
  // ---- [fleet] via = bridge (runtime_bridge.cpp) ----
  // The hub broker's notification: its bridge to the fleet broker is up.
  // Atomic: the outbox's thread reads it (fleet_may_drain).
  std::atomic<bool> fleet_bridge_up{false};
  bool fleet_bridged() const { return config.fleet.via == FleetConfig::Via::kBridge; }
  // May the hub reach the fleet broker now: its link connected, and through
  // the bridge also the bridge up. The outbox's "may I publish now".
  bool fleet_upstream_up() const;
  void configure_fleet_bridge_link(mqtt::LinkConfig& link) const;
  void fleet_bridge_connected();
  void fleet_bridge_state(const std::string& payload);
  WitnessStatus with_fleet_upstream(WitnessStatus status) const;

  // ---- Revocation lists down the fleet link (runtime_revocations.cpp) ----
  struct HeldRevocations {
    uint64_t sequence = 0;
    std::set<std::string> grants;  // hex
    std::string signed_bytes;      // the SignedRevocationList as received
    bool durable = false;          // in <data_dir>/revocations (acknowledged only then)
  };
  std::map<std::string, HeldRevocations> revocation_lists;  // by issuer key id: the list in force
  fleet::IssuerKeyLookup issuer_key_lookup() const;         // the [issuer] keys pinned for grants
  void load_revocations(gate::GateSetup& setup);  // construction, before the engine exists
  // A list received on down/revocations/<topic_issuer>.
  void fleet_revocations(const std::string& topic_issuer, const std::string& payload);
  bool keep_revocations(const std::string& name);  // writes every held list; true when durable
  void fleet_ack_revocations(const std::string& issuer_key_id, uint64_t sequence);

  // ---- The engine's actions (runtime_actions.cpp) ----
  void process_actions();
  void execute(const gate::Action& action);
  void command(const std::string& door, uint64_t op, bool unlock, int64_t relock_deadline_ms, Rule rule);
  void remember_session(const gate::AppendAudit& a);
  void answer_denies();
  void answer(uint64_t request_id, const ApiResult<UnlockOutcome>& response);
  static hub::Alarm alarm_view(const Alarm& a);

  // ---- Devices and plugins (runtime_devices.cpp) ----
  void make_host_root();
  void open_devices();
  bool plugin_down(const std::string& plugin) const;
  void on_lock_event(const std::string& door, const host::DeviceEvent& e);
  void on_camera_event(const std::string& camera, const host::DeviceEvent& e);
  void on_plugin_notice(const std::string& plugin, const isolation::PluginNotice& n);
};

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_RUNTIME_IMPL_HPP
