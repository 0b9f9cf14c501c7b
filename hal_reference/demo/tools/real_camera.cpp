#include "real_camera.hpp"

#include "mosquitto_broker.hpp"
#include "netns_link.hpp"

#include <latchkey/client/api_json.hpp>
#include <latchkey/client/event_text.hpp>
#include <latchkey/demo/daemon_process.hpp>
#include <latchkey/demo/delivery.hpp>
#include <latchkey/demo/hub_status.hpp>

#include <latchkey/client/event_collector.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

namespace lkdemo {

namespace client = latchkey::client;
namespace crypto = latchkey::crypto;
namespace demo = latchkey::demo;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The public key line the agent prints ("public key: <64 hex digits>").
crypto::PublicKey key_printed_by(const fs::path& agent, const fs::path& key_file, const fs::path& log) {
  demo::ChildProcess print;
  print.start({agent.string(), "--key-file", key_file.string(), "--print-key"}, log);
  const int status = print.wait(10s);
  std::ifstream in(log);
  std::string line, hex;
  while (std::getline(in, line)) {
    if (line.rfind("public key: ", 0) == 0) hex = line.substr(12);
  }
  const auto bytes = crypto::from_hex(hex);
  if (status != 0 || !bytes || bytes->size() != 32) {
    throw demo::DaemonError("lk-camera-agent --print-key failed (status " + std::to_string(status) + "):\n" +
                            demo::file_tail(log, 10));
  }
  crypto::PublicKey key{};
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

}  // namespace

RealCamera::RealCamera(const fs::path& agent, const fs::path& dir, Timeline& timeline) {
  fs::create_directories(dir);
  // Where the 2017 attack hit: the camera's own link. A network namespace
  // for the camera, joined to the hub's by a veth pair, where the machine
  // lets us make one.
  if (const auto why = latchkey::testing::netns_unavailable_reason()) link_unavailable_ = *why;
  if (link_unavailable_.empty()) {
    try {
      latchkey::testing::NetnsLinkOptions link_options;
      link_options.attacker = false;
      link_ = std::make_unique<latchkey::testing::NetnsLink>(link_options);
    } catch (const std::exception& e) {
      link_unavailable_ = e.what();
    }
  }
  latchkey::testing::BrokerOptions options;
  options.cameras = {kCamera};
  if (link_) options.address = link_->hub_address();
  broker_ = std::make_unique<latchkey::testing::MosquittoBroker>(options);
  const std::string broker_at = broker_->address() + ":" + std::to_string(broker_->port());
  timeline.act("setup", "Mosquitto (the hub's broker) on " + broker_at +
                            ": no anonymous clients, a password per camera, ACL per camera topic");
  if (link_) {
    timeline.act("setup", "the camera gets its own network namespace " + link_->camera_netns() + " (" +
                              link_->camera_address() + "), joined to the hub's by a veth pair");
  } else {
    timeline.act("setup", "no network namespace for the camera (" + link_unavailable_ +
                              "): the agent runs on this machine's loopback and part g is skipped");
  }

  const fs::path key_file = dir / "drive.key";
  const crypto::PublicKey key = key_printed_by(agent, key_file, dir / "agent-print-key.log");
  timeline.act("camera", "lk-camera-agent created its device key " + key_file.string() + " (0600); public key " +
                             crypto::to_hex(key));
  record_dir_ = dir / "recordings";
  const std::string source = "lavfi:testsrc2=size=640x360:rate=15";
  const std::vector<std::string> argv = {
      agent.string(), "--camera-id", kCamera, "--source", source, "--broker", broker_at, "--password-file",
      broker_->password_file(kCamera).string(), "--key-file", key_file.string(), "--record-dir",
      record_dir_.string(), "--period-ms", "100", "--reference-file", (dir / "reference.pgm").string()};
  int pid = 0;
  if (link_) {
    netns_agent_ = link_->spawn(latchkey::testing::NetnsLink::Side::kCamera, argv, dir / "agent.log");
    pid = netns_agent_->pid();
  } else {
    agent_.start(argv, dir / "agent.log");
    pid = agent_.pid();
  }
  timeline.act("camera", "lk-camera-agent (pid " + std::to_string(pid) + ") films " + source +
                             ", decodes every frame with FFmpeg, measures its view against the "
                             "reference it takes at first start (C8) and signs an attestation every 100 ms");

  camera_.id = kCamera;
  camera_.key = key;
  camera_.uri = "mqtt://" + broker_at + "/" + kCamera +
                "?user=hub&password_file=" + broker_->password_file("hub").string() + "&key=" + crypto::to_hex(key);
  timeline.act("setup", "enrolled camera drive: the hub pins the key the agent printed; its plugin relays, "
                        "it holds no key");
}

RealCamera::~RealCamera() {
  agent_.stop(5s);
  if (netns_agent_) netns_agent_->stop();
  netns_agent_.reset();
  broker_.reset();
  link_.reset();
}

demo::SimDoor RealCamera::door() const { return {kDoor, {}, {camera_}}; }

void real_camera_delivery(Demo& d, RealCamera& camera) {
  d.timeline.step("f. A delivery watched by a real camera agent, through Mosquitto");
  const auto live_from = std::chrono::steady_clock::now();
  const bool live = demo::wait_cameras_live(d.api, 10s);
  d.timeline.check(live, "camera drive LIVE from the agent's own signatures (C1-C4)",
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - live_from).count()) + " ms");
  if (!live) return;
  const client::MintedGrant grant = demo::mint_grant_for(d.hub, RealCamera::kDoor, d.courier, {}, {RealCamera::kCamera});
  d.timeline.act("courier", "delivery: grant " + client::short_id(crypto::to_hex(grant.grant_id), 16) +
                                " at door garage (challenge, proof, unlock request)");
  const client::UnlockAnswer answer = demo::present_grant(d.api, RealCamera::kDoor, grant.signed_grant, d.courier);
  if (!d.timeline.check(answer.allowed, "unlock allowed after the agent acknowledged recording (U2)",
                        answer.allowed ? "" : answer.rule + ": " + answer.error))
    return;
  const auto door_is = [&](const std::string& lock, const std::string& state) {
    return demo::wait_until(
        [&] {
          const auto json = demo::door(d.api, RealCamera::kDoor);
          return json && client::json_text(json, "lock_state") == lock && client::json_text(json, "door_state") == state;
        },
        5s);
  };
  d.timeline.check(door_is("unlocked", "closed"), "the lock reports unlocked");
  d.timeline.act("world", "door garage: open, then close (test control)");
  d.api.door_action(RealCamera::kDoor, "open");
  std::this_thread::sleep_for(1s);  // a second of the courier in the hall, on the recording
  d.api.door_action(RealCamera::kDoor, "close");
  d.timeline.check(door_is("locked", "closed"), "the hub relocked after the door closed (U8)");
  const auto ended = demo::wait_session_end(d.api, answer.session, "completed", 5s);
  d.timeline.check(!ended.isNull(), "session " + client::short_id(answer.session, 16) + " completed");

  // The recording is a real file on the camera's side.
  std::uintmax_t bytes = 0;
  std::string name;
  for (int i = 0; i < 50 && bytes == 0; ++i) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(camera.record_dir(), ec)) {
      if (entry.path().filename().string().rfind(answer.session.substr(0, 32), 0) == 0) {
        name = entry.path().filename().string();
        bytes = entry.file_size(ec);
      }
    }
    if (bytes == 0) std::this_thread::sleep_for(100ms);
  }
  d.timeline.check(bytes > 0, "the agent recorded the session to a real file",
                   bytes > 0 ? name + ", " + std::to_string(bytes) + " bytes" : "nothing in " + camera.record_dir().string());
}

