// A configured plugin, run either in the hub's process or isolated in its own
// lk-plugin-host process (docs/isolation.md). Both give out the same device
// objects (latchkey/host/device_api.hpp), so the runtime and the
// certification suite do not care which.
//
// An isolated plugin is supervised: every call has a deadline, a heartbeat
// runs between calls, and a crash, a hang, a protocol violation or an
// oversized or garbage message fails the host. Its devices then answer
// LK_ERR_CLOSED, the owner hears of it (PluginNotice::kFailed) and the host
// is restarted after an exponential backoff; when the new host has reopened
// every device the owner hears kRestored. A plugin that fails
// `quarantine_failures` times within `quarantine_window_ms` is quarantined:
// no more restarts (kQuarantined) until the hub restarts.
#ifndef LATCHKEY_ISOLATION_PLUGIN_RUNNER_HPP
#define LATCHKEY_ISOLATION_PLUGIN_RUNNER_HPP

#include <latchkey/host/device_api.hpp>
#include <latchkey/host/plugin.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace latchkey::isolation {

enum class PluginMode { kInProcess, kIsolated };
enum class PluginState { kRunning, kRestarting, kQuarantined, kStopped };

const char* to_string(PluginMode mode) noexcept;
const char* to_string(PluginState state) noexcept;

struct SupervisionConfig {
  std::filesystem::path host_program;      // lk-plugin-host
  std::filesystem::path work_dir;          // the host's own working directory; created 0700
  int64_t call_deadline_ms = 2000;         // every call and every heartbeat answer
  int64_t heartbeat_interval_ms = 500;
  int64_t start_deadline_ms = 5000;        // from spawn to Ready and every device reopened
  int64_t restart_backoff_ms = 250;        // first restart delay; doubles with each recent failure
  int64_t restart_backoff_max_ms = 30'000;
  int quarantine_failures = 5;
  int64_t quarantine_window_ms = 600'000;
  uint64_t address_space_bytes = uint64_t{1} << 30;  // RLIMIT_AS of the host; 0: unlimited
  uint64_t max_open_files = 64;                      // RLIMIT_NOFILE of the host
};

struct PluginStatus {
  std::string name;
  PluginMode mode = PluginMode::kInProcess;
  PluginState state = PluginState::kRunning;
  int pid = 0;                  // the host process (isolated, running)
  uint64_t failures = 0;        // since the hub started
  uint64_t recent_failures = 0; // within the quarantine window
  uint64_t restarts = 0;
  std::string last_fault;
  int64_t restart_in_ms = 0;    // kRestarting: the delay chosen
};

struct PluginNotice {
  enum class Kind { kFailed, kRestored, kQuarantined };
  Kind kind = Kind::kFailed;
  std::string reason;           // kFailed, kQuarantined: what went wrong
  PluginStatus status;
};
// Called on the supervisor's thread; must not block or call into the plugin.
using NoticeHandler = std::function<void(const PluginNotice&)>;

// The plugin could not be started (in-process: Plugin::load's LoadError is
// thrown as is).
class StartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PluginRunner {
 public:
  virtual ~PluginRunner() = default;
  virtual const host::PluginIdentity& identity() const = 0;
  virtual bool offers_lock() const = 0;
  virtual bool offers_camera() const = 0;
  virtual bool offers_authz() const = 0;
  virtual bool offers_test_control() const = 0;
  // As LockHandle::open and friends. Throw std::logic_error when the plugin
  // lacks the interface.
  virtual lk_result open_lock(const std::string& uri, host::DeviceHooks hooks,
                              std::unique_ptr<host::LockDevice>* out) = 0;
  virtual lk_result open_camera(const std::string& uri, host::DeviceHooks hooks,
                                std::unique_ptr<host::CameraDevice>* out) = 0;
  virtual lk_result open_authz(const std::string& config, std::unique_ptr<host::AuthzDevice>* out) = 0;
  virtual PluginStatus status() const = 0;
};

// Loads the plugin into this process (Plugin::load; throws host::LoadError).
std::unique_ptr<PluginRunner> run_in_process(const std::string& name, const std::filesystem::path& file,
                                             host::LoadOptions options = {});

// lk-plugin-host beside the running program, else where it is installed.
std::filesystem::path default_host_program();

// Starts an lk-plugin-host for the plugin and waits for it to be ready.
// Throws StartError naming what failed (the host's load refusal included).
// Plugin log lines go to `log`, notices to `notices`.
std::unique_ptr<PluginRunner> run_isolated(const std::string& name, const std::filesystem::path& file,
                                           SupervisionConfig config, NoticeHandler notices = {},
                                           host::LogHandler log = {});

}  // namespace latchkey::isolation

#endif  // LATCHKEY_ISOLATION_PLUGIN_RUNNER_HPP
