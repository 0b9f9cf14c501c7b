#include <latchkey/hub/runtime.hpp>

#include <latchkey/audit/audit_log.hpp>
#include <latchkey/audit/verify.hpp>
#include <latchkey/gate/gate_engine.hpp>
#include <latchkey/gate/restart_history.hpp>
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>
#include <latchkey/isolation/plugin_runner.hpp>
#include <latchkey/loop/deadline_timer.hpp>
#include <latchkey/loop/task_queue.hpp>

#include "runtime_files.hpp"
#include "runtime_views.hpp"

#include "latchkey/unlock.pb.h"

#include <sys/timex.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <set>

namespace latchkey::hub {
namespace {

constexpr std::size_t kAlarmHistory = 1000;
constexpr std::size_t kEventHistory = 512;
constexpr std::size_t kEndedSessions = 50;
constexpr std::size_t kMaxPendingAudit = 100'000;
// Group commit: ordinary audit records wait at most this long (or for the next
// decision, which takes them along in its transaction) before one fsync.
constexpr uint64_t kGroupCommitMs = 5;
constexpr std::size_t kGroupCommitRecords = 256;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void log_line(const char* level, const std::string& message) {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char stamp[32];
  struct tm utc {};
  gmtime_r(&t, &utc);  // plugin threads log too
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::fprintf(stderr, "%s latchkeyd %s: %s\n", stamp, level, message.c_str());
  std::fflush(stderr);
}

ApiError unavailable(std::string message, Rule rule = Rule::kNone) {
  return {ApiErrorKind::kUnavailable, std::move(message), rule};
}
ApiError not_found(std::string message) { return {ApiErrorKind::kNotFound, std::move(message), {}}; }
ApiError bad_request(std::string message) { return {ApiErrorKind::kBadRequest, std::move(message), {}}; }
ApiError conflict(std::string message) { return {ApiErrorKind::kConflict, std::move(message), {}}; }

// F1: the kernel's view of the wall clock (adjtimex): synchronised or not.
bool kernel_clock_synced() {
  struct timex tx {};
  const int state = ::adjtimex(&tx);
  return state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
}

}  // namespace

struct Runtime::Impl {
  DaemonConfig config;
  uv_loop_t loop{};
  loop::TaskQueue tasks;        // work from other threads; refused once the hub stops
  loop::DeadlineTimer engine_timer;
  uv_timer_t checkpoint_timer{};
  uv_timer_t clock_timer{};
  uv_timer_t group_commit_timer{};
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
  std::map<std::string, bool> camera_live;                // last published liveness
  std::unique_ptr<host::AuthzDevice> authz;
  std::map<std::string, isolation::PluginStatus> plugin_status;  // loop thread: as last noticed
  // A fresh private directory (mkdtemp, 0700) outside data_dir: the hosts'
  // working directories, removed at shutdown.
  std::filesystem::path host_root;

  ~Impl() {
    // Construction failed half way (a plugin did not start, say): shutdown()
    // never ran. Stop the devices first, so nothing posts to the loop, then
    // close the loop's handles and the loop itself.
    if (loop_open) {
      tasks.close();
      cameras.clear();
      locks.clear();
      authz.reset();
      runners.clear();
      uv_walk(&loop, [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      }, nullptr);
      uv_run(&loop, UV_RUN_DEFAULT);
      uv_loop_close(&loop);
      loop_open = false;
    }
    // Also when construction failed half way: the hosts' directories go.
    if (!host_root.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(host_root, ignored);
    }
  }

  void make_host_root() {
    const auto base = config.isolation.run_dir.empty() ? std::filesystem::temp_directory_path()
                                                       : config.isolation.run_dir;
    std::filesystem::create_directories(base);
    std::string pattern = (base / "latchkey-hosts-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("[isolation]: cannot create a directory for the plugin hosts under " + base.string() +
                               ": " + std::strerror(errno));
    host_root = pattern;
  }

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

  void drain_queue() {
    for (auto& task : tasks.take()) {
      try {
        task();
        // The engine's actions right after each input: a durable decision is
        // answered (on_audit_committed) before the next input is fed.
        process_actions();
      } catch (const std::exception& e) {
        log_line("error", std::string("task failed: ") + e.what());
      }
    }
    after_work();
  }

  // Everything the engine asked for, then the group commit and the next deadline.
  void after_work() {
    process_actions();
    answer_denies();
    schedule_group_commit();
    arm_engine_timer();
  }

