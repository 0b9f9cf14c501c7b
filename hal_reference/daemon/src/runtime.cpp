// runtime.cpp: the loop's own work (the queue of posted tasks, the engine's
// timer, the clock check), construction, run/stop/shutdown and the HubApi
// calls answered on the loop. The rest of Runtime::Impl is defined by
// responsibility in runtime_devices.cpp, runtime_actions.cpp,
// runtime_audit.cpp and runtime_events.cpp (see runtime_impl.hpp).
#include "runtime_impl.hpp"

#include <latchkey/audit/verify.hpp>

#include "runtime_files.hpp"
#include "runtime_views.hpp"

#include "latchkey/unlock.pb.h"

#include <sys/timex.h>

#include <algorithm>
#include <csignal>

namespace latchkey::hub {
namespace {

// F1: the kernel's view of the wall clock (adjtimex): synchronised or not.
bool kernel_clock_synced() {
  struct timex tx {};
  const int state = ::adjtimex(&tx);
  return state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
}

}  // namespace

Runtime::Impl::~Impl() {
  // Construction failed half way (a plugin did not start, say): shutdown()
  // never ran. Stop the devices first, so nothing posts to the loop, then
  // close the loop's handles and the loop itself.
  stop_fleet();
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

// ---- Work from other threads ----
void Runtime::Impl::drain_queue() {
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
void Runtime::Impl::after_work() {
  process_actions();
  answer_denies();
  if (fleet_checkpoint_due) {
    fleet_checkpoint_due = false;
    checkpoint();
    process_actions();
  }
  schedule_group_commit();
  arm_engine_timer();
}

// ---- Timers ----
void Runtime::Impl::arm_engine_timer() {
  if (!engine) return;
  const gate::MonoNs deadline = engine->next_deadline();
  if (deadline == gate::kNever) {
    engine_timer.stop();
    return;
  }
  engine_timer.arm_at(deadline <= 0 ? 0 : static_cast<uint64_t>(deadline));  // never early
}

void Runtime::Impl::check_clock() {
  if (config.trust_clock || kernel_clock_synced()) engine->on_wall_clock_synced(now());
}

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
    s.after_work();
  });
  uv_timer_init(&s.loop, &s.checkpoint_timer);
  s.checkpoint_timer.data = &s;
  uv_timer_init(&s.loop, &s.clock_timer);
  s.clock_timer.data = &s;
  uv_timer_init(&s.loop, &s.group_commit_timer);
  s.group_commit_timer.data = &s;
  uv_timer_init(&s.loop, &s.heartbeat_timer);
  s.heartbeat_timer.data = &s;
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
  s.load_revocations(setup);  // G1: the fleet's kept revocation lists, before any grant is admitted
  setup.authz_plugin_required = true;
  setup.witness_required = s.config.fleet.enabled;  // A2: nothing granted before the witness confirms (docs/fleet.md)
  s.open_fleet();
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
  s.apply_kept_witness_refusal();  // A2: a rollback the fleet witness showed earlier
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
  if (s.heartbeat) {
    uv_timer_start(&s.heartbeat_timer, [](uv_timer_t* t) { static_cast<Impl*>(t->data)->heartbeat(); }, 0,
                   s.heartbeat_ms);
  }
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
  s.start_fleet();
  s.after_work();
  uv_run(&s.loop, UV_RUN_DEFAULT);
  s.stop_fleet();  // no more posts from its thread
  // Stopped: whoever waits on the loop gets 503 now rather than at a timeout.
  for (auto& [id, promise] : s.pending_unlocks) promise->set_value(unavailable("the hub is shutting down"));
  s.pending_unlocks.clear();
  s.tasks.take();  // destroying the tasks breaks their promises
}

void Runtime::set_heartbeat(std::chrono::milliseconds every, std::function<void()> beat) {
  impl_->heartbeat_ms = static_cast<uint64_t>(std::max<int64_t>(every.count(), 1));
  impl_->heartbeat = std::move(beat);
}

void Runtime::stop() {
  Impl& s = *impl_;
  s.tasks.stop_accepting();  // wakes the loop, which stops
}

