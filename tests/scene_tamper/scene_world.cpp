#include "scene_world.hpp"

#include "mosquitto_broker.hpp"
#include "mqtt_peer.hpp"

#include <latchkey/attestation.pb.h>
#include <latchkey/client/api_client.hpp>
#include <latchkey/client/api_json.hpp>
#include <latchkey/client/camera_enrolment.hpp>
#include <latchkey/client/event_collector.hpp>
#include <latchkey/crypto/crypto.hpp>
#include <latchkey/demo/child_process.hpp>
#include <latchkey/demo/hub_status.hpp>
#include <latchkey/demo/sim_hub.hpp>

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace latchkey::scene {
namespace {

constexpr const char* kDoor = "front";
constexpr const char* kCamera = "porch";
constexpr const char* kView = "testsrc2=size=640x360:rate=25";
constexpr int kPeriodMs = 40;  // one attestation per frame at 25 frames/s

int64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

fs::path make_work_dir() {
  std::string pattern = (fs::temp_directory_path() / "latchkey-scene-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a directory " + pattern);
  return pattern;
}

std::string text_of(const v1::SceneMeasurements& m) {
  return "mean_luminance " + std::to_string(m.mean_luminance()) + ", sharpness " + std::to_string(m.sharpness()) +
         ", reference_similarity " + std::to_string(m.reference_similarity());
}

bool out_of(const Limits& l, const v1::SceneMeasurements& m) {
  return m.mean_luminance() < l.min_luminance || m.mean_luminance() > l.max_luminance ||
         m.sharpness() < l.min_sharpness || m.reference_similarity() < l.min_similarity;
}

// What the tap has seen of one agent run.
struct Tap {
  std::mutex mutex;
  Limits limits;
  bool counting = false;
  CaseResult* result = nullptr;

  void on_attestation(const std::string& payload) {
    const int64_t rx = mono_ns();
    v1::SignedAttestation signed_attestation;
    v1::Attestation a;
    if (!signed_attestation.ParseFromString(payload) || !a.ParseFromString(signed_attestation.attestation())) return;
    std::lock_guard lock(mutex);
    if (!counting || result == nullptr || !a.has_scene()) return;
    ++result->attestations;
    result->last_seen = text_of(a.scene());
    if (!out_of(limits, a.scene())) return;
    ++result->out_of_limits;
    if (result->t0_ns) return;
    result->t0_ns = static_cast<int64_t>(a.capture_time_ns());
    result->t0_rx_ns = rx;
    result->first_out = text_of(a.scene());
  }
};

}  // namespace

const char* tamper_name(Tamper tamper) {
  switch (tamper) {
    case Tamper::kNone: return "none";
    case Tamper::kBlack: return "black";
    case Tamper::kWhite: return "white";
    case Tamper::kBlurred: return "blurred";
    case Tamper::kOtherScene: return "other_scene";
    case Tamper::kTurned: return "turned";
    case Tamper::kStillWithNoise: return "still_with_noise";
  }
  return "?";
}

std::string source_graph(Tamper tamper, int at_s) {
  // A sensor's noise on every frame, tampered or not, as a real camera has:
  // the frames' digests change (so a covered lens is C8's case, not C5's)
  // and the measurements must see through it.
  return tampered_view(tamper, at_s) + ",noise=alls=6:allf=t+u";
}

std::string tampered_view(Tamper tamper, int at_s) {
  const std::string from = "enable='gte(t," + std::to_string(at_s) + ")'";
  const std::string view = kView;
  switch (tamper) {
    case Tamper::kNone: return view;
    // Tape or paint over the lens; a torch or a laser into it.
    case Tamper::kBlack: return view + ",drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:" + from;
    case Tamper::kWhite: return view + ",drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:" + from;
    // Knocked out of focus, or smeared.
    case Tamper::kBlurred: return view + ",gblur=sigma=24:" + from;
    // Something else in front of it.
    case Tamper::kOtherScene:
      return view + "[a];smptebars=size=640x360:rate=25[b];[a][b]overlay=" + from;
    // Turned: a quarter of the old view fills the picture.
    case Tamper::kTurned:
      return view + ",split[a][b];[b]crop=320:180:320:180,scale=640:360[c];[a][c]overlay=" + from;
    // A still of the very view (a perfect photo), the sensor's noise fresh on every frame.
    case Tamper::kStillWithNoise: {
      const int frame = at_s * 25;
      return view + ",split[a][b];[a][b]freezeframes=first=" + std::to_string(frame) +
             ":last=100000000:replace=" + std::to_string(frame - 1);
    }
  }
  return view;
}

std::string CaseResult::describe() const {
  std::ostringstream out;
  out << tamper_name(tamper) << ": " << attestations << " attestations, " << out_of_limits << " out of limits";
  if (t0_ns) out << "; first out of limits (" << first_out << ") captured at t0";
  if (t0_ns && t0_rx_ns) out << ", at the hub's broker " << (*t0_rx_ns - *t0_ns) / 1000 << " us later";
  if (alarm_us && t0_ns) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(delay_us()) / 1000.0);
    out << "; camera-tamper alarm t0 + " << buf << " ms (" << alarm_message << ")";
  } else if (alarm_us) {
    out << "; an alarm without a tampered frame: " << alarm_message;
  } else {
    out << "; no C8 alarm";
  }
  out << "; LIVE at the end: " << (live_at_end ? "yes" : "no") << "; last seen " << last_seen;
  return out.str();
}

