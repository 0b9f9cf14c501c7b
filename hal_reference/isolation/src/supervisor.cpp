#include "supervisor.hpp"

#include <latchkey/host/devices.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <future>

namespace latchkey::isolation {

namespace {

uint64_t now_ns() { return uv_hrtime(); }

lk_lock_completion failed_completion(uint64_t operation, lk_result result) {
  lk_lock_completion c{};
  c.struct_size = sizeof c;
  c.operation_id = operation;
  c.result = result;
  c.lock_state = LK_LOCK_STATE_UNKNOWN;
  return c;
}

std::string signal_text(int signal) {
  const char* name = ::sigabbrev_np(signal);
  return "signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : std::string());
}

// The variables a host may see: enough to run, none of the hub's.
std::vector<std::string> host_environment() {
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C"};
  for (const char* name : {"LD_LIBRARY_PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TZ"})
    if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
  return env;
}

}  // namespace

// One spawned host: its process, socket and stderr pipe. Freed when libuv
// has closed both handles.
struct Supervisor::Incarnation {
  Supervisor* owner = nullptr;
  uv_process_t process{};
  uv_pipe_t err{};
  std::unique_ptr<Channel> channel;
  int pid = 0;
  bool exited = false;
  int open_handles = 0;
  std::string err_line;
  char err_buffer[4096];

