#include <latchkey/client/camera_enrolment.hpp>
#include <latchkey/client/key_files.hpp>
#include <latchkey/demo/sim_hub.hpp>
#include <latchkey/demo/child_process.hpp>

#include <stdlib.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace latchkey::demo {

namespace {

constexpr const char* kLockPlugin = "lk_sim_lock.so";
constexpr const char* kCameraPlugin = "lk_sim_camera.so";
constexpr const char* kNetCameraPlugin = "lk_net_camera.so";
constexpr const char* kZ2mLockPlugin = "lk_z2m_lock.so";
constexpr const char* kAuthzPlugin = "lk_ref_authz.so";

fs::path make_temp_dir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw DaemonError("cannot create a temporary directory " + pattern);
  return pattern;
}

}  // namespace

fs::path executable_dir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw DaemonError("cannot read /proc/self/exe: " + ec.message());
  return self.parent_path();
}

BuildOutputs find_build_outputs(const fs::path& dir) {
  BuildOutputs found;
  std::error_code ec;
  for (const fs::path& candidate : {dir / ".." / "bin" / "latchkeyd", dir / "latchkeyd"}) {
    if (fs::is_regular_file(candidate, ec)) {
      found.latchkeyd = fs::weakly_canonical(candidate, ec);
      break;
    }
  }
  if (found.latchkeyd.empty()) {
    throw DaemonError("latchkeyd not found: looked for " + (dir / ".." / "bin" / "latchkeyd").string() + " and " +
                      (dir / "latchkeyd").string() + " (build the latchkeyd target)");
  }
  // The build tree keeps plugins in <build>/plugins, an installation in <prefix>/lib/latchkey/plugins.
  fs::path plugins = dir / ".." / "plugins";
  if (!fs::is_directory(plugins, ec) && fs::is_directory(dir / ".." / "lib" / "latchkey" / "plugins", ec)) {
    plugins = dir / ".." / "lib" / "latchkey" / "plugins";
  }
  for (const char* plugin : {kLockPlugin, kCameraPlugin, kAuthzPlugin}) {
    if (!fs::is_regular_file(plugins / plugin, ec)) {
      throw DaemonError("plugin " + (plugins / plugin).string() + " not found (build lk_sim_lock, lk_sim_camera, lk_ref_authz)");
    }
  }
  found.plugin_dir = fs::weakly_canonical(plugins, ec);
  return found;
}

SimHub::SimHub(SimHubOptions options) : options_(std::move(options)) {
  if (options_.data_dir.empty()) {
    data_dir_ = make_temp_dir(options_.temp_prefix);
    remove_data_dir_ = true;
  } else {
    data_dir_ = options_.data_dir;
    fs::create_directories(data_dir_);
  }
  issuer_ = crypto::KeyPair::generate();
  client::write_secret_key(data_dir_ / "issuer.key", issuer_);
  client::write_public_key(data_dir_ / "issuer.pub", issuer_.public_key);
  // C1 enrolment: each camera gets a device seed in its URI; the key to pin is
  // what the camera itself describes through its plugin.
  for (const SimDoor& door : options_.doors) {
    for (const std::string& camera : door.cameras) {
      const std::string uri = "sim://camera/" + camera + "?rate_hz=" + std::to_string(options_.camera_rate_hz) +
                              "&seed=" + crypto::to_hex(crypto::random_bytes(32));
      const client::CameraEnrolment enrolled = client::enrol_camera(options_.plugin_dir / kCameraPlugin, uri);
      if (enrolled.camera_id != camera) {
        throw DaemonError("camera URI " + uri + " describes itself as '" + enrolled.camera_id + "'");
      }
      camera_uris_[camera] = uri;
      camera_keys_[camera] = enrolled.public_key;
    }
    for (const NetCamera& camera : door.net_cameras) camera_keys_[camera.id] = camera.key;
  }
  write_config();
}

void SimHub::keep_data_dir() { remove_data_dir_ = false; }

SimHub::~SimHub() {
  daemon_.kill();
  if (remove_data_dir_) {
    std::error_code ec;
    fs::remove_all(data_dir_, ec);
  }
}

