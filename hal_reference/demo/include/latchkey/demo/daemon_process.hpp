// DaemonProcess: one latchkeyd child process, owned. Starts it with a
// configuration file, waits for its "latchkeyd: listening on http://..."
// line on stdout (docs/latchkeyd.md) and learns the port from it; stops it
// with SIGTERM (clean shutdown, final checkpoint) or SIGKILL (a crash).
//
// The destructor kills a daemon still running, so a test that fails or
// throws never leaves one behind; the child also gets SIGKILL if the
// process that started it dies (PR_SET_PDEATHSIG). Not thread-safe.
#ifndef LATCHKEY_DEMO_DAEMON_PROCESS_HPP
#define LATCHKEY_DEMO_DAEMON_PROCESS_HPP

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace latchkey::demo {

class DaemonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DaemonProcess {
 public:
  DaemonProcess() = default;
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Runs `latchkeyd --config config_file` and waits up to `timeout` for its
  // listening line. Throws DaemonError (with the daemon's exit status and
  // whatever it printed) when it exits or stays silent; a silent one is killed.
  void start(const std::filesystem::path& latchkeyd, const std::filesystem::path& config_file,
             std::chrono::milliseconds timeout);

  // SIGTERM, then waits up to `timeout` for the exit (then SIGKILL). Returns
  // the exit status as a shell reports it (128 + signal for a signal).
  int terminate(std::chrono::milliseconds timeout);
  // SIGKILL and reap: what a crash or power cut looks like to the hub.
  void kill();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::string host() const { return host_; }
  uint16_t port() const { return port_; }
  // Everything the daemon printed on stdout so far.
  std::vector<std::string> output() const;

 private:
  int reap(std::chrono::milliseconds timeout);
  void join_reader();

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string host_;
  uint16_t port_ = 0;
  std::thread reader_;  // drains stdout after the listening line
  std::atomic<bool> reader_stop_{false};
  mutable std::mutex output_mutex_;
  std::vector<std::string> output_;
};

}  // namespace latchkey::demo

#endif  // LATCHKEY_DEMO_DAEMON_PROCESS_HPP
