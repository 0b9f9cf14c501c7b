// The supervisor's phases: start and stop, spawning a host and taking it
// into service (Ready, every device reopened), the heartbeat, and what a
// failure leads to (a timed restart or quarantine). The devices' side is in
// supervisor_devices.cpp; supervisor.hpp says where the rest lives.
#include "supervisor.hpp"

#include <latchkey/common/log.hpp>
#include <latchkey/host/devices.hpp>

#include <sys/stat.h>

#include <future>

namespace latchkey::isolation {

namespace {

uint64_t now_ns() { return loop::DeadlineTimer::now_ns(); }

}  // namespace

Supervisor::Supervisor(std::string name, std::filesystem::path plugin_file, SupervisionConfig config,
                       NoticeHandler notices, host::LogHandler log)
    : name_(std::move(name)),
      plugin_file_(std::filesystem::absolute(plugin_file)),  // the host runs in its own directory
      config_(std::move(config)),
      notices_(std::move(notices)),
      log_(std::move(log)),
      calls_(call_deadline_ns(), &last_progress_ns_),
      restarts_(config_),
      call_socket_(&running_, &last_progress_ns_) {
  status_.name = name_;
  status_.mode = PluginMode::kIsolated;
  status_.state = PluginState::kRestarting;
  uv_loop_init(&loop_);
  tasks_.open(&loop_);
  calls_.open(&loop_, [this](uint64_t id, const std::string& what) {
    if (id == PendingCalls::kStart)
      fail("hang: the host was not ready within " + std::to_string(config_.start_deadline_ms) + " ms", id);
    else
      fail("hang: " + what + " got no answer within " + std::to_string(config_.call_deadline_ms) + " ms", id);
  });
  uv_timer_init(&loop_, &heartbeat_timer_);
  heartbeat_timer_.data = this;
  restart_timer_.open(&loop_, [this] { restart(); });
  grace_timer_.open(&loop_, [this] { fail(eof_reason_); });
}

Supervisor::~Supervisor() { stop(); }

void Supervisor::start() {
  std::error_code ec;
  std::filesystem::create_directories(config_.work_dir, ec);
  if (ec) throw StartError("plugin '" + name_ + "': cannot create its working directory " +
                           config_.work_dir.string() + ": " + ec.message());
  ::chmod(config_.work_dir.c_str(), 0700);
  if (!std::filesystem::exists(config_.host_program))
    throw StartError("plugin '" + name_ + "': the plugin host program " + config_.host_program.string() +
                     " does not exist");
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  auto started = std::make_shared<std::promise<std::string>>();
  auto future = started->get_future();
  post([this, started] {
    start_waiter_ = [started](const std::string& error) { started->set_value(error); };
    spawn();
  });
  const auto wait = std::chrono::milliseconds(config_.start_deadline_ms + 2000);
  std::string error = future.wait_for(wait) == std::future_status::ready ? future.get() : "no answer in time";
  if (!error.empty()) {
    stop();
    throw StartError("plugin '" + name_ + "' (" + plugin_file_.string() + ") did not start in its host: " + error);
  }
}

// Every handle of the supervisor's own: the loop ends once they have closed.
void Supervisor::close_handles() {
  tasks_.close();
  calls_.close();
  uv_close(reinterpret_cast<uv_handle_t*>(&heartbeat_timer_), nullptr);
  restart_timer_.close();
  grace_timer_.close();
}

void Supervisor::stop() {
  if (!thread_.joinable()) {
    if (!loop_closed_) {
      close_handles();
      uv_run(&loop_, UV_RUN_DEFAULT);
      uv_loop_close(&loop_);
      loop_closed_ = true;
    }
    return;
  }
  // The stop task is the last one: nothing is queued or signalled after it.
  const bool posted = tasks_.post_last([this] {
    phase_ = Phase::kStopped;
    running_ = false;
    calls_.fail_all(PendingCalls::kNoCulprit);
    fail_operations();
    slots_.clear();
    abandon_current();
    close_handles();
  });
  if (!posted) return;
  thread_.join();
  call_socket_.close();
  // Handles of a killed host close once its exit is reaped.
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  loop_closed_ = true;
  std::lock_guard lock(status_mutex_);
  status_.state = PluginState::kStopped;
  status_.pid = 0;
}

bool Supervisor::post(std::function<void()> task) {
  if (!thread_.joinable()) return false;
  return tasks_.post(std::move(task));
}

void Supervisor::abandon_current() {
  if (current_ == nullptr) return;
  HostProcess* host = current_;
  current_ = nullptr;
  host->abandon();  // its exit is reaped without us
}

PluginStatus Supervisor::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

void Supervisor::log(lk_log_level level, const std::string& message) {
  if (log_) log_(level, identity_.driver_id.empty() ? name_ : identity_.driver_id, message);
}

// ---- Spawning ----

void Supervisor::spawn() {
  phase_ = Phase::kStarting;  // a failure from here on is this start's
  closed_devices_.clear();     // a new host has never heard of them
  HostProcess::Handlers handlers;
  handlers.on_message = [this](const std::string& bytes) { on_message(bytes); };
  handlers.on_closed = [this](const std::string& why) {
    // The exit status says more than the closed socket: wait briefly for it.
    eof_reason_ = "the host closed its socket (" + why + ")";
    grace_timer_.arm_at(now_ns() + kGraceNs);
  };
  handlers.on_exit = [this](int64_t status, int signal) {
    fail(signal != 0 ? "the host died of " + signal_text(signal)
                     : "the host exited with status " + std::to_string(status));
  };
  handlers.on_stderr = [this](const std::string& line) { on_host_stderr(line); };
  HostProcess::Spawned spawned = HostProcess::spawn(&loop_, config_, plugin_file_, std::move(handlers));
  // The new host's call socket replaces the old one; a caller still on the
  // old one has already been woken by its shutdown.
  if (spawned.reached_spawn) call_socket_.replace(spawned.call_fd, ++generation_);
  if (spawned.host == nullptr) return fail(spawned.error);
  current_ = spawned.host;
  eof_reason_.clear();
  if (!spawned.error.empty()) return fail(spawned.error);
  {
    std::lock_guard lock(status_mutex_);
    status_.pid = current_->pid();
  }
  // Ready and every device reopened within the start deadline.
  const uint64_t deadline = now_ns() + static_cast<uint64_t>(config_.start_deadline_ms) * 1'000'000;
  calls_.add(PendingCalls::kStart, "starting the host", deadline, [](const plugin_host::v1::Reply*, lk_result) {});
}

// ---- Messages from the host ----

// The host writes its own lines, and the plugin's while it loads, in the
// journal's form ("<3>error: ...", "<4>plugin: ..."; host_main.cpp): each is
// logged once, at its level, under the plugin's name. Anything else on its
// stderr (a crash or sanitizer report, a plugin writing to stderr itself) is
// a warning, "host stderr: ...".
void Supervisor::on_host_stderr(const std::string& line) {
  const auto parsed = logging::parse_journal_line(line);
  if (!parsed) return log(LK_LOG_WARNING, "host stderr: " + clean_line(line));
  const lk_log_level level = parsed->level == logging::LogLevel::kError     ? LK_LOG_ERROR
                             : parsed->level == logging::LogLevel::kWarning ? LK_LOG_WARNING
                             : parsed->level == logging::LogLevel::kInfo    ? LK_LOG_INFO
                                                                            : LK_LOG_DEBUG;
  log(level, parsed->tag == "plugin" ? clean_line(parsed->message) : "host: " + clean_line(parsed->message));
}

void Supervisor::on_message(const std::string& bytes) {
  plugin_host::v1::HostToHub m;
  if (!m.ParseFromString(bytes)) return fail("protocol violation: a message that does not parse (" +
                                             std::to_string(bytes.size()) + " bytes)");
  switch (m.message_case()) {
    case plugin_host::v1::HostToHub::kReady:
      if (phase_ != Phase::kStarting) return fail("protocol violation: a second Ready");
      return on_ready(m.ready());
    case plugin_host::v1::HostToHub::kReply: {
      std::string violation;
      if (!calls_.answer(m.reply(), &violation)) return fail("protocol violation: " + violation);
      return;
    }
    case plugin_host::v1::HostToHub::kEvent: return on_event(m.event());
    case plugin_host::v1::HostToHub::kCompletion: return on_completion(m.completion());
    case plugin_host::v1::HostToHub::kLog:
      log(static_cast<lk_log_level>(std::min<uint32_t>(m.log().level(), LK_LOG_ERROR)), clean_line(m.log().message()));
      return;
    default:
      return fail("protocol violation: an empty message");
  }
}

void Supervisor::on_ready(const plugin_host::v1::Ready& ready) {
  if (!ready.load_error().empty()) return fail("the host refused the plugin: " + ready.load_error());
  if (start_waiter_) {
    // The first start: remember who the plugin is.
    ready_ = ready;
    identity_.vendor = ready.vendor();
    identity_.driver_id = ready.driver_id();
    identity_.driver_version = ready.driver_version();
    identity_.description = ready.description();
    identity_.abi_version = ready.abi_version();
  } else if (ready.driver_id() != ready_.driver_id() || ready.driver_version() != ready_.driver_version()) {
    return fail("the restarted host serves " + ready.driver_id() + " " + ready.driver_version() + ", not " +
                ready_.driver_id() + " " + ready_.driver_version());
  }
  phase_ = Phase::kReopening;
  reopen_next(slots_.begin());
}

// Reopens the devices one after the other; the host is in service when all are open.
void Supervisor::reopen_next(std::map<uint32_t, Slot>::iterator it) {
  if (it == slots_.end()) {
    calls_.remove_start();
    phase_ = Phase::kRunning;
    running_ = true;
    ping_outstanding_ = false;
    uv_timer_start(&heartbeat_timer_, [](uv_timer_t* t) { static_cast<Supervisor*>(t->data)->heartbeat(); },
                   static_cast<uint64_t>(config_.heartbeat_interval_ms),
                   static_cast<uint64_t>(config_.heartbeat_interval_ms));
    {
      std::lock_guard lock(status_mutex_);
      status_.state = PluginState::kRunning;
      status_.restart_in_ms = 0;
    }
    if (start_waiter_) {
      auto waiter = std::move(start_waiter_);
      start_waiter_ = nullptr;
      waiter("");
    } else {
      {
        std::lock_guard lock(status_mutex_);
        ++status_.restarts;
      }
      log(LK_LOG_INFO, "plugin host restarted (pid " + std::to_string(current_->pid()) + "), " +
                           std::to_string(slots_.size()) + " device(s) reopened");
      notify(PluginNotice::Kind::kRestored, "");
    }
    return;
  }
  const uint32_t id = it->first;
  plugin_host::v1::HubToHost request;
  plugin_host::v1::OpenDevice* open = request.mutable_open();
  open->set_device_id(id);
  open->set_kind(it->second.kind);
  open->set_uri(it->second.uri);
  send_call(std::move(request), "reopening " + device_name(id), [this, id](const plugin_host::v1::Reply* reply, lk_result) {
    if (reply == nullptr) return;  // the host failed meanwhile
    if (reply->result() != LK_OK)
      return fail("reopening " + device_name(id) + " failed: " + host::result_name(reply->result()));
    set_record(id, reply->record());
    reopen_next(slots_.upper_bound(id));
  });
}

// ---- Calls on the loop's socket ----

void Supervisor::send_call(plugin_host::v1::HubToHost request, std::string what, ReplyHandler done) {
  if (current_ == nullptr || !current_->connected()) {
    done(nullptr, LK_ERR_CLOSED);
    return;
  }
  const uint64_t id = ++next_call_;
  request.set_call_id(id);
  calls_.add(id, std::move(what), now_ns() + call_deadline_ns(), std::move(done));
  current_->send(request);
}

void Supervisor::heartbeat() {
  if (phase_ != Phase::kRunning || ping_outstanding_) return;
  ping_outstanding_ = true;
  plugin_host::v1::HubToHost request;
  request.mutable_ping()->set_sequence(++ping_sequence_);
  const uint64_t sequence = ping_sequence_;
  send_call(std::move(request), "the heartbeat", [this, sequence](const plugin_host::v1::Reply* reply, lk_result) {
    if (reply == nullptr) return;
    ping_outstanding_ = false;
    if (reply->sequence() != sequence) fail("protocol violation: the heartbeat echoed the wrong sequence");
  });
}

// ---- Failure, backoff, quarantine ----

void Supervisor::fail(const std::string& reason, uint64_t culprit_call) {
  if (phase_ != Phase::kStarting && phase_ != Phase::kReopening && phase_ != Phase::kRunning) return;
  grace_timer_.stop();
  uv_timer_stop(&heartbeat_timer_);
  running_ = false;
  call_socket_.shut_down();  // wakes a caller waiting on it
  const int pid = current_ != nullptr ? current_->pid() : 0;
  abandon_current();
  const std::string full = "plugin '" + name_ + "'" + (pid ? " (host pid " + std::to_string(pid) + ")" : "") +
                           " failed: " + reason;
  log(LK_LOG_ERROR, full);

  if (start_waiter_) {
    // The first start failed: start() reports it; no restart.
    auto waiter = std::move(start_waiter_);
    start_waiter_ = nullptr;
    phase_ = Phase::kStopped;
    calls_.fail_all(PendingCalls::kNoCulprit);
    waiter(reason);
    return;
  }

  const RestartPolicy::Decision next = restarts_.on_failure(now_ns());
  {
    std::lock_guard lock(status_mutex_);
    ++status_.failures;
    status_.recent_failures = next.recent;
    status_.last_fault = reason;
    status_.pid = 0;
    status_.state = next.quarantine ? PluginState::kQuarantined : PluginState::kRestarting;
    status_.restart_in_ms = next.quarantine ? 0 : next.restart_in_ms;
  }
  phase_ = next.quarantine ? Phase::kQuarantined : Phase::kDown;

  // The owner hears first, then every waiting call and operation fails.
  notify(PluginNotice::Kind::kFailed, reason);
  calls_.fail_all(culprit_call);
  fail_operations();

  if (next.quarantine) {
    const std::string why = std::to_string(next.recent) + " failures within " +
                            std::to_string(config_.quarantine_window_ms / 1000) + " s; last: " + reason;
    log(LK_LOG_ERROR, "plugin '" + name_ + "' quarantined: " + why);
    notify(PluginNotice::Kind::kQuarantined, why);
    return;
  }
  restart_timer_.arm_at(now_ns() + static_cast<uint64_t>(next.restart_in_ms) * 1'000'000);
}

void Supervisor::restart() {
  if (phase_ != Phase::kDown) return;
  spawn();
}

void Supervisor::notify(PluginNotice::Kind kind, const std::string& reason) {
  if (!notices_) return;
  PluginNotice notice;
  notice.kind = kind;
  notice.reason = reason;
  notice.status = status();
  try {
    notices_(notice);
  } catch (const std::exception& e) {
    log(LK_LOG_ERROR, std::string("a notice handler threw: ") + e.what());
  }
}

}  // namespace latchkey::isolation
