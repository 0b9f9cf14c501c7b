#include "real_camera.hpp"

#include "mosquitto_broker.hpp"

#include <latchkey/client/api_json.hpp>
#include <latchkey/client/event_text.hpp>
#include <latchkey/demo/daemon_process.hpp>
#include <latchkey/demo/delivery.hpp>
#include <latchkey/demo/hub_status.hpp>

#include <chrono>
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
  latchkey::testing::BrokerOptions options;
  options.cameras = {kCamera};
  broker_ = std::make_unique<latchkey::testing::MosquittoBroker>(options);
  timeline.act("setup", "Mosquitto (the hub's broker) on 127.0.0.1:" + std::to_string(broker_->port()) +
                            ": no anonymous clients, a password per camera, ACL per camera topic");

  const fs::path key_file = dir / "drive.key";
  const crypto::PublicKey key = key_printed_by(agent, key_file, dir / "agent-print-key.log");
  timeline.act("camera", "lk-camera-agent created its device key " + key_file.string() + " (0600); public key " +
                             crypto::to_hex(key));
  record_dir_ = dir / "recordings";
  const std::string source = "lavfi:testsrc2=size=640x360:rate=15";
  agent_.start({agent.string(), "--camera-id", kCamera, "--source", source, "--broker",
                "127.0.0.1:" + std::to_string(broker_->port()), "--password-file",
                broker_->password_file(kCamera).string(), "--key-file", key_file.string(), "--record-dir",
                record_dir_.string(), "--period-ms", "100", "--reference-file", (dir / "reference.pgm").string()},
               dir / "agent.log");
  timeline.act("camera", "lk-camera-agent (pid " + std::to_string(agent_.pid()) + ") films " + source +
                             ", decodes every frame with FFmpeg, measures its view against the "
                             "reference it takes at first start (C8) and signs an attestation every 100 ms");

  camera_.id = kCamera;
  camera_.key = key;
  camera_.uri = "mqtt://127.0.0.1:" + std::to_string(broker_->port()) + "/" + kCamera +
                "?user=hub&password_file=" + broker_->password_file("hub").string() + "&key=" + crypto::to_hex(key);
  timeline.act("setup", "enrolled camera drive: the hub pins the key the agent printed; its plugin relays, "
                        "it holds no key");
}

RealCamera::~RealCamera() {
  agent_.stop(5s);
  broker_.reset();
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

}  // namespace lkdemo
