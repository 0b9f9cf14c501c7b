#include "demo_steps.hpp"

#include <latchkey/client/api_json.hpp>
#include <latchkey/client/event_text.hpp>
#include <latchkey/demo/hub_status.hpp>

#include <signal.h>

#include <chrono>
#include <thread>

namespace lkdemo {

namespace client = latchkey::client;
namespace crypto = latchkey::crypto;
namespace demo = latchkey::demo;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kFront = "front";
constexpr const char* kBack = "back";
constexpr const char* kPorch = "porch";
constexpr const char* kYard = "yard";

long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// Waits for the door's lock and door state as /v1/doors reports them.
bool wait_door(Demo& d, const std::string& door, const std::string& lock_state, const std::string& door_state,
               std::chrono::milliseconds timeout = 5s) {
  return demo::wait_until(
      [&] {
        const auto json = demo::door(d.api, door);
        return json && (lock_state.empty() || client::json_text(json, "lock_state") == lock_state) &&
               (door_state.empty() || client::json_text(json, "door_state") == door_state);
      },
      timeout);
}

std::string describe(const client::UnlockAnswer& answer) {
  if (answer.allowed) return "allow, session " + client::short_id(answer.session, 16);
  return answer.decision + " " + (answer.rule.empty() ? "-" : answer.rule) + ": " + answer.error;
}

// Issuer mints, courier asks for a challenge, signs the proof and asks to unlock.
client::UnlockAnswer deliver(Demo& d, const std::string& door, const client::MintedGrant& grant,
                             const std::string& what) {
  d.timeline.act("courier", what + ": grant " + client::short_id(crypto::to_hex(grant.grant_id), 16) +
                                " at door " + door + " (challenge, proof, unlock request)");
  const client::UnlockAnswer answer = demo::present_grant(d.api, door, grant.signed_grant, d.courier);
  d.timeline.act("courier", "answer: HTTP " + std::to_string(answer.status) + " " + describe(answer));
  return answer;
}

bool expect_allowed(Demo& d, const client::UnlockAnswer& answer) {
  if (!d.timeline.check(answer.allowed, "unlock allowed", answer.allowed ? "" : describe(answer))) return false;
  return d.timeline.check(wait_door(d, kFront, "unlocked", "closed"), "the lock reports unlocked");
}

void door_action(Demo& d, const std::string& door, const std::string& action) {
  d.timeline.act("world", "door " + door + ": " + action + " (test control)");
  const client::ApiResponse response = d.api.door_action(door, action);
  d.timeline.check(response.status == 200, "test control accepted '" + action + "'",
                   response.status == 200 ? "" : "HTTP " + std::to_string(response.status) + " " + response.error_text());
}

void camera_fault(Demo& d, const std::string& camera, const std::string& fault) {
  d.timeline.act("world", "camera " + camera + ": fault " + fault + " (test control)");
  const client::ApiResponse response = d.api.camera_fault(camera, fault);
  d.timeline.check(response.status == 200, "test control accepted fault '" + fault + "'",
                   response.status == 200 ? "" : "HTTP " + std::to_string(response.status) + " " + response.error_text());
}

void expect_session_end(Demo& d, const std::string& session, const std::string& end, const std::string& rule) {
  const auto json = demo::wait_session_end(d.api, session, end, 5s);
  const std::string got_rule = client::json_text(json, "rule");
  d.timeline.check(json && (rule.empty() || got_rule == rule),
                   "session " + client::short_id(session, 16) + " ended " + end + (rule.empty() ? "" : " (" + rule + ")"),
                   json ? "rule " + got_rule : "not listed as " + end + " in GET /v1/sessions");
}

}  // namespace

bool settle(Demo& d) {
  for (const char* camera : {kPorch, kYard}) d.api.camera_fault(camera, "clear");
  const auto start = Clock::now();
  const bool live = demo::wait_cameras_live(d.api, 10s);
  d.timeline.check(live, "faults cleared, every camera LIVE again", std::to_string(ms_since(start)) + " ms");
  return live;
}

