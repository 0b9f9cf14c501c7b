// ChildProcess: a helper program the demo runs beside the hub (the camera
// agent, optionally inside a network namespace through `ip netns exec`),
// its standard output and error appended to a log file.
//
// start() spawns it; stop() sends SIGTERM and waits, then SIGKILL; kill()
// is SIGKILL at once. The destructor kills a child still running, so a
// failed demo leaves nothing behind. Not thread-safe: one owner.
#ifndef LATCHKEY_DEMO_CHILD_PROCESS_HPP
#define LATCHKEY_DEMO_CHILD_PROCESS_HPP

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace latchkey::demo {

// The last `lines` lines of a text file, each indented by two spaces
// ("  (empty)" for none), for failure messages.
std::string file_tail(const std::filesystem::path& file, std::size_t lines);

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Throws DaemonError naming the program when it cannot be spawned.
  void start(const std::vector<std::string>& argv, const std::filesystem::path& log_file);
  // Waits for the child to end by itself; SIGKILL after `timeout`. Returns its exit status.
  int wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `timeout`; returns the exit status (128+signal when killed).
  int stop(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  void kill();
  // True while the child has not been reaped (it may have exited meanwhile).
  bool running();
  pid_t pid() const { return pid_; }
  const std::filesystem::path& log_file() const { return log_file_; }
  // The last `lines` lines of the log, indented, for failure messages.
  std::string log_tail(std::size_t lines = 20) const { return file_tail(log_file_, lines); }

 private:
  int reap(std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  std::filesystem::path log_file_;
};

}  // namespace latchkey::demo

#endif  // LATCHKEY_DEMO_CHILD_PROCESS_HPP
