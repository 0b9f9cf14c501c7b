// The latchkeyd configuration file (docs/latchkeyd.md): INI sections for the
// hub, the gate parameters, plugins, locks, cameras, doors, the authorization
// plugin and pinned issuer keys. Parsing refuses anything it does not know,
// naming the line, the key, the value and what was expected, and goes on
// after a problem so that one run names every problem it can find.
#ifndef LATCHKEY_HUB_DAEMON_CONFIG_HPP
#define LATCHKEY_HUB_DAEMON_CONFIG_HPP

#include <latchkey/crypto/crypto.hpp>
#include <latchkey/gate/config.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace latchkey::hub {

// One or more problems; what() lists them, one a line.
class DaemonConfigError : public std::runtime_error {
 public:
  explicit DaemonConfigError(const std::string& problem);
  explicit DaemonConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// Why `address` cannot be [hub] api_address, or "": it must be host:port, the
// host a literal IPv4 address or a bracketed IPv6 address (no names to
// resolve), the port 0-65535 (0: any free port).
std::string api_address_problem(const std::string& address);
// For an address api_address_problem() accepts: a warning when the API is
// reachable from the network (every interface, or not loopback), or "".
std::string api_address_warning(const std::string& address);

struct PluginConfig {
  std::string name;
  std::filesystem::path file;
  bool isolated = true;  // mode = isolated (default) | in_process
};

// [isolation]: how isolated plugins are supervised (docs/isolation.md).
struct IsolationConfig {
  std::filesystem::path host_program;  // empty: lk-plugin-host beside latchkeyd
  std::filesystem::path run_dir;       // where the hosts' private directories are made; empty: the system's temp dir
  int64_t call_deadline_ms = 2000;
  int64_t heartbeat_interval_ms = 500;
  int64_t restart_backoff_ms = 250;
  int64_t restart_backoff_max_ms = 30'000;
  int64_t quarantine_failures = 5;
  int64_t quarantine_window_s = 600;
  int64_t address_space_mb = 1024;     // 0: unlimited
  int64_t open_files = 64;
};

struct DeviceConfig {
  std::string name;
  std::string plugin;
  std::string uri;
  crypto::PublicKey key{};  // cameras: the pinned device key (C1)
  // Cameras: the limits of its view (C8), scene_* keys. A camera must send
  // its measurements unless its section says scene_required = false.
  gate::SceneLimits scene{.required = true};
};

struct DoorConfig {
  std::string name;
  std::string lock;
  std::vector<std::string> cameras;
};

struct DaemonConfig {
  std::string hub_id;
  std::filesystem::path data_dir;
  std::string api_address = "127.0.0.1:7380";
  std::filesystem::path plugin_dir;
  bool test_control = false;
  bool trust_clock = false;            // clock_synced = trust
  int64_t checkpoint_interval_ms = 60'000;
  std::filesystem::path log_file;
  gate::GateConfig gate;
  IsolationConfig isolation;
  std::map<std::string, PluginConfig> plugins;
  std::map<std::string, DeviceConfig> locks;
  std::map<std::string, DeviceConfig> cameras;
  std::map<std::string, DoorConfig> doors;
  std::string authz_plugin;
  std::string authz_config;
  std::map<std::string, crypto::PublicKey> issuers;
  std::set<std::string> revoked_grants;  // hex grant ids ([revoked] grants = ...)

  // Parses and cross-checks (doors name existing locks and cameras, devices
  // existing plugins). Relative paths are resolved against base_dir. Throws
  // DaemonConfigError naming every problem found.
  static DaemonConfig parse(const std::string& text, const std::filesystem::path& base_dir);
  static DaemonConfig load(const std::filesystem::path& file);
  // The same, but adds the problems to `problems` and returns what could be
  // read (latchkeyd --check goes on to check what the configuration names).
  static DaemonConfig parse(const std::string& text, const std::filesystem::path& base_dir,
                            std::vector<std::string>& problems);
  static DaemonConfig load(const std::filesystem::path& file, std::vector<std::string>& problems);

  std::filesystem::path plugin_path(const std::string& plugin_name) const;
};

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_DAEMON_CONFIG_HPP