void normal_delivery(Demo& d) {
  d.timeline.step("a. A normal delivery");
  d.first_grant = demo::mint_grant_for(d.hub, kFront, d.courier, {}, {kPorch});
  d.timeline.act("issuer", "mints grant " + client::short_id(crypto::to_hex(d.first_grant.grant_id), 16) +
                               " for " + d.courier.id + " at door front, camera porch, valid 1 h");
  const client::UnlockAnswer answer = deliver(d, kFront, d.first_grant, "delivery");
  if (!expect_allowed(d, answer)) return;
  door_action(d, kFront, "open");
  d.timeline.check(wait_door(d, kFront, "unlocked", "open"), "the door sensor reports open");
  door_action(d, kFront, "close");
  d.timeline.check(wait_door(d, kFront, "locked", "closed"), "the hub relocked after the door closed (U8)");
  expect_session_end(d, answer.session, "completed", "U8");
}

void freeze_attack(Demo& d) {
  d.timeline.step("b. Freeze attack, door open: alarm at once, relock when it closes (U5)");
  if (!settle(d)) return;
  const int64_t alarms_before = demo::last_alarm_id(d.api);
  client::UnlockAnswer answer =
      deliver(d, kFront, demo::mint_grant_for(d.hub, kFront, d.courier), "delivery");
  if (!expect_allowed(d, answer)) return;
  door_action(d, kFront, "open");
  d.timeline.check(wait_door(d, kFront, "unlocked", "open"), "the door sensor reports open");
  auto frozen_at = Clock::now();
  camera_fault(d, kPorch, "freeze");
  auto alarm = demo::wait_alarm(d.api, alarms_before, "U5", kFront, "", 5s);
  d.timeline.check(!alarm.isNull(), "U5 alarm while the door is open",
                   alarm ? std::to_string(ms_since(frozen_at)) + " ms after the freeze: " + client::json_text(alarm, "message")
                         : "none within 5 s");
  expect_session_end(d, answer.session, "compromised", "U5");
  d.timeline.check(wait_door(d, kFront, "unlocked", "open", 200ms), "no relock while the door stands open");
  door_action(d, kFront, "close");
  d.timeline.check(wait_door(d, kFront, "locked", "closed"), "relocked as soon as the door closed");

  d.timeline.step("b. Freeze attack, door closed: relock at once (U5)");
  if (!settle(d)) return;
  const int64_t alarms_mid = demo::last_alarm_id(d.api);
  answer = deliver(d, kFront, demo::mint_grant_for(d.hub, kFront, d.courier), "delivery");
  if (!expect_allowed(d, answer)) return;
  frozen_at = Clock::now();
  camera_fault(d, kPorch, "freeze");
  const bool relocked = wait_door(d, kFront, "locked", "closed");
  d.timeline.check(relocked, "relocked before the door was opened",
                   std::to_string(ms_since(frozen_at)) + " ms after the freeze");
  alarm = demo::wait_alarm(d.api, alarms_mid, "U5", kFront, "", 5s);
  d.timeline.check(!alarm.isNull(), "U5 alarm raised", alarm ? client::json_text(alarm, "message") : "none");
  expect_session_end(d, answer.session, "compromised", "U5");
}

void refused_grants(Demo& d) {
  d.timeline.step("c. Refused grants");
  if (!settle(d)) return;
  const auto expect_deny = [&](const client::UnlockAnswer& answer, const std::string& rule, const std::string& what) {
    d.timeline.check(answer.status == 403 && !answer.allowed && answer.rule == rule, what + " denied with " + rule,
                     describe(answer));
  };
  expect_deny(deliver(d, kFront, d.first_grant, "replays the grant of part a"), "G3", "replayed grant");

  demo::GrantWindow expired;
  expired.not_before_unix_ms = client::unix_now_ms() - 3 * 3'600'000;
  expired.valid_for_ms = 3'600'000;
  d.timeline.act("issuer", "mints a grant that expired 2 h ago");
  expect_deny(deliver(d, kFront, demo::mint_grant_for(d.hub, kFront, d.courier, expired), "expired grant"), "G1",
              "expired grant");

  d.timeline.act("issuer", "mints a grant for door back");
  expect_deny(deliver(d, kFront, demo::mint_grant_for(d.hub, kBack, d.courier), "grant for door back"), "G1",
              "grant for another door");

  d.timeline.act("attacker", "signs a grant with a key the hub does not pin, under the issuer's key id");
  expect_deny(deliver(d, kFront, demo::forge_grant_for(d.hub, kFront, d.courier), "forged grant"), "G1",
              "forged grant");
  d.timeline.check(wait_door(d, kFront, "locked", "closed", 1s), "door front stayed locked");
}

