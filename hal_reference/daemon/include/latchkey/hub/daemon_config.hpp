// The latchkeyd configuration file (docs/latchkeyd.md): INI sections for the
// hub, the gate parameters, plugins, locks, cameras, doors, the authorization
// plugin and pinned issuer keys. Parsing refuses anything it does not know,
// naming the line, the key, the value and what was expected, and goes on
// after a problem so that one run names every problem it can find.
#ifndef LATCHKEY_HUB_DAEMON_CONFIG_HPP
#define LATCHKEY_HUB_DAEMON_CONFIG_HPP

#include <latchkey/crypto/crypto.hpp>
#include <latchkey/gate/config.hpp>
#include <latchkey/hub/log.hpp>

#include <filesystem>
#include <cstdint>
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

// [mqtt]: the hub in Home Assistant through MQTT discovery
// (docs/home-assistant.md). Off unless `enabled = true`.
struct MqttConfig {
  bool enabled = false;
  std::string host;                    // required when enabled: a name or a literal address
  uint16_t port = 1883;
  std::string user;                    // empty: connect without a user name
  std::filesystem::path password_file; // one line, mode 0600, owned by the daemon's user; never a password inline
  bool tls = false;
  std::filesystem::path tls_ca_file;   // with tls: the CA that signed the broker's certificate; empty: the system's
  std::string discovery_prefix = "homeassistant";
  std::string topic_prefix;            // the hub's own topics; empty until parsed: latchkey/<hub id>
  std::string client_id;               // empty until parsed: latchkey-<hub id>
  int64_t keepalive_s = 30;            // the broker publishes the last will ("offline") after 1.5 times this
};

// [fleet]: the fleet broker and the witness of the audit log
// (docs/fleet.md). Off unless `enabled = true`; then nothing is granted
// until the witness confirms the log at start.
struct FleetConfig {
  bool enabled = false;
  std::string host;                    // required when enabled
  uint16_t port = 1883;
  std::string user;
  std::filesystem::path password_file;
  bool tls = false;
  std::filesystem::path tls_ca_file;
  std::string hub_id;                  // the hub's id on the fleet broker; empty until parsed: [hub] id
  crypto::PublicKey witness_key{};     // required when enabled: lk-witness --print-key
  int64_t witness_timeout_ms = 5000;   // a query unanswered this long is asked again
  std::string client_id;               // empty until parsed: latchkey-fleet-<hub id>
  int64_t keepalive_s = 30;
  // The outbox (docs/fleet.md "Alarms and sessions up: the outbox"): alarms
  // and session outcomes kept at most while the fleet broker is away.
  int64_t outbox_max_rows = 100'000;

  // The bridge (docs/fleet.md, "The bridge"). `via = direct`: latchkeyd
  // dials the fleet broker itself (host, port, user, ...). `via = bridge`:
  // latchkeyd's fleet link dials the hub's own broker (local_*), whose
  // Mosquitto carries the fleet's topics to and from the fleet broker; the
  // keys above then describe the bridge's remote side
  // (latchkeyd --print-fleet-bridge writes its file).
  enum class Via { kDirect, kBridge };
  Via via = Via::kDirect;
  std::string local_host = "127.0.0.1";       // the hub's broker (bridge only)
  uint16_t local_port = 1883;
  std::string local_user;                     // the hub's user on it ("hub" with tools/broker/latchkey.acl)
  std::filesystem::path local_password_file;  // one line, mode 0600
};

// The local topic on which the hub's Mosquitto says whether its bridge to
// the fleet broker is up ("1") or down ("0"), retained (notification_topic).
inline constexpr const char* kFleetBridgeStateTopic = "latchkey/fleet/bridge/state";

// Why `topic` cannot be an MQTT topic prefix (no wildcards, no empty level,
// no leading or trailing '/', no leading '$', printable ASCII, 1-128 bytes), or "".
std::string mqtt_prefix_problem(const std::string& topic);

struct DaemonConfig {
  std::string hub_id;
  std::filesystem::path data_dir;
  std::string api_address = "127.0.0.1:7380";
  std::filesystem::path plugin_dir;
  bool test_control = false;
  bool trust_clock = false;            // clock_synced = trust
  int64_t checkpoint_interval_ms = 60'000;
  std::filesystem::path log_file;
  LogLevel log_level = LogLevel::kInfo;  // the lowest level logged (latchkeyd --log-level overrides)
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
  MqttConfig mqtt;                       // [mqtt], off by default
  FleetConfig fleet;                     // [fleet], off by default

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
