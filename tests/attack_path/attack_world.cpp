// The attack path's world: the broker, the namespaces and link, the agent and
// the hub in one fixture, each part small (hence the length).
#include "attack_world.hpp"

#include "mosquitto_broker.hpp"
#include "mqtt_peer.hpp"
#include "netns_link.hpp"

#include <latchkey/client/api_client.hpp>
#include <latchkey/client/api_json.hpp>
#include <latchkey/client/event_collector.hpp>
#include <latchkey/crypto/crypto.hpp>
#include <latchkey/demo/delivery.hpp>
#include <latchkey/demo/hub_status.hpp>
#include <latchkey/demo/sim_hub.hpp>

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace latchkey::attack {

namespace {

constexpr const char* kDoor = "front";
constexpr const char* kCamera = "porch";

int64_t mono_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // the clock latchkeyd's uv_hrtime() reads
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

std::string ms(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(us) / 1000.0);
  return buf;
}

fs::path make_work_dir() {
  std::string pattern = (fs::temp_directory_path() / "latchkey-attack-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a directory " + pattern);
  return pattern;
}

using demo::JsonObject;
using client::json_int;
using client::json_text;

}  // namespace

const char* fault_name(Fault fault) {
  switch (fault) {
    case Fault::kLinkDown: return "link_down";
    case Fault::kLoss: return "loss";
    case Fault::kDelay: return "delay";
    case Fault::kReplay: return "replay";
    case Fault::kFrozen: return "frozen";
    case Fault::kLooped: return "looped";
  }
  return "?";
}

std::optional<Fault> parse_fault(const std::string& name) {
  for (Fault f : kAllFaults)
    if (name == fault_name(f)) return f;
  return std::nullopt;
}

WorldOptions default_world_options() {
  WorldOptions options;
  options.latchkeyd = LATCHKEY_ATTACK_LATCHKEYD;
  options.plugin_dir = LATCHKEY_ATTACK_PLUGIN_DIR;
  options.agent = LATCHKEY_ATTACK_AGENT;
  return options;
}

std::string TrialResult::describe() const {
  std::ostringstream out;
  out << fault_name(fault) << ", door " << (door_open ? "open" : "closed");
  if (!valid) {
    out << ": invalid after " << attempts << " attempt(s): " << invalid_reason;
    return out.str();
  }
  if (!detected) {
    out << ": NOT DETECTED: " << failure;
    return out.str();
  }
  out << ": " << (door_open ? "alarm" : "relock") << " " << ms(delay_us) << " after the last accepted attestation ("
      << cause << "; LIVE ended +" << ms(loss_us - last_accepted_us);
  if (alarm_us) out << ", alarm +" << ms(alarm_us - last_accepted_us);
  if (relock_us) out << ", relock +" << ms(relock_us - last_accepted_us);
  out << ")";
  if (fault == Fault::kReplay) {
    out << "; replayed " << replay_published << ", hub rejected " << replay_rejected << " (";
    bool first = true;
    for (const auto& r : replay_rules) out << (first ? "" : ",") << r, first = false;
    out << ")" << (replay_accepted ? ", ONE WAS ACCEPTED" : "") << (replay_made_live ? ", LIVE AGAIN" : "");
  }
  if (!failure.empty()) out << "; " << failure;
  return out.str();
}

FaultStats summarize(const std::vector<TrialResult>& results) {
  FaultStats s;
  std::vector<int64_t> delays;
  for (const auto& r : results) {
    if (!r.valid) {
      ++s.invalid;
      continue;
    }
    ++s.trials;
    if (!r.detected || !r.within_target || !r.failure.empty()) ++s.misses;
    if (r.detected) delays.push_back(r.delay_us);
  }
  if (delays.empty()) return s;
  std::sort(delays.begin(), delays.end());
  auto rank = [&](double q) {
    const auto n = static_cast<double>(delays.size());
    const auto i = static_cast<std::size_t>(std::max(1.0, std::ceil(q * n))) - 1;
    return static_cast<double>(delays[std::min(i, delays.size() - 1)]) / 1000.0;
  };
  s.p50_ms = rank(0.50);
  s.p99_ms = rank(0.99);
  s.max_ms = static_cast<double>(delays.back()) / 1000.0;
  return s;
}