void camera_offline(Demo& d) {
  d.timeline.step("d. A camera goes offline outside any delivery (C6)");
  if (!settle(d)) return;
  const int64_t alarms_before = demo::last_alarm_id(d.api);
  const auto offline_at = Clock::now();
  camera_fault(d, kYard, "offline");
  const auto alarm = demo::wait_alarm(d.api, alarms_before, "C6", "", kYard, 15s);
  d.timeline.check(!alarm.isNull(), "camera-offline alarm for yard (C6)",
                   alarm ? std::to_string(ms_since(offline_at)) + " ms after it went offline: " +
                               client::json_text(alarm, "message")
                         : "none within 15 s");
  settle(d);
}

// The camera plugin's row of GET /v1/plugins (null when missing).
demo::JsonObject camera_plugin(Demo& d) {
  const auto response = d.api.get("/v1/plugins");
  const auto json = response.status == 200 ? response.json() : nullptr;
  const auto list = json ? json->getArray("plugins") : nullptr;
  for (std::size_t i = 0; list && i < list->size(); ++i)
    if (client::json_text(list->getObject(i), "name") == "sim_camera") return list->getObject(i);
  return nullptr;
}

void plugin_crash(Demo& d) {
  d.timeline.step("e. The camera plugin's process dies (F1, plugin isolation)");
  if (!settle(d)) return;
  const auto before = camera_plugin(d);
  const int pid = before ? std::atoi(client::json_text(before, "pid").c_str()) : 0;
  if (!d.timeline.check(pid > 0 && client::json_text(before, "mode") == "isolated",
                        "the camera plugin runs isolated in its own lk-plugin-host",
                        before ? "pid " + std::to_string(pid) : "no plugin row")) {
    return;
  }
  const int64_t alarms_before = demo::last_alarm_id(d.api);
  d.timeline.act("attacker", "kills the camera plugin's host process (SIGKILL to pid " + std::to_string(pid) + ")");
  const auto killed_at = Clock::now();
  ::kill(pid, SIGKILL);
  const auto alarm = demo::wait_alarm(d.api, alarms_before, "F1", "", "", 5s);
  d.timeline.check(!alarm.isNull(), "F1 alarm: the plugin failed",
                   alarm ? std::to_string(ms_since(killed_at)) + " ms after the kill: " +
                               client::json_text(alarm, "message")
                         : "none within 5 s");
  const auto answer = deliver(d, kBack, demo::mint_grant_for(d.hub, kBack, d.courier), "delivery while it restarts");
  d.timeline.check(answer.status == 403 && !answer.allowed, "unlock denied while the camera is not LIVE",
                   describe(answer));
  const bool back = demo::wait_until(
      [&]() -> bool {
        const auto row = camera_plugin(d);
        return row && client::json_text(row, "state") == "running" && client::json_text(row, "restarts") == "1";
      },
      10s);
  const auto after = camera_plugin(d);
  d.timeline.check(back, "the hub restarted the host and reopened the cameras",
                   after ? "new pid " + client::json_text(after, "pid") + ", failures " +
                               client::json_text(after, "failures")
                         : "no plugin row");
  const bool live = demo::wait_cameras_live(d.api, 10s);
  d.timeline.check(live, "the cameras re-enrolled and are LIVE again", std::to_string(ms_since(killed_at)) + " ms after the kill");
}

}  // namespace lkdemo