  // A3: a deny is acknowledged only once its decision record committed. The
  // denies of one round of work share one transaction (one fsync); when it
  // fails, the client hears that the request was refused and not recorded.
  void answer_denies() {
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

  void answer(uint64_t request_id, const ApiResult<UnlockOutcome>& response) {
    if (auto it = pending_unlocks.find(request_id); it != pending_unlocks.end()) {
      it->second->set_value(response);
      pending_unlocks.erase(it);
    }
  }

  void schedule_group_commit() {
    if (pending_audit.empty()) return;
    if (pending_audit.size() >= kGroupCommitRecords) {
      flush_audit();
      return;
    }
    if (uv_is_active(reinterpret_cast<uv_handle_t*>(&group_commit_timer))) return;
    uv_timer_start(&group_commit_timer, [](uv_timer_t* t) { static_cast<Impl*>(t->data)->flush_audit(); },
                   kGroupCommitMs, 0);
  }

  // ---- Events for subscribers (SSE) ----
  void publish(EventData data) {
    std::vector<std::function<void(const HubEvent&)>> targets;
    HubEvent event;
    {
      std::lock_guard lock(events_mutex);
      event = HubEvent{++next_event_id, std::move(data)};
      events.push_back(event);
      if (events.size() > kEventHistory) events.pop_front();
      for (auto& [id, fn] : subscribers) targets.push_back(fn);
    }
    for (auto& fn : targets) fn(event);
  }

  // ---- Audit ----
  void flush_audit() {
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

  void publish_audit(uint64_t seq, const audit::AuditEntry& e) { publish(audit_appended(seq, e)); }

  // ---- The engine's actions ----
  void process_actions() {
    for (int rounds = 0; rounds < 1000; ++rounds) {
      std::vector<gate::Action> actions = engine->take_actions();
      if (actions.empty()) return;
      for (const gate::Action& action : actions) execute(action);
    }
    log_line("error", "engine actions did not settle after 1000 rounds");
  }

  void execute(const gate::Action& action) {
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
    } else if (const auto* a = std::get_if<gate::AppendAudit>(&action)) {
      const audit::AuditEntry entry{a->type, a->rule, a->door_id, a->subject, a->detail, a->kind, a->value};
      if (a->type == "session") remember_session(*a);
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
      }
      engine->on_audit_committed(a->durable_token, r.committed(), now());
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

  void command(const std::string& door, uint64_t op, bool unlock, int64_t relock_deadline_ms, Rule rule) {
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

  void remember_session(const gate::AppendAudit& a) {
    const SessionChange change = session_change(a);
    publish(change);
    if (change.end != SessionEnd::kOpen) {
      ended_sessions.push_back(change);
      if (ended_sessions.size() > kEndedSessions) ended_sessions.pop_front();
    }
  }

  static hub::Alarm alarm_view(const Alarm& a) {
    return {a.id, a.time_ms, a.alarm.rule, a.alarm.door_id, a.alarm.camera_id, a.alarm.message, a.mono_us};
  }

  // ---- Device events (plugin threads -> loop) ----
  void on_lock_event(const std::string& door, const host::DeviceEvent& e) {
    post([this, door, kind = e.kind, value = e.value] {
      if (kind == LK_EVENT_LOCK_STATE) {
        engine->on_lock_state(door, value, now());
        publish(LockStateChanged{door, to_lock_state(static_cast<lk_lock_state>(value))});
      } else if (kind == LK_EVENT_DOOR_STATE) {
        engine->on_door_state(door, value, now());
        publish(DoorStateChanged{door, to_door_state(static_cast<lk_door_state>(value))});
      } else if (kind == LK_EVENT_LOCK_ALARM) {
        engine->on_lock_alarm(door, value, now());
        publish(LockAlarmReported{door, static_cast<uint64_t>(value)});
      }
    });
  }

  void on_camera_event(const std::string& camera, const host::DeviceEvent& e) {
    if (e.kind == LK_EVENT_ATTESTATION && e.data) {
      post([this, camera, data = e.data] {
        engine->on_attestation(camera, {data->data(), data->size()}, now());
        publish_liveness(camera);
      });
    } else if (e.kind == LK_EVENT_CAMERA_STATUS && e.value == LK_CAMERA_STATUS_MESSAGE_REFUSED) {
      // Refused messages on the camera's link: audited by the engine. The
      // reason is the plugin's text; only printable ASCII of it is kept.
      std::string reason;
      if (e.data) {
        const std::size_t n = std::min<std::size_t>(e.data->size(), LK_CAMERA_REFUSAL_TEXT_MAX);
        for (std::size_t i = 0; i < n; ++i) {
          const uint8_t c = e.data->data()[i];
          reason.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
        }
      }
      if (reason.empty()) reason = "(no reason given)";
      post([this, camera, refusal = e.detail, reason = std::move(reason)] {
        engine->on_camera_message_refused(camera, refusal, reason, now());
        publish(CameraRefused{camera, reason});
      });
    } else if (e.kind == LK_EVENT_CAMERA_STATUS) {
      post([this, camera, value = e.value] {
        // C3: a camera that went offline and announces itself again may
        // have rebooted (a network camera's agent restarted). Its next
        // attestation may carry a new boot id; it must still be signed by
        // the pinned key and echo a fresh nonce, so a replay of an old boot
        // gains nothing.
        if (value == LK_CAMERA_STATUS_ONLINE && cameras.count(camera))
          engine->on_camera_reenrolled(camera, now(), "it came back online after being offline");
        publish(CameraStatusReported{camera, static_cast<uint64_t>(value)});
      });
    }
  }

  // Publishes a change of one camera's liveness (after its attestation).
  void publish_liveness(const std::string& id) {
    auto it = camera_live.find(id);
    if (it == camera_live.end()) return;
    const bool live = engine->camera_live(id, now());
    if (live == it->second) return;
    it->second = live;
    CameraLiveness change{id, live, mono_us(), std::nullopt};
    // The hub time of the last accepted attestation: where U5's
    // live_timeout + 50 ms is counted from.
    const gate::LivenessMonitor* m = engine->monitor(id);
    if (m && m->last_accepted()) change.last_accepted_mono_us = static_cast<int64_t>(*m->last_accepted() / 1000);
    publish(change);
  }

  // Every camera, on the engine's timer: liveness also ends by time.
  void publish_liveness() {
    for (const auto& [id, was] : camera_live) publish_liveness(id);
  }

  // ---- Timers ----
  void arm_engine_timer() {
    if (!engine) return;
    const gate::MonoNs deadline = engine->next_deadline();
    if (deadline == gate::kNever) {
      engine_timer.stop();
      return;
    }
    engine_timer.arm_at(deadline <= 0 ? 0 : static_cast<uint64_t>(deadline));  // never early
  }

  void checkpoint() {
    flush_audit();
    if (!log) return;
    try {
      log->checkpoint(wall_ms(), now());
      if (engine->storage_failed()) engine->on_storage_recovered(now());
    } catch (const std::exception& e) {
      log_line("error", std::string("audit checkpoint failed: ") + e.what());
    }
  }

  void check_clock() {
    if (config.trust_clock || kernel_clock_synced()) engine->on_wall_clock_synced(now());
  }

  // ---- Setup ----
  isolation::SupervisionConfig supervision(const std::string& plugin) const {
    const IsolationConfig& i = config.isolation;
    isolation::SupervisionConfig c;
    c.host_program = i.host_program.empty() ? isolation::default_host_program() : i.host_program;
    c.work_dir = host_root / plugin;
    c.call_deadline_ms = i.call_deadline_ms;
    c.heartbeat_interval_ms = i.heartbeat_interval_ms;
    c.restart_backoff_ms = i.restart_backoff_ms;
    c.restart_backoff_max_ms = i.restart_backoff_max_ms;
    c.quarantine_failures = static_cast<int>(i.quarantine_failures);
    c.quarantine_window_ms = i.quarantine_window_s * 1000;
    c.address_space_bytes = static_cast<uint64_t>(i.address_space_mb) << 20;
    c.max_open_files = static_cast<uint64_t>(i.open_files);
    return c;
  }

  bool plugin_down(const std::string& plugin) const {
    auto it = plugin_status.find(plugin);
    return it != plugin_status.end() && it->second.state != isolation::PluginState::kRunning;
  }

  // ---- Supervision (isolated plugins; notices arrive on the supervisor's thread) ----
  void on_plugin_notice(const std::string& plugin, const isolation::PluginNotice& n) {
    plugin_status[plugin] = n.status;
    const std::string who = "plugin '" + plugin + "'";
    publish(PluginChanged{plugin, to_plugin_state(n.status.state), n.reason});
    // What each notice means is the engine's to decide (F1, C1, C3); the
    // runtime only tells it, and for a restored plugin, what its cameras say
    // of themselves now.
    using Kind = isolation::PluginNotice::Kind;
    if (n.kind == Kind::kFailed) {
      const int64_t restart_in_ms =
          n.status.state == isolation::PluginState::kRestarting ? static_cast<int64_t>(n.status.restart_in_ms) : -1;
      engine->on_plugin_failed(plugin, n.reason, restart_in_ms, now());
    } else if (n.kind == Kind::kQuarantined) {
      engine->on_plugin_quarantined(plugin, n.reason, now());
    } else if (n.kind == Kind::kRestored) {
      engine->on_plugin_restored(plugin, static_cast<int64_t>(n.status.pid), now());
      log_line("info", who + " restarted; devices reopened");
      for (const auto& [name, cam] : config.cameras) {
        auto it = cameras.find(name);
        if (cam.plugin != plugin || it == cameras.end()) continue;
        lk_camera_description desc{};
        desc.struct_size = sizeof desc;
        if (it->second->describe(&desc) != LK_OK) {
          engine->on_camera_fault(name, "describe failed after its plugin restarted", now());
          continue;
        }
        engine->on_camera_reopened(name, std::string(desc.camera_id, strnlen(desc.camera_id, sizeof desc.camera_id)),
                                   {desc.public_key, sizeof desc.public_key}, now());
      }
      // Locks report their state again from the new host (events); nothing to do here.
    }
  }

  // ---- Setup ----
  void open_devices() {
    auto log = [](lk_log_level level, const std::string& driver, const std::string& message) {
      log_line(level >= LK_LOG_WARNING ? "plugin-warning" : "plugin", driver + ": " + message);
    };
    for (const auto& [name, p] : config.plugins) {
      if (p.isolated) {
        if (host_root.empty()) make_host_root();
        const std::string plugin = name;
        auto notices = [this, plugin](const isolation::PluginNotice& n) {
          post([this, plugin, n] { on_plugin_notice(plugin, n); });
        };
        runners[name] = isolation::run_isolated(name, config.plugin_path(name), supervision(name), notices, log);
      } else {
        host::LoadOptions options;
        options.log = log;
        runners[name] = isolation::run_in_process(name, config.plugin_path(name), options);
      }
      plugin_status[name] = runners[name]->status();
    }

    for (const auto& [door_name, door] : config.doors) door_lock[door_name] = door.lock;
    for (const auto& [name, d] : config.locks) {
      std::string door;
      for (const auto& [door_name, dc] : config.doors)
        if (dc.lock == name) door = door_name;
      if (door.empty()) continue;  // a lock no door uses stays closed
      auto& runner = runners.at(d.plugin);
      if (!runner->offers_lock())
        throw std::runtime_error("[lock." + name + "]: plugin '" + d.plugin + "' offers no lock interface");
      std::unique_ptr<host::LockDevice> handle;
      host::DeviceHooks hooks;
      hooks.on_event = [this, door](const host::DeviceEvent& e) { on_lock_event(door, e); };
      const lk_result r = runner->open_lock(d.uri, hooks, &handle);
      if (r != LK_OK)
        throw std::runtime_error("[lock." + name + "]: opening " + d.uri + " failed: " + host::result_name(r));
      locks[name] = Lock{door, d.plugin, std::move(handle)};
    }
    for (const auto& [name, d] : config.cameras) {
      auto& runner = runners.at(d.plugin);
      if (!runner->offers_camera())
        throw std::runtime_error("[camera." + name + "]: plugin '" + d.plugin + "' offers no camera interface");
      std::unique_ptr<host::CameraDevice> handle;
      host::DeviceHooks hooks;
      hooks.on_event = [this, name](const host::DeviceEvent& e) { on_camera_event(name, e); };
      hooks.on_call_failed = [this, name](const std::string& call, lk_result result) {
        post([this, name, call, result] {
          engine->on_camera_fault(name, call + " failed: " + host::result_name(result), now());
        });
      };
      const lk_result r = runner->open_camera(d.uri, hooks, &handle);
      if (r != LK_OK)
        throw std::runtime_error("[camera." + name + "]: opening " + d.uri + " failed: " + host::result_name(r));
      lk_camera_description desc{};
      desc.struct_size = sizeof desc;
      if (handle->describe(&desc) != LK_OK) throw std::runtime_error("[camera." + name + "]: describe failed");
      // C1 enrolment: the camera must hold the key pinned in the configuration
      // and carry the section's name as its id.
      const std::string problem = gate::camera_identity_problem(
          name, d.key, std::string(desc.camera_id, strnlen(desc.camera_id, sizeof desc.camera_id)),
          {desc.public_key, sizeof desc.public_key});
      if (!problem.empty())
        throw std::runtime_error("[camera." + name + "]: the device " + problem +
                                 " (the key is pinned at enrolment; the section name must be its camera id)");
      cameras[name] = std::move(handle);
      camera_live[name] = false;
    }
    if (!config.authz_plugin.empty()) {
      auto& runner = runners.at(config.authz_plugin);
      if (!runner->offers_authz())
        throw std::runtime_error("[authz]: plugin '" + config.authz_plugin + "' offers no authorization interface");
      const lk_result r = runner->open_authz(config.authz_config, &authz);
      if (r != LK_OK) throw std::runtime_error(std::string("[authz]: the plugin refused its configuration: ") + host::result_name(r));
    }
  }

  // Opens the audit log, verifying the whole chain (A2) and rebuilding from
  // its verified records what the engine must remember across a restart
  // (restart_history.hpp). A chain that does not verify leaves the hub up,
  // granting nothing, with an alarm (engine start) and a log line naming the
  // record, so a person can see it and recover (docs/latchkeyd.md).
  void open_audit_log(gate::GateSetup& setup) {
    audit_path = config.data_dir / "audit.db";
    gate::RestartHistory history;
    audit::OpenOptions options;
    options.on_verified_record = [&history](const audit::AuditRecord& r) {
      history.add({r.wall_ms, r.entry.type, r.entry.rule, r.entry.door_id, r.entry.subject, r.consumes_grant,
                   r.entry.kind, r.entry.value, r.format, r.entry.detail});
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
};

// ---------------------------------------------------------------------------

Runtime::Runtime(DaemonConfig config) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.config = std::move(config);
  ensure_private_dir(s.config.data_dir);
  s.hub_key = load_or_create_hub_key(s.config.data_dir);
  s.token = load_or_create_token(s.config.data_dir);
  gate::GateSetup setup;
  s.open_audit_log(setup);
  // The loop exists before any device does: plugin events post to it from the start.
  uv_loop_init(&s.loop);
  s.loop_open = true;
  s.tasks.open(&s.loop, [&s] {
    if (!s.tasks.accepting()) return uv_stop(&s.loop);  // stop() was called
    s.drain_queue();
  });
  s.engine_timer.open(&s.loop, [&s] {
    s.engine->tick(s.now());
    s.publish_liveness();
    s.after_work();
  });
  uv_timer_init(&s.loop, &s.checkpoint_timer);
  s.checkpoint_timer.data = &s;
  uv_timer_init(&s.loop, &s.clock_timer);
  s.clock_timer.data = &s;
  uv_timer_init(&s.loop, &s.group_commit_timer);
  s.group_commit_timer.data = &s;
  for (uv_signal_t* sig : {&s.sig_term, &s.sig_int, &s.sig_hup}) {
    uv_signal_init(&s.loop, sig);
    sig->data = this;
  }
  s.open_devices();

  setup.hub_id = s.config.hub_id;
  setup.config = s.config.gate;
  for (const auto& [name, door] : s.config.doors) {
    auto lock = s.config.locks.find(door.lock);
    setup.doors.push_back({name, door.cameras, lock == s.config.locks.end() ? std::string() : lock->second.plugin});
  }
  for (const auto& [name, cam] : s.config.cameras) setup.cameras.push_back({name, cam.key, cam.scene, cam.plugin});
  setup.authz_plugin = s.config.authz_plugin;
  setup.issuer_keys = s.config.issuers;
  setup.revoked_grants = s.config.revoked_grants;  // G1, checked by the hub itself (F3)
  setup.authz_plugin_required = true;
  s.engine = std::make_unique<gate::GateEngine>(setup, [](std::span<uint8_t> out) { crypto::random_bytes(out); });

  // The devices' state as they report it now.
  const gate::MonoNs t = s.now();
  for (auto& [name, lock] : s.locks) {
    lk_lock_state ls = LK_LOCK_STATE_UNKNOWN;
    lk_door_state ds = LK_DOOR_STATE_UNKNOWN;
    if (lock.handle->lock_state(&ls) != LK_OK) ls = LK_LOCK_STATE_UNKNOWN;
    if (lock.handle->door_state(&ds) != LK_OK) ds = LK_DOOR_STATE_UNKNOWN;
    s.engine->on_lock_state(lock.door, ls, t);
    s.engine->on_door_state(lock.door, ds, t);
  }
  s.check_clock();
  s.pending_audit.push_back({"hub", Rule::kNone, "", s.config.hub_id,
                             "latchkeyd started: " + std::to_string(s.config.doors.size()) + " door(s), " +
                                 std::to_string(s.config.cameras.size()) + " camera(s)"});
  s.engine->start(t);  // F2 recovery happens here: alarm, relock, no unlock
  s.started_ns = static_cast<uint64_t>(t);

}

Runtime::~Runtime() {
  try {
    shutdown();
  } catch (...) {
  }
}

void Runtime::run() {
  Impl& s = *impl_;
  const auto interval = static_cast<uint64_t>(s.config.checkpoint_interval_ms);
  uv_timer_start(&s.checkpoint_timer, [](uv_timer_t* t) {
    auto* self = static_cast<Impl*>(t->data);
    self->checkpoint();
    self->after_work();
  }, interval, interval);
  uv_timer_start(&s.clock_timer, [](uv_timer_t* t) {
    auto* self = static_cast<Impl*>(t->data);
    self->check_clock();
    self->after_work();
  }, 60'000, 60'000);
  auto on_stop = [](uv_signal_t* sig, int signum) {
    log_line("info", std::string("signal ") + std::to_string(signum) + ": shutting down");
    static_cast<Runtime*>(sig->data)->stop();
  };
  uv_signal_start(&s.sig_term, on_stop, SIGTERM);
  uv_signal_start(&s.sig_int, on_stop, SIGINT);
  uv_signal_start(&s.sig_hup, [](uv_signal_t* sig, int) {
    auto* self = static_cast<Runtime*>(sig->data);
    const auto& file = self->config().log_file;
    if (!file.empty() && std::freopen(file.c_str(), "a", stderr) == nullptr) std::perror("latchkeyd: reopen log");
    log_line("info", "SIGHUP: log reopened");
  }, SIGHUP);
  // latchkeyd blocks these before it starts any thread (main.cpp), so that
  // none ends it by its default action before the handlers above exist; from
  // here the loop thread takes them.
  sigset_t handled;
  sigemptyset(&handled);
  for (int signal : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&handled, signal);
  pthread_sigmask(SIG_UNBLOCK, &handled, nullptr);
  s.after_work();
  uv_run(&s.loop, UV_RUN_DEFAULT);
  // Stopped: whoever waits on the loop gets 503 now rather than at a timeout.
  for (auto& [id, promise] : s.pending_unlocks) promise->set_value(unavailable("the hub is shutting down"));
  s.pending_unlocks.clear();
  s.tasks.take();  // destroying the tasks breaks their promises
}

void Runtime::stop() {
  Impl& s = *impl_;
  s.tasks.stop_accepting();  // wakes the loop, which stops
}

void Runtime::shutdown() {
  Impl& s = *impl_;
  if (!s.loop_open) return;
  s.tasks.close();
  // Answer whoever still waits, then close the devices and the log.
  for (auto& [id, promise] : s.pending_unlocks) promise->set_value(unavailable("the hub is shutting down"));
  s.pending_unlocks.clear();
  s.cameras.clear();
  s.locks.clear();
  s.authz.reset();
  s.runners.clear();  // stops the plugin hosts
  if (!s.host_root.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(s.host_root, ignored);
  }
  s.flush_audit();
  try {
    if (s.log) s.log->close(wall_ms(), s.now());  // final signed checkpoint (A2)
  } catch (const std::exception& e) {
    log_line("error", std::string("closing the audit log failed: ") + e.what());
  }
  uv_walk(&s.loop, [](uv_handle_t* h, void*) {
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  }, nullptr);
  uv_run(&s.loop, UV_RUN_DEFAULT);
  uv_loop_close(&s.loop);
  s.loop_open = false;
}

const std::string& Runtime::api_token() const { return impl_->token; }
const DaemonConfig& Runtime::config() const { return impl_->config; }

// ---- HubApi ----

ApiResult<Health> Runtime::health() {
  return impl_->call([this]() -> ApiResult<Health> {
    Impl& s = *impl_;
    Health h;
    h.storage_failed = s.engine->storage_failed();
    h.audit_verified = s.log != nullptr;
    h.uptime_ms = (s.now() - static_cast<gate::MonoNs>(s.started_ns)) / 1'000'000;
    h.doors = s.config.doors.size();
    h.cameras = s.config.cameras.size();
    h.audit_records = s.log ? s.log->last_seq() : uint64_t{0};
    return h;
  });
}

ApiResult<Challenge> Runtime::challenge(const std::string& door_id) {
  return impl_->call([this, door_id]() -> ApiResult<Challenge> {
    Impl& s = *impl_;
    if (!s.config.doors.count(door_id)) return not_found("unknown door '" + door_id + "'");
    const crypto::Bytes c = s.engine->issue_challenge(door_id, s.now());
    return Challenge{door_id, Bytes(c.begin(), c.end()), s.config.gate.challenge_ttl_ms};
  });
}

ApiResult<UnlockOutcome> Runtime::unlock(const std::string& door_id, const std::vector<uint8_t>& request) {
  Impl& s = *impl_;
  if (!s.config.doors.count(door_id)) return not_found("unknown door '" + door_id + "'");
  // F3: ask the authorization plugin first (off the loop); the engine re-checks everything.
  gate::AuthzVerdict verdict;
  v1::UnlockRequest parsed;
  if (s.authz && parsed.ParseFromArray(request.data(), static_cast<int>(request.size()))) {
    lk_grant_info grant{};
    grant.struct_size = sizeof grant;
    lk_authz_refusal refusal{};
    refusal.struct_size = sizeof refusal;
    const std::vector<uint8_t> credential(parsed.signed_grant().begin(), parsed.signed_grant().end());
    const lk_result r = s.authz->verify(s.config.hub_id, door_id, wall_ms(), credential, &grant, &refusal);
    if (r == LK_OK) {
      verdict.outcome = gate::AuthzVerdict::Outcome::kAccepted;
      verdict.grant_id.assign(reinterpret_cast<const char*>(grant.grant_id), LK_GRANT_ID_SIZE);
      verdict.door_id = grant.door_id;
    } else if (r == LK_ERR_DENIED) {
      verdict.outcome = gate::AuthzVerdict::Outcome::kRefused;
      verdict.message = refusal.message;
    } else {
      verdict.outcome = gate::AuthzVerdict::Outcome::kFailed;
      verdict.message = host::result_name(r);
    }
  }
  auto promise = std::make_shared<std::promise<ApiResult<UnlockOutcome>>>();
  auto future = promise->get_future();
  const bool posted = s.post([this, door_id, request, verdict, promise] {
    Impl& st = *impl_;
    const uint64_t id = st.engine->request_unlock(door_id, request, verdict, wall_ms(), st.now());
    st.pending_unlocks[id] = promise;  // the Decision action answers it
  });
  if (!posted) return unavailable("the hub is shutting down");
  const auto wait = std::chrono::milliseconds(s.config.gate.recording_ack_timeout_ms + 10'000);
  if (future.wait_for(wait) != std::future_status::ready) return unavailable("no decision in time");
  try {
    return future.get();
  } catch (const std::exception&) {
    return unavailable("the hub is shutting down");
  }
}

ApiResult<std::vector<DoorStatus>> Runtime::doors() {
  return impl_->call([this]() -> ApiResult<std::vector<DoorStatus>> {
    Impl& s = *impl_;
    const gate::MonoNs t = s.now();
    std::vector<DoorStatus> doors;
    for (const auto& d : s.engine->doors())
      doors.push_back(door_status(d, s.config.doors.at(d.door_id).cameras, *s.engine, t));
    return doors;
  });
}

ApiResult<Sessions> Runtime::sessions() {
  return impl_->call([this]() -> ApiResult<Sessions> {
    Sessions sessions;
    for (const auto& d : impl_->engine->doors())
      if (d.session) sessions.open.push_back(open_session(*d.session));
    sessions.ended.assign(impl_->ended_sessions.rbegin(), impl_->ended_sessions.rend());
    return sessions;
  });
}

ApiResult<std::vector<Alarm>> Runtime::alarms(uint64_t since_id) {
  return impl_->call([this, since_id]() -> ApiResult<std::vector<Alarm>> {
    std::vector<Alarm> alarms;
    for (const auto& a : impl_->alarms)
      if (a.id > since_id) alarms.push_back(Impl::alarm_view(a));
    return alarms;
  });
}

ApiResult<std::vector<AuditRecord>> Runtime::audit(uint64_t from_seq, std::size_t limit) {
  return impl_->call([this, from_seq, limit]() -> ApiResult<std::vector<AuditRecord>> {
    impl_->flush_audit();
    if (!impl_->log) return unavailable("the audit log does not verify (see GET /v1/audit/verify)", Rule::A2);
    const std::size_t n = std::min<std::size_t>(std::max<std::size_t>(limit, 1), 1000);
    // from 0: the newest n records.
    const uint64_t last = impl_->log->last_seq();
    const uint64_t from = from_seq != 0 ? from_seq : (last > n ? last - n + 1 : 1);
    std::vector<AuditRecord> records;
    for (const auto& r : impl_->log->records(from, n)) records.push_back(audit_record(r));
    return records;
  });
}

ApiResult<AuditVerification> Runtime::audit_verify() {
  return impl_->call([this]() -> ApiResult<AuditVerification> {
    impl_->flush_audit();
    return audit_verification(audit::verify_log(impl_->audit_path, impl_->hub_key.public_key));
  });
}

ApiResult<TestControlDone> Runtime::test_door_action(const std::string& door_id, const std::string& action) {
  if (!impl_->config.test_control) return not_found("test control is not enabled on this hub");
  static const std::map<std::string, lk_physical_action> kActions = {
      {"open", LK_ACTION_DOOR_OPEN}, {"close", LK_ACTION_DOOR_CLOSE},
      {"manual_lock", LK_ACTION_MANUAL_LOCK}, {"manual_unlock", LK_ACTION_MANUAL_UNLOCK}};
  auto a = kActions.find(action);
  if (a == kActions.end()) return bad_request("unknown action '" + action + "'");
  // Off the loop: the device map is fixed after start, devices serialise their
  // own calls, and an isolated plugin that hangs must not stall the loop.
  Impl& s = *impl_;
  if (!s.config.doors.count(door_id)) return not_found("unknown door '" + door_id + "'");
  const lk_result r = s.locks.at(s.door_lock.at(door_id)).handle->physical_action(a->second);
  if (r != LK_OK) return conflict(std::string("the lock refused: ") + host::result_name(r));
  return TestControlDone{};
}

ApiResult<TestControlDone> Runtime::test_camera_fault(const std::string& camera_id, const std::string& fault,
                                                      int64_t parameter) {
  if (!impl_->config.test_control) return not_found("test control is not enabled on this hub");
  static const std::map<std::string, lk_fault> kFaults = {
      {"freeze", LK_FAULT_CAMERA_FREEZE}, {"offline", LK_FAULT_CAMERA_OFFLINE}, {"replay", LK_FAULT_CAMERA_REPLAY},
      {"ignore_nonce", LK_FAULT_CAMERA_IGNORE_NONCE}, {"repeat_counter", LK_FAULT_CAMERA_REPEAT_COUNTER},
      {"wrong_key", LK_FAULT_CAMERA_WRONG_KEY}, {"clock_jump", LK_FAULT_CAMERA_CLOCK_JUMP}, {"covered", LK_FAULT_CAMERA_COVERED},
      {"clear", 0}};
  auto f = kFaults.find(fault);
  if (f == kFaults.end()) return bad_request("unknown fault '" + fault + "'");
  return test_device_fault("camera", camera_id, f->second, parameter);
}

ApiResult<TestControlDone> Runtime::test_device_fault(const std::string& kind, const std::string& device,
                                                      uint32_t fault, int64_t parameter) {
  Impl& s = *impl_;
  if (!s.config.test_control) return not_found("test control is not enabled on this hub");
  lk_result r = LK_ERR_NOT_FOUND;
  if (kind == "camera") {
    auto it = s.cameras.find(device);
    if (it == s.cameras.end()) return not_found("unknown camera '" + device + "'");
    r = fault == 0 ? it->second->clear_faults() : it->second->inject_fault(fault, parameter);
  } else if (kind == "lock") {
    auto it = s.locks.find(device);
    if (it == s.locks.end()) return not_found("unknown lock '" + device + "'");
    r = fault == 0 ? it->second.handle->clear_faults() : it->second.handle->inject_fault(fault, parameter);
  } else {
    return bad_request("device kind must be lock or camera");
  }
  if (r != LK_OK) return conflict("the " + kind + " refused: " + host::result_name(r));
  return TestControlDone{};
}

int Runtime::plugin_pid(const std::string& plugin) const {
  auto it = impl_->runners.find(plugin);
  return it == impl_->runners.end() ? 0 : it->second->status().pid;
}

ApiResult<std::vector<PluginStatus>> Runtime::plugins() {
  // The runners' own status: current even while the loop is busy.
  std::vector<PluginStatus> plugins;
  for (const auto& [name, runner] : impl_->runners) plugins.push_back(plugin_status(name, *runner));
  return plugins;
}

uint64_t Runtime::subscribe(uint64_t since_id, std::function<void(const HubEvent&)> on_event) {
  Impl& s = *impl_;
  std::lock_guard lock(s.events_mutex);
  for (const HubEvent& e : s.events)
    if (e.id > since_id) on_event(e);
  const uint64_t id = ++s.next_subscriber;
  s.subscribers[id] = std::move(on_event);
  return id;
}

void Runtime::unsubscribe(uint64_t subscription) {
  std::lock_guard lock(impl_->events_mutex);
  impl_->subscribers.erase(subscription);
}

}  // namespace latchkey::hub