WorldOptions default_world_options() {
  WorldOptions options;
  options.latchkeyd = LATCHKEY_SCENE_LATCHKEYD;
  options.plugin_dir = LATCHKEY_SCENE_PLUGIN_DIR;
  options.agent = LATCHKEY_SCENE_AGENT;
  return options;
}

struct SceneWorld::Impl {
  WorldOptions options;
  fs::path work_dir, key_file, reference_file;
  std::unique_ptr<testing::MosquittoBroker> broker;
  crypto::PublicKey camera_key{};
  std::unique_ptr<demo::SimHub> hub;
  std::unique_ptr<client::ApiClient> api;
  std::unique_ptr<client::EventCollector> events;
  std::unique_ptr<demo::ChildProcess> agent;
  std::unique_ptr<attack::MqttPeer> tap_client;
  Limits limits;
  Tap tap;

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  void build() {
    work_dir = make_work_dir();
    key_file = work_dir / "porch.key";
    reference_file = work_dir / "porch-reference.pgm";
    testing::BrokerOptions broker_options;
    broker_options.cameras = {kCamera};
    broker = std::make_unique<testing::MosquittoBroker>(broker_options);

    demo::ChildProcess print;
    const fs::path print_log = work_dir / "print-key.log";
    print.start({options.agent.string(), "--key-file", key_file.string(), "--print-key"}, print_log);
    const int status = print.wait(10s);
    std::ifstream in(print_log);
    std::string line, hex;
    while (std::getline(in, line))
      if (line.rfind("public key: ", 0) == 0) hex = line.substr(12);
    const auto key = crypto::from_hex(hex);
    if (status != 0 || !key || key->size() != camera_key.size())
      throw std::runtime_error("lk-camera-agent --print-key failed: " + demo::file_tail(print_log, 10));
    std::copy(key->begin(), key->end(), camera_key.begin());

    tap_client = std::make_unique<attack::MqttPeer>(
        attack::MqttPeerOptions{"127.0.0.1", broker->port(), "hub", broker->password("hub"),
                                "scene-tap-" + std::to_string(::getpid()), ""},
        [this](const std::string&, const std::string& payload) { tap.on_attestation(payload); });
    tap_client->subscribe(std::string("latchkey/camera/") + kCamera + "/attestation");
  }