// ---------------------------------------------------------------------------

struct AttackWorld::Impl {
  enum class Mode { kLive, kFrozen, kLooped };

  WorldOptions options;
  fs::path work_dir;
  std::unique_ptr<testing::NetnsLink> link;
  std::unique_ptr<testing::MosquittoBroker> broker;
  crypto::PublicKey camera_key{};
  fs::path key_file, record_dir, clip;
  std::unique_ptr<demo::SimHub> hub;
  std::unique_ptr<client::ApiClient> api;
  std::unique_ptr<client::EventCollector> events;
  std::unique_ptr<testing::NetnsProcess> agent;
  Mode agent_mode = Mode::kLive;
  bool agent_measures_scene = false;  // an agent with C8's --reference-file
  int agent_runs = 0;
  demo::Courier courier = demo::Courier::make("courier-1");

  // The attacker: reads every attestation with the hub's stolen password,
  // publishes with the camera's stolen password. Both from its namespace.
  std::unique_ptr<MqttPeer> eavesdropper;
  std::unique_ptr<MqttPeer> impostor;
  std::mutex captured_mutex;
  std::deque<std::string> captured;

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }

  std::string attestation_topic() const { return std::string("latchkey/camera/") + kCamera + "/attestation"; }

  void build() {
    work_dir = make_work_dir();
    record_dir = work_dir / "recordings";
    link = std::make_unique<testing::NetnsLink>();
    log("network: hub side " + link->hub_address() + " (bridge " + link->bridge() + "), camera " +
        link->camera_address() + " in " + link->camera_netns() + ", attacker " + link->attacker_address() + " in " +
        link->attacker_netns() + "; faults by " + link->mechanism());

    testing::BrokerOptions broker_options;
    broker_options.address = link->hub_address();  // the hub side of the veth only
    broker_options.cameras = {kCamera};
    broker = std::make_unique<testing::MosquittoBroker>(broker_options);

    // The device key, made by the agent; the hub pins what it printed (C1).
    key_file = work_dir / "porch.key";
    const testing::CommandResult printed =
        testing::run_command({options.agent.string(), "--key-file", key_file.string(), "--print-key"});
    const auto at = printed.output.find("public key: ");
    if (printed.exit_code != 0 || at == std::string::npos)
      throw std::runtime_error("lk-camera-agent --print-key failed: " + printed.output);
    const auto key = crypto::from_hex(printed.output.substr(at + 12, 64));
    if (!key || key->size() != camera_key.size())
      throw std::runtime_error("lk-camera-agent printed no key: " + printed.output);
    std::copy(key->begin(), key->end(), camera_key.begin());
    agent_measures_scene =
        testing::run_command({options.agent.string(), "--help"}).output.find("--reference-file") != std::string::npos;

    demo::SimHubOptions hub_options;
    hub_options.latchkeyd = options.latchkeyd;
    hub_options.plugin_dir = options.plugin_dir;
    hub_options.temp_prefix = "latchkey-attack-hub";
    hub_options.lock_actuation_ms = 50;
    demo::NetCamera camera;
    camera.id = kCamera;
    camera.key = camera_key;
    camera.uri = "mqtt://" + link->hub_address() + ":" + std::to_string(broker->port()) + "/" + kCamera +
                 "?user=hub&password_file=" + broker->password_file("hub").string() +
                 "&period_ms=" + std::to_string(options.agent_period_ms) + "&key=" + crypto::to_hex(camera_key);
    hub_options.doors = {demo::SimDoor{kDoor, {}, {camera}}};
    hub_options.gate = {
        {"nonce_period_ms", std::to_string(options.nonce_period_ms)},
        {"live_timeout_ms", std::to_string(options.live_timeout_ms)},
        {"freeze_window_ms", std::to_string(options.freeze_window_ms)},
        // Room for a loaded machine; neither bears on what is measured.
        {"recording_ack_timeout_ms", "5000"},
        {"lock_command_timeout_ms", "5000"},
    };
    hub = std::make_unique<demo::SimHub>(hub_options);
    if (::getenv("LATCHKEY_KEEP_ATTACK_DIR")) hub->keep_data_dir();
    hub->start();
    connect_api();
    start_agent(Mode::kLive);

    eavesdropper = std::make_unique<MqttPeer>(
        MqttPeerOptions{link->hub_address(), broker->port(), "hub", broker->password("hub"),
                        "atk-read-" + std::to_string(::getpid()), link->attacker_netns()},
        [this](const std::string&, const std::string& payload) {
          std::lock_guard lock(captured_mutex);
          captured.push_back(payload);
          if (captured.size() > 200) captured.pop_front();
        });
    eavesdropper->subscribe(attestation_topic());
    impostor = std::make_unique<MqttPeer>(MqttPeerOptions{link->hub_address(), broker->port(), kCamera,
                                                          broker->password(kCamera),
                                                          "atk-pub-" + std::to_string(::getpid()),
                                                          link->attacker_netns()});
    if (!demo::wait_cameras_live(*api, 30s))
      throw std::runtime_error("the camera never became LIVE through the namespace link\nagent log:\n" +
                               agent->log_tail() + "hub log:\n" + hub->log_tail());
    log("camera LIVE through the link; attacker connected as hub (reading) and as " + std::string(kCamera));
  }

  void connect_api() {
    events.reset();
    api = hub->client();
    events = std::make_unique<client::EventCollector>(hub->endpoint(), hub->token());
    if (!events->wait_connected(5s)) throw std::runtime_error("GET /v1/events: " + events->failure());
  }

  void make_clip() {
    if (!clip.empty()) return;
    clip = work_dir / "clip.mkv";
    // A short, lossless clip of distinct frames, made now (C7: played with --loop).
    const testing::CommandResult r = testing::run_command(
        {"ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         "testsrc2=size=320x240:rate=" + std::to_string(options.clip_rate), "-t",
         std::to_string(options.clip_seconds), "-c:v", "ffv1", clip.string()});
    if (r.exit_code != 0) throw std::runtime_error("ffmpeg could not make the clip: " + r.output);
  }

  void start_agent(Mode mode) {
    std::error_code ec;
    fs::remove_all(record_dir, ec);  // earlier segments are of no use here
    std::vector<std::string> argv = {options.agent.string(), "--camera-id", kCamera, "--broker",
                                     link->hub_address() + ":" + std::to_string(broker->port()), "--password-file",
                                     broker->password_file(kCamera).string(), "--key-file", key_file.string(),
                                     "--record-dir", record_dir.string(), "--period-ms",
                                     std::to_string(options.agent_period_ms)};
    const std::string live = "lavfi:testsrc2=size=320x240:rate=" + std::to_string(options.source_rate);
    if (mode == Mode::kLooped) {
      make_clip();
      argv.insert(argv.end(), {"--source", clip.string(), "--loop"});
    } else {
      argv.insert(argv.end(), {"--source", live});
    }
    // C8: an agent that measures its view needs its reference view, taken
    // from the first frame of its first start (enrolment) and kept; the
    // test picture is well within the hub's default limits.
    if (agent_measures_scene) argv.insert(argv.end(), {"--reference-file", (work_dir / "porch-reference.pgm").string()});
    if (mode == Mode::kFrozen)
      argv.insert(argv.end(), {"--freeze-after", std::to_string(options.freeze_after_s * options.source_rate)});
    ++agent_runs;
    agent = link->spawn(testing::NetnsLink::Side::kCamera, argv, work_dir / "agent.log");
    agent_mode = mode;
  }

  // A new agent run has a new boot id, which the hub refuses until the
  // camera is enrolled again (C3; docs/gate-engine.md "Known limits"):
  // frozen and looped trials restart the hub with it.
  void restart_camera(Mode mode) {
    if (agent) agent->stop(5s);
    events.reset();
    hub->stop();
    hub->start();
    connect_api();
    start_agent(mode);
  }

  JsonObject camera_json() {
    const JsonObject door = demo::door(*api, kDoor);
    const auto cameras = client::json_array(door, "cameras");
    for (std::size_t i = 0; cameras && i < cameras->size(); ++i) {
      const JsonObject c = client::json_object_at(cameras, i);
      if (c && json_text(c, "id") == kCamera) return c;
    }
    return nullptr;
  }

  struct Found {
    JsonObject json;
    std::size_t index = 0;
  };
  std::optional<Found> wait_event(const std::string& name, const std::function<bool(const JsonObject&)>& match,
                                  std::size_t from, std::chrono::milliseconds timeout) {
    std::size_t index = 0;
    const auto event = events->wait_for(
        [&](const client::SseEvent& e) {
          if (e.name != name) return false;
          const JsonObject j = e.json();
          return j && match(j);
        },
        timeout, from, &index);
    if (!event) return std::nullopt;
    return Found{event->json(), index};
  }

  // The hub's last words on the camera, for failure messages: its state
  // and the last few rejections it audited.
  std::string camera_story() {
    std::string text;
    try {
      const JsonObject cam = camera_json();
      text = "camera: accepted " + json_text(cam, "accepted") + ", rejected " + json_text(cam, "rejected") +
             ", last accepted " + json_text(cam, "last_accepted_age_ms") + " ms ago";
    } catch (const std::exception& e) {
      text = std::string("camera: ") + e.what();
    }
    std::deque<std::string> last;
    for (const auto& e : events->events()) {
      if (e.name != "audit") continue;
      const JsonObject j = e.json();
      if (!j || json_text(j, "subject") != kCamera) continue;
      last.push_back(json_text(j, "type") + " " + json_text(j, "rule") + " " + json_text(j, "detail"));
      if (last.size() > 4) last.pop_front();
    }
    for (const auto& l : last) text += "; " + l;
    return text;
  }

  // Opens a delivery session; false with the reason when it could not.
  // granted_from: the event index just before the unlock request (U1 needs
  // the camera LIVE at the decision, so no loss before it matters).
  bool open_session(bool door_open, std::string& session, std::size_t& granted_from, std::string& why) {
    if (!demo::wait_cameras_live(*api, 30s)) {
      why = "the camera did not become LIVE (" + camera_story() + ")";
      return false;
    }
    // Settled: LIVE with no rejection for a second (after a mended link,
    // the attestations TCP held back arrive late and are rejected for a
    // moment, C2/C3). Not a measurement: only the start of the trial.
    for (int i = 0;; ++i) {
      const int64_t rejected = json_int(camera_json(), "rejected");
      std::this_thread::sleep_for(1s);
      const JsonObject cam = camera_json();
      if (client::json_true(cam, "live") && json_int(cam, "rejected") == rejected) break;
      if (i == 30) {
        why = "the camera did not settle (" + camera_story() + ")";
        return false;
      }
    }
    if (!demo::wait_door_idle(*api, kDoor, "locked", "closed", 10s)) {
      why = "the door did not return to locked and closed with no session";
      return false;
    }
    const client::MintedGrant grant = demo::mint_grant_for(*hub, kDoor, courier);
    granted_from = events->size();
    const client::UnlockAnswer answer = demo::present_grant(*api, kDoor, grant.signed_grant, courier);
    if (!answer.allowed) {
      why = "unlock denied: " + answer.rule + " " + answer.error + " (" + camera_story() + ")";
      return false;
    }
    session = answer.session;
    if (!demo::wait_until([&] { return json_text(demo::door(*api, kDoor), "lock_state") == "unlocked"; }, 5s)) {
      why = "the lock never reported unlocked";
      return false;
    }
    if (door_open) {
      const auto r = api->door_action(kDoor, "open");
      if (r.status != 200) {
        why = "door action open: " + r.body;
        return false;
      }
      if (!demo::wait_until([&] { return json_text(demo::door(*api, kDoor), "door_state") == "open"; }, 5s)) {
        why = "the door never reported open";
        return false;
      }
      // Still open: LIVE did not end (frozen, looped) before the door opened.
      if (client::json_object(demo::door(*api, kDoor), "session").isNull()) {
        why = "the session ended before the door opened";
        return false;
      }
    }
    return true;
  }

  std::vector<std::string> last_captured(std::size_t n) {
    std::lock_guard lock(captured_mutex);
    const std::size_t take = std::min(n, captured.size());
    return {captured.end() - static_cast<std::ptrdiff_t>(take), captured.end()};
  }

  // After an invalid attempt: the link mended, a session left open ended
  // the ordinary way (one door cycle, relock: U8), the door locked and closed.
  void tidy() {
    try {
      link->clear_faults();
      JsonObject d = demo::door(*api, kDoor);
      if (json_text(d, "door_state") == "open") api->door_action(kDoor, "close");
      d = demo::door(*api, kDoor);
      if (!client::json_object(d, "session").isNull()) {
        api->door_action(kDoor, "open");
        api->door_action(kDoor, "close");
      }
      demo::wait_door_idle(*api, kDoor, "locked", "closed", 10s);
    } catch (const std::exception& e) {
      log(std::string("tidying up after an invalid attempt: ") + e.what());
    }
  }

  TrialResult attempt(Fault fault, bool door_open) {
    TrialResult r;
    r.fault = fault;
    r.door_open = door_open;
    const bool replay = fault == Fault::kReplay;

    if (fault == Fault::kFrozen) restart_camera(Mode::kFrozen);
    else if (fault == Fault::kLooped) restart_camera(Mode::kLooped);
    else if (agent_mode != Mode::kLive || !agent->running()) restart_camera(Mode::kLive);

    std::string session;
    std::size_t granted_from = 0;
    if (!open_session(door_open, session, granted_from, r.invalid_reason)) return r;

    // The fault. Frozen and looped need none: the agent was started so that
    // its freeze or its loop begins a few seconds in, after the unlock.
    std::size_t from = events->size();
    int64_t rejected_before = 0;
    std::vector<std::string> replays;
    if (replay) {
      rejected_before = json_int(camera_json(), "rejected");
      replays = last_captured(static_cast<std::size_t>(options.replay_count));
      if (replays.size() < static_cast<std::size_t>(options.replay_count)) {
        r.invalid_reason = "only " + std::to_string(replays.size()) + " attestations captured";
        return r;
      }
    }
    if (fault == Fault::kFrozen || fault == Fault::kLooped) from = granted_from;
    r.fault_us = mono_us();
    std::thread replayer;
    std::atomic<int> published{0};
    switch (fault) {
      case Fault::kLinkDown: link->link_down(); break;
      case Fault::kLoss: link->loss(100); break;
      case Fault::kDelay: link->delay(options.delay); break;
      case Fault::kReplay:
        // The real camera is cut off; the attacker, on the same segment,
        // plays back what it recorded, with the camera's own credentials.
        link->link_down();
        replayer = std::thread([&] {
          for (const std::string& payload : replays) {
            if (impostor->publish(attestation_topic(), payload)) ++published;
            std::this_thread::sleep_for(std::chrono::milliseconds(options.agent_period_ms));
          }
        });
        break;
      case Fault::kFrozen:
      case Fault::kLooped: break;
    }

    // The hub's account of it.
    const auto loss_timeout = (fault == Fault::kFrozen || fault == Fault::kLooped)
                                  ? std::chrono::milliseconds((options.freeze_after_s + options.clip_seconds) * 1000 +
                                                              options.freeze_window_ms + 15'000)
                                  : 15'000ms;
    const auto loss = wait_event(
        "camera", [](const JsonObject& j) { return json_text(j, "camera") == kCamera && json_text(j, "live") == "false"; },
        from, loss_timeout);
    if (!loss) {
      r.valid = true;
      r.failure = "the camera never stopped being LIVE";
    } else {
      r.loss_us = json_int(loss->json, "mono_us");
      r.last_accepted_us = json_int(loss->json, "last_accepted_mono_us");
      // A loss before the fault (a hiccup between the checks and the fault)
      // proves nothing about the fault.
      if (fault != Fault::kFrozen && fault != Fault::kLooped && r.loss_us < r.fault_us) {
        r.invalid_reason = "the camera stopped being LIVE before the fault was applied";
      } else {
        const auto is_u5_alarm = [](const JsonObject& j) {
          return json_text(j, "rule") == "U5" && json_text(j, "door") == kDoor;
        };
        const auto alarm = wait_event("alarm", is_u5_alarm, from, 5s);
        std::optional<Found> relock;
        const auto is_u5_relock = [](const JsonObject& j) {
          return json_text(j, "door") == kDoor && json_text(j, "command") == "lock" && json_text(j, "rule") == "U5";
        };
        if (!door_open) relock = wait_event("door", is_u5_relock, from, 5s);
        if (!alarm) {
          // No U5: the session was not open when LIVE ended (frozen or
          // looped before the unlock) - not a trial of U5 at all.
          const auto denied = wait_event(
              "alarm", [](const JsonObject& j) { return json_text(j, "door") == kDoor; }, from, 100ms);
          r.invalid_reason = "no U5 alarm (was the session open?)";
          if (denied) r.invalid_reason += "; alarm " + json_text(denied->json, "rule");
        } else {
          r.valid = true;
          r.alarm_us = json_int(alarm->json, "mono_us");
          if (relock) r.relock_us = json_int(relock->json, "mono_us");
          if (door_open && wait_event("door", is_u5_relock, from, 10ms)) r.failure = "relocked while the door was open";
          if (!door_open && !relock) r.failure = "no U5 relock command with the door closed";
          r.detected = door_open ? r.alarm_us != 0 : r.relock_us != 0;
          r.action_us = door_open ? r.alarm_us : r.relock_us;
          r.delay_us = r.action_us - r.last_accepted_us;
          r.within_target = r.detected && r.last_accepted_us > 0 &&
                            r.delay_us <= (options.live_timeout_ms + 50) * 1000;
          // What ended LIVE: silence past live_timeout, or a rejection.
          if (r.loss_us - r.last_accepted_us >= options.live_timeout_ms * 1000 - 1000) {
            r.cause = "timeout";
          } else {
            // The rejection that ended it: the first one after the camera
            // last became LIVE (earlier ones, e.g. a new agent's before its
            // first nonce, ended nothing).
            std::size_t since = from;
            const auto all = events->events();
            for (std::size_t k = from; k < loss->index && k < all.size(); ++k) {
              if (all[k].name == "camera" && all[k].data.find("\"live\":true") != std::string::npos) since = k + 1;
            }
            const auto rejection = wait_event(
                "audit",
                [](const JsonObject& j) {
                  return json_text(j, "type") == "attestation_rejected" && json_text(j, "subject") == kCamera;
                },
                since, 1s);
            r.cause = rejection ? "rejected " + json_text(rejection->json, "rule") + ": " +
                                      json_text(rejection->json, "detail")
                                : "rejected (no audit record seen)";
          }
        }
      }
    }

    if (replayer.joinable()) {
      replayer.join();
      r.replay_published = published.load();
      // Let the hub judge the last ones, then look: nothing accepted since
      // the cut, nothing LIVE again, every replay rejected, for C2/C3.
      std::this_thread::sleep_for(300ms);
      const JsonObject cam = camera_json();
      r.replay_rejected = json_int(cam, "rejected") - rejected_before;
      const int64_t age_ms = json_int(cam, "last_accepted_age_ms", -1);
      const int64_t last_accepted_now_us = mono_us() - age_ms * 1000;
      r.replay_accepted = age_ms < 0 || (r.last_accepted_us != 0 && last_accepted_now_us - r.last_accepted_us > 50'000);
      r.replay_made_live =
          wait_event(
              "camera",
              [](const JsonObject& j) { return json_text(j, "camera") == kCamera && json_text(j, "live") == "true"; },
              from, 1ms)
              .has_value();
      const auto all = events->events();
      for (std::size_t k = from; k < all.size(); ++k) {
        if (all[k].name != "audit") continue;
        const JsonObject j = all[k].json();
        if (j && json_text(j, "type") == "attestation_rejected" && json_text(j, "subject") == kCamera)
          r.replay_rules.insert(json_text(j, "rule"));
      }
      if (r.valid && r.detected) {
        if (r.replay_accepted) r.failure += (r.failure.empty() ? "" : "; ") + std::string("a replay was accepted");
        if (r.replay_made_live) r.failure += (r.failure.empty() ? "" : "; ") + std::string("replays made it LIVE");
        if (r.replay_rejected < r.replay_published)
          r.failure += (r.failure.empty() ? "" : "; ") + std::to_string(r.replay_published) + " replayed, only " +
                       std::to_string(r.replay_rejected) + " rejected";
        for (const auto& rule : r.replay_rules)
          if (rule != "C2" && rule != "C3")
            r.failure += (r.failure.empty() ? "" : "; ") + std::string("replay rejected for ") + rule;
      }
    }

    // Back to normal: the link mended, the door closed (relock), no session.
    link->clear_faults();
    if (door_open) api->door_action(kDoor, "close");
    if (!session.empty()) demo::wait_session_end(*api, session, "compromised", 10s);
    demo::wait_door_idle(*api, kDoor, "locked", "closed", 10s);
    return r;
  }
};

AttackWorld::AttackWorld(WorldOptions options) : impl_(std::make_unique<Impl>()), options_(options) {
  impl_->options = std::move(options);
  impl_->build();
}

AttackWorld::~AttackWorld() {
  if (!impl_) return;
  impl_->impostor.reset();
  impl_->eavesdropper.reset();
  if (impl_->agent) impl_->agent->stop(std::chrono::milliseconds(5000));
  impl_->events.reset();
  impl_->api.reset();
  impl_->hub.reset();
  impl_->broker.reset();
  impl_->link.reset();
  std::error_code ec;
  if (!impl_->work_dir.empty() && !::getenv("LATCHKEY_KEEP_ATTACK_DIR")) fs::remove_all(impl_->work_dir, ec);
}

TrialResult AttackWorld::run(Fault fault, bool door_open) {
  TrialResult r;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    r = impl_->attempt(fault, door_open);
    r.attempts = attempt;
    if (r.valid) break;
    impl_->log(std::string("  ") + fault_name(fault) + ": attempt " + std::to_string(attempt) +
               " invalid: " + r.invalid_reason);
    impl_->tidy();
  }
  return r;
}

