// lk-plugin-host: loads one plugin and serves its devices to latchkeyd over
// the sockets it inherits as descriptors 3 and 4 (docs/isolation.md).
//
// Before any plugin code runs it drops what it should not have: every other
// descriptor above 2 is closed, new privileges are refused, core dumps are
// off, address space and open files are limited, and it dies with its parent.
// Plugin calls run on this process's one libuv loop, one at a time (the ABI's
// thread rule holds trivially); plugin threads post events and completions to
// the loop, which writes them to the hub.
//
// Longer than most files: the child process is one program (hardening, the
// loop, the protocol server); each part is short and used once.
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>

#include "channel.hpp"
#include "latchkey/plugin_host.pb.h"
#include "records.hpp"

#include <latchkey/common/cli_options.hpp>
#include <latchkey/common/log.hpp>
#include <latchkey/loop/task_queue.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace {

using namespace latchkey;

constexpr int kSocketFd = 3;      // calls from the hub's loop; events and completions
constexpr int kCallSocketFd = 4;  // queries from the hub's other threads, one at a time

struct Options {
  std::string plugin;
  uint64_t address_space = 0;
  uint64_t open_files = 64;
};

const cli::Program& program() {
  static const cli::Program p{
      "lk-plugin-host",
      {"--plugin FILE [--address-space BYTES] [--open-files N] [--log-level LEVEL]"},
      "Serves one Latchkey plugin to latchkeyd over the sockets it inherits as descriptors 3 and 4. "
      "latchkeyd starts one per plugin (docs/isolation.md); it is not run by hand. Before the plugin loads it "
      "closes every other descriptor, refuses new privileges, turns core dumps off, limits its address space "
      "and open files, and arranges to die with its parent.",
      {{0, "the hub closed the connection or asked it to stop"},
       {1, "its parent was gone before it started"},
       {2, "usage error: an unknown or malformed option, a repeated option, a missing --plugin"},
       {3, "the plugin could not be loaded (the reason was sent to the hub)"},
       {4, "protocol violation by the hub: a message that does not parse, a call on the wrong socket or of no "
           "known kind"}},
      "Its own messages, and the plugin's while it loads, go to stderr (the hub's pipe) in the journal's form, "
      "\"<N>level: <message>\" (\"<N>plugin: <message>\" for the plugin's), N the sd-daemon priority (3 error, "
      "4 warning, 6 info, 7 debug) and no time: latchkeyd reads each line back and logs it at that level under "
      "the plugin's name. Once the plugin is loaded its log goes to the hub over the socket."};
  return p;
}

[[noreturn]] void usage(const std::string& why) { std::exit(cli::report_usage_error(program(), why)); }

Options parse(int argc, char** argv) {
  Options o;
  std::string address_space;
  std::string open_files;
  std::string level = "info";
  cli::po::options_description options;
  options.add_options()
      ("plugin", cli::po::value(&o.plugin)->value_name("FILE"), "the plugin to load (required)")
      ("address-space", cli::po::value(&address_space)->value_name("BYTES"),
       "limit of the address space (RLIMIT_AS); 0 or absent: no limit")
      ("open-files", cli::po::value(&open_files)->value_name("N"), "limit of open descriptors (default 64)");
  cli::add_log_level_option(options, &level, "of the lines it writes", "info; latchkeyd passes its own");
  const cli::Parsed parsed = cli::parse(program(), options, argc, argv);
  if (parsed.exit_status) std::exit(*parsed.exit_status);
  auto number = [](const char* name, const std::string& text) -> uint64_t {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || text[0] == '-' || text[0] == '+')
      usage(std::string("--") + name + " expects a number, got '" + text + "'");
    return n;
  };
  if (parsed.values.count("address-space")) o.address_space = number("address-space", address_space);
  if (parsed.values.count("open-files")) o.open_files = number("open-files", open_files);
  if (const auto problem = cli::log_level_problem(level)) usage("--log-level: " + *problem);
  logging::set_log_program("lk-plugin-host");
  logging::set_log_threshold(cli::log_level_argument(level));
  // Its stderr is the hub's pipe (never the journal): the hub parses each
  // line's "<N>" back into a level and stamps it once (supervisor.cpp).
  logging::set_journal_format(true);
  if (o.plugin.empty()) usage("--plugin FILE is required");
  return o;
}

