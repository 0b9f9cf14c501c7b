#include "kill_restart_fixture.hpp"

#include <latchkey/audit/verify.hpp>

#include <algorithm>

namespace latchkey::tests {

namespace {
constexpr int kLockoutThreshold = 5;  // G4: the fifth rejection in 10 minutes locks the door out
}  // namespace

void KillRestartTest::allowed(const GrantAtDoor& grant, const std::string& session) {
  acknowledged_.push_back({grant, session});
}

void KillRestartTest::unknown_outcome(const GrantAtDoor& grant) { unknown_.push_back(grant); }

void KillRestartTest::ended(const std::string& session) { ended_sessions_.insert(session); }

void KillRestartTest::kill_restart_and_check() {
  hub_->kill();
  events_.reset();
  ++restarts_;
  ASSERT_NO_FATAL_FAILURE(hub_->start());
  ASSERT_NO_FATAL_FAILURE(reconnect());
  check_after_restart();
}

void KillRestartTest::check_after_restart() {
  const std::vector<JsonObject> log = demo::audit_records(*api_);
  std::size_t boot = log.size();
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (text(log[i], "type") == "hub" && starts_with(text(log[i], "detail"), "latchkeyd started")) boot = i;
  }
  ASSERT_LT(boot, log.size()) << "no 'latchkeyd started' record in the log";
  const std::string boot_seq = text(log[boot], "seq");

  // I5: no unlock at boot.
  for (std::size_t i = boot; i < log.size(); ++i) {
    const std::string type = text(log[i], "type");
    const std::string detail = text(log[i], "detail");
    const std::string kind = text(log[i], "kind");
    if (kind == "session_opened" || kind == "allow" || (type == "command" && starts_with(detail, "unlock"))) {
      ADD_FAILURE() << "I5: unlock at boot: record " << text(log[i], "seq") << " " << type << ": " << detail;
    }
  }
  for (const client::SseEvent& event : events_->events()) {
    if (event.name == "door" && text(event.json(), "command") == "unlock") {
      ADD_FAILURE() << "I5: unlock command event at boot: " << event.data;
    }
  }

  // F2: the sessions open at the kill, by the log: a durable allow decision
  // (its subject is the session) or an "opened" record begins one; a session
  // end or a withdrawn allow ends it ...
  std::map<std::string, std::string> open;  // session -> door
  std::set<std::string> opened_in_log;
  for (std::size_t i = 0; i < boot; ++i) {
    const std::string type = text(log[i], "type");
    const std::string session = text(log[i], "subject");
    const std::string kind = text(log[i], "kind");  // the records' kinds, as the hub's own recovery reads them
    const bool begins = (type == "decision" && !text(log[i], "consumes_grant").empty()) || kind == "session_opened";
    const bool ends = kind == "session_completed" || kind == "session_compromised" || kind == "allow_withdrawn";
    if (begins) {
      open[session] = text(log[i], "door");
      opened_in_log.insert(session);
    } else if (ends) {
      open.erase(session);
    }
  }
  // ... and by what the client saw.
  for (const Acknowledged& a : acknowledged_) {
    if (ended_sessions_.count(a.session) || open.count(a.session)) continue;
    if (!opened_in_log.count(a.session)) {
      ADD_FAILURE() << "F2: the client saw unlock allowed for session " << a.session << " (grant " << a.grant.grant_hex
                    << ", door " << a.grant.door << ") but the log has no allow decision or 'opened' record for it before restart seq "
                    << boot_seq << ", so the restart did not close it as compromised nor command a relock";
    }
  }
  const std::vector<JsonObject> alarms = demo::alarms_since(*api_, 0);
  for (const auto& [session, door] : open) {
    ++f2_recoveries_;
    const auto after_boot = [&](const std::string& type, const std::function<bool(const JsonObject&)>& match) {
      for (std::size_t i = boot; i < log.size(); ++i) {
        if (text(log[i], "type") == type && text(log[i], "rule") == "F2" && text(log[i], "door") == door &&
            match(log[i]))
          return true;
      }
      return false;
    };
    EXPECT_TRUE(after_boot("session", [&](const JsonObject& r) {
      return text(r, "subject") == session && text(r, "kind") == "session_compromised";
    })) << "F2: session " << session << " open at the kill not closed as compromised";
    EXPECT_TRUE(after_boot("alarm", [](const JsonObject&) { return true; })) << "F2: no alarm record for " << session;
    EXPECT_TRUE(after_boot("command", [](const JsonObject& r) { return starts_with(text(r, "detail"), "lock"); }))
        << "F2: no relock command for door " << door;
    EXPECT_TRUE(std::any_of(alarms.begin(), alarms.end(), [&](const JsonObject& a) {
      return text(a, "rule") == "F2" && text(a, "door") == door;
    })) << "F2: GET /v1/alarms shows no F2 alarm for door " << door;
    const JsonObject listed = demo::session(*api_, session);
    EXPECT_TRUE(listed && text(listed, "end") == "compromised" && text(listed, "rule") == "F2")
        << "F2: GET /v1/sessions does not list " << session << " as compromised (F2)";
  }
  for (std::size_t i = boot; i < log.size(); ++i) {
    if (text(log[i], "type") == "session" && text(log[i], "rule") == "F2") {
      EXPECT_TRUE(open.count(text(log[i], "subject"))) << "F2 record for a session that was not open: "
                                                       << text(log[i], "subject");
    }
  }
  for (const Acknowledged& a : acknowledged_) ended_sessions_.insert(a.session);

