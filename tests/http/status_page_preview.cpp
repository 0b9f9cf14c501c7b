// status_page_preview: serves the status page on 127.0.0.1 from a fake hub
// with two doors, three cameras, sessions, alarms and audit records, and emits
// an event every second, so the page can be looked at (and screenshotted by a
// headless browser) without a running hub. Not a test; nothing runs it.
//
//   status_page_preview [port]   then open http://127.0.0.1:<port>/#token=preview
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fake_hub_api.hpp"
#include "latchkey/hub/api_server.hpp"

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

using namespace latchkey::hub;

Bytes from_hex(const std::string& hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

CameraStatus camera(const std::string& id, bool live, int64_t age_ms, uint64_t counter, const std::string& recording) {
  CameraStatus c;
  c.id = id;
  c.live = live;
  c.last_accepted_age_ms = age_ms;
  c.counter = counter;
  c.recording_session = from_hex(recording);
  c.accepted = counter;
  if (live) c.scene = SceneMeasures{112, 640, 93};
  return c;
}

OpenSession garage_session() {
  return {from_hex("9f2c41d07be35a18"), "garage", from_hex("5b0e77a1c2d3"), "c0ffee01d2e3f4a5", true, 1, {"drive"}};
}

std::vector<DoorStatus> doors() {
  DoorStatus front{"front", LockState::kLocked, DoorState::kClosed, false, 0, std::nullopt,
                   {camera("porch", true, 180, 48213, ""), camera("hall", false, 12400, 9921, "")}};
  DoorStatus garage{"garage", LockState::kUnlocked, DoorState::kOpen, false, 42000, garage_session(),
                    {camera("drive", true, 95, 120877, "9f2c41d07be35a18")}};
  return {front, garage};
}

Sessions sessions() {
  Sessions s;
  s.open.push_back(garage_session());
  s.ended.push_back({"71aa03be99c2d410", "front", latchkey::Rule::U5, "ended compromised: camera hall lost", SessionEnd::kCompromised});
  s.ended.push_back({"0e4d2b8f11a7c5e3", "front", latchkey::Rule::U8, "completed: locked and closed", SessionEnd::kCompleted});
  return s;
}

std::vector<Alarm> alarms() {
  return {{1, 1764324000000, latchkey::Rule::C6, "front", "hall", "camera not LIVE for 10 s outside a delivery", 0},
          {2, 1764324060000, latchkey::Rule::U5, "front", "hall", "camera lost during session; door open, relock when closed", 0},
          {3, 1764324120000, latchkey::Rule::G4, "garage", "", "5 rejected unlock requests in 10 min: remote unlock locked for 60 s", 0}};
}

std::vector<AuditRecord> audit() {
  return {{1, 1764323900000, "decision", latchkey::Rule::U3, "front", "grant 4c2f9d1e0b8a", "allow; cameras porch@48011 hall@9870", "4c2f9d1e0b8a", {0xaa}},
          {2, 1764323960000, "session", latchkey::Rule::U8, "front", "session 0e4d2b8f11a7c5e3", "completed: locked and closed", "", {0xbb}},
          {3, 1764324000000, "alarm", latchkey::Rule::C6, "front", "camera hall", "not LIVE 10 s", "", {0xcc}},
          {4, 1764324100000, "decision", latchkey::Rule::G1, "garage", "grant 11aa22bb33cc", "deny: grant expired", "", {0xdd}},
          {5, 1764324130000, "attestation", latchkey::Rule::C2, "", "camera drive", "rejected: nonce too old", "", {0xee}}};
}

}  // namespace

int main(int argc, char** argv) {
  latchkey::hub::testing::FakeHubApi hub;
  hub.answer([](latchkey::hub::testing::FakeHubApi::Answers& a) {
    a.doors = doors();
    a.sessions = sessions();
    a.alarms = alarms();
    a.audit = audit();
  });
  std::string port = argc > 1 ? argv[1] : "0";
  latchkey::hub::ApiServer server(hub, {.address = "127.0.0.1:" + port, .token = "preview"});
  server.start();
  std::printf("status_page_preview: http://127.0.0.1:%u/#token=preview\n", server.port());
  std::fflush(stdout);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  for (int tick = 0; !g_stop; ++tick) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    hub.emit(CameraLiveness{"porch", tick % 2 == 0, tick * 1'000'000LL, std::nullopt});
  }
  server.stop();
  return 0;
}