void drop_privileges(const Options& o) {
  // Die with the hub; if it is already gone, leave now.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) std::exit(1);
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  // Descriptors the hub may have leaked: only 0-2 and the two sockets stay.
  if (::close_range(kCallSocketFd + 1, ~0U, 0) != 0) {
    for (int fd = kCallSocketFd + 1; fd < 65536; ++fd) ::close(fd);
  }
  // The sockets are this process's alone: nothing the plugin may exec inherits them.
  ::fcntl(kSocketFd, F_SETFD, FD_CLOEXEC);
  ::fcntl(kCallSocketFd, F_SETFD, FD_CLOEXEC);
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  if (o.open_files != 0) {
    const rlimit files{o.open_files, o.open_files};
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer reserves terabytes of shadow address space: a limit
  // would stop the host itself. Sanitizer builds run without one.
  (void)o.address_space;
#else
  if (o.address_space != 0) {
    const rlimit as{o.address_space, o.address_space};
    ::setrlimit(RLIMIT_AS, &as);
  }
#endif
}

// Writes one frame with blocking I/O: only before the loop runs.
void write_blocking(const google::protobuf::MessageLite& message) {
  std::string bytes;
  isolation::append_frame(message.SerializeAsString(), &bytes);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(kSocketFd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

struct Device {
  plugin_host::v1::DeviceKind kind = plugin_host::v1::DEVICE_KIND_UNSPECIFIED;
  std::unique_ptr<host::LockHandle> lock;
  std::unique_ptr<host::CameraHandle> camera;
  std::unique_ptr<host::AuthzHandle> authz;
};

class Host {
 public:
  Host(uv_loop_t* loop, std::shared_ptr<host::Plugin> plugin) : loop_(loop), plugin_(std::move(plugin)) {
    outbox_.open(loop_);
    channel_ = std::make_unique<isolation::Channel>(
        loop_, kSocketFd, [this](const std::string& bytes) { on_message(bytes, *channel_); },
        [this](const std::string& why) { stop(why); });
    calls_ = std::make_unique<isolation::Channel>(
        loop_, kCallSocketFd, [this](const std::string& bytes) { on_message(bytes, *calls_); },
        [this](const std::string& why) { stop(why); });
  }

  void send_ready() {
    plugin_host::v1::HostToHub m;
    plugin_host::v1::Ready* r = m.mutable_ready();
    const host::PluginIdentity& id = plugin_->identity();
    r->set_abi_version(id.abi_version);
    r->set_vendor(id.vendor);
    r->set_driver_id(id.driver_id);
    r->set_driver_version(id.driver_version);
    r->set_description(id.description);
    r->set_offers_lock(plugin_->lock_interface() != nullptr);
    r->set_offers_camera(plugin_->camera_interface() != nullptr);
    r->set_offers_authz(plugin_->authz_interface() != nullptr);
    r->set_offers_test_control(plugin_->test_control_interface() != nullptr);
    r->set_pid(static_cast<uint32_t>(::getpid()));
    channel_->send(m);
  }

  // From any thread (plugin threads log and fire events).
  void post(plugin_host::v1::HostToHub message) {
    outbox_.post([this, m = std::move(message)] { channel_->send(m); });  // refused once stopped
  }

 private:

  void stop(const std::string& why) {
    if (stopping_) return;  // both sockets may report the hub's departure
    stopping_ = true;
    if (why != "the peer closed the connection") logging::log(logging::LogLevel::kError, why);
    outbox_.close();   // no more posts; what was not sent is dropped
    devices_.clear();  // closes every device: their threads stop before the loop does
    channel_->close();
    calls_->close();
  }

  void fail(const std::string& why) {
    logging::log(logging::LogLevel::kError, "protocol violation by the hub: " + why);
    std::_Exit(4);
  }

  void on_message(const std::string& bytes, isolation::Channel& answer_on) {
    plugin_host::v1::HubToHost in;
    if (!in.ParseFromString(bytes)) return fail("a message that does not parse");
    plugin_host::v1::HostToHub out;
    plugin_host::v1::Reply* reply = out.mutable_reply();
    reply->set_call_id(in.call_id());
    reply->set_result(LK_OK);
    switch (in.call_case()) {
      case plugin_host::v1::HubToHost::kPing: reply->set_sequence(in.ping().sequence()); break;
      case plugin_host::v1::HubToHost::kOpen:
        if (&answer_on != channel_.get()) return fail("OpenDevice on the call socket");
        open(in.open(), reply);
        break;
      case plugin_host::v1::HubToHost::kClose: {
        if (&answer_on != channel_.get()) return fail("CloseDevice on the call socket");
        auto it = devices_.find(in.close().device_id());
        if (it == devices_.end()) {
          reply->set_result(LK_ERR_NOT_FOUND);
          break;
        }
        // Closed first, so the counts include what closing found (missing completions).
        Device& d = it->second;
        if (d.lock) {
          d.lock->close();
          isolation::put_violations(d.lock->violations(), reply->mutable_violations());
        } else if (d.camera) {
          d.camera->close();
          isolation::put_violations(d.camera->violations(), reply->mutable_violations());
        }
        devices_.erase(it);
        break;
      }
      case plugin_host::v1::HubToHost::kDevice: call(in.device(), reply); break;
      default: return fail("a call of no known kind");
    }
    answer_on.send(out);
    // Events the call produced follow its reply.
    outbox_.drain();
  }

  host::EventHandler event_handler(uint32_t id) {
    return [this, id](const host::DeviceEvent& e) {
      plugin_host::v1::HostToHub m;
      plugin_host::v1::Event* ev = m.mutable_event();
      ev->set_device_id(id);
      ev->set_kind(e.kind);
      ev->set_value(e.value);
      ev->set_detail(e.detail);
      ev->set_device_time_ns(e.device_time_ns);
      if (e.data) ev->set_data(e.data->data(), e.data->size());
      post(std::move(m));
    };
  }

  void state_event(uint32_t id, lk_event_kind kind, uint32_t value) {
    plugin_host::v1::HostToHub m;
    plugin_host::v1::Event* ev = m.mutable_event();
    ev->set_device_id(id);
    ev->set_kind(kind);
    ev->set_value(value);
    post(std::move(m));
  }

  void open(const plugin_host::v1::OpenDevice& o, plugin_host::v1::Reply* reply) {
    if (devices_.count(o.device_id())) return fail("device id " + std::to_string(o.device_id()) + " opened twice");
    Device d;
    d.kind = o.kind();
    lk_result r = LK_ERR_UNSUPPORTED;
    if (o.kind() == plugin_host::v1::DEVICE_KIND_LOCK && plugin_->lock_interface()) {
      r = host::LockHandle::open(plugin_, o.uri(), event_handler(o.device_id()), &d.lock);
      if (r == LK_OK) {
        lk_lock_description desc{};
        desc.struct_size = sizeof desc;
        if (d.lock->describe(&desc) == LK_OK) isolation::put_record(desc, reply->mutable_record());
        // The device's state as it is now: the hub learns it again after a restart.
        lk_lock_state ls = LK_LOCK_STATE_UNKNOWN;
        lk_door_state ds = LK_DOOR_STATE_UNKNOWN;
        if (d.lock->lock_state(&ls) != LK_OK) ls = LK_LOCK_STATE_UNKNOWN;
        if (d.lock->door_state(&ds) != LK_OK) ds = LK_DOOR_STATE_UNKNOWN;
        state_event(o.device_id(), LK_EVENT_LOCK_STATE, ls);
        state_event(o.device_id(), LK_EVENT_DOOR_STATE, ds);
      }
    } else if (o.kind() == plugin_host::v1::DEVICE_KIND_CAMERA && plugin_->camera_interface()) {
      r = host::CameraHandle::open(plugin_, o.uri(), event_handler(o.device_id()), &d.camera);
      if (r == LK_OK) {
        lk_camera_description desc{};
        desc.struct_size = sizeof desc;
        if (d.camera->describe(&desc) == LK_OK) isolation::put_record(desc, reply->mutable_record());
      }
    } else if (o.kind() == plugin_host::v1::DEVICE_KIND_AUTHZ && plugin_->authz_interface()) {
      r = host::AuthzHandle::open(plugin_, o.uri(), &d.authz);
    }
    reply->set_result(r);
    if (r == LK_OK) devices_.emplace(o.device_id(), std::move(d));
  }

  void completion(uint32_t id, const lk_lock_completion& c) {
    plugin_host::v1::HostToHub m;
    plugin_host::v1::Completion* done = m.mutable_completion();
    done->set_device_id(id);
    done->set_operation_id(c.operation_id);
    done->set_result(c.result);
    done->set_lock_state(c.lock_state);
    post(std::move(m));
  }

  void call(const plugin_host::v1::DeviceCall& c, plugin_host::v1::Reply* reply) {
    auto it = devices_.find(c.device_id());
    if (it == devices_.end()) {
      reply->set_result(LK_ERR_NOT_FOUND);
      return;
    }
    Device& d = it->second;
    const uint32_t id = c.device_id();
    lk_result r = LK_ERR_UNSUPPORTED;
    using M = plugin_host::v1::DeviceCall;
    if (d.lock) {
      host::LockHandle& lock = *d.lock;
      switch (c.method()) {
        case M::LOCK_STATE: {
          lk_lock_state s = LK_LOCK_STATE_UNKNOWN;
          r = lock.lock_state(&s);
          reply->set_value(s);
          break;
        }
        case M::DOOR_STATE: {
          lk_door_state s = LK_DOOR_STATE_UNKNOWN;
          r = lock.door_state(&s);
          reply->set_value(s);
          break;
        }
        case M::LOCK:
          r = lock.lock(c.operation_id(), [this, id](const lk_lock_completion& done) { completion(id, done); });
          break;
        case M::UNLOCK: {
          lk_unlock_params p{};
          p.struct_size = sizeof p;
          p.operation_id = c.operation_id();
          p.relock_deadline_ms = c.relock_deadline_ms();
          p.unlatch = c.unlatch() ? 1u : 0u;
          r = lock.unlock(p, [this, id](const lk_lock_completion& done) { completion(id, done); });
          break;
        }
        case M::INJECT_FAULT: r = lock.inject_fault(c.code(), c.parameter()); break;
        case M::CLEAR_FAULTS: r = lock.clear_faults(); break;
        case M::PHYSICAL_ACTION: r = lock.physical_action(c.code()); break;
        case M::VIOLATIONS:
          r = LK_OK;
          isolation::put_violations(lock.violations(), reply->mutable_violations());
          break;
        case M::PENDING_OPERATIONS: r = LK_OK; reply->set_value(static_cast<uint32_t>(lock.pending_operations())); break;
        default: break;
      }
    } else if (d.camera) {
      host::CameraHandle& cam = *d.camera;
      switch (c.method()) {
        case M::DELIVER_NONCE:
          r = cam.deliver_nonce(reinterpret_cast<const uint8_t*>(c.data().data()), c.data().size());
          break;
        case M::START_RECORDING: {
          if (c.data().size() != LK_SESSION_ID_SIZE) {
            r = LK_ERR_INVALID_ARGUMENT;
            break;
          }
          uint8_t sid[LK_SESSION_ID_SIZE];
          std::memcpy(sid, c.data().data(), sizeof sid);
          r = cam.start_recording(sid);
          break;
        }
        case M::STOP_RECORDING: r = cam.stop_recording(); break;
        case M::SNAPSHOT: {
          std::vector<uint8_t> frame;
          lk_snapshot_info info{};
          info.struct_size = sizeof info;
          r = cam.snapshot(&frame, &info);
          if (r == LK_OK) {
            reply->set_data(frame.data(), frame.size());
            isolation::put_record(info, reply->mutable_record());
          }
          break;
        }
        case M::INJECT_FAULT: r = cam.inject_fault(c.code(), c.parameter()); break;
        case M::CLEAR_FAULTS: r = cam.clear_faults(); break;
        case M::VIOLATIONS:
          r = LK_OK;
          isolation::put_violations(cam.violations(), reply->mutable_violations());
          break;
        default: break;
      }
    } else if (d.authz && c.method() == M::VERIFY) {
      lk_grant_info grant{};
      grant.struct_size = sizeof grant;
      lk_authz_refusal refusal{};
      refusal.struct_size = sizeof refusal;
      const std::vector<uint8_t> credential(c.data().begin(), c.data().end());
      r = d.authz->verify(c.hub_id(), c.door_id(), c.now_unix_ms(), credential, &grant, &refusal);
      if (r == LK_OK) isolation::put_record(grant, reply->mutable_record());
      else if (r == LK_ERR_DENIED) isolation::put_record(refusal, reply->mutable_record());
    }
    reply->set_result(r);
  }

  uv_loop_t* loop_;
  std::shared_ptr<host::Plugin> plugin_;
  std::unique_ptr<isolation::Channel> channel_;
  std::unique_ptr<isolation::Channel> calls_;
  loop::TaskQueue outbox_;  // messages from plugin threads, sent on the loop
  bool stopping_ = false;   // loop thread
  std::map<uint32_t, Device> devices_;
};

Host* g_host = nullptr;

// A plugin's lk_log_level as the log's level (a level above error is an error).
logging::LogLevel plugin_log_level(lk_log_level level) {
  if (level >= LK_LOG_ERROR) return logging::LogLevel::kError;
  if (level == LK_LOG_WARNING) return logging::LogLevel::kWarning;
  if (level == LK_LOG_INFO) return logging::LogLevel::kInfo;
  return logging::LogLevel::kDebug;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  drop_privileges(options);
  std::signal(SIGPIPE, SIG_IGN);

  std::shared_ptr<host::Plugin> plugin;
  try {
    host::LoadOptions load;
    load.log = [](lk_log_level level, const std::string&, const std::string& message) {
      plugin_host::v1::HostToHub m;
      m.mutable_log()->set_level(level);
      m.mutable_log()->set_message(message);
      if (g_host != nullptr) g_host->post(std::move(m));
      else logging::log(plugin_log_level(level), message, "plugin");  // while loading: why it may fail
    };
    plugin = host::Plugin::load(options.plugin, load);
  } catch (const std::exception& e) {
    plugin_host::v1::HostToHub m;
    m.mutable_ready()->set_load_error(e.what());
    m.mutable_ready()->set_pid(static_cast<uint32_t>(::getpid()));
    write_blocking(m);
    return 3;
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    Host host(&loop, plugin);
    g_host = &host;
    host.send_ready();
    uv_run(&loop, UV_RUN_DEFAULT);
    g_host = nullptr;
  }
  uv_loop_close(&loop);
  return 0;
}