  // I2: no grant consumed twice; what the log consumed joins the grants to present again.
  std::map<std::string, int> consumers;
  for (const JsonObject& r : log) {
    const std::string grant = text(r, "consumes_grant");
    if (!grant.empty() && ++consumers[grant] == 2) ADD_FAILURE() << "I2: grant " << grant << " consumed twice";
  }
  const auto consume = [&](const GrantAtDoor& g) {
    if (consumed_hex_.insert(g.grant_hex).second) consumed_.push_back(g);
  };
  for (const GrantAtDoor& g : unknown_) {
    if (consumers.count(g.grant_hex)) consume(g);
  }
  unknown_.clear();

  // I6, A3: every acknowledged allow is in the log.
  for (const Acknowledged& a : acknowledged_) {
    consume(a.grant);
    const bool logged = std::any_of(log.begin(), log.end(), [&](const JsonObject& r) {
      return text(r, "type") == "decision" && text(r, "consumes_grant") == a.grant.grant_hex &&
             text(r, "kind") == "allow" && text(r, "subject") == a.session;
    });
    EXPECT_TRUE(logged) << "A3/I6: the allow of session " << a.session << " (grant " << a.grant.grant_hex
                        << ") was acknowledged but has no decision record";
  }
  const auto report = audit::verify_log(hub_->audit_db(), hub_->hub_public_key());
  EXPECT_TRUE(report.ok) << "I6: verify_log: " << audit::to_string(report.problem) << " at seq "
                         << report.problem_seq << ": " << report.message;
  const client::ApiResponse verify = api_->get("/v1/audit/verify");
  EXPECT_TRUE(verify.status == 200 && client::json_true(verify.json(), "ok")) << "GET /v1/audit/verify: " << verify.body;

  // G3: the newest consumed grants, within the run's G4 budget.
  for (; presented_new_ < consumed_.size(); ++presented_new_) {
    const GrantAtDoor& g = consumed_[presented_new_];
    if (rejections_[g.door] < kLiveG3BudgetPerDoor) present_consumed(g);
  }
}

void KillRestartTest::present_consumed(const GrantAtDoor& g) {
  const client::UnlockAnswer answer = demo::present_grant(*api_, g.door, g.grant.signed_grant, courier_);
  const bool locked_out = rejections_[g.door] >= kLockoutThreshold;
  ++rejections_[g.door];
  EXPECT_TRUE(answer.status == 403 && (answer.rule == "G3" || (locked_out && answer.rule == "G4")))
      << "I2/G3: consumed grant " << g.grant_hex << " at door " << g.door << " answered HTTP " << answer.status
      << " " << answer.decision << " " << answer.rule << ": " << answer.error;
}

void KillRestartTest::check_every_grant_refused() {
  events_.reset();
  EXPECT_EQ(hub_->stop(), 0);
  ASSERT_NO_FATAL_FAILURE(hub_->start());
  ASSERT_NO_FATAL_FAILURE(reconnect());
  for (const GrantAtDoor& g : consumed_) present_consumed(g);
}

}  // namespace latchkey::tests
