// The latchkeyd configuration file (docs/latchkeyd.md): INI sections for the
// hub, the gate parameters, plugins, locks, cameras, doors, the authorization
// plugin and pinned issuer keys. Parsing refuses anything it does not know,
// naming the line, the key, the value and what was expected.
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

class DaemonConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

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
  // existing plugins). Relative paths are resolved against base_dir.
  static DaemonConfig parse(const std::string& text, const std::filesystem::path& base_dir);
  static DaemonConfig load(const std::filesystem::path& file);

  std::filesystem::path plugin_path(const std::string& plugin_name) const;
};

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_DAEMON_CONFIG_HPP
