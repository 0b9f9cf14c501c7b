#include <latchkey/demo/daemon_process.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace latchkey::demo {

namespace {

using Clock = std::chrono::steady_clock;

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// "latchkeyd: listening on http://127.0.0.1:PORT" -> host, port.
bool parse_listening_line(const std::string& line, std::string* host, uint16_t* port) {
  static const std::string kPrefix = "latchkeyd: listening on http://";
  if (line.rfind(kPrefix, 0) != 0) return false;
  const std::string address = line.substr(kPrefix.size());
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  unsigned value = 0;
  const char* first = address.data() + colon + 1;
  const char* last = address.data() + address.size();
  const auto [end, error] = std::from_chars(first, last, value);
  if (error != std::errc() || end != last || value == 0 || value > 65535) return false;
  *host = address.substr(0, colon);
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

DaemonProcess::~DaemonProcess() {
  if (running()) kill();
  join_reader();
}

void DaemonProcess::start(const std::filesystem::path& latchkeyd, const std::filesystem::path& config_file,
                          std::chrono::milliseconds timeout) {
  if (running()) throw DaemonError("latchkeyd is already running (pid " + std::to_string(pid_) + ")");
  join_reader();
  {
    std::lock_guard lock(output_mutex_);
    output_.clear();
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw DaemonError(std::string("pipe: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw DaemonError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: stdout into the pipe; die with the parent.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    const std::string program = latchkeyd.string();
    const std::string config = config_file.string();
    char* argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>("--config"),
                    const_cast<char*>(config.c_str()), nullptr};
    ::execv(program.c_str(), argv);
    const std::string why = "cannot run " + program + ": " + std::strerror(errno) + "\n";
    [[maybe_unused]] const ssize_t n = ::write(STDOUT_FILENO, why.data(), why.size());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  pid_ = pid;
  reader_stop_ = false;
  stdout_fd_ = pipe_fds[0];

  // Read lines until the listening line, the child's exit or the timeout.
  const auto deadline = Clock::now() + timeout;
  std::string pending;
  bool listening = false;
  bool eof = false;
  while (!listening && !eof) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{stdout_fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    char buffer[4096];
    const ssize_t n = ::read(stdout_fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof = true;
      break;
    }
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      {
        std::lock_guard lock(output_mutex_);
        output_.push_back(line);
      }
      if (parse_listening_line(line, &host_, &port_)) listening = true;
    }
  }
  if (!listening) {
    std::string printed;
    for (const std::string& line : output()) printed += "\n  " + line;
    if (!pending.empty()) printed += "\n  " + pending;
    ::kill(pid_, SIGKILL);
    const int status = reap(std::chrono::milliseconds(5000));
    ::close(stdout_fd_);
    stdout_fd_ = -1;
    throw DaemonError(std::string("latchkeyd ") + (eof ? "exited with status " + std::to_string(status)
                                                       : "printed no listening line in time (killed)") +
                      "; its output:" + (printed.empty() ? " (none)" : printed));
  }
  // Keep draining stdout so the daemon never blocks on a full pipe.
  reader_ = std::thread([this, fd = stdout_fd_, rest = pending]() mutable {
    char buffer[4096];
    for (;;) {
      // Stops once the daemon is reaped and the pipe is quiet, even if some
      // other process inherited its write end.
      pollfd p{fd, POLLIN, 0};
      const int ready = ::poll(&p, 1, 100);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        if (reader_stop_) break;
        continue;
      }
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      rest.append(buffer, static_cast<std::size_t>(n));
      std::size_t newline;
      while ((newline = rest.find('\n')) != std::string::npos) {
        std::lock_guard lock(output_mutex_);
        output_.push_back(rest.substr(0, newline));
        rest.erase(0, newline + 1);
      }
    }
    ::close(fd);
  });
  stdout_fd_ = -1;
}

int DaemonProcess::reap(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return exit_status(status);
    }
    if (done < 0 && errno == ECHILD) {
      pid_ = -1;
      return -1;
    }
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int DaemonProcess::terminate(std::chrono::milliseconds timeout) {
  if (!running()) throw DaemonError("latchkeyd is not running");
  ::kill(pid_, SIGTERM);
  int status = reap(timeout);
  if (running()) {
    ::kill(pid_, SIGKILL);
    reap(std::chrono::milliseconds(5000));
    join_reader();
    throw DaemonError("latchkeyd did not stop within " + std::to_string(timeout.count()) +
                      " ms of SIGTERM (killed)");
  }
  join_reader();
  return status;
}

void DaemonProcess::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  reap(std::chrono::milliseconds(10000));
  join_reader();
}

void DaemonProcess::join_reader() {
  reader_stop_ = true;
  if (reader_.joinable()) reader_.join();
  reader_stop_ = false;
}

std::vector<std::string> DaemonProcess::output() const {
  std::lock_guard lock(output_mutex_);
  return output_;
}

}  // namespace latchkey::demo