  void release_handle() {
    if (--open_handles == 0) delete this;
  }
};

Supervisor::Supervisor(std::string name, std::filesystem::path plugin_file, SupervisionConfig config,
                       NoticeHandler notices, host::LogHandler log)
    : name_(std::move(name)),
      plugin_file_(std::filesystem::absolute(plugin_file)),  // the host runs in its own directory
      config_(std::move(config)),
      notices_(std::move(notices)),
      log_(std::move(log)) {
  status_.name = name_;
  status_.mode = PluginMode::kIsolated;
  status_.state = PluginState::kRestarting;
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &wake_, [](uv_async_t* a) { static_cast<Supervisor*>(a->data)->drain(); });
  wake_.data = this;
  for (uv_timer_t* t : {&deadline_timer_, &heartbeat_timer_, &restart_timer_, &grace_timer_}) {
    uv_timer_init(&loop_, t);
    t->data = this;
  }
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

void Supervisor::stop() {
  if (!thread_.joinable()) {
    if (!loop_closed_) {
      uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
      for (uv_timer_t* t : {&deadline_timer_, &heartbeat_timer_, &restart_timer_, &grace_timer_})
        uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
      uv_run(&loop_, UV_RUN_DEFAULT);
      uv_loop_close(&loop_);
      loop_closed_ = true;
    }
    return;
  }
  auto stop_task = [this] {
    phase_ = Phase::kStopped;
    running_ = false;
    for (auto& [id, p] : pending_) p.done(nullptr, LK_ERR_CLOSED);
    pending_.clear();
    deadlines_.clear();
    for (auto& [id, slot] : slots_)
      for (auto& [op, done] : slot.operations) done(failed_completion(op, LK_ERR_CLOSED));
    slots_.clear();
    abandon_current();
    uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
    for (uv_timer_t* t : {&deadline_timer_, &heartbeat_timer_, &restart_timer_, &grace_timer_})
      uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
  };
  {
    // The stop task is the last one: nothing is queued or signalled after it.
    std::lock_guard lock(queue_mutex_);
    if (closing_) return;
    queue_.push_back(std::move(stop_task));
    closing_ = true;
    uv_async_send(&wake_);
  }
  thread_.join();
  {
    std::lock_guard lock(call_mutex_);
    if (call_fd_ >= 0) ::close(call_fd_);
    call_fd_ = -1;
  }
  // Handles of a killed host close once its exit is reaped.
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  loop_closed_ = true;
  std::lock_guard lock(status_mutex_);
  status_.state = PluginState::kStopped;
  status_.pid = 0;
}

bool Supervisor::post(std::function<void()> task) {
  // Signalled under the lock: the stop task, queued under it too, closes the handle.
  std::lock_guard lock(queue_mutex_);
  if (closing_ || !thread_.joinable()) return false;
  queue_.push_back(std::move(task));
  uv_async_send(&wake_);
  return true;
}

// Ends the current host for good: its sockets closed, its whole process group
// killed (helpers a plugin forked die with it), its stderr pipe closed so a
// helper holding it cannot keep the incarnation (or stop()) waiting.
void Supervisor::abandon_current() {
  if (current_ == nullptr) return;
  Incarnation* inc = current_;
  current_ = nullptr;
  inc->owner = nullptr;
  if (inc->channel) inc->channel->close();
  if (!inc->exited) ::kill(-inc->pid, SIGKILL);
  auto* err = reinterpret_cast<uv_handle_t*>(&inc->err);
  if (!uv_is_closing(err)) uv_close(err, [](uv_handle_t* h) { static_cast<Incarnation*>(h->data)->release_handle(); });
}

// A host's text for the hub's log: one line, printable, bounded.
std::string Supervisor::clean_line(const std::string& text) {
  std::string out = text.substr(0, 1000);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

void Supervisor::drain() {
  std::deque<std::function<void()>> work;
  {
    std::lock_guard lock(queue_mutex_);
    work.swap(queue_);
  }
  for (auto& task : work) task();
}

PluginStatus Supervisor::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

void Supervisor::log(lk_log_level level, const std::string& message) {
  if (log_) log_(level, identity_.driver_id.empty() ? name_ : identity_.driver_id, message);
}

std::string Supervisor::device_name(uint32_t id) const {
  auto it = slots_.find(id);
  return it == slots_.end() ? "device " + std::to_string(id) : "'" + it->second.uri + "'";
}

// ---- Spawning ----

void Supervisor::spawn() {
  // sv: calls from the loop, events and completions; cs: queries from callers' threads.
  int sv[2], cs[2];
  phase_ = Phase::kStarting;  // a failure from here on is this start's
  closed_devices_.clear();     // a new host has never heard of them
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    fail(std::string("socketpair failed: ") + std::strerror(errno));
    return;
  }
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) != 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    fail(std::string("socketpair failed: ") + std::strerror(errno));
    return;
  }
  auto* inc = new Incarnation;
  inc->owner = this;
  uv_pipe_init(&loop_, &inc->err, 0);
  inc->err.data = inc;
  inc->open_handles = 1;

  const std::string file = config_.host_program.string();
  const std::string plugin = plugin_file_.string();
  const std::string address_space = std::to_string(config_.address_space_bytes);
  const std::string open_files = std::to_string(config_.max_open_files);
  std::vector<std::string> args_s = {file, "--plugin", plugin, "--address-space", address_space,
                                     "--open-files", open_files};
  std::vector<char*> args;
  for (auto& a : args_s) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_s = host_environment();
  std::vector<char*> env;
  for (auto& e : env_s) env.push_back(e.data());
  env.push_back(nullptr);
  const std::string cwd = config_.work_dir.string();

  uv_stdio_container_t stdio[5];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_IGNORE;
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&inc->err);
  stdio[3].flags = UV_INHERIT_FD;
  stdio[3].data.fd = sv[1];
  stdio[4].flags = UV_INHERIT_FD;
  stdio[4].data.fd = cs[1];

  uv_process_options_t options{};
  options.file = file.c_str();
  options.args = args.data();
  options.env = env.data();
  options.cwd = cwd.c_str();
  options.stdio_count = 5;
  // Its own session and process group, so that a kill reaches whatever it forked.
  options.flags = UV_PROCESS_DETACHED;
  options.stdio = stdio;
  options.exit_cb = [](uv_process_t* p, int64_t status, int signal) {
    auto* i = static_cast<Incarnation*>(p->data);
    i->exited = true;
    if (i->owner != nullptr) i->owner->on_exit(i, status, signal);
    uv_close(reinterpret_cast<uv_handle_t*>(p), [](uv_handle_t* h) {
      static_cast<Incarnation*>(h->data)->release_handle();
    });
  };
  inc->process.data = inc;
  const int r = uv_spawn(&loop_, &inc->process, &options);
  ::close(sv[1]);
  ::close(cs[1]);
  {
    // The new host's call socket replaces the old one; a caller still on the
    // old one has already been woken by its shutdown.
    std::lock_guard lock(call_mutex_);
    if (call_fd_ >= 0) ::close(call_fd_);
    call_fd_ = r == 0 ? cs[0] : -1;
    call_reader_ = FrameReader();
    call_dead_ = false;
    call_generation_ = ++generation_;
  }
  if (r != 0) {
    ::close(cs[0]);
    ::close(sv[0]);
    uv_close(reinterpret_cast<uv_handle_t*>(&inc->err), [](uv_handle_t* h) {
      static_cast<Incarnation*>(h->data)->release_handle();
    });
    // uv_spawn failing leaves the process handle to be closed as well.
    ++inc->open_handles;
    uv_close(reinterpret_cast<uv_handle_t*>(&inc->process), [](uv_handle_t* h) {
      static_cast<Incarnation*>(h->data)->release_handle();
    });
    inc->owner = nullptr;
    phase_ = Phase::kStarting;
    fail(std::string("cannot start ") + file + ": " + uv_strerror(r));
    return;
  }
  ++inc->open_handles;  // the process handle
  inc->pid = inc->process.pid;
  current_ = inc;
  phase_ = Phase::kStarting;
  eof_reason_.clear();
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&inc->err),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* i = static_cast<Incarnation*>(h->data);
        *buf = uv_buf_init(i->err_buffer, sizeof i->err_buffer);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* i = static_cast<Incarnation*>(s->data);
        if (n < 0) {
          uv_close(reinterpret_cast<uv_handle_t*>(s), [](uv_handle_t* h) {
            static_cast<Incarnation*>(h->data)->release_handle();
          });
          return;
        }
        // The host's stderr (crash reports, sanitizers) goes to the hub's log line by line.
        i->err_line.append(buf->base, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = i->err_line.find('\n')) != std::string::npos) {
          if (i->owner != nullptr) i->owner->log(LK_LOG_WARNING, "host stderr: " + clean_line(i->err_line.substr(0, nl)));
          i->err_line.erase(0, nl + 1);
        }
        if (i->err_line.size() > 4096) i->err_line.clear();
      });
  try {
    inc->channel = std::make_unique<Channel>(
        &loop_, sv[0], [this, inc](const std::string& bytes) {
          if (inc == current_) on_message(bytes);
        },
        [this, inc](const std::string& why) {
          if (inc != current_) return;
          // The exit status says more than the closed socket: wait briefly for it.
          eof_reason_ = "the host closed its socket (" + why + ")";
          uv_timer_start(&grace_timer_, [](uv_timer_t* t) {
            auto* self = static_cast<Supervisor*>(t->data);
            self->fail(self->eof_reason_);
          }, 50, 0);
        });
  } catch (const std::exception& e) {
    fail(e.what());
    return;
  }
  {
    std::lock_guard lock(status_mutex_);
    status_.pid = inc->pid;
  }
  // Ready and every device reopened within the start deadline.
  const uint64_t deadline = now_ns() + static_cast<uint64_t>(config_.start_deadline_ms) * 1'000'000;
  pending_[0] = Pending{"starting the host", deadline, now_ns(), [](const v1::Reply*, lk_result) {}};
  deadlines_.insert({deadline, 0});
  arm_deadline_timer();
}

