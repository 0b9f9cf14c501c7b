// lk-demo's steps against the real latchkeyd, one test each, asserting the
// API's answers, the events on /v1/events and the audit records with their
// rule IDs.
#include "daemon_fixture.hpp"

#include <latchkey/audit/verify.hpp>
#include <latchkey/crypto/crypto.hpp>

#include <thread>

namespace latchkey::tests {
namespace {

using Clock = std::chrono::steady_clock;

class DeliverySteps : public DaemonTest {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(start_hub()); }

  // A deny of `grant` at `door` with `rule`: 403, the decision event and the audit record.
  void expect_denied(const client::MintedGrant& minted, const std::string& door, const std::string& rule) {
    const std::size_t from = events_->size();
    const client::UnlockAnswer answer = present(door, minted);
    EXPECT_EQ(answer.status, 403);
    EXPECT_EQ(answer.decision, "deny");
    EXPECT_EQ(answer.rule, rule) << answer.error;
    EXPECT_FALSE(answer.error.empty());
    EXPECT_TRUE(wait_event("decision", [&](const JsonObject& e) {
      return text(e, "decision") == "deny" && text(e, "rule") == rule && text(e, "door") == door;
    }, 5s, from)) << "no deny " << rule << " decision event";
    EXPECT_FALSE(records("decision", rule, [&](const JsonObject& r) {
                   return text(r, "door") == door && (text(r, "kind") == "deny" || text(r, "kind") == "deny_uncounted");
                 }).empty())
        << "no deny decision record with rule " << rule;
    EXPECT_TRUE(records("decision", "", [&](const JsonObject& r) {
                  return text(r, "consumes_grant") == crypto::to_hex(minted.grant_id);
                }).size() <= 1u);
    EXPECT_TRUE(wait_door(door, "locked", "closed", 1s)) << "a denied request left the door unlocked";
  }
};

TEST_F(DeliverySteps, U8_NormalDelivery_UnlocksOnceAndCompletesWithVerifiedRelock) {
  const client::MintedGrant minted = grant("front");
  const std::string grant_hex = crypto::to_hex(minted.grant_id);
  const client::UnlockAnswer answer = present("front", minted);
  ASSERT_TRUE(answer.allowed) << answer.rule << ": " << answer.error;
  ASSERT_EQ(answer.status, 200);
  ASSERT_TRUE(wait_door("front", "unlocked", "closed"));
  act("front", "open");
  ASSERT_TRUE(wait_door("front", "unlocked", "open"));
  act("front", "close");
  EXPECT_TRUE(wait_door("front", "locked", "closed")) << "no relock after the door closed (U8)";
  const JsonObject session = demo::wait_session_end(*api_, answer.session, "completed", 5s);
  ASSERT_TRUE(session) << "session not listed as completed";
  EXPECT_EQ(text(session, "rule"), "U8");

  // Events: allow, unlock command, open, close, relock command, locked, session completed.
  std::size_t at = 0;
  const auto next = [&](const std::string& name, const std::function<bool(const JsonObject&)>& match,
                        const std::string& what) {
    std::size_t index = 0;
    const auto found = events_->wait_for(
        [&](const client::SseEvent& e) { return e.name == name && e.json() && match(e.json()); }, 3s, at, &index);
    EXPECT_TRUE(found) << "no '" << name << "' event for " << what << " after event #" << at;
    if (found) at = index + 1;
  };
  next("decision", [&](const JsonObject& e) {
    return text(e, "decision") == "allow" && text(e, "session") == answer.session && text(e, "door") == "front";
  }, "the allow");
  next("door", [](const JsonObject& e) { return text(e, "command") == "unlock" && text(e, "rule") == "U3"; },
       "the unlock command");
  next("door", [](const JsonObject& e) { return text(e, "door_state") == "open"; }, "the door opening");
  next("door", [](const JsonObject& e) { return text(e, "door_state") == "closed"; }, "the door closing");
  next("door", [](const JsonObject& e) { return text(e, "command") == "lock" && text(e, "rule") == "U8"; },
       "the relock command");
  next("session", [&](const JsonObject& e) {
    return text(e, "session") == answer.session && text(e, "end") == "completed" && text(e, "rule") == "U8";
  }, "the completed session");

  // Audit: the decision consumed the grant (U3, G3), the session opened and completed (U8).
  const auto decisions = records("decision", "", [&](const JsonObject& r) {
    return text(r, "consumes_grant") == grant_hex;
  });
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(text(decisions[0], "kind"), "allow");
  EXPECT_EQ(text(decisions[0], "subject"), answer.session);  // the durable mark a restart recovers from (F2)
  EXPECT_EQ(records("session", "", [&](const JsonObject& r) {
              return text(r, "subject") == answer.session && text(r, "kind") == "session_opened";
            }).size(), 1u);
  EXPECT_EQ(records("session", "U8", [&](const JsonObject& r) {
              return text(r, "subject") == answer.session && text(r, "kind") == "session_completed";
            }).size(), 1u);
  EXPECT_EQ(records("command", "U8").size(), 1u);
  EXPECT_TRUE(records("alarm").size() == records("alarm", "C6").size()) << "an alarm other than start-up C6";
}

TEST_F(DeliverySteps, U5_CameraFrozenWithDoorOpen_AlarmsAtOnceAndRelocksWhenItCloses) {
  const int64_t alarms_before = demo::last_alarm_id(*api_);
  const client::UnlockAnswer answer = unlock("front");
  ASSERT_TRUE(answer.allowed);
  act("front", "open");
  ASSERT_TRUE(wait_door("front", "unlocked", "open"));
  const std::size_t from = events_->size();
  const auto frozen_at = Clock::now();
  fault("porch", "freeze");
  const JsonObject alarm = demo::wait_alarm(*api_, alarms_before, "U5", "front", "", 5s);
  ASSERT_TRUE(alarm) << "no U5 alarm after the camera froze";
  const auto alarm_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - frozen_at).count();
  // The freeze is noticed at freeze_window (1000 ms); U5 then acts within live_timeout.
  EXPECT_LT(alarm_ms, 1000 + 500 + 500);
  EXPECT_TRUE(wait_event("alarm", [](const JsonObject& e) { return text(e, "rule") == "U5"; }, 1s, from));
  EXPECT_TRUE(wait_event("session", [&](const JsonObject& e) {
    return text(e, "session") == answer.session && text(e, "end") == "compromised" && text(e, "rule") == "U5";
  }, 1s, from));
  const JsonObject session = demo::wait_session_end(*api_, answer.session, "compromised", 2s);
  ASSERT_TRUE(session);
  EXPECT_EQ(text(session, "rule"), "U5");

