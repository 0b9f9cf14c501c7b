#include <latchkey/demo/child_process.hpp>
#include <latchkey/demo/daemon_process.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

extern char** environ;

namespace latchkey::demo {

ChildProcess::~ChildProcess() { kill(); }

void ChildProcess::start(const std::vector<std::string>& argv, const std::filesystem::path& log_file) {
  if (argv.empty()) throw DaemonError("ChildProcess::start: no program given");
  kill();
  log_file_ = log_file;
  const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) throw DaemonError("cannot open " + log_file.string() + ": " + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
  // Its own process group: a terminal's Ctrl-C reaches the demo, which stops it in order.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(log_fd);
  if (rc != 0) throw DaemonError("cannot start " + argv[0] + ": " + std::strerror(rc));
  pid_ = pid;
}

int ChildProcess::reap(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      return -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  return reap(std::chrono::milliseconds(0)) == -2;
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  const int status = reap(timeout);
  if (status != -2) return status;
  ::kill(pid_, SIGKILL);
  return reap(std::chrono::milliseconds(5000));
}

int ChildProcess::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const int status = reap(timeout);
  if (status != -2) return status;
  ::kill(pid_, SIGKILL);
  return reap(std::chrono::milliseconds(5000));
}

void ChildProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(std::chrono::milliseconds(5000));
}

std::string file_tail(const std::filesystem::path& file, std::size_t lines) {
  std::ifstream in(file);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string text;
  for (const std::string& l : tail) text += "  " + l + "\n";
  return text.empty() ? "  (empty)\n" : text;
}

}  // namespace latchkey::demo