void Supervisor::on_exit(Incarnation* inc, int64_t status, int signal) {
  if (inc != current_) return;
  const std::string how = signal != 0 ? "the host died of " + signal_text(signal)
                                      : "the host exited with status " + std::to_string(status);
  fail(how);
}

// ---- Messages from the host ----

void Supervisor::on_message(const std::string& bytes) {
  v1::HostToHub m;
  if (!m.ParseFromString(bytes)) return fail("protocol violation: a message that does not parse (" +
                                             std::to_string(bytes.size()) + " bytes)");
  switch (m.message_case()) {
    case v1::HostToHub::kReady:
      if (phase_ != Phase::kStarting) return fail("protocol violation: a second Ready");
      return on_ready(m.ready());
    case v1::HostToHub::kReply: {
      // The host answers this socket's calls in order, one at a time: the
      // reply must be to the oldest call (a host cannot hide a stuck call
      // behind fresh answers), and the next call's wait starts now.
      auto it = pending_.upper_bound(0);
      if (m.reply().call_id() == 0 || it == pending_.end() || it->first != m.reply().call_id())
        return fail("protocol violation: a reply to call " + std::to_string(m.reply().call_id()) +
                    (it == pending_.end() ? ", none being outstanding"
                                          : ", while call " + std::to_string(it->first) + " is the oldest outstanding"));
      Pending p = std::move(it->second);
      deadlines_.erase({p.deadline_ns, it->first});
      pending_.erase(it);
      const uint64_t now = now_ns();
      last_progress_ns_ = now;
      auto next = pending_.upper_bound(0);
      if (next != pending_.end()) {
        const uint64_t fresh = now + static_cast<uint64_t>(config_.call_deadline_ms) * 1'000'000;
        if (fresh > next->second.deadline_ns) {
          deadlines_.erase({next->second.deadline_ns, next->first});
          next->second.deadline_ns = fresh;
          deadlines_.insert({fresh, next->first});
        }
      }
      p.done(&m.reply(), LK_OK);
      arm_deadline_timer();
      return;
    }
    case v1::HostToHub::kEvent: {
      const v1::Event& e = m.event();
      auto it = slots_.find(e.device_id());
      if (it == slots_.end() && closed_devices_.count(e.device_id())) return;  // sent before it was closed
      if (it == slots_.end() || phase_ == Phase::kStarting)
        return fail("protocol violation: an event for device " + std::to_string(e.device_id()) + ", which is not open");
      if (!it->second.hooks.on_event) return;
      host::DeviceEvent event;
      event.kind = e.kind();
      event.value = e.value();
      event.detail = e.detail();
      event.device_time_ns = e.device_time_ns();
      if (!e.data().empty())
        event.data = std::make_shared<host::LentBytes>(std::vector<uint8_t>(e.data().begin(), e.data().end()));
      it->second.hooks.on_event(event);
      return;
    }
    case v1::HostToHub::kCompletion: {
      const v1::Completion& c = m.completion();
      auto slot = slots_.find(c.device_id());
      if (slot == slots_.end() && closed_devices_.count(c.device_id())) return;  // completed by the close
      if (slot == slots_.end()) return fail("protocol violation: a completion for device " +
                                            std::to_string(c.device_id()) + ", which is not open");
      auto op = slot->second.operations.find(c.operation_id());
      if (op == slot->second.operations.end())
        return fail("protocol violation: a completion of operation " + std::to_string(c.operation_id()) +
                    ", which is not pending");
      host::LockCompletionHandler done = std::move(op->second);
      slot->second.operations.erase(op);
      lk_lock_completion completion{};
      completion.struct_size = sizeof completion;
      completion.operation_id = c.operation_id();
      completion.result = c.result();
      completion.lock_state = c.lock_state();
      done(completion);
      return;
    }
    case v1::HostToHub::kLog:
      log(static_cast<lk_log_level>(std::min<uint32_t>(m.log().level(), LK_LOG_ERROR)), clean_line(m.log().message()));
      return;
    default:
      return fail("protocol violation: an empty message");
  }
}

