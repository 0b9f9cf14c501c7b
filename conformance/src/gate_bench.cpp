#include "gate_bench.hpp"

#include "support.hpp"

#include <latchkey/crypto/grants.hpp>
#include <latchkey/host/devices.hpp>

#include <atomic>
#include <stdexcept>
#include <unistd.h>

namespace latchkey::certify {
namespace {

using namespace std::chrono_literals;

std::atomic<int> g_bench_number{0};

}  // namespace

GateBench::GateBench(const Subject& subject, Role role, const std::string& uri) : subject_(subject), role_(role) {
  dir_ = std::filesystem::temp_directory_path() /
         ("lk-certify-" + std::to_string(::getpid()) + "-" + std::to_string(++g_bench_number));
  std::filesystem::remove_all(dir_);
  issuer_ = crypto::KeyPair::generate();
  courier_ = crypto::KeyPair::generate();
  issuer_key_id_ = "issuer-cert";
  lock_file_ = reference_plugin(subject, "lk_sim_lock").string();
  camera_file_ = reference_plugin(subject, "lk_sim_camera").string();
  authz_file_ = reference_plugin(subject, "lk_ref_authz").string();
  lock_uri_ = "sim://lock/front?actuation_ms=50";
  const std::string seed(64, 'c');
  camera_uri_ = "sim://camera/porch?rate_hz=20&seed=" + seed;
  authz_config_ = "issuer " + issuer_key_id_ + " " + crypto::to_hex(issuer_.public_key);
  if (role == Role::kLock) {
    lock_file_ = std::filesystem::absolute(subject.file).string();
    lock_uri_ = uri;
  } else if (role == Role::kCamera) {
    camera_file_ = std::filesystem::absolute(subject.file).string();
    camera_uri_ = uri;
  } else {
    authz_file_ = std::filesystem::absolute(subject.file).string();
    issuer_ = subject.authz.issuer;
    issuer_key_id_ = subject.authz.issuer_key_id;
    authz_config_ = subject.authz.config;
  }
  // Enrolment: the camera's id and pinned key, as the camera describes them
  // (read in this process whatever the mode: the key is the device's own).
  {
    auto plugin = role == Role::kCamera ? subject.plugin : host::Plugin::load(camera_file_);
    std::unique_ptr<host::CameraHandle> cam;
    const lk_result r = host::CameraHandle::open(plugin, camera_uri_, [](const host::DeviceEvent&) {}, &cam);
    if (r != LK_OK) throw std::runtime_error(std::string("cannot open the camera to enrol it: ") + host::result_name(r));
    lk_camera_description d{};
    d.struct_size = sizeof d;
    if (cam->describe(&d) != LK_OK) throw std::runtime_error("cannot describe the camera to enrol it");
    camera_id_ = d.camera_id;
    camera_key_hex_ = crypto::to_hex({d.public_key, 32});
  }
  try {
    runtime_ = std::make_unique<hub::Runtime>(hub::DaemonConfig::parse(config_text(), dir_));
  } catch (...) {
    std::filesystem::remove_all(dir_);
    throw;
  }
  loop_ = std::thread([this] { runtime_->run(); });
}

GateBench::~GateBench() {
  runtime_->stop();
  if (loop_.joinable()) loop_.join();
  runtime_->shutdown();
  runtime_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

const gate::GateConfig& GateBench::gate() const { return runtime_->config().gate; }

std::string GateBench::config_text() const {
  const std::string mode = std::string("\nmode = ") + isolation::to_string(subject_.mode);
  // Fast settings inside the rules' bounds: the camera's declared period sets the nonce period and timeout.
  return "[hub]\nid = hub-cert\ndata_dir = " + (dir_ / "data").string() +
         "\nlog_file = " + (dir_ / "hub.log").string() + "\ntest_control = true\nclock_synced = trust\n"
         "[gate]\nnonce_period_ms = 100\nlive_timeout_ms = 600\nfreeze_window_ms = 1000\nhealth_timeout_ms = 2000\n"
         "relock_deadline_ms = 5000\nsession_max_ms = 30000\nrecording_ack_timeout_ms = 1500\n"
         "lock_command_timeout_ms = 2000\n"
         "[plugin.lock]\nfile = " + lock_file_ + mode + "\n[plugin.camera]\nfile = " + camera_file_ + mode +
         "\n[plugin.authz]\nfile = " + authz_file_ + mode +
         "\n[lock." + lock_name_ + "]\nplugin = lock\nuri = " + lock_uri_ +
         "\n[camera." + camera_id_ + "]\nplugin = camera\nuri = " + camera_uri_ + "\nkey = " + camera_key_hex_ +
         "\n[door." + door_ + "]\nlock = " + lock_name_ + "\ncameras = " + camera_id_ +
         "\n[authz]\nplugin = authz\nconfig = " + authz_config_ +
         "\n[issuer." + issuer_key_id_ + "]\nkey = " + crypto::to_hex(issuer_.public_key) + "\n";
}

bool GateBench::wait_live(std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    const auto doors = runtime_->doors();
    if (doors.ok() && doors->at(0).cameras.at(0).live) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

hub::ApiResult<hub::UnlockOutcome> GateBench::request_unlock() {
  v1::Grant g;
  const auto id = crypto::random_bytes(16);
  g.set_grant_id(id.data(), id.size());
  g.set_issuer_key_id(issuer_key_id_);
  g.set_hub_id("hub-cert");
  g.set_door_id(door_);
  g.set_courier_id("courier-cert");
  g.set_courier_public_key(courier_.public_key.data(), courier_.public_key.size());
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  g.set_not_before_unix_ms(now - 60'000);
  g.set_not_after_unix_ms(now + 3'600'000);
  g.set_uses(1);
  const crypto::Bytes grant = crypto::mint_grant(g, issuer_.secret_key);
  const auto challenge = runtime_->challenge(door_);
  if (!challenge.ok()) return challenge.error();
  return runtime_->unlock(door_, crypto::make_unlock_request(grant, door_, challenge->challenge, courier_.secret_key));
}

std::string GateBench::lock_state() {
  return hub::to_string(runtime_->doors().value().at(0).lock_state);
}

bool GateBench::wait_lock_state(const std::string& state, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  do {
    if (lock_state() == state) return true;
    std::this_thread::sleep_for(30ms);
  } while (Clock::now() < end);
  return false;
}

std::string GateBench::session_end() {
  // Open sessions first, then the newest ended one (as GET /v1/sessions lists them).
  const auto sessions = runtime_->sessions().value();
  if (!sessions.open.empty()) return "open";
  return sessions.ended.empty() ? "" : hub::to_string(sessions.ended.front().end);
}

bool GateBench::wait_session_end(const std::string& end_state, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  do {
    if (session_end() == end_state) return true;
    std::this_thread::sleep_for(50ms);
  } while (Clock::now() < end);
  return false;
}

bool GateBench::wait_alarm(const std::string& rule, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  do {
    for (const auto& alarm : runtime_->alarms(0).value())
      if (rule.empty() || name(alarm.rule) == rule) return true;
    std::this_thread::sleep_for(50ms);
  } while (Clock::now() < end);
  return false;
}

std::size_t GateBench::alarm_count(const std::string& rule_prefix) {
  std::size_t n = 0;
  for (const auto& alarm : runtime_->alarms(0).value()) n += name(alarm.rule).substr(0, rule_prefix.size()) == rule_prefix;
  return n;
}

bool GateBench::door_action(const std::string& action) { return runtime_->test_door_action(door_, action).ok(); }

hub::ApiResult<hub::TestControlDone> GateBench::inject_lock_fault(lk_fault fault) {
  return runtime_->test_device_fault("lock", lock_name_, fault, 0);
}

}  // namespace latchkey::certify
