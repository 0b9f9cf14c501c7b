// The hub's side of one isolated plugin: spawns and supervises its
// lk-plugin-host on a private libuv loop and thread, and carries calls,
// events and completions between the device proxies and the host.
#ifndef LATCHKEY_ISOLATION_SUPERVISOR_HPP
#define LATCHKEY_ISOLATION_SUPERVISOR_HPP

#include <latchkey/isolation/plugin_runner.hpp>

#include "channel.hpp"
#include "latchkey/plugin_host.pb.h"

#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace latchkey::isolation {

class Supervisor : public std::enable_shared_from_this<Supervisor> {
 public:
  // done gets the reply, or nullptr and the failure (LK_ERR_TIMEOUT for the
  // call that missed its deadline, LK_ERR_CLOSED when the host is down).
  using ReplyHandler = std::function<void(const v1::Reply* reply, lk_result failure)>;

  Supervisor(std::string name, std::filesystem::path plugin_file, SupervisionConfig config, NoticeHandler notices,
             host::LogHandler log);
  ~Supervisor();

  // Spawns the first host and waits for its Ready. Throws StartError.
  void start();
  void stop();

  const v1::Ready& ready() const noexcept { return ready_; }
  const host::PluginIdentity& identity() const noexcept { return identity_; }
  PluginStatus status() const;
  bool running() const noexcept { return running_.load(); }

  // Opens a device (blocking). *record gets the description the host sent.
  lk_result open_device(v1::DeviceKind kind, const std::string& uri, host::DeviceHooks hooks, uint32_t* id,
                        v1::Record* record);
  // Closes a device (blocking); answers the final ContractViolations counts.
  v1::ContractViolations close_device(uint32_t id);
  // The description the device's host sent when it last opened it (after a
  // restart: the new host's).
  v1::Record record(uint32_t id) const;
  // A call on a device, answered in *reply (blocking, at most the deadline),
  // on the caller's thread over the call socket.
  lk_result call(uint32_t id, v1::DeviceCall call, v1::Reply* reply);
  // An accepting call: LK_OK when sent; a refusal goes to the device's on_call_failed.
  lk_result send(uint32_t id, v1::DeviceCall call, const char* what);
  // lock/unlock: done fires once, with the plugin's completion or an error.
  lk_result start_operation(uint32_t id, v1::DeviceCall call, host::LockCompletionHandler done);

 private:
  struct Incarnation;
  struct Slot {
    v1::DeviceKind kind = v1::DEVICE_KIND_UNSPECIFIED;
    std::string uri;
    host::DeviceHooks hooks;
    v1::Record record;
    std::map<uint64_t, host::LockCompletionHandler> operations;
  };
  enum class Phase { kIdle, kStarting, kReopening, kRunning, kDown, kQuarantined, kStopped };

  bool post(std::function<void()> task);  // false once stopping
  void drain();
  bool on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

  // Loop thread only.
  void spawn();
  void on_message(const std::string& bytes);
  void on_ready(const v1::Ready& ready);
  void reopen_next(std::map<uint32_t, Slot>::iterator it);
  void send_call(v1::HubToHost request, std::string what, ReplyHandler done);
  void fail(const std::string& reason, uint64_t culprit_call = 0);
  void on_exit(Incarnation* inc, int64_t status, int signal);
  void arm_deadline_timer();
  void on_deadline();
  void heartbeat();
  void restart();
  void notify(PluginNotice::Kind kind, const std::string& reason);
  void abandon_current();
  static std::string clean_line(const std::string& text);
  void log(lk_log_level level, const std::string& message);
  int64_t backoff_ms() const;
  std::string device_name(uint32_t id) const;

  const std::string name_;
  const std::filesystem::path plugin_file_;
  const SupervisionConfig config_;
  NoticeHandler notices_;
  host::LogHandler log_;

  std::thread thread_;
  uv_loop_t loop_{};
  uv_async_t wake_{};
  uv_timer_t deadline_timer_{};
  uv_timer_t heartbeat_timer_{};
  uv_timer_t restart_timer_{};
  uv_timer_t grace_timer_{};
  std::mutex queue_mutex_;
  std::deque<std::function<void()>> queue_;
  bool loop_closed_ = false;
  bool closing_ = false;  // queue_mutex_

  // Written on the loop thread before start() returns, then read-only.
  v1::Ready ready_;
  host::PluginIdentity identity_;

  mutable std::mutex status_mutex_;
  PluginStatus status_;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> last_progress_ns_{0};  // the host's latest answer on either socket

  // Loop thread only.
  Phase phase_ = Phase::kIdle;
  Incarnation* current_ = nullptr;
  uint64_t next_call_ = 0;
  uint32_t next_device_ = 0;
  uint64_t ping_sequence_ = 0;
  bool ping_outstanding_ = false;
  struct Pending {
    std::string what;
    uint64_t deadline_ns = 0;
    uint64_t sent_ns = 0;
    ReplyHandler done;
  };
  std::map<uint64_t, Pending> pending_;
  std::set<std::pair<uint64_t, uint64_t>> deadlines_;  // (deadline ns, call id)
  std::map<uint32_t, Slot> slots_;
  std::set<uint32_t> closed_devices_;  // closed on this host: its late events are dropped
  std::deque<uint64_t> failure_times_ns_;
  std::string eof_reason_;
  std::function<void(const std::string&)> start_waiter_;  // start(): Ready or failure
  uint64_t generation_ = 0;  // counts spawned hosts

  mutable std::mutex records_mutex_;
  std::map<uint32_t, v1::Record> records_;

  // The call socket of the current host: callers take turns (call_mutex_);
  // the loop thread replaces it at each spawn and shuts it down on failure.
  std::mutex call_mutex_;
  int call_fd_ = -1;
  bool call_dead_ = false;  // a query failed on this host: the rest fail fast
  uint64_t call_generation_ = 0;
  uint64_t next_sync_call_ = 0;
  FrameReader call_reader_;
};

}  // namespace latchkey::isolation

#endif  // LATCHKEY_ISOLATION_SUPERVISOR_HPP