  // Door still open: no relock command yet.
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(records("command", "U5").empty()) << "relock commanded while the door stood open";
  EXPECT_TRUE(wait_door("front", "unlocked", "open", 100ms));
  act("front", "close");
  EXPECT_TRUE(wait_door("front", "locked", "closed", 2s)) << "no relock after the door closed";
  EXPECT_EQ(records("command", "U5").size(), 1u);
  EXPECT_FALSE(records("attestation_rejected", "C5", [](const JsonObject& r) {
                 return text(r, "subject") == "porch";
               }).empty())
      << "the frozen frames were not audited as C5 rejections";
}

TEST_F(DeliverySteps, U5_CameraFrozenWithDoorClosed_RelocksAtOnce) {
  const int64_t alarms_before = demo::last_alarm_id(*api_);
  const client::UnlockAnswer answer = unlock("front");
  ASSERT_TRUE(answer.allowed);
  const std::size_t from = events_->size();
  fault("porch", "freeze");
  EXPECT_TRUE(wait_door("front", "locked", "closed", 4s)) << "no relock after the camera froze";
  EXPECT_TRUE(demo::wait_alarm(*api_, alarms_before, "U5", "front", "", 2s));
  EXPECT_TRUE(wait_event("door", [](const JsonObject& e) {
    return text(e, "command") == "lock" && text(e, "rule") == "U5";
  }, 1s, from));
  EXPECT_TRUE(demo::wait_session_end(*api_, answer.session, "compromised", 2s));
  EXPECT_EQ(records("command", "U5").size(), 1u);
  EXPECT_EQ(records("session", "U5", [&](const JsonObject& r) { return text(r, "subject") == answer.session; }).size(),
            1u);
  EXPECT_TRUE(records("event", "", [](const JsonObject& r) { return text(r, "detail") == "door Open"; }).empty());
}

// C8 through the daemon: a camera whose lens is covered during a delivery
// (the simulated camera's `covered` fault: its measurements say dark, flat,
// unlike its reference) stops being LIVE when tamper_window (2 s) ends, with
// one camera-tamper alarm, and the hub relocks (U5).
TEST_F(DeliverySteps, C8_CameraCoveredDuringADelivery_TamperAlarmAndRelock) {
  const int64_t alarms_before = demo::last_alarm_id(*api_);
  const client::UnlockAnswer answer = unlock("front");
  ASSERT_TRUE(answer.allowed);
  const auto covered_at = Clock::now();
  fault("porch", "covered");
  const JsonObject alarm = demo::wait_alarm(*api_, alarms_before, "C8", "front", "porch", 5s);
  ASSERT_TRUE(alarm) << "no C8 alarm after the camera was covered";
  const auto alarm_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - covered_at).count();
  EXPECT_GE(alarm_ms, 2000) << "inside tamper_window: a hand passing is not an attack";
  EXPECT_NE(text(alarm, "message").find("camera-tamper: too dark"), std::string::npos) << text(alarm, "message");
  EXPECT_TRUE(wait_door("front", "locked", "closed", 3s)) << "no relock after the camera was covered";
  EXPECT_TRUE(demo::wait_session_end(*api_, answer.session, "compromised", 2s));
  EXPECT_FALSE(records("camera", "C8", [](const JsonObject& r) { return text(r, "subject") == "porch"; }).empty())
      << "the end of LIVE was not audited under C8";
  fault("porch", "clear");
}

