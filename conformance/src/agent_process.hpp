// The lab's command that starts the camera agent (--agent-command), run by
// lk-certify so the restart cases can restart it: `/bin/sh -c COMMAND` in a
// process group of its own, its stdout and stderr appended to a log file.
// Stopping sends SIGTERM to the whole group (the agent's clean shutdown),
// SIGKILL after a grace period. lk-certify is the group's reaper
// (PR_SET_CHILD_SUBREAPER), so an agent the shell leaves behind is waited
// for too; the group is killed when lk-certify ends or is interrupted.
#ifndef LATCHKEY_CERTIFY_AGENT_PROCESS_HPP
#define LATCHKEY_CERTIFY_AGENT_PROCESS_HPP

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace latchkey::certify {

class AgentProcess {
 public:
  explicit AgentProcess(std::filesystem::path log_file);
  ~AgentProcess();  // stop()
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  // Starts `command` (stopping a running one first). False with *error when
  // it cannot be started at all.
  bool start(const std::string& command, std::string* error);
  // SIGTERM to the group, SIGKILL after grace. True when every process of the
  // group ended within grace (a clean stop).
  bool stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // The shell (and so the agent it waits for) still runs.
  bool running();
  // How it ended, once it has: "exit status 1", "killed by signal 6 (Aborted)".
  std::optional<std::string> ended_how();
  const std::filesystem::path& log_file() const { return log_file_; }
  const std::string& command() const { return command_; }

 private:
  void reap_group();
  bool group_alive() const;

  std::filesystem::path log_file_;
  std::string command_;
  pid_t pid_ = -1;                 // the shell, leader of the group
  std::optional<int> status_;      // its wait status, once reaped
};

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_AGENT_PROCESS_HPP
