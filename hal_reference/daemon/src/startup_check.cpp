#include "startup_check.hpp"
#include "supervision_config.hpp"

#include <latchkey/audit/verify.hpp>
#include <latchkey/gate/gate_engine.hpp>
#include <latchkey/home_assistant/publisher.hpp>
#include <latchkey/hub/audit_recovery.hpp>
#include <latchkey/hub/daemon_config.hpp>
#include <latchkey/isolation/plugin_runner.hpp>

#include "runtime_files.hpp"
#include "runtime_revocations.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

namespace latchkey::hub {
namespace {

namespace fs = std::filesystem;

bool exists_no_follow(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// SQLite makes -wal and -shm files even for a read-only reader of a WAL
// database, so the log is verified as a copy in a private directory of its
// own: the data directory is only read.
void check_audit_log(const DaemonConfig& config, const crypto::KeyPair& hub_key, StartupCheck& out) {
  const fs::path db = config.data_dir / "audit.db";
  if (!exists_no_follow(db)) return;
  std::string pattern = (fs::temp_directory_path() / "latchkey-check-audit-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot create a directory to verify a copy in: " + std::string(std::strerror(errno)));
  const fs::path copy_dir = pattern;
  struct Remover {
    fs::path dir;
    ~Remover() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } remover{copy_dir};
  for (const char* suffix : {"", "-wal", ".head"}) {
    const fs::path file = db.string() + suffix;
    if (exists_no_follow(file)) fs::copy_file(file, copy_dir / (file.filename()));
  }
  const audit::VerifyReport report = audit::verify_log(copy_dir / "audit.db", hub_key.public_key);
  if (!report.ok)
    out.problems.push_back("audit log " + db.string() + ": " + audit::to_string(report.problem) + " at seq " +
                           std::to_string(report.problem_seq) + ": " + report.message);
}

// The log is opened for appending at start: an existing file must be
// writable, a new one creatable (checked without creating it).
void check_log_file(const fs::path& file, StartupCheck& out) {
  if (file.empty()) return;
  if (exists_no_follow(file)) {
    if (::access(file.c_str(), W_OK) != 0)
      out.problems.push_back("[hub] log_file " + file.string() + ": not writable: " + std::strerror(errno));
  } else if (::access(file.parent_path().c_str(), W_OK | X_OK) != 0) {
    out.problems.push_back("[hub] log_file " + file.string() + ": cannot be created in " +
                           file.parent_path().string() + ": " + std::strerror(errno));
  }
}

// A private directory for the hosts' working directories, outside the data
// directory, removed when the check ends.
class HostRoot {
 public:
  explicit HostRoot(const IsolationConfig& isolation) {
    const fs::path base = isolation.run_dir.empty() ? fs::temp_directory_path() : isolation.run_dir;
    std::string pattern = (base / "latchkey-check-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("[isolation] run_dir: cannot create a directory for the plugin hosts under " +
                               base.string() + ": " + std::strerror(errno));
    path_ = pattern;
  }
  ~HostRoot() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  HostRoot(const HostRoot&) = delete;
  HostRoot& operator=(const HostRoot&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

using Runners = std::map<std::string, std::unique_ptr<isolation::PluginRunner>>;

// `host_root` is made at the first isolated plugin and must outlive the runners.
Runners load_plugins(const DaemonConfig& config, std::unique_ptr<HostRoot>& host_root, StartupCheck& out) {
  Runners runners;
  auto log = [&out](lk_log_level level, const std::string& driver, const std::string& message) {
    if (level >= LK_LOG_WARNING) out.warnings.push_back("plugin " + driver + ": " + message);
  };
  for (const auto& [name, plugin] : config.plugins) {
    const std::string where = "[plugin." + name + "] file " + config.plugin_path(name).string() + ": ";
    try {
      if (plugin.isolated) {
        if (!host_root) host_root = std::make_unique<HostRoot>(config.isolation);
        runners[name] = isolation::run_isolated(name, config.plugin_path(name),
                                                supervision_config(config.isolation, host_root->path() / name), {}, log);
      } else {
        host::LoadOptions options;
        options.log = log;
        runners[name] = isolation::run_in_process(name, config.plugin_path(name), options);
      }
    } catch (const std::exception& e) {
      out.problems.push_back(where + e.what());
    }
  }
  return runners;
}

// Opens every configured device the way a start does, then closes it again.
void check_devices(const DaemonConfig& config, Runners& runners, StartupCheck& out) {
  for (const auto& [name, d] : config.locks) {
    auto runner = runners.find(d.plugin);
    if (runner == runners.end()) continue;  // its plugin's problem is noted already
    const std::string where = "[lock." + name + "]: ";
    if (!runner->second->offers_lock()) {
      out.problems.push_back(where + "plugin '" + d.plugin + "' offers no lock interface");
      continue;
    }
    std::unique_ptr<host::LockDevice> handle;
    const lk_result r = runner->second->open_lock(d.uri, {}, &handle);
    if (r != LK_OK) {
      out.problems.push_back(where + "opening " + d.uri + " failed: " + host::result_name(r));
      continue;
    }
    lk_lock_description desc{};
    desc.struct_size = sizeof desc;
    if (handle->describe(&desc) != LK_OK) {
      out.problems.push_back(where + "describe failed");
      continue;
    }
    // U4: the lock takes the deadline every unlock carries (the check latchkeyd makes).
    const std::string problem =
        gate::relock_deadline_problem(desc.flags, desc.max_relock_deadline_ms, config.gate.relock_deadline_ms);
    if (!problem.empty()) out.problems.push_back(where + "the lock " + problem);
  }
  for (const auto& [name, d] : config.cameras) {
    auto runner = runners.find(d.plugin);
    if (runner == runners.end()) continue;
    const std::string where = "[camera." + name + "]: ";
    if (!runner->second->offers_camera()) {
      out.problems.push_back(where + "plugin '" + d.plugin + "' offers no camera interface");
      continue;
    }
    std::unique_ptr<host::CameraDevice> handle;
    const lk_result r = runner->second->open_camera(d.uri, {}, &handle);
    if (r != LK_OK) {
      out.problems.push_back(where + "opening " + d.uri + " failed: " + host::result_name(r));
      continue;
    }
    lk_camera_description desc{};
    desc.struct_size = sizeof desc;
    if (handle->describe(&desc) != LK_OK) {
      out.problems.push_back(where + "describe failed");
      continue;
    }
    // C1 enrolment: the camera must hold the key pinned in the configuration
    // and carry the section's name as its id (the check latchkeyd makes).
    const std::string problem = gate::camera_identity_problem(
        name, d.key, std::string(desc.camera_id, strnlen(desc.camera_id, sizeof desc.camera_id)),
        {desc.public_key, sizeof desc.public_key});
    if (!problem.empty()) out.problems.push_back(where + "the device " + problem);
  }
  if (config.authz_plugin.empty()) {
    out.warnings.push_back("[authz] names no plugin: every unlock will be denied (F3)");
  } else if (auto runner = runners.find(config.authz_plugin); runner != runners.end()) {
    std::unique_ptr<host::AuthzDevice> authz;
    if (!runner->second->offers_authz()) {
      out.problems.push_back("[authz]: plugin '" + config.authz_plugin + "' offers no authorization interface");
    } else if (const lk_result r = runner->second->open_authz(config.authz_config, &authz); r != LK_OK) {
      out.problems.push_back(std::string("[authz]: the plugin refused its configuration: ") + host::result_name(r));
    }
  }
}

// [mqtt] (docs/home-assistant.md): the password file trusted as a start
// would, the CA file readable. The broker itself is not asked: it may be
// down at start, and latchkeyd keeps trying.
void check_mqtt(const MqttConfig& mqtt, StartupCheck& out) {
  if (!mqtt.enabled) return;
  if (!mqtt.password_file.empty()) {
    try {
      home_assistant::read_password_file(mqtt.password_file);
    } catch (const std::exception& e) {
      out.problems.emplace_back(e.what());
    }
  }
  if (!mqtt.tls_ca_file.empty() && ::access(mqtt.tls_ca_file.c_str(), R_OK) != 0)
    out.problems.push_back("[mqtt] tls_ca_file " + mqtt.tls_ca_file.string() + ": cannot be read: " +
                           std::strerror(errno));
}

// [fleet] (docs/fleet.md): the password file trusted as the runtime reads
// it, the CA file readable, the kept revocation lists readable and
// verifying, and a rollback the witness showed earlier (nothing is granted
// while it is kept). The broker and the witness are not
// asked: a start waits for them anyway, granting nothing.
void check_fleet(const DaemonConfig& config, StartupCheck& out) {
  const FleetConfig& fleet = config.fleet;
  // With via = bridge latchkeyd reads only local_password_file (the hub's
  // broker); password_file is the bridge's, read by --print-fleet-bridge.
  const bool bridge = fleet.via == FleetConfig::Via::kBridge;
  const fs::path& password_file = bridge ? fleet.local_password_file : fleet.password_file;
  const std::string key = bridge ? "local_password_file" : "password_file";
  if (fleet.enabled && !password_file.empty()) {
    try {
      if (!read_secret_file(password_file))
        out.problems.push_back("[fleet] " + key + " " + password_file.string() + " does not exist");
    } catch (const std::exception& e) {
      out.problems.push_back("[fleet] " + key + ": " + e.what());
    }
  }
  if (fleet.enabled && !fleet.tls_ca_file.empty() && ::access(fleet.tls_ca_file.c_str(), R_OK) != 0)
    out.problems.push_back("[fleet] tls_ca_file " + fleet.tls_ca_file.string() + ": cannot be read: " +
                           std::strerror(errno));
  // The kept revocation lists load at every start, [fleet] on or off.
  if (!config.data_dir.empty()) {
    try {
      const KeptRevocations kept = read_kept_revocations(config);
      for (const std::string& line : kept.skipped) out.warnings.push_back("[fleet] " + line);
    } catch (const std::exception& e) {
      out.problems.push_back(e.what());
    }
  }
  std::error_code ec;
  if (!config.data_dir.empty() && fs::exists(witness_refusal_path(config.data_dir), ec))
    out.warnings.push_back(witness_refusal_path(config.data_dir).string() +
                           ": the fleet witness showed the audit log was rolled back; nothing is granted until "
                           "latchkeyd --recover-audit (docs/fleet.md)");
}

}  // namespace

StartupCheck check_startup(const fs::path& config_file, const fs::path& default_plugin_dir) {
  StartupCheck out;
  DaemonConfig config = DaemonConfig::load(config_file, out.problems);
  if (config.plugin_dir.empty()) config.plugin_dir = default_plugin_dir;
  if (api_address_problem(config.api_address).empty()) {
    if (std::string warning = api_address_warning(config.api_address); !warning.empty())
      out.warnings.push_back(std::move(warning));
  }
  if (!config.data_dir.empty()) {
    std::optional<crypto::KeyPair> hub_key;
    for (std::string& problem : check_runtime_files(config.data_dir, &hub_key)) out.problems.push_back(problem);
    try {
      if (hub_key) check_audit_log(config, *hub_key, out);
    } catch (const std::exception& e) {
      out.problems.push_back("audit log " + (config.data_dir / "audit.db").string() + ": " + e.what());
    }
  }
  check_log_file(config.log_file, out);
  check_mqtt(config.mqtt, out);
  check_fleet(config, out);
  try {
    std::unique_ptr<HostRoot> host_root;
    Runners runners = load_plugins(config, host_root, out);
    check_devices(config, runners, out);
  } catch (const std::exception& e) {
    out.problems.emplace_back(e.what());
  }
  return out;
}

}  // namespace latchkey::hub
