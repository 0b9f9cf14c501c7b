// The hub's side of one isolated plugin: spawns and supervises its
// lk-plugin-host on a private libuv loop and thread, and carries calls,
// events and completions between the device proxies and the host.
//
// The supervisor is the phases of its host (below) and the devices' side;
// the parts it drives live apart: host_process.* (spawning and reaping the
// host), pending_calls.* (calls on the loop's socket and their deadlines),
// call_socket.* (queries on the callers' threads), restart_policy.* (backoff
// and quarantine). supervisor.cpp holds the phases, supervisor_devices.cpp
// the devices' side and the host's events and completions.
#ifndef LATCHKEY_ISOLATION_SUPERVISOR_HPP
#define LATCHKEY_ISOLATION_SUPERVISOR_HPP

#include <latchkey/isolation/plugin_runner.hpp>
#include <latchkey/loop/deadline_timer.hpp>
#include <latchkey/loop/task_queue.hpp>

#include "call_socket.hpp"
#include "host_process.hpp"
#include "latchkey/plugin_host.pb.h"
#include "pending_calls.hpp"
#include "restart_policy.hpp"

#include <uv.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace latchkey::isolation {

class Supervisor : public std::enable_shared_from_this<Supervisor> {
 public:
  // done gets the reply, or nullptr and the failure (LK_ERR_TIMEOUT for the
  // call that missed its deadline, LK_ERR_CLOSED when the host is down).
  using ReplyHandler = PendingCalls::ReplyHandler;

  Supervisor(std::string name, std::filesystem::path plugin_file, SupervisionConfig config, NoticeHandler notices,
             host::LogHandler log);
  ~Supervisor();

  // Spawns the first host and waits for its Ready. Throws StartError.
  void start();
  void stop();

  const plugin_host::v1::Ready& ready() const noexcept { return ready_; }
  const host::PluginIdentity& identity() const noexcept { return identity_; }
  PluginStatus status() const;
  bool running() const noexcept { return running_.load(); }

  // Opens a device (blocking). *record gets the description the host sent.
  lk_result open_device(plugin_host::v1::DeviceKind kind, const std::string& uri, host::DeviceHooks hooks, uint32_t* id,
                        plugin_host::v1::Record* record);
  // Closes a device (blocking); answers the final ContractViolations counts.
  plugin_host::v1::ContractViolations close_device(uint32_t id);
  // The description the device's host sent when it last opened it (after a
  // restart: the new host's).
  plugin_host::v1::Record record(uint32_t id) const;
  // A call on a device, answered in *reply (blocking, at most the deadline),
  // on the caller's thread over the call socket.
  lk_result call(uint32_t id, plugin_host::v1::DeviceCall call, plugin_host::v1::Reply* reply);
  // An accepting call: LK_OK when sent; a refusal goes to the device's on_call_failed.
  lk_result send(uint32_t id, plugin_host::v1::DeviceCall call, const char* what);
  // lock/unlock: done fires once, with the plugin's completion or an error.
  lk_result start_operation(uint32_t id, plugin_host::v1::DeviceCall call, host::LockCompletionHandler done);

 private:
  struct Slot {
    plugin_host::v1::DeviceKind kind = plugin_host::v1::DEVICE_KIND_UNSPECIFIED;
    std::string uri;
    host::DeviceHooks hooks;
    plugin_host::v1::Record record;
    std::map<uint64_t, host::LockCompletionHandler> operations;
  };
  // The phases of the current host. kStarting: spawned, waiting for Ready;
  // kReopening: reopening the devices one by one; kRunning: in service;
  // kDown: failed, a restart timed; kQuarantined: failed too often, no
  // restart; kStopped: stop() ran, or the first start failed.
  enum class Phase { kIdle, kStarting, kReopening, kRunning, kDown, kQuarantined, kStopped };

  bool post(std::function<void()> task);  // false once stopping
  bool on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
  uint64_t call_deadline_ns() const { return static_cast<uint64_t>(config_.call_deadline_ms) * 1'000'000; }

  // Loop thread only. The phases (supervisor.cpp):
  void spawn();
  void on_message(const std::string& bytes);
  void on_ready(const plugin_host::v1::Ready& ready);
  void reopen_next(std::map<uint32_t, Slot>::iterator it);
  void send_call(plugin_host::v1::HubToHost request, std::string what, ReplyHandler done);
  void fail(const std::string& reason, uint64_t culprit_call = 0);
  void heartbeat();
  void restart();
  void notify(PluginNotice::Kind kind, const std::string& reason);
  void abandon_current();
  void close_handles();
  void log(lk_log_level level, const std::string& message);
  void on_host_stderr(const std::string& line);
  // The devices' side (supervisor_devices.cpp):
  void on_event(const plugin_host::v1::Event& e);
  void on_completion(const plugin_host::v1::Completion& c);
  void fail_operations();
  void set_record(uint32_t id, const plugin_host::v1::Record& record);
  std::string device_name(uint32_t id) const;

  const std::string name_;
  const std::filesystem::path plugin_file_;
  const SupervisionConfig config_;
  NoticeHandler notices_;
  host::LogHandler log_;

  std::thread thread_;
  uv_loop_t loop_{};
  loop::TaskQueue tasks_;
  uv_timer_t heartbeat_timer_{};
  loop::DeadlineTimer restart_timer_;
  // After a socket closed, the exit status says more: it gets this long to arrive.
  static constexpr uint64_t kGraceNs = 50'000'000;
  loop::DeadlineTimer grace_timer_;
  bool loop_closed_ = false;

  // Written on the loop thread before start() returns, then read-only.
  plugin_host::v1::Ready ready_;
  host::PluginIdentity identity_;

  mutable std::mutex status_mutex_;
  PluginStatus status_;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> last_progress_ns_{0};  // the host's latest answer on either socket

  // Loop thread only.
  Phase phase_ = Phase::kIdle;
  HostProcess* current_ = nullptr;
  PendingCalls calls_;
  RestartPolicy restarts_;
  uint64_t next_call_ = 0;
  uint32_t next_device_ = 0;
  uint64_t ping_sequence_ = 0;
  bool ping_outstanding_ = false;
  std::map<uint32_t, Slot> slots_;
  std::set<uint32_t> closed_devices_;  // closed on this host: its late events are dropped
  std::string eof_reason_;
  std::function<void(const std::string&)> start_waiter_;  // start(): Ready or failure
  uint64_t generation_ = 0;  // counts spawned hosts

  mutable std::mutex records_mutex_;
  std::map<uint32_t, plugin_host::v1::Record> records_;

  // The current host's call socket: callers take turns on it.
  CallSocket call_socket_;
};

}  // namespace latchkey::isolation

#endif  // LATCHKEY_ISOLATION_SUPERVISOR_HPP
