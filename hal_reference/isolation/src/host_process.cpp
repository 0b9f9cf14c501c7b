#include "host_process.hpp"

#include <latchkey/common/log.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace latchkey::isolation {

namespace {

// The variables a host may see: enough to run, none of the hub's.
std::vector<std::string> host_environment() {
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C"};
  for (const char* name : {"LD_LIBRARY_PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TZ"})
    if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
  return env;
}

}  // namespace

std::string clean_line(const std::string& text) {
  std::string out = text.substr(0, 1000);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

std::string signal_text(int signal) {
  const char* name = ::sigabbrev_np(signal);
  return "signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : std::string());
}

void HostProcess::release_handle() {
  if (--open_handles_ == 0) delete this;
}

void HostProcess::close_and_release(uv_handle_t* handle) {
  uv_close(handle, [](uv_handle_t* h) { static_cast<HostProcess*>(h->data)->release_handle(); });
}

HostProcess::Spawned HostProcess::spawn(uv_loop_t* loop, const SupervisionConfig& config,
                                        const std::filesystem::path& plugin_file, Handlers handlers) {
  Spawned out;
  // sv: calls from the loop, events and completions; cs: queries from callers' threads.
  int sv[2], cs[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    out.error = std::string("socketpair failed: ") + std::strerror(errno);
    return out;
  }
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cs) != 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    out.error = std::string("socketpair failed: ") + std::strerror(errno);
    return out;
  }
  auto* self = new HostProcess;
  self->handlers_ = std::move(handlers);
  uv_pipe_init(loop, &self->err_, 0);
  self->err_.data = self;
  self->open_handles_ = 1;

  const std::string file = config.host_program.string();
  const std::string plugin = plugin_file.string();
  const std::string address_space = std::to_string(config.address_space_bytes);
  const std::string open_files = std::to_string(config.max_open_files);
  // The host logs its own lines at the level this process logs at.
  const std::string log_level = logging::log_level_name(logging::log_threshold());
  std::vector<std::string> args_s = {file, "--plugin", plugin, "--address-space", address_space,
                                     "--open-files", open_files, "--log-level", log_level};
  std::vector<char*> args;
  for (auto& a : args_s) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env_s = host_environment();
  std::vector<char*> env;
  for (auto& e : env_s) env.push_back(e.data());
  env.push_back(nullptr);
  const std::string cwd = config.work_dir.string();

  uv_stdio_container_t stdio[5];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_IGNORE;
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&self->err_);
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
    auto* host = static_cast<HostProcess*>(p->data);
    host->exited_ = true;
    if (!host->abandoned_ && host->handlers_.on_exit) host->handlers_.on_exit(status, signal);
    close_and_release(reinterpret_cast<uv_handle_t*>(p));
  };
  self->process_.data = self;
  const int r = uv_spawn(loop, &self->process_, &options);
  ::close(sv[1]);
  ::close(cs[1]);
  out.reached_spawn = true;
  out.call_fd = r == 0 ? cs[0] : -1;
  if (r != 0) {
    ::close(cs[0]);
    ::close(sv[0]);
    self->abandoned_ = true;
    close_and_release(reinterpret_cast<uv_handle_t*>(&self->err_));
    // uv_spawn failing leaves the process handle to be closed as well.
    ++self->open_handles_;
    close_and_release(reinterpret_cast<uv_handle_t*>(&self->process_));
    out.error = std::string("cannot start ") + file + ": " + uv_strerror(r);
    return out;
  }
  ++self->open_handles_;  // the process handle
  self->pid_ = self->process_.pid;
  out.host = self;
  self->start_stderr();
  try {
    self->channel_ = std::make_unique<Channel>(
        loop, sv[0],
        [self](const std::string& bytes) {
          if (!self->abandoned_) self->handlers_.on_message(bytes);
        },
        [self](const std::string& why) {
          if (!self->abandoned_) self->handlers_.on_closed(why);
        });
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

void HostProcess::start_stderr() {
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&err_),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* host = static_cast<HostProcess*>(h->data);
        *buf = uv_buf_init(host->err_buffer_, sizeof host->err_buffer_);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* host = static_cast<HostProcess*>(s->data);
        if (n < 0) {
          close_and_release(reinterpret_cast<uv_handle_t*>(s));
          return;
        }
        host->take_stderr(buf->base, static_cast<std::size_t>(n));
      });
}

// The host's stderr (its log lines, crash reports, sanitizers) goes to the
// hub's log line by line.
void HostProcess::take_stderr(const char* bytes, std::size_t n) {
  err_line_.append(bytes, n);
  std::size_t nl;
  while ((nl = err_line_.find('\n')) != std::string::npos) {
    if (!abandoned_ && handlers_.on_stderr) handlers_.on_stderr(err_line_.substr(0, nl));
    err_line_.erase(0, nl + 1);
  }
  if (err_line_.size() > 4096) err_line_.clear();
}

// What the host wrote before the failure that abandons it is already in the
// pipe (a plugin's reason for refusing to load precedes the host's Ready):
// read without waiting, so it is logged before the pipe closes.
void HostProcess::drain_stderr() {
  uv_os_fd_t fd = -1;
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&err_)) ||
      uv_fileno(reinterpret_cast<uv_handle_t*>(&err_), &fd) != 0)
    return;
  for (int rounds = 0; rounds < 64; ++rounds) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) != 1 || (p.revents & POLLIN) == 0) break;
    const ssize_t n = ::read(fd, err_buffer_, sizeof err_buffer_);
    if (n <= 0) break;
    take_stderr(err_buffer_, static_cast<std::size_t>(n));
  }
}

bool HostProcess::send(const google::protobuf::MessageLite& message) {
  return channel_ && channel_->send(message);
}

void HostProcess::abandon() {
  if (abandoned_) return;
  drain_stderr();
  abandoned_ = true;
  if (channel_) channel_->close();
  if (!exited_) ::kill(-pid_, SIGKILL);
  auto* err = reinterpret_cast<uv_handle_t*>(&err_);
  if (!uv_is_closing(err)) close_and_release(err);
}

}  // namespace latchkey::isolation