std::filesystem::path AttackWorld::camera_key_file() const { return impl_->key_file; }
std::filesystem::path AttackWorld::hub_data_dir() const { return impl_->hub->data_dir(); }

std::vector<std::string> AttackWorld::send_bad_messages() {
  Impl& w = *impl_;
  // Only records after this point count.
  const auto newest = w.api->get("/v1/audit?limit=1").json()->getArray("records");
  const int64_t after = newest->size() ? newest->getObject(0)->getValue<int64_t>("seq") : 0;
  w.eavesdropper->publish(w.attestation_topic(), std::string(100, 'x'));
  w.impostor->publish(w.attestation_topic(), std::string(2000, 'y'));
  std::vector<std::string> found;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    found.clear();
    bool foreign = false, oversized = false;
    const auto records =
        w.api->get("/v1/audit?from=" + std::to_string(after + 1) + "&limit=1000").json()->getArray("records");
    for (std::size_t i = 0; i < records->size(); ++i) {
      const auto r = records->getObject(static_cast<unsigned>(i));
      if (r->getValue<std::string>("type") != "message_refused") continue;
      const std::string detail = r->getValue<std::string>("detail");
      found.push_back(r->getValue<std::string>("rule") + ": " + detail);
      foreign = foreign || detail.rfind("foreign: ", 0) == 0;
      oversized = oversized || detail.rfind("oversized: ", 0) == 0;
    }
    if (foreign && oversized) break;
    std::this_thread::sleep_for(100ms);
  }
  return found;
}

std::string AttackWorld::describe_setup() const {
  const auto& l = *impl_->link;
  std::ostringstream out;
  out << "hub side " << l.hub_address() << " (root namespace, bridge " << l.bridge() << ", broker port "
      << impl_->broker->port() << "), camera " << l.camera_address() << " (" << l.camera_netns() << "), attacker "
      << l.attacker_address() << " (" << l.attacker_netns() << "); faults by " << l.mechanism()
      << "; nonce_period " << options_.nonce_period_ms << " ms, live_timeout " << options_.live_timeout_ms
      << " ms, freeze_window " << options_.freeze_window_ms << " ms; agent period " << options_.agent_period_ms
      << " ms at " << options_.source_rate << " frames/s";
  return out.str();
}

std::string AttackWorld::diagnostics() const {
  std::string text;
  if (impl_->agent) text += "agent log (" + impl_->agent->log_file().string() + "):\n" + impl_->agent->log_tail(25);
  if (impl_->hub) text += "latchkeyd log (" + impl_->hub->log_file().string() + "):\n" + impl_->hub->log_tail(40);
  return text;
}

}  // namespace latchkey::attack
