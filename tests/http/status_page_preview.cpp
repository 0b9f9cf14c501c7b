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
#include <string>
#include <thread>

#include "fake_hub_api.hpp"
#include "latchkey/hub/api_server.hpp"

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

const char* kDoors = R"({"doors":[
 {"id":"front","lock_state":"locked","door_state":"closed","lock_faulted":false,"lockout_remaining_ms":0,"session":null,
  "cameras":[{"id":"porch","live":true,"last_accepted_age_ms":180,"counter":48213,"recording_session":null},
             {"id":"hall","live":false,"last_accepted_age_ms":12400,"counter":9921,"recording_session":null}]},
 {"id":"garage","lock_state":"unlocked","door_state":"open","lock_faulted":false,"lockout_remaining_ms":42000,
  "session":{"session":"9f2c41d07be35a18","door":"garage","end":"open"},
  "cameras":[{"id":"drive","live":true,"last_accepted_age_ms":95,"counter":120877,"recording_session":"9f2c41d07be35a18"}]}]})";

const char* kSessions = R"({"sessions":[
 {"session":"9f2c41d07be35a18","door":"garage","grant":"5b0e77a1c2d3","courier":"c0ffee01d2e3f4a5","cameras":["drive"],"unlocked":true,"door_opens":1,"end":"open","rule":null},
 {"session":"71aa03be99c2d410","door":"front","grant":"aa19e0b2c3d4","courier":"c0ffee01d2e3f4a5","cameras":["porch","hall"],"unlocked":true,"door_opens":1,"end":"compromised","rule":"U5"},
 {"session":"0e4d2b8f11a7c5e3","door":"front","grant":"4c2f9d1e0b8a","courier":"be11a0c4d5e6f7a8","cameras":["porch","hall"],"unlocked":true,"door_opens":1,"end":"completed","rule":null}]})";

const char* kAlarms = R"({"alarms":[
 {"id":1,"time_ms":1764324000000,"rule":"C6","door":"front","camera":"hall","message":"camera not LIVE for 10 s outside a delivery"},
 {"id":2,"time_ms":1764324060000,"rule":"U5","door":"front","camera":"hall","message":"camera lost during session; door open, relock when closed"},
 {"id":3,"time_ms":1764324120000,"rule":"G4","door":"garage","camera":null,"message":"5 rejected unlock requests in 10 min: remote unlock locked for 60 s"}]})";

const char* kAudit = R"({"records":[
 {"seq":0,"wall_ms":1764323900000,"type":"decision","rule":"U3","door":"front","subject":"grant 4c2f9d1e0b8a","detail":"allow; cameras porch@48011 hall@9870","hash":"aa"},
 {"seq":1,"wall_ms":1764323960000,"type":"session","rule":"U8","door":"front","subject":"session 0e4d2b8f11a7c5e3","detail":"completed: locked and closed","hash":"bb"},
 {"seq":2,"wall_ms":1764324000000,"type":"alarm","rule":"C6","door":"front","subject":"camera hall","detail":"not LIVE 10 s","hash":"cc"},
 {"seq":3,"wall_ms":1764324100000,"type":"decision","rule":"G1","door":"garage","subject":"grant 11aa22bb33cc","detail":"deny: grant expired","hash":"dd"},
 {"seq":4,"wall_ms":1764324130000,"type":"attestation","rule":"C2","door":null,"subject":"camera drive","detail":"rejected: nonce too old","hash":"ee"}]})";

}  // namespace

int main(int argc, char** argv) {
  using latchkey::hub::ApiResponse;
  latchkey::hub::testing::FakeHubApi hub;
  hub.answer("doors", ApiResponse{200, kDoors});
  hub.answer("sessions", ApiResponse{200, kSessions});
  hub.answer("alarms", ApiResponse{200, kAlarms});
  hub.answer("audit", ApiResponse{200, kAudit});
  std::string port = argc > 1 ? argv[1] : "0";
  latchkey::hub::ApiServer server(hub, {.address = "127.0.0.1:" + port, .token = "preview"});
  server.start();
  std::printf("status_page_preview: http://127.0.0.1:%u/#token=preview\n", server.port());
  std::fflush(stdout);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  for (int tick = 0; !g_stop; ++tick) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    hub.emit("camera", "{\"camera\":\"porch\",\"live\":true,\"tick\":" + std::to_string(tick) + "}");
  }
  server.stop();
  return 0;
}