TEST_F(DeliverySteps, G3_ReplayedGrant_Denied) {
  const client::MintedGrant minted = grant("front");
  const client::UnlockAnswer first = present("front", minted);
  ASSERT_TRUE(first.allowed);
  act("front", "open");
  act("front", "close");
  ASSERT_TRUE(demo::wait_session_end(*api_, first.session, "completed", 5s));
  expect_denied(minted, "front", "G3");
}

TEST_F(DeliverySteps, G3_GrantReplayedDuringItsOwnSession_Denied) {
  const client::MintedGrant minted = grant("front");
  ASSERT_TRUE(present("front", minted).allowed);
  ASSERT_TRUE(wait_door("front", "unlocked", "closed"));
  const client::UnlockAnswer again = present("front", minted);
  EXPECT_EQ(again.status, 403);
  EXPECT_EQ(again.rule, "G3") << again.error;
}

TEST_F(DeliverySteps, G1_ExpiredGrant_Denied) {
  demo::GrantWindow expired;
  expired.not_before_unix_ms = client::unix_now_ms() - 3 * 3'600'000;
  expired.valid_for_ms = 3'600'000;
  expect_denied(grant("front", expired), "front", "G1");
}

TEST_F(DeliverySteps, G1_GrantForAnotherDoor_Denied) { expect_denied(grant("back"), "front", "G1"); }

TEST_F(DeliverySteps, G1_ForgedGrant_Denied) {
  expect_denied(demo::forge_grant_for(*hub_, "front", courier_), "front", "G1");
}

TEST_F(DeliverySteps, C6_CameraOfflineOutsideDelivery_RaisesCameraOfflineAlarm) {
  const int64_t alarms_before = demo::last_alarm_id(*api_);
  const std::size_t from = events_->size();
  const auto offline_at = Clock::now();
  fault("yard", "offline");
  const JsonObject alarm = demo::wait_alarm(*api_, alarms_before, "C6", "", "yard", 10s);
  ASSERT_TRUE(alarm) << "no C6 alarm for yard";
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - offline_at).count();
  // live_timeout (500 ms) + health_timeout (3000 ms); not before.
  EXPECT_GE(ms, 3000);
  EXPECT_LT(ms, 3000 + 500 + 1000);
  EXPECT_EQ(text(alarm, "door"), "back");
  EXPECT_TRUE(wait_event("alarm", [](const JsonObject& e) {
    return text(e, "rule") == "C6" && text(e, "camera") == "yard";
  }, 1s, from));
  EXPECT_FALSE(records("alarm", "C6", [&](const JsonObject& r) {
                 return text(r, "subject") == "yard" && text(r, "door") == "back";
               }).empty());
  // One alarm per outage.
  std::this_thread::sleep_for(1s);
  int count = 0;
  for (const JsonObject& a : demo::alarms_since(*api_, alarms_before)) count += text(a, "rule") == "C6";
  EXPECT_EQ(count, 1);
  fault("yard", "clear");
  EXPECT_TRUE(demo::wait_cameras_live(*api_, 5s));
}

TEST_F(DeliverySteps, C6_FreshStart_NoCameraOfflineAlarmBeforeHealthTimeout) {
  // The cameras became LIVE within a second of the start: a camera-offline
  // alarm needs health_timeout (3 s) of not being LIVE (C6).
  for (const JsonObject& a : demo::alarms_since(*api_, 0)) {
    ADD_FAILURE() << "alarm at start-up: rule " << text(a, "rule") << ", camera " << text(a, "camera") << ": "
                  << text(a, "message");
  }
}

TEST_F(DeliverySteps, A2_Sigterm_EndsWithSignedCheckpointThatVerifies) {
  ASSERT_TRUE(unlock("front").allowed);
  act("front", "open");
  act("front", "close");
  ASSERT_TRUE(wait_door("front", "locked", "closed"));
  // The event stream stays open: a status page left open must not keep the hub from stopping.
  const auto stopping_at = Clock::now();
  EXPECT_EQ(hub_->stop(), 0);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - stopping_at).count(), 5000);
  const auto report = audit::verify_log(hub_->audit_db(), hub_->hub_public_key());
  ASSERT_TRUE(report.ok) << audit::to_string(report.problem) << ": " << report.message;
  ASSERT_TRUE(report.last_checkpoint);
  EXPECT_EQ(report.last_checkpoint->size + 1, report.record_count) << "the last record is not the final checkpoint";
}

}  // namespace
}  // namespace latchkey::tests
