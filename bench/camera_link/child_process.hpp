// A child process for the camera-link figures: the camera agent, the decode
// floor, ffmpeg, the attestation publisher. Its CPU time is read from
// wait4(), so it is the child's own (all its threads), nobody else's.
#ifndef LATCHKEY_BENCH_CAMERA_LINK_CHILD_PROCESS_HPP
#define LATCHKEY_BENCH_CAMERA_LINK_CHILD_PROCESS_HPP

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace latchkey::bench {

struct ChildExit {
  int status = -1;        // exit status, 128 + signal, or -1 while running
  int64_t user_ns = 0;    // CPU time of the child and all its threads (wait4)
  int64_t system_ns = 0;
  int64_t cpu_ns() const { return user_ns + system_ns; }
};

class ChildProcess {
 public:
  // Starts argv[0] (a path) with argv. Its stderr goes to log_path (appended);
  // its stdout to a pipe read by read_line(). The child gets SIGTERM if this
  // process dies (PR_SET_PDEATHSIG). Throws std::runtime_error.
  // extra_env: "NAME=value" entries added to (or replacing those of) this
  // process's environment.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path,
               const std::vector<std::string>& extra_env = {});
  ~ChildProcess();  // SIGKILL and reap if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next line of its stdout without the newline, or "" after timeout or at its end.
  std::string read_line(std::chrono::milliseconds timeout);
  void signal(int sig);
  // Waits for the end; the exit with its CPU times, or status -1 after timeout.
  ChildExit wait(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
  bool eof_ = false;
  ChildExit exit_;
};

// The path of a program found on PATH, or name itself when none is.
std::string find_program(const std::string& name);

// Runs argv to its end (at most timeout) and returns its exit and CPU times;
// its stdout and stderr go to log_path.
ChildExit run_to_end(const std::vector<std::string>& argv, const std::string& log_path,
                     std::chrono::milliseconds timeout, std::string* stdout_text = nullptr,
                     const std::vector<std::string>& extra_env = {});

}  // namespace latchkey::bench

#endif  // LATCHKEY_BENCH_CAMERA_LINK_CHILD_PROCESS_HPP
