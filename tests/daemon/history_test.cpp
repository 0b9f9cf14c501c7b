// GET /v1/alarms and GET /v1/sessions keep their history across a restart:
// the hub reads it back from the audit log at start (the status page shows
// yesterday's alarms after a power cut, not an empty table).
#include "daemon_fixture.hpp"

#include <cstdlib>

namespace latchkey::tests {
namespace {

class History : public DaemonTest {};

TEST_F(History, AlarmsAndEndedSessionsSurviveARestartFromTheAuditLog) {
  start_hub();
  unlock("front");
  act("front", "open");
  act("front", "close");
  ASSERT_TRUE(wait_event("session", [](const JsonObject& o) { return text(o, "end") == "completed"; }, 10s));
  fault("yard", "freeze");
  const auto alarm = wait_event("alarm", [](const JsonObject& o) { return text(o, "camera") == "yard"; }, 10s);
  ASSERT_TRUE(alarm);
  const std::string rule = text(alarm->json(), "rule");
  const std::string message = text(alarm->json(), "message");
  const int64_t time_ms = client::json_int(alarm->json(), "time_ms", 0);

  ASSERT_EQ(hub_->stop(), 0);
  hub_->start();
  reconnect();

  bool found_alarm = false;
  const auto alarms = api_->get("/v1/alarms").json()->getArray("alarms");
  for (std::size_t i = 0; i < alarms->size(); ++i) {
    const auto a = alarms->getObject(static_cast<unsigned>(i));
    if (text(a, "camera") == "yard" && text(a, "rule") == rule && text(a, "message") == message &&
        // The audit record's time is its commit, a few ms after the alarm.
        std::llabs(client::json_int(a, "time_ms", 0) - time_ms) < 1000)
      found_alarm = true;
  }
  EXPECT_TRUE(found_alarm) << "the alarm raised before the restart is gone from GET /v1/alarms";

  bool found_session = false;
  const auto sessions = api_->get("/v1/sessions").json()->getArray("sessions");
  for (std::size_t i = 0; i < sessions->size(); ++i) {
    const auto s = sessions->getObject(static_cast<unsigned>(i));
    if (text(s, "door") == "front" && text(s, "end") == "completed") found_session = true;
  }
  EXPECT_TRUE(found_session) << "the completed session is gone from GET /v1/sessions";

  // A new alarm after the restart gets an id after the old ones (since= keeps working).
  fault("porch", "freeze");
  const auto later = wait_event("alarm", [](const JsonObject& o) { return text(o, "camera") == "porch"; }, 10s);
  ASSERT_TRUE(later);
  EXPECT_GT(client::json_int(later->json(), "id", 0), static_cast<int64_t>(alarms->size()) - 1);
}

}  // namespace
}  // namespace latchkey::tests
