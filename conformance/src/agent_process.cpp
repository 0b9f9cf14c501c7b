#include "agent_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace latchkey::certify {
namespace {

// The group to kill when lk-certify is interrupted (one agent at a time).
std::atomic<pid_t> g_agent_group{-1};

extern "C" void kill_agent_and_die(int sig) {
  const pid_t group = g_agent_group.load();
  if (group > 0) ::kill(-group, SIGTERM);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_interrupt_handlers() {
  static const bool installed = [] {
    struct sigaction action {};
    action.sa_handler = kill_agent_and_die;
    sigemptyset(&action.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);
    // Orphans of the shell (the agent, when the shell dies first) come to us to be reaped.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    return true;
  }();
  (void)installed;
}

}  // namespace

AgentProcess::AgentProcess(std::filesystem::path log_file) : log_file_(std::move(log_file)) {}

AgentProcess::~AgentProcess() { stop(std::chrono::seconds(5)); }

bool AgentProcess::start(const std::string& command, std::string* error) {
  if (pid_ > 0) stop();
  install_interrupt_handlers();
  command_ = command;
  status_.reset();
  const int log = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    if (error) *error = "cannot open the agent's log " + log_file_.string() + ": " + std::strerror(errno);
    return false;
  }
  const std::string banner = "--- lk-certify starts the agent: " + command + "\n";
  if (::write(log, banner.data(), banner.size()) < 0) {
    // The log is for people; the run goes on without the banner.
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    if (error) *error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::sigaction(sig, &dfl, nullptr);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before anyone signals it
  ::close(log);
  pid_ = pid;
  g_agent_group = pid;
  return true;
}

void AgentProcess::reap_group() {
  if (pid_ <= 0) return;
  int status = 0;
  pid_t p;
  while ((p = ::waitpid(-pid_, &status, WNOHANG)) > 0)
    if (p == pid_) status_ = status;
}

bool AgentProcess::group_alive() const { return pid_ > 0 && (::kill(-pid_, 0) == 0 || errno != ESRCH); }

bool AgentProcess::running() {
  reap_group();
  return pid_ > 0 && !status_;
}

std::optional<std::string> AgentProcess::ended_how() {
  if (running() || !status_) return std::nullopt;
  const int s = *status_;
  if (WIFEXITED(s)) {
    const int code = WEXITSTATUS(s);
    // sh reports a signal that ended its child as 128 + signal.
    if (code > 128 && code < 128 + 65) return "ended by signal " + std::to_string(code - 128) + " (" + strsignal(code - 128) + ")";
    return "exit status " + std::to_string(code);
  }
  if (WIFSIGNALED(s)) return "killed by signal " + std::to_string(WTERMSIG(s)) + " (" + strsignal(WTERMSIG(s)) + ")";
  return "ended";
}

bool AgentProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return true;
  ::kill(-pid_, SIGTERM);
  bool clean = false;
  const auto end = std::chrono::steady_clock::now() + grace;
  for (;;) {
    reap_group();
    if (!group_alive()) {
      clean = true;
      break;
    }
    if (std::chrono::steady_clock::now() >= end) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!clean) {
    ::kill(-pid_, SIGKILL);
    const auto hard_end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (group_alive() && std::chrono::steady_clock::now() < hard_end) {
      reap_group();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  reap_group();
  if (g_agent_group.load() == pid_) g_agent_group = -1;
  pid_ = -1;
  return clean;
}

}  // namespace latchkey::certify
