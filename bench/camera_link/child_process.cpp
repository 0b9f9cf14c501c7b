#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace latchkey::bench {
namespace {

int64_t to_ns(const timeval& tv) { return static_cast<int64_t>(tv.tv_sec) * 1'000'000'000 + tv.tv_usec * 1000; }

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_path,
                           const std::vector<std::string>& extra_env) {
  if (argv.empty()) throw std::invalid_argument("ChildProcess: empty argv");
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw std::runtime_error("cannot open " + log_path);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const std::string& x : extra_env) replaced = replaced || x.substr(0, x.find('=')) == name;
    if (!replaced) env_text.push_back(entry);
  }
  env_text.insert(env_text.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> env;
  for (const std::string& e : env_text) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::execve(args[0], args.data(), env.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(log);
  stdout_fd_ = out[0];
}

ChildProcess::~ChildProcess() {
  if (exit_.status < 0 && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::string ChildProcess::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (const auto nl = buffered_.find('\n'); nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return {};
    if (eof_) {  // nothing more will come: wait out the timeout, a little at a time for callers that poll
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(5)));
      return {};
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[512];
    const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
    if (n <= 0) {
      eof_ = true;
      return {};
    }
    buffered_.append(chunk, static_cast<std::size_t>(n));
  }
}

void ChildProcess::signal(int sig) {
  if (exit_.status < 0 && pid_ > 0) ::kill(pid_, sig);
}

ChildExit ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (exit_.status >= 0) return exit_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    rusage usage{};
    const pid_t r = ::wait4(pid_, &status, WNOHANG, &usage);
    if (r == pid_) {
      exit_.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      exit_.user_ns = to_ns(usage.ru_utime);
      exit_.system_ns = to_ns(usage.ru_stime);
      return exit_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return ChildExit{};
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;
}

ChildExit run_to_end(const std::vector<std::string>& argv, const std::string& log_path,
                     std::chrono::milliseconds timeout, std::string* stdout_text,
                     const std::vector<std::string>& extra_env) {
  ChildProcess child(argv, log_path, extra_env);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string text;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    ChildExit done = child.wait(std::chrono::milliseconds(0));
    const std::string line = child.read_line(std::min(left, std::chrono::milliseconds(50)));
    if (!line.empty()) text += line + "\n";
    if (done.status >= 0) {
      // Drain what it printed before it ended.
      for (std::string more; !(more = child.read_line(std::chrono::milliseconds(10))).empty();) text += more + "\n";
      if (stdout_text) *stdout_text = text;
      return done;
    }
  }
  child.signal(SIGKILL);
  ChildExit killed = child.wait(std::chrono::milliseconds(2000));
  if (stdout_text) *stdout_text = text;
  killed.status = -1;
  return killed;
}

}  // namespace latchkey::bench