void link_cut(Demo& d, RealCamera& camera) {
  d.timeline.step("g. The 2017 attack on the camera's link, during a delivery (U5)");
  if (!camera.link()) {
    d.timeline.note("skipped: " + camera.link_unavailable() +
                    " (run as root, or with CAP_NET_ADMIN, to cut a real link)");
    return;
  }
  if (!d.timeline.check(demo::wait_cameras_live(d.api, 10s), "camera drive LIVE")) return;
  client::EventCollector events(d.hub.endpoint(), d.hub.token());
  if (!d.timeline.check(events.wait_connected(5s), "following /v1/events for the hub's own times")) return;
  const client::MintedGrant grant = demo::mint_grant_for(d.hub, RealCamera::kDoor, d.courier, {}, {RealCamera::kCamera});
  const client::UnlockAnswer answer = demo::present_grant(d.api, RealCamera::kDoor, grant.signed_grant, d.courier);
  if (!d.timeline.check(answer.allowed, "delivery at garage: unlock allowed", answer.allowed ? "" : answer.error))
    return;
  const std::size_t from = events.size();
  d.timeline.act("attacker", "takes the camera's link down (ip link set " + camera.link()->camera_port() +
                                 " down): the deauthentication flood of 2017");
  camera.link()->link_down();
  const auto lost = events.wait_for(
      [](const client::SseEvent& e) {
        const auto j = e.json();
        return e.name == "camera" && client::json_text(j, "camera") == RealCamera::kCamera &&
               client::json_text(j, "live") == "false";
      },
      5s, from);
  const auto relock = events.wait_for(
      [](const client::SseEvent& e) {
        const auto j = e.json();
        return e.name == "door" && client::json_text(j, "door") == RealCamera::kDoor &&
               client::json_text(j, "command") == "lock";
      },
      5s, from);
  camera.link()->clear_faults();
  d.timeline.act("world", "the link comes back");
  if (!d.timeline.check(lost.has_value() && relock.has_value(), "camera drive not LIVE and the hub relocked (U5)"))
    return;
  const int64_t last_accepted = client::json_int(lost->json(), "last_accepted_mono_us");
  const int64_t relocked = client::json_int(relock->json(), "mono_us");
  const double delay_ms = static_cast<double>(relocked - last_accepted) / 1000.0;
  const double target_ms = std::stod(d.hub.options().gate.at("live_timeout_ms")) + 50.0;
  char text[160];
  std::snprintf(text, sizeof text, "%.1f ms from the last accepted attestation to the relock command (target %.0f ms)",
                delay_ms, target_ms);
  d.timeline.check(last_accepted > 0 && delay_ms <= target_ms, "relock within the U5 target, on the hub's clock",
                   text);
  const auto ended = demo::wait_session_end(d.api, answer.session, "compromised", 5s);
  d.timeline.check(!ended.isNull(), "session " + client::short_id(answer.session, 16) + " compromised (U5)");
  d.timeline.check(demo::wait_cameras_live(d.api, 15s), "camera drive LIVE again after the link came back");
}

}  // namespace lkdemo