void Supervisor::on_ready(const v1::Ready& ready) {
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
    auto start = pending_.find(0);
    if (start != pending_.end()) {
      deadlines_.erase({start->second.deadline_ns, 0});
      pending_.erase(start);
    }
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
      log(LK_LOG_INFO, "plugin host restarted (pid " + std::to_string(current_->pid) + "), " +
                           std::to_string(slots_.size()) + " device(s) reopened");
      notify(PluginNotice::Kind::kRestored, "");
    }
    return;
  }
  const uint32_t id = it->first;
  v1::HubToHost request;
  v1::OpenDevice* open = request.mutable_open();
  open->set_device_id(id);
  open->set_kind(it->second.kind);
  open->set_uri(it->second.uri);
  send_call(std::move(request), "reopening " + device_name(id), [this, id](const v1::Reply* reply, lk_result) {
    if (reply == nullptr) return;  // the host failed meanwhile
    if (reply->result() != LK_OK)
      return fail("reopening " + device_name(id) + " failed: " + host::result_name(reply->result()));
    slots_[id].record = reply->record();
    {
      std::lock_guard lock(records_mutex_);
      records_[id] = reply->record();
    }
    reopen_next(slots_.upper_bound(id));
  });
}

// ---- Calls ----

void Supervisor::send_call(v1::HubToHost request, std::string what, ReplyHandler done) {
  if (current_ == nullptr || !current_->channel || !current_->channel->open()) {
    done(nullptr, LK_ERR_CLOSED);
    return;
  }
  const uint64_t id = ++next_call_;
  request.set_call_id(id);
  const uint64_t deadline = now_ns() + static_cast<uint64_t>(config_.call_deadline_ms) * 1'000'000;
  pending_[id] = Pending{std::move(what), deadline, now_ns(), std::move(done)};
  deadlines_.insert({deadline, id});
  current_->channel->send(request);
  arm_deadline_timer();
}