void Runtime::shutdown() {
  Impl& s = *impl_;
  if (!s.loop_open) return;
  s.stop_fleet();
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

namespace {

// F3: the authorization plugin's verdict on the presented grant.
gate::AuthzVerdict ask_authz(host::AuthzDevice& authz, const std::string& hub_id, const std::string& door_id,
                             const v1::UnlockRequest& request) {
  gate::AuthzVerdict verdict;
  lk_grant_info grant{};
  grant.struct_size = sizeof grant;
  lk_authz_refusal refusal{};
  refusal.struct_size = sizeof refusal;
  const std::vector<uint8_t> credential(request.signed_grant().begin(), request.signed_grant().end());
  const lk_result r = authz.verify(hub_id, door_id, wall_ms(), credential, &grant, &refusal);
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
  return verdict;
}

}  // namespace

// The request is parsed once, here. The engine's own checks (two signature
// verifications) and the start of recording run on the loop while this
// thread asks the authorization plugin (F3); the engine commits nothing
// before that verdict has come (GateEngine::on_authz_verdict).
ApiResult<UnlockOutcome> Runtime::unlock(const std::string& door_id, const std::vector<uint8_t>& request) {
  Impl& s = *impl_;
  if (!s.config.doors.count(door_id)) return not_found("unknown door '" + door_id + "'");
  auto parsed = std::make_shared<v1::UnlockRequest>();
  if (request.empty() || !parsed->ParseFromArray(request.data(), static_cast<int>(request.size()))) parsed.reset();
  const bool ask = s.authz != nullptr && parsed != nullptr;
  gate::AuthzVerdict first;
  if (ask) first.outcome = gate::AuthzVerdict::Outcome::kPending;

  auto promise = std::make_shared<std::promise<ApiResult<UnlockOutcome>>>();
  auto future = promise->get_future();
  auto request_id = std::make_shared<uint64_t>(0);  // written and read on the loop only
  const bool posted = s.post([this, door_id, parsed, first, promise, request_id] {
    Impl& st = *impl_;
    *request_id = st.engine->request_unlock(door_id, parsed.get(), first, wall_ms(), st.now());
    st.pending_unlocks[*request_id] = promise;  // the Decision action answers it
  });
  if (!posted) return unavailable("the hub is shutting down");
  if (ask) {
    const gate::AuthzVerdict verdict = ask_authz(*s.authz, s.config.hub_id, door_id, *parsed);
    // Tasks run in the order posted: the request is in the engine by now.
    s.post([this, verdict, request_id] {
      Impl& st = *impl_;
      st.engine->on_authz_verdict(*request_id, verdict, st.now());
    });
  }
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
    AuditVerification v = audit_verification(audit::verify_log(impl_->audit_path, impl_->hub_key.public_key));
    v.witness = impl_->witness_status();
    return v;
  });
}

// Commands from a home controller: the engine decides and audits (A1).
ApiResult<RemoteCommandAnswer> Runtime::remote_lock(const std::string& door_id, const std::string& source) {
  return impl_->call([this, door_id, source]() -> ApiResult<RemoteCommandAnswer> {
    Impl& s = *impl_;
    if (!s.config.doors.count(door_id)) return not_found("unknown door '" + door_id + "'");
    const gate::RemoteAnswer a = s.engine->request_remote_lock(door_id, source, s.now());
    return RemoteCommandAnswer{a.accepted, a.rule, a.message};
  });
}

ApiResult<RemoteCommandAnswer> Runtime::remote_unlock(const std::string& door_id, const std::string& source,
                                                      const std::string& what) {
  return impl_->call([this, door_id, source, what]() -> ApiResult<RemoteCommandAnswer> {
    Impl& s = *impl_;
    if (!s.config.doors.count(door_id)) return not_found("unknown door '" + door_id + "'");
    const gate::RemoteAnswer a = s.engine->refuse_remote_unlock(door_id, source, what, s.now());
    return RemoteCommandAnswer{a.accepted, a.rule, a.message};
  });
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
}  // namespace latchkey::hub
