// One spawned lk-plugin-host, seen from the hub: its process (in a process
// group of its own), its end of the loop's socket, its standard error.
#ifndef LATCHKEY_ISOLATION_HOST_PROCESS_HPP
#define LATCHKEY_ISOLATION_HOST_PROCESS_HPP

#include <latchkey/isolation/plugin_runner.hpp>

#include "channel.hpp"

#include <uv.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace latchkey::isolation {

// A host's text for the hub's log: one line, printable, bounded.
std::string clean_line(const std::string& text);
// "signal 11 (SIGSEGV)"
std::string signal_text(int signal);

class HostProcess {
 public:
  // Called on the loop thread, never after abandon().
  struct Handlers {
    Channel::OnMessage on_message;                          // a frame on the loop's socket
    Channel::OnClosed on_closed;                            // that socket ended
    std::function<void(int64_t status, int signal)> on_exit;
    std::function<void(const std::string& line)> on_stderr;  // one line, as written
  };

  struct Spawned {
    HostProcess* host = nullptr;  // null: nothing runs; else abandon() it when done
    bool reached_spawn = false;   // the call socket below belongs to this attempt
    int call_fd = -1;             // the hub's end of the call socket (the caller owns it)
    std::string error;            // non-empty: the attempt failed (host, when set, must be abandoned)
  };

  // Starts config.host_program for plugin with the loop's socket on its
  // descriptor 3 and the call socket on 4, a bare environment, its own
  // working directory and session.
  static Spawned spawn(uv_loop_t* loop, const SupervisionConfig& config, const std::filesystem::path& plugin,
                       Handlers handlers);

  int pid() const noexcept { return pid_; }
  // Sends one message on the loop's socket; false when it is closed.
  bool send(const google::protobuf::MessageLite& message);
  bool connected() const noexcept { return channel_ && channel_->open(); }

  // Ends the host for good: no handler runs again, its socket is closed, its
  // whole process group killed (helpers a plugin forked die with it), its
  // stderr pipe closed so that a helper holding it cannot keep the loop (or
  // stop()) waiting. The object frees itself once libuv has closed both handles.
  void abandon();

 private:
  HostProcess() = default;
  ~HostProcess() = default;
  void release_handle();
  void start_stderr();
  void take_stderr(const char* bytes, std::size_t n);
  void drain_stderr();
  static void close_and_release(uv_handle_t* handle);

  Handlers handlers_;
  bool abandoned_ = false;
  uv_process_t process_{};
  uv_pipe_t err_{};
  std::unique_ptr<Channel> channel_;
  int pid_ = 0;
  bool exited_ = false;
  int open_handles_ = 0;
  std::string err_line_;
  char err_buffer_[4096];
};

}  // namespace latchkey::isolation

#endif  // LATCHKEY_ISOLATION_HOST_PROCESS_HPP