void Supervisor::arm_deadline_timer() {
  if (deadlines_.empty()) {
    uv_timer_stop(&deadline_timer_);
    return;
  }
  const uint64_t first = deadlines_.begin()->first;
  const uint64_t now = now_ns();
  const uint64_t ms = first <= now ? 0 : (first - now + 999'999) / 1'000'000;
  uv_timer_start(&deadline_timer_, [](uv_timer_t* t) { static_cast<Supervisor*>(t->data)->on_deadline(); }, ms, 0);
}

void Supervisor::on_deadline() {
  if (deadlines_.empty()) return;
  const auto [deadline, id] = *deadlines_.begin();
  if (deadline > now_ns()) return arm_deadline_timer();
  auto it = pending_.find(id);
  const std::string what = it != pending_.end() ? it->second.what : "a call";
  // A query on the call socket answered meanwhile shows the host at work: the
  // call waited behind it. Its own full deadline then counts from that answer,
  // up to twice the deadline in all.
  const uint64_t deadline_ns = static_cast<uint64_t>(config_.call_deadline_ms) * 1'000'000;
  if (it != pending_.end() && id != 0) {
    const uint64_t extended = std::min(last_progress_ns_.load() + deadline_ns, it->second.sent_ns + 2 * deadline_ns);
    if (extended > now_ns()) {
      deadlines_.erase({deadline, id});
      it->second.deadline_ns = extended;
      deadlines_.insert({extended, id});
      return arm_deadline_timer();
    }
  }
  if (id == 0)
    fail("hang: the host was not ready within " + std::to_string(config_.start_deadline_ms) + " ms", id);
  else
    fail("hang: " + what + " got no answer within " + std::to_string(config_.call_deadline_ms) + " ms", id);
}

void Supervisor::heartbeat() {
  if (phase_ != Phase::kRunning || ping_outstanding_) return;
  ping_outstanding_ = true;
  v1::HubToHost request;
  request.mutable_ping()->set_sequence(++ping_sequence_);
  const uint64_t sequence = ping_sequence_;
  send_call(std::move(request), "the heartbeat", [this, sequence](const v1::Reply* reply, lk_result) {
    if (reply == nullptr) return;
    ping_outstanding_ = false;
    if (reply->sequence() != sequence) fail("protocol violation: the heartbeat echoed the wrong sequence");
  });
}

// ---- Failure, backoff, quarantine ----

int64_t Supervisor::backoff_ms() const {
  const std::size_t recent = failure_times_ns_.size();
  int64_t delay = config_.restart_backoff_ms;
  for (std::size_t i = 1; i < recent && delay < config_.restart_backoff_max_ms; ++i) delay *= 2;
  return std::min(delay, config_.restart_backoff_max_ms);
}

void Supervisor::fail(const std::string& reason, uint64_t culprit_call) {
  if (phase_ != Phase::kStarting && phase_ != Phase::kReopening && phase_ != Phase::kRunning) return;
  uv_timer_stop(&grace_timer_);
  uv_timer_stop(&heartbeat_timer_);
  running_ = false;
  // Wakes a caller waiting on the call socket (only this thread changes call_fd_).
  if (call_fd_ >= 0) ::shutdown(call_fd_, SHUT_RDWR);
  const int pid = current_ != nullptr ? current_->pid : 0;
  abandon_current();  // its exit is reaped without us
  const std::string full = "plugin '" + name_ + "'" + (pid ? " (host pid " + std::to_string(pid) + ")" : "") +
                           " failed: " + reason;
  log(LK_LOG_ERROR, full);

  if (start_waiter_) {
    // The first start failed: start() reports it; no restart.
    auto waiter = std::move(start_waiter_);
    start_waiter_ = nullptr;
    phase_ = Phase::kStopped;
    for (auto& [id, p] : pending_) p.done(nullptr, LK_ERR_CLOSED);
    pending_.clear();
    deadlines_.clear();
    waiter(reason);
    return;
  }

  const uint64_t now = now_ns();
  failure_times_ns_.push_back(now);
  const uint64_t window = static_cast<uint64_t>(config_.quarantine_window_ms) * 1'000'000;
  while (!failure_times_ns_.empty() && now - failure_times_ns_.front() > window) failure_times_ns_.pop_front();
  const bool quarantine = static_cast<int>(failure_times_ns_.size()) >= config_.quarantine_failures;
  const int64_t delay = backoff_ms();
  {
    std::lock_guard lock(status_mutex_);
    ++status_.failures;
    status_.recent_failures = failure_times_ns_.size();
    status_.last_fault = reason;
    status_.pid = 0;
    status_.state = quarantine ? PluginState::kQuarantined : PluginState::kRestarting;
    status_.restart_in_ms = quarantine ? 0 : delay;
  }
  phase_ = quarantine ? Phase::kQuarantined : Phase::kDown;

  // The owner hears first, then every waiting call and operation fails.
  notify(PluginNotice::Kind::kFailed, reason);
  auto pending = std::move(pending_);
  pending_.clear();
  deadlines_.clear();
  uv_timer_stop(&deadline_timer_);
  for (auto& [id, p] : pending) p.done(nullptr, id == culprit_call ? LK_ERR_TIMEOUT : LK_ERR_CLOSED);
  for (auto& [id, slot] : slots_) {
    auto operations = std::move(slot.operations);
    slot.operations.clear();
    for (auto& [op, done] : operations) done(failed_completion(op, LK_ERR_CLOSED));
  }

  if (quarantine) {
    const std::string why = std::to_string(failure_times_ns_.size()) + " failures within " +
                            std::to_string(config_.quarantine_window_ms / 1000) + " s; last: " + reason;
    log(LK_LOG_ERROR, "plugin '" + name_ + "' quarantined: " + why);
    notify(PluginNotice::Kind::kQuarantined, why);
    return;
  }
  uv_timer_start(&restart_timer_, [](uv_timer_t* t) { static_cast<Supervisor*>(t->data)->restart(); },
                 static_cast<uint64_t>(delay), 0);
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

// ---- The proxies' side (any thread but the loop's) ----

lk_result Supervisor::open_device(v1::DeviceKind kind, const std::string& uri, host::DeviceHooks hooks, uint32_t* id,
                                  v1::Record* record) {
  if (on_loop_thread()) return LK_ERR_STATE;
  auto promise = std::make_shared<std::promise<lk_result>>();
  auto future = promise->get_future();
  auto device = std::make_shared<uint32_t>(0);
  auto description = std::make_shared<v1::Record>();
  const bool posted = post([this, kind, uri, hooks = std::move(hooks), promise, device, description]() mutable {
    if (phase_ != Phase::kRunning) return promise->set_value(LK_ERR_CLOSED);
    const uint32_t slot_id = ++next_device_;
    Slot& slot = slots_[slot_id];
    slot.kind = kind;
    slot.uri = uri;
    slot.hooks = std::move(hooks);
    v1::HubToHost request;
    v1::OpenDevice* open = request.mutable_open();
    open->set_device_id(slot_id);
    open->set_kind(kind);
    open->set_uri(uri);
    send_call(std::move(request), "opening '" + uri + "'",
              [this, slot_id, promise, device, description](const v1::Reply* reply, lk_result failure) {
                const lk_result r = reply ? static_cast<lk_result>(reply->result()) : failure;
                if (r == LK_OK) {
                  slots_[slot_id].record = reply->record();
                  {
                    std::lock_guard lock(records_mutex_);
                    records_[slot_id] = reply->record();
                  }
                  *device = slot_id;
                  *description = reply->record();
                } else {
                  slots_.erase(slot_id);
                }
                promise->set_value(r);
              });
  });
  if (!posted) return LK_ERR_CLOSED;
  if (future.wait_for(std::chrono::milliseconds(config_.call_deadline_ms + 2000)) != std::future_status::ready)
    return LK_ERR_TIMEOUT;
  const lk_result r = future.get();
  if (r == LK_OK) {
    *id = *device;
    *record = *description;
  }
  return r;
}

v1::ContractViolations Supervisor::close_device(uint32_t id) {
  auto counts = std::make_shared<v1::ContractViolations>();
  if (on_loop_thread()) return {};
  auto promise = std::make_shared<std::promise<void>>();
  auto future = promise->get_future();
  const bool posted = post([this, id, promise, counts] {
    auto it = slots_.find(id);
    if (it == slots_.end()) return promise->set_value();
    auto operations = std::move(it->second.operations);
    slots_.erase(it);
    closed_devices_.insert(id);
    {
      std::lock_guard records(records_mutex_);
      records_.erase(id);
    }
    if (phase_ != Phase::kRunning) {
      for (auto& [op, done] : operations) done(failed_completion(op, LK_ERR_CLOSED));
      return promise->set_value();
    }
    v1::HubToHost request;
    request.mutable_close()->set_device_id(id);
    auto ops = std::make_shared<std::map<uint64_t, host::LockCompletionHandler>>(std::move(operations));
    send_call(std::move(request), "closing device " + std::to_string(id),
              [promise, ops, counts](const v1::Reply* reply, lk_result) {
                if (reply != nullptr) *counts = reply->violations();
                // The host completed what was pending as it closed; those completions
                // found no slot and were dropped. The callers hear of them here.
                for (auto& [op, done] : *ops) done(failed_completion(op, LK_ERR_CLOSED));
                promise->set_value();
              });
  });
  if (posted) future.wait_for(std::chrono::milliseconds(config_.call_deadline_ms + 2000));
  return posted && future.wait_for(std::chrono::seconds(0)) == std::future_status::ready ? *counts
                                                                                          : v1::ContractViolations{};
}

// Queries run on the caller's thread over the host's call socket: a blocking
// write, then poll() for the reply until the deadline. Nothing else reads
// that socket, so a call costs one round trip between two processes; the
// supervisor's loop hears only of failures.
lk_result Supervisor::call(uint32_t id, v1::DeviceCall call, v1::Reply* reply) {
  if (!running_) return LK_ERR_CLOSED;
  std::lock_guard lock(call_mutex_);
  if (call_fd_ < 0 || call_dead_ || !running_) return LK_ERR_CLOSED;
  const uint64_t generation = call_generation_;
  const auto method = call.method();
  v1::HubToHost request;
  request.set_call_id(++next_sync_call_);
  call.set_device_id(id);
  *request.mutable_device() = std::move(call);
  std::string bytes;
  append_frame(request.SerializeAsString(), &bytes);
  auto failed = [&](std::string why, lk_result result, bool closed_by_host = false) {
    // This host is done for: no other caller may wait on it meanwhile.
    call_dead_ = true;
    ::shutdown(call_fd_, SHUT_RDWR);
    post([this, generation, id, method, why = std::move(why), result, closed_by_host] {
      if (generation != generation_ || phase_ != Phase::kRunning) return;  // about an earlier host
      const std::string what = v1::DeviceCall::Method_Name(method) + " on " + device_name(id);
      if (closed_by_host) {
        // A crash: the exit status says more; wait briefly for it, as for the other socket.
        if (eof_reason_.empty()) eof_reason_ = what + ": " + why;
        if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&grace_timer_)))
          uv_timer_start(&grace_timer_, [](uv_timer_t* t) {
            auto* self = static_cast<Supervisor*>(t->data);
            self->fail(self->eof_reason_);
          }, 50, 0);
        return;
      }
      fail(result == LK_ERR_TIMEOUT
               ? "hang: " + what + " got no answer within " + std::to_string(config_.call_deadline_ms) + " ms"
               : what + ": " + why);
    });
    return result;
  };
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(call_fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return failed(std::string("the call socket refused the request: ") + std::strerror(errno), LK_ERR_CLOSED);
    sent += static_cast<std::size_t>(n);
  }
  const uint64_t sent_ns = now_ns();
  const uint64_t deadline_ns = static_cast<uint64_t>(config_.call_deadline_ms) * 1'000'000;
  uint64_t deadline = sent_ns + deadline_ns;
  char buffer[16 * 1024];
  for (;;) {
    std::optional<std::string> message = call_reader_.next();
    if (call_reader_.failed()) return failed("protocol violation: " + call_reader_.error(), LK_ERR_CLOSED);
    if (message) {
      v1::HostToHub answer;
      if (!answer.ParseFromString(*message) || !answer.has_reply() || answer.reply().call_id() != next_sync_call_)
        return failed("protocol violation: the call socket carried something other than this call's reply",
                      LK_ERR_CLOSED);
      last_progress_ns_ = now_ns();
      const auto result = static_cast<lk_result>(answer.reply().result());
      if (reply != nullptr) *reply = std::move(*answer.mutable_reply());
      return result;
    }
    uint64_t now = now_ns();
    if (now >= deadline) {
      // Answers on the other socket meanwhile show the host at work and this
      // query queued behind them: its deadline counts from the latest, up to
      // twice the deadline in all.
      deadline = std::max(deadline, std::min(last_progress_ns_.load() + deadline_ns, sent_ns + 2 * deadline_ns));
      if (now >= deadline) return failed("", LK_ERR_TIMEOUT);
    }
    pollfd p{call_fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>((deadline - now + 999'999) / 1'000'000));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) continue;  // the loop re-checks the deadline
    const ssize_t n = ::recv(call_fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return failed("the host closed its call socket", LK_ERR_CLOSED, true);
    call_reader_.feed(buffer, static_cast<std::size_t>(n));
  }
}

v1::Record Supervisor::record(uint32_t id) const {
  std::lock_guard lock(records_mutex_);
  auto it = records_.find(id);
  return it == records_.end() ? v1::Record() : it->second;
}

lk_result Supervisor::send(uint32_t id, v1::DeviceCall call, const char* what) {
  if (!running_) return LK_ERR_CLOSED;
  call.set_device_id(id);
  const bool posted = post([this, id, call = std::move(call), what]() mutable {
    auto it = slots_.find(id);
    if (phase_ != Phase::kRunning || it == slots_.end()) return;  // the failure was reported as such
    const std::string text = std::string(what) + " on " + device_name(id);
    v1::HubToHost request;
    *request.mutable_device() = std::move(call);
    send_call(std::move(request), text, [this, id, what](const v1::Reply* r, lk_result) {
      if (r == nullptr || r->result() == LK_OK) return;
      auto slot = slots_.find(id);
      if (slot != slots_.end() && slot->second.hooks.on_call_failed)
        slot->second.hooks.on_call_failed(what, static_cast<lk_result>(r->result()));
    });
  });
  return posted ? LK_OK : LK_ERR_CLOSED;
}

lk_result Supervisor::start_operation(uint32_t id, v1::DeviceCall call, host::LockCompletionHandler done) {
  if (!running_) return LK_ERR_CLOSED;
  call.set_device_id(id);
  const uint64_t op = call.operation_id();
  const bool posted = post([this, id, op, call = std::move(call), done = std::move(done)]() mutable {
    auto it = slots_.find(id);
    auto finish = [&done, op](lk_result r) { done(failed_completion(op, r)); };
    if (phase_ != Phase::kRunning || it == slots_.end()) return finish(LK_ERR_CLOSED);
    if (it->second.operations.count(op)) return finish(LK_ERR_BUSY);
    it->second.operations[op] = std::move(done);
    const std::string what = v1::DeviceCall::Method_Name(call.method()) + " on " + device_name(id);
    v1::HubToHost request;
    *request.mutable_device() = std::move(call);
    send_call(std::move(request), what, [this, id, op](const v1::Reply* r, lk_result) {
      if (r == nullptr || r->result() == LK_OK) return;  // a failure completed every operation already
      // A refused start never completes in the plugin: complete it here with the refusal.
      auto slot = slots_.find(id);
      if (slot == slots_.end()) return;
      auto pending = slot->second.operations.find(op);
      if (pending == slot->second.operations.end()) return;
      host::LockCompletionHandler handler = std::move(pending->second);
      slot->second.operations.erase(pending);
      handler(failed_completion(op, static_cast<lk_result>(r->result())));
    });
  });
  return posted ? LK_OK : LK_ERR_CLOSED;
}

}  // namespace latchkey::isolation
