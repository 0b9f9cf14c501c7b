// SimHub: a latchkeyd with simulated devices in a data directory of its own,
// for lk-demo and the daemon's integration tests.
//
// The constructor makes the data directory (a fresh temporary one unless
// given), generates the issuer key, enrols every camera (a random device
// seed in the camera URI; the key read back through the plugin, as `lkctl
// enrol` does) and writes hub.ini. start() runs the daemon on an ephemeral
// loopback port; stop() ends it with SIGTERM, kill() with SIGKILL; start()
// again restarts it on the same data directory. The destructor kills a
// running daemon and removes a temporary data directory.
#ifndef LATCHKEY_DEMO_SIM_HUB_HPP
#define LATCHKEY_DEMO_SIM_HUB_HPP

#include <latchkey/client/api_client.hpp>
#include <latchkey/client/api_endpoint.hpp>
#include <latchkey/crypto/crypto.hpp>
#include <latchkey/demo/daemon_process.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace latchkey::demo {

// A camera outside the hub: an agent that signs its own attestations and
// reaches the hub through its MQTT broker (docs/camera-link.md), relayed by
// the net_camera plugin. The hub knows only the public key.
struct NetCamera {
  std::string id;
  std::string uri;         // mqtt://host:port/<id>?user=hub&password_file=...
  crypto::PublicKey key;   // pinned at enrolment (C1)
  std::map<std::string, std::string> settings = {};  // more keys of its [camera.<id>] section (scene_*, C8)
};

struct SimDoor {
  std::string id;
  std::vector<std::string> cameras;  // each a simulated camera of its own
  std::vector<NetCamera> net_cameras = {};
  // Non-empty: the door's lock is a Zigbee2MQTT lock and contact sensor
  // (plugins/z2m_lock) at this device URI, not a simulated lock.
  std::string z2m_lock_uri = {};
};

struct SimHubOptions {
  std::filesystem::path latchkeyd;   // the daemon; see find_build_outputs()
  std::filesystem::path plugin_dir;  // holds lk_sim_lock.so, lk_sim_camera.so, lk_ref_authz.so
  std::string hub_id = "hub-1";
  std::string issuer_key_id = "delivery-co-1";
  std::vector<SimDoor> doors = {{"front", {"porch"}}, {"back", {"yard"}}};
  int camera_rate_hz = 10;
  int lock_actuation_ms = 50;
  int checkpoint_interval_ms = 5000;
  std::string plugin_mode = "isolated";  // [plugin.*] mode: "isolated" or "in_process" (lighter, for many hubs)
  // [gate] keys; these short timings are the defaults, any key may be overridden.
  std::map<std::string, std::string> gate = {
      {"nonce_period_ms", "100"},          {"live_timeout_ms", "500"},
      {"freeze_window_ms", "1000"},        {"health_timeout_ms", "3000"},
      {"recording_ack_timeout_ms", "2000"}, {"lock_command_timeout_ms", "2000"},
  };
  std::string extra_config;        // appended to hub.ini as it is (more sections, e.g. [mqtt])
  std::filesystem::path data_dir;  // empty: a fresh temporary directory, removed afterwards
  std::string temp_prefix = "latchkey-sim-hub";
};

// Where the build put latchkeyd and the plugins, seen from an executable's
// folder: `<dir>/../bin/latchkeyd` or `<dir>/latchkeyd`, and `<dir>/../plugins`
// (or `<dir>/../lib/latchkey/plugins` when installed).
struct BuildOutputs {
  std::filesystem::path latchkeyd;
  std::filesystem::path plugin_dir;
};
// Throws DaemonError naming every place it looked.
BuildOutputs find_build_outputs(const std::filesystem::path& executable_dir);
// The folder of the running executable (/proc/self/exe).
std::filesystem::path executable_dir();

class SimHub {
 public:
  explicit SimHub(SimHubOptions options);
  ~SimHub();
  SimHub(const SimHub&) = delete;
  SimHub& operator=(const SimHub&) = delete;

  void start(std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));
  int stop(std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));
  void kill();
  bool running() const { return daemon_.running(); }
  DaemonProcess& process() { return daemon_; }

  // Valid after start().
  const client::ApiEndpoint& endpoint() const { return endpoint_; }
  const std::string& token() const { return token_; }
  std::unique_ptr<client::ApiClient> client(client::ClientOptions options = {}) const;

  const SimHubOptions& options() const { return options_; }
  const std::string& hub_id() const { return options_.hub_id; }
  const std::string& issuer_key_id() const { return options_.issuer_key_id; }
  const crypto::KeyPair& issuer() const { return issuer_; }
  // The pinned device key of each camera (simulated and network).
  const std::map<std::string, crypto::PublicKey>& camera_keys() const { return camera_keys_; }
  std::vector<std::string> camera_ids() const;

  const std::filesystem::path& data_dir() const { return data_dir_; }
  // Leaves a temporary data directory in place (to look at after a failure).
  void keep_data_dir();
  std::filesystem::path config_file() const { return data_dir_ / "hub.ini"; }
  std::filesystem::path audit_db() const { return data_dir_ / "audit.db"; }
  std::filesystem::path log_file() const { return data_dir_ / "latchkeyd.log"; }
  // The hub's public key from <data_dir>/hub.pub (written at first start).
  crypto::PublicKey hub_public_key() const;
  // The last `lines` lines of the daemon's log, for failure messages.
  std::string log_tail(std::size_t lines = 30) const;

 private:
  void write_config();

  SimHubOptions options_;
  std::filesystem::path data_dir_;
  bool remove_data_dir_ = false;
  crypto::KeyPair issuer_;
  std::map<std::string, std::string> camera_uris_;
  std::map<std::string, crypto::PublicKey> camera_keys_;
  DaemonProcess daemon_;
  client::ApiEndpoint endpoint_;
  std::string token_;
};

}  // namespace latchkey::demo

#endif  // LATCHKEY_DEMO_SIM_HUB_HPP
