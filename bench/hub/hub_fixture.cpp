#include "hub_fixture.hpp"

#include <latchkey/crypto/grants.hpp>

#include "stats.hpp"

#include <algorithm>
#include <stdexcept>

namespace latchkey::bench {
namespace {

std::array<uint8_t, 32> camera_seed(std::size_t index) {
  const crypto::Digest d = crypto::blake2b256(crypto::view("latchkey-bench-camera-" + std::to_string(index)));
  std::array<uint8_t, 32> seed{};
  std::copy(d.begin(), d.end(), seed.begin());
  return seed;
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string describe(const hub::ApiResult<hub::UnlockOutcome>& answer) {
  if (!answer.ok()) return "no decision: " + answer.error().message;
  return answer->allowed ? "allowed" : "denied by " + std::string(name(answer->rule)) + ": " + answer->message;
}

EventMatch lock_state_is(hub::LockState state) {
  return [state](const hub::EventData& e) {
    const auto* c = std::get_if<hub::LockStateChanged>(&e);
    return c && c->lock_state == state;
  };
}

EventMatch door_state_is(hub::DoorState state) {
  return [state](const hub::EventData& e) {
    const auto* c = std::get_if<hub::DoorStateChanged>(&e);
    return c && c->door_state == state;
  };
}

EventMatch session_ends(hub::SessionEnd end) {
  return [end](const hub::EventData& e) {
    const auto* c = std::get_if<hub::SessionChange>(&e);
    return c && c->end == end;
  };
}

EventMatch lock_command(bool unlock, const std::string& rule) {
  return [unlock, rule](const hub::EventData& e) {
    const auto* c = std::get_if<hub::DoorCommand>(&e);
    return c && c->unlock == unlock && (rule.empty() || name(c->rule) == rule);
  };
}

HubFixture::HubFixture(HubOptions options)
    : options_(std::move(options)), issuer_(crypto::KeyPair::generate()), courier_(crypto::KeyPair::generate()) {}

HubFixture::~HubFixture() { stop(); }

std::string HubFixture::camera_name(std::size_t index) {
  if (index == 0) return "porch";
  char name[32];
  std::snprintf(name, sizeof name, "cam-%04zu", index);
  return name;
}

std::string HubFixture::config_text() const {
  const std::string camera_file = options_.bench_cameras
                                      ? std::string(LATCHKEY_BENCH_PLUGIN_DIR) + "/lk_bench_camera.so"
                                      : std::string("lk_sim_camera.so");
  std::string text = "[hub]\nid = hub-bench\ndata_dir = " + options_.data_dir.string() +
                     "\nplugin_dir = " LATCHKEY_PLUGIN_DIR "\ntest_control = true\nclock_synced = trust\n"
                     // In-process plugins: the unlock figure is defined on them, and the
                     // bench camera's emission probe is a descriptor an isolated host would
                     // close. bench/lk-bench-socket measures the isolated call on its own.
                     "[plugin.lock]\nfile = lk_sim_lock.so\nmode = in_process\n[plugin.camera]\nfile = " +
                     camera_file + "\nmode = in_process\n[plugin.authz]\nfile = lk_ref_authz.so\nmode = in_process\n"
                     "[lock.front]\nplugin = lock\nuri = sim://lock/front?actuation_ms=" +
                     std::to_string(options_.lock_actuation_ms) + "\n";
  for (std::size_t i = 0; i < options_.cameras; ++i) {
    const auto seed = camera_seed(i);
    const auto key = crypto::KeyPair::from_seed(seed);
    std::string uri = "sim://camera/" + camera_name(i) + "?rate_hz=4&seed=" + crypto::to_hex(seed);
    if (i == 0 && options_.bench_cameras && options_.probe_fd > 0) uri += "&probe_fd=" + std::to_string(options_.probe_fd);
    text += "[camera." + camera_name(i) + "]\nplugin = camera\nuri = " + uri + "\nkey = " +
            crypto::to_hex(key.public_key) + "\n";
  }
  text += "[door.front]\nlock = front\ncameras = porch\n"
          "[authz]\nplugin = authz\nconfig = issuer iss-1 " + crypto::to_hex(issuer_.public_key) +
          "\n[issuer.iss-1]\nkey = " + crypto::to_hex(issuer_.public_key) + "\n";
  return text + options_.extra_config;
}

void HubFixture::start() {
  std::filesystem::create_directories(options_.data_dir);
  runtime_ = std::make_unique<hub::Runtime>(hub::DaemonConfig::parse(config_text(), options_.data_dir));
  subscription_ = runtime_->subscribe(0, [this](const hub::HubEvent& e) { on_event(e); });
  loop_ = std::thread([this] { runtime_->run(); });
}

void HubFixture::stop() {
  if (!runtime_) return;
  runtime_->unsubscribe(subscription_);
  runtime_->stop();
  if (loop_.joinable()) loop_.join();
  runtime_->shutdown();
  runtime_.reset();
}

void HubFixture::on_event(const hub::HubEvent& e) {
  const int64_t at = mono_ns();
  if (std::holds_alternative<hub::AuditAppended>(e.data)) return;  // not needed here, and the bulk of the traffic
  std::lock_guard lock(mutex_);
  if (const auto* c = std::get_if<hub::CameraLiveness>(&e.data)) {
    live_ += c->live ? 1 : -1;
    if (c->camera != "porch") return;
  } else if (const auto* r = std::get_if<hub::CameraRefused>(&e.data); r && r->camera != "porch") {
    return;
  } else if (const auto* st = std::get_if<hub::CameraStatusReported>(&e.data); st && st->camera != "porch") {
    return;
  }
  events_.push_back(SeenEvent{at, e.data});
  changed_.notify_all();
}

std::size_t HubFixture::mark() {
  std::lock_guard lock(mutex_);
  return events_.size();
}

long HubFixture::live_cameras() {
  std::lock_guard lock(mutex_);
  return live_;
}

std::unique_ptr<SeenEvent> HubFixture::wait_for(std::size_t from, const EventMatch& match,
                                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  std::size_t next = from;
  for (;;) {
    for (; next < events_.size(); ++next) {
      const SeenEvent& e = events_[next];
      if (match(e.data)) return std::make_unique<SeenEvent>(e);
    }
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && next == events_.size()) return nullptr;
  }
}

bool HubFixture::wait_porch_live(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto doors = runtime_->doors();
    if (doors.ok())
      for (const auto& door : doors.value())
        for (const auto& camera : door.cameras)
          if (camera.id == "porch" && camera.live) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

crypto::Bytes HubFixture::grant() {
  v1::Grant g;
  const auto id = crypto::random_bytes(16);
  g.set_grant_id(id.data(), id.size());
  g.set_issuer_key_id("iss-1");
  g.set_hub_id("hub-bench");
  g.set_door_id("front");
  g.set_courier_id("courier-1");
  g.set_courier_public_key(courier_.public_key.data(), courier_.public_key.size());
  const int64_t now = wall_ms();
  g.set_not_before_unix_ms(now - 1000);
  g.set_not_after_unix_ms(now + 3'600'000);
  g.set_uses(1);
  return crypto::mint_grant(g, issuer_.secret_key);
}

std::vector<uint8_t> HubFixture::unlock_request(const crypto::Bytes& signed_grant) {
  const auto r = runtime_->challenge("front");
  if (!r.ok()) throw std::runtime_error("no challenge: " + r.error().message);
  return crypto::make_unlock_request(signed_grant, "front", r->challenge, courier_.secret_key);
}

bool finish_session(HubFixture& hub, std::size_t from) {
  using namespace std::chrono_literals;
  if (!hub.wait_for(from, lock_state_is(hub::LockState::kUnlocked), 5s)) return false;
  const std::size_t opened = hub.mark();
  if (!hub.runtime().test_door_action("front", "open").ok()) return false;
  if (!hub.wait_for(opened, door_state_is(hub::DoorState::kOpen), 5s)) return false;
  if (!hub.runtime().test_door_action("front", "close").ok()) return false;
  return hub.wait_for(from, session_ends(hub::SessionEnd::kCompleted), 5s) != nullptr;
}

}  // namespace latchkey::bench