void SimHub::write_config() {
  std::ostringstream ini;
  ini << "# Written by SimHub: simulated devices, test control on.\n"
      << "[hub]\n"
      << "id = " << options_.hub_id << "\n"
      << "data_dir = " << data_dir_.string() << "\n"
      << "api_address = 127.0.0.1:0\n"
      << "plugin_dir = " << options_.plugin_dir.string() << "\n"
      << "test_control = true\n"
      << "clock_synced = trust\n"
      << "checkpoint_interval_ms = " << options_.checkpoint_interval_ms << "\n"
      << "log_file = " << log_file().string() << "\n\n"
      << "[gate]\n";
  for (const auto& [key, value] : options_.gate) ini << key << " = " << value << "\n";
  const std::string mode = "mode = " + options_.plugin_mode + "\n";
  ini << "\n[plugin.sim_lock]\nfile = " << kLockPlugin << "\n" << mode
      << "[plugin.sim_camera]\nfile = " << kCameraPlugin << "\n" << mode
      << "[plugin.ref_authz]\nfile = " << kAuthzPlugin << "\n" << mode;
  if (std::any_of(options_.doors.begin(), options_.doors.end(), [](const SimDoor& d) { return !d.net_cameras.empty(); }))
    ini << "[plugin.net_camera]\nfile = " << kNetCameraPlugin << "\n";
  if (std::any_of(options_.doors.begin(), options_.doors.end(), [](const SimDoor& d) { return !d.z2m_lock_uri.empty(); }))
    ini << "[plugin.z2m_lock]\nfile = " << kZ2mLockPlugin << "\n";
  ini << "\n";
  for (const SimDoor& door : options_.doors) {
    if (door.z2m_lock_uri.empty()) {
      ini << "[lock." << door.id << "]\nplugin = sim_lock\nuri = sim://lock/" << door.id
          << "?actuation_ms=" << options_.lock_actuation_ms << "\n";
    } else {
      ini << "[lock." << door.id << "]\nplugin = z2m_lock\nuri = " << door.z2m_lock_uri << "\n";
    }
    for (const std::string& camera : door.cameras) {
      ini << "[camera." << camera << "]\nplugin = sim_camera\nuri = " << camera_uris_.at(camera) << "\n"
          << "key = " << crypto::to_hex(camera_keys_.at(camera)) << "\n";
    }
    std::vector<std::string> bound = door.cameras;
    for (const NetCamera& camera : door.net_cameras) {
      ini << "[camera." << camera.id << "]\nplugin = net_camera\nuri = " << camera.uri << "\n"
          << "key = " << crypto::to_hex(camera.key) << "\n";
      for (const auto& [key, value] : camera.settings) ini << key << " = " << value << "\n";
      bound.push_back(camera.id);
    }
    ini << "[door." << door.id << "]\nlock = " << door.id << "\ncameras = ";
    for (std::size_t i = 0; i < bound.size(); ++i) ini << (i ? "," : "") << bound[i];
    ini << "\n\n";
  }
  const std::string issuer_hex = crypto::to_hex(issuer_.public_key);
  ini << "[authz]\nplugin = ref_authz\nconfig = issuer " << options_.issuer_key_id << " " << issuer_hex << "\n\n"
      << "[issuer." << options_.issuer_key_id << "]\nkey = " << issuer_hex << "\n";
  if (!options_.extra_config.empty()) ini << "\n" << options_.extra_config << "\n";
  std::ofstream out(config_file());
  out << ini.str();
  if (!out.flush()) throw DaemonError("cannot write " + config_file().string());
}

void SimHub::start(std::chrono::milliseconds timeout) {
  try {
    daemon_.start(options_.latchkeyd, config_file(), timeout);
  } catch (const DaemonError& e) {
    throw DaemonError(std::string(e.what()) + "\nlog " + log_file().string() + ":\n" + log_tail());
  }
  endpoint_.host = daemon_.host();
  endpoint_.port = daemon_.port();
  token_ = client::read_token_file(data_dir_ / "api-token");
}

int SimHub::stop(std::chrono::milliseconds timeout) { return daemon_.terminate(timeout); }

void SimHub::kill() { daemon_.kill(); }

std::unique_ptr<client::ApiClient> SimHub::client(client::ClientOptions options) const {
  return std::make_unique<client::ApiClient>(endpoint_, token_, options);
}

std::vector<std::string> SimHub::camera_ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, key] : camera_keys_) ids.push_back(id);
  return ids;
}

crypto::PublicKey SimHub::hub_public_key() const { return client::read_public_key(data_dir_ / "hub.pub"); }

std::string SimHub::log_tail(std::size_t lines) const { return file_tail(log_file(), lines); }

}  // namespace latchkey::demo