  void start_hub() {
    demo::SimHubOptions o;
    o.latchkeyd = options.latchkeyd;
    o.plugin_dir = options.plugin_dir;
    o.temp_prefix = "latchkey-scene-hub";
    demo::NetCamera camera;
    camera.id = kCamera;
    camera.key = camera_key;
    camera.uri = "mqtt://127.0.0.1:" + std::to_string(broker->port()) + "/" + kCamera +
                 "?user=hub&password_file=" + broker->password_file("hub").string() +
                 "&period_ms=" + std::to_string(kPeriodMs) + "&key=" + crypto::to_hex(camera_key);
    // C8's limits for this camera as a person would set them at enrolment
    // (docs/camera-agent.md): the test picture with the sensor's noise
    // measures about mean_luminance 126000, sharpness 10000-12000,
    // reference_similarity 950; the sharpness floor is a third of it.
    camera.settings = {{"scene_min_sharpness", std::to_string(limits.min_sharpness)},
                       {"scene_min_similarity", std::to_string(limits.min_similarity)},
                       {"scene_min_luminance", std::to_string(limits.min_luminance)},
                       {"scene_max_luminance", std::to_string(limits.max_luminance)}};
    o.doors = {demo::SimDoor{kDoor, {}, {camera}}};
    o.gate["tamper_window_ms"] = std::to_string(options.tamper_window_ms);
    o.gate["live_timeout_ms"] = "1000";
    o.gate["nonce_period_ms"] = "250";
    hub = std::make_unique<demo::SimHub>(o);
    hub->start();
    api = hub->client();
    events = std::make_unique<client::EventCollector>(hub->endpoint(), hub->token());
    if (!events->wait_connected(5s)) throw std::runtime_error("GET /v1/events: " + events->failure());
  }

  void start_agent(const std::string& graph, const std::string& log_name) {
    agent = std::make_unique<demo::ChildProcess>();
    agent->start({options.agent.string(), "--camera-id", kCamera, "--broker",
                  "127.0.0.1:" + std::to_string(broker->port()), "--password-file",
                  broker->password_file(kCamera).string(), "--key-file", key_file.string(), "--record-dir",
                  (work_dir / "recordings").string(), "--period-ms", std::to_string(kPeriodMs), "--reference-file",
                  reference_file.string(), "--source", "lavfi:" + graph},
                 work_dir / log_name);
  }

  void stop() {
    if (agent) agent->stop(5s);
    agent.reset();
    events.reset();
    api.reset();
    if (hub) hub->stop();
    hub.reset();
  }
};

SceneWorld::SceneWorld(WorldOptions options) : impl_(std::make_unique<Impl>()), options_(options) {
  impl_->options = std::move(options);
  impl_->limits = impl_->options.limits;
  impl_->tap.limits = impl_->limits;
  impl_->build();
}

SceneWorld::~SceneWorld() {
  impl_->stop();
  if (!::getenv("LATCHKEY_KEEP_SCENE_DIR")) {
    std::error_code ec;
    fs::remove_all(impl_->work_dir, ec);
  }
}

CaseResult SceneWorld::run(Tamper tamper) {
  Impl& w = *impl_;
  CaseResult result;
  result.tamper = tamper;
  w.stop();
  w.start_hub();
  {
    std::lock_guard lock(w.tap.mutex);
    w.tap.result = &result;
    w.tap.counting = false;
  }
  w.start_agent(source_graph(tamper, options_.tamper_at_s), std::string("agent-") + tamper_name(tamper) + ".log");
  const int64_t started = mono_ns();
  // The first run takes the reference view (enrolment): the untouched view.
  if (!demo::wait_cameras_live(*w.api, 10s))
    throw std::runtime_error(std::string(tamper_name(tamper)) + ": the camera never became LIVE\nagent log:\n" +
                             w.agent->log_tail() + "hub log:\n" + w.hub->log_tail());
  const int64_t live_after = mono_ns() - started;
  if (live_after > (options_.tamper_at_s - 1) * 1'000'000'000LL)
    throw std::runtime_error(std::string(tamper_name(tamper)) + ": LIVE only " + std::to_string(live_after / 1'000'000) +
                             " ms after the agent started, too close to the tamper");
  {
    std::lock_guard lock(w.tap.mutex);
    w.tap.counting = true;
  }
  const std::size_t from = w.events->events().size();
  // Until the watch ends after the tamper: the source runs in real time
  // from about the agent's start.
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::nanoseconds(options_.tamper_at_s * 1'000'000'000LL - (mono_ns() - started)) +
                     options_.watch;
  const auto alarm = w.events->wait_for(
      [](const client::SseEvent& e) {
        if (e.name != "alarm") return false;
        const auto j = e.json();
        return j && client::json_text(j, "rule") == "C8";
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()), from);
  if (alarm) {
    const auto j = alarm->json();
    result.alarm_us = client::json_int(j, "mono_us");
    result.alarm_message = client::json_text(j, "message");
  }
  std::this_thread::sleep_until(until);
  {
    std::lock_guard lock(w.tap.mutex);
    w.tap.counting = false;
    w.tap.result = nullptr;
  }
  const auto door = demo::door(*w.api, kDoor);
  const auto cameras = client::json_array(door, "cameras");
  for (std::size_t i = 0; cameras && i < cameras->size(); ++i) {
    const auto c = client::json_object_at(cameras, i);
    if (c && client::json_text(c, "id") == kCamera) result.live_at_end = client::json_text(c, "live") == "true";
  }
  w.log(result.describe());
  w.stop();
  return result;
}

SceneWorld::Enrolled SceneWorld::enrol(uint32_t observe_ms) {
  Impl& w = *impl_;
  w.stop();
  w.start_agent(source_graph(Tamper::kNone, 1000), "agent-enrol.log");
  // The agent says hello once it has its reference view; the plugin waits for it.
  const std::string uri = "mqtt://127.0.0.1:" + std::to_string(w.broker->port()) + "/" + kCamera +
                          "?user=hub&password_file=" + w.broker->password_file("hub").string() +
                          "&hello_timeout_ms=5000";
  client::CameraEnrolment e;
  try {
    e = client::enrol_camera(options_.plugin_dir / "lk_net_camera.so", uri, observe_ms);
  } catch (...) {
    w.stop();  // no agent left running
    throw;
  }
  w.stop();
  const client::SceneThresholds t = client::choose_thresholds(e.scene);
  std::ifstream in(w.reference_file, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bool same = file.size() == 690 && e.snapshot.size() == 15 + 320 * 180 * 3;
  for (std::size_t cell = 0; same && cell < 576; ++cell) {
    const std::size_t x = (cell % 32) * 10 + 5, y = (cell / 32) * 10 + 5;
    same = e.snapshot[15 + (y * 320 + x) * 3] == static_cast<uint8_t>(file[690 - 576 + cell]);
  }
  Enrolled out{e.camera_id,
          e.scene.samples,
          e.scene.min_luminance,
          e.scene.max_luminance,
          e.scene.min_sharpness,
          e.scene.max_sharpness,
          e.scene.min_similarity,
          e.scene.max_similarity,
          t.min_luminance,
          t.max_luminance,
          t.min_sharpness,
          t.min_similarity};
  out.snapshot_bytes = e.snapshot.size();
  out.snapshot_is_the_reference_file = same;
  return out;
}

std::string SceneWorld::diagnostics() const {
  std::string text = "work directory " + impl_->work_dir.string() + "\n";
  if (impl_->agent) text += "agent log:\n" + impl_->agent->log_tail();
  if (impl_->hub) text += "hub log:\n" + impl_->hub->log_tail();
  return text;
}

}  // namespace latchkey::scene
