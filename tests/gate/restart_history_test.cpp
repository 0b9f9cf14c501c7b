// What the gate engine remembers across a restart, rebuilt from the audit
// records it wrote (restart_history.hpp): G4 lockouts, their doubling and the
// rejection count; the A2 recovery cut-off (G3); a log that does not verify
// (A2, U3); and G2/G4 under a flood of challenge requests. Each test restarts
// a SimWorld from a RestartHistory fed with the first world's records, as
// latchkeyd does from its verified audit log, three times over: the records
// as written; with every detail text reworded (the history reads kinds and
// values, never text: docs/rules.md F2, G3, G4); and as format-1 records of a
// migrated schema-1 log (no kind, no value: their frozen wording is all
// there is).
#include "sim_world.hpp"

#include <latchkey/gate/restart_history.hpp>

#include <gtest/gtest.h>

using latchkey::gate::HistoryRecord;
using latchkey::sim::SimWorld;

namespace {

enum class Records { kAsWritten, kReworded, kSchema1 };
Records g_records = Records::kAsWritten;

SimWorld::Options options(uint64_t seed = 11) {
  SimWorld::Options o;
  o.seed = seed;
  return o;
}

std::optional<latchkey::gate::Decision> decide(SimWorld& w, uint64_t id) {
  for (int t = 0; t < 400 && !w.decision(id); ++t) w.run_for(10);
  return w.decision(id);
}

std::string rule_of(SimWorld& w, uint64_t id) {
  auto d = decide(w, id);
  if (!d) return "(no decision)";
  return d->allowed ? "(allowed)" : std::string(latchkey::name(d->rule));
}

// The history latchkeyd would rebuild from w's log, `later_ms` after w's clock.
latchkey::gate::RestartHistory history_of(const SimWorld& w) {
  latchkey::gate::RestartHistory h;
  int n = 0;
  for (const auto& r : w.audit()) {
    HistoryRecord record{1'800'000'000'000 + r.at / 1'000'000, r.entry.type, r.entry.rule, r.entry.door_id,
                         r.entry.subject, r.entry.consumes_grant, r.entry.kind, r.entry.value, 2, r.entry.detail};
    const std::string reworded = "message " + std::to_string(++n) + " in other words";
    if (g_records == Records::kReworded) record.detail = reworded;
    if (g_records == Records::kSchema1) {
      record.format = 1;
      record.kind = latchkey::RecordKind::kNone;
      record.value = 0;
    }
    h.add(record);
  }
  return h;
}

// A restart of w: same seed (issuer key), what the history says, `later_ms` on.
SimWorld::Options restarted(const SimWorld& w, uint64_t seed, int64_t later_ms) {
  SimWorld::Options o = options(seed);
  latchkey::gate::GateSetup setup;
  const int64_t now_wall = w.wall_ms() + later_ms;
  history_of(w).apply(setup, now_wall);
  o.consumed_grants = setup.consumed_grants;
  o.sessions_open_at_stop = setup.sessions_open_at_stop;
  o.door_history = setup.door_history;
  o.grants_not_before_ms = setup.grants_not_before_ms;
  o.wall_start_ms = now_wall;
  return o;
}

void lock_out(SimWorld& w) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(rule_of(w, w.request_with(w.forge())), "G1");
}

class RestartHistory : public ::testing::TestWithParam<Records> {
 protected:
  void SetUp() override { g_records = GetParam(); }
  void TearDown() override { g_records = Records::kAsWritten; }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Records, RestartHistory,
                         ::testing::Values(Records::kAsWritten, Records::kReworded, Records::kSchema1),
                         [](const ::testing::TestParamInfo<Records>& info) {
                           return info.param == Records::kAsWritten ? std::string("AsWritten")
                                  : info.param == Records::kReworded ? std::string("Reworded")
                                                                     : std::string("Schema1");
                         });

TEST_P(RestartHistory, G4_LockoutSurvivesARestart) {
  SimWorld first(options());
  ASSERT_TRUE(first.warm_up());
  ASSERT_NO_FATAL_FAILURE(lock_out(first));
  ASSERT_EQ(first.alarms_with("G4"), 1);
  // Restarted 5 s later: 55 s of the 60 s lockout remain.
  SimWorld second(restarted(first, 11, 5'000));
  ASSERT_TRUE(second.warm_up());
  EXPECT_EQ(rule_of(second, second.request_with(second.mint())), "G4") << "a restart lifted the lockout";
  second.run_for(56'000);
  ASSERT_TRUE(second.warm_up());
  EXPECT_EQ(rule_of(second, second.request_with(second.mint())), "(allowed)");
}

TEST_P(RestartHistory, G4_DoublingSurvivesARestart) {
  SimWorld first(options());
  ASSERT_TRUE(first.warm_up());
  ASSERT_NO_FATAL_FAILURE(lock_out(first));
  // After the first lockout ended, a restart, then 5 more rejections: the
  // second lockout lasts 120 s, not 60 s as for a hub that forgot the first.
  SimWorld second(restarted(first, 11, 61'000));
  ASSERT_TRUE(second.warm_up());
  ASSERT_NO_FATAL_FAILURE(lock_out(second));
  second.run_for(61'000);
  ASSERT_TRUE(second.warm_up());
  EXPECT_EQ(rule_of(second, second.request_with(second.mint())), "G4") << "the doubling restarted at 60 s";
  second.run_for(60'000);
  ASSERT_TRUE(second.warm_up());
  EXPECT_EQ(rule_of(second, second.request_with(second.mint())), "(allowed)");
}

TEST_P(RestartHistory, G4_RejectionsInTheWindowSurviveARestart) {
  SimWorld first(options());
  ASSERT_TRUE(first.warm_up());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(rule_of(first, first.request_with(first.forge())), "G1");
  SimWorld second(restarted(first, 11, 1'000));
  ASSERT_TRUE(second.warm_up());
  for (int i = 0; i < 2; ++i) ASSERT_EQ(rule_of(second, second.request_with(second.forge())), "G1");
  EXPECT_EQ(second.alarms_with("G4"), 1) << "a restart reset the count of rejected requests";
  EXPECT_EQ(rule_of(second, second.request_with(second.mint())), "G4");
}

TEST_P(RestartHistory, G4_RejectionsOlderThanTheWindowDoNotCount) {
  SimWorld first(options());
  ASSERT_TRUE(first.warm_up());
  for (int i = 0; i < 4; ++i) ASSERT_EQ(rule_of(first, first.request_with(first.forge())), "G1");
  SimWorld second(restarted(first, 11, 11 * 60'000));
  ASSERT_TRUE(second.warm_up());
  ASSERT_EQ(rule_of(second, second.request_with(second.forge())), "G1");
  EXPECT_EQ(second.alarms_with("G4"), 0);
}

TEST_P(RestartHistory, G4_AnUnlockEndsTheDoubling) {
  SimWorld first(options());
  ASSERT_TRUE(first.warm_up());
  ASSERT_NO_FATAL_FAILURE(lock_out(first));
  first.run_for(61'000);
  ASSERT_TRUE(first.warm_up());
  ASSERT_EQ(rule_of(first, first.request_with(first.mint())), "(allowed)");
  SimWorld second(restarted(first, 11, 1'000));
  ASSERT_TRUE(second.warm_up());
  ASSERT_NO_FATAL_FAILURE(lock_out(second));
  second.run_for(61'000);  // a first lockout again: 60 s
  ASSERT_TRUE(second.warm_up());
  EXPECT_NE(rule_of(second, second.request_with(second.mint())), "G4");
}

TEST_P(RestartHistory, G4_AClockThatWentBackDoesNotStretchTheLockout) {
  SimWorld first(options());
  ASSERT_TRUE(first.warm_up());
  ASSERT_NO_FATAL_FAILURE(lock_out(first));
  // The wall clock is an hour behind at the restart.
  SimWorld second(restarted(first, 11, -3'600'000));
  ASSERT_TRUE(second.warm_up());
  EXPECT_EQ(rule_of(second, second.request_with(second.mint())), "G4");
  second.run_for(61'000);
  ASSERT_TRUE(second.warm_up());
  EXPECT_EQ(rule_of(second, second.request_with(second.mint())), "(allowed)");
}

TEST_P(RestartHistory, G3_ConsumedGrantsAndOpenSessionsComeFromTheRecords) {
  SimWorld first(options());
  ASSERT_TRUE(first.warm_up());
  const auto g = first.mint();
  ASSERT_EQ(rule_of(first, first.request_with(g)), "(allowed)");
  SimWorld second(restarted(first, 11, 1'000));
  EXPECT_EQ(second.engine().door("front")->session.has_value(), false);
  ASSERT_TRUE(second.warm_up());
  EXPECT_EQ(second.alarms_with("F2"), 1) << "the session open at the stop was not closed as compromised";
  EXPECT_EQ(rule_of(second, second.request_with(g)), "G3");
}

TEST_P(RestartHistory, G3_GrantIssuedBeforeTheAuditLogWasRecoveredIsRefused) {
  SimWorld::Options o = options();
  o.grants_not_before_ms = o.wall_start_ms;  // recovered at this world's start
  SimWorld w(o);
  ASSERT_TRUE(w.warm_up());
  const auto before = w.mint(-60'000);
  EXPECT_EQ(rule_of(w, w.request_with(before)), "G3");
  w.run_for(1'500);
  ASSERT_TRUE(w.warm_up());
  const auto after = w.mint(-(w.wall_ms() - o.wall_start_ms) + 1);  // not_before 1 ms after the recovery
  const auto d = decide(w, w.request_with(after));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->allowed) << d->rule << ": " << d->message;
}

TEST_P(RestartHistory, A2_RecoveryRecordCarriesTheCutOffAcrossRestarts) {
  // As latchkeyd --recover-audit writes it (audit_recovery.cpp).
  const Records mode = GetParam();
  latchkey::gate::RestartHistory h;
  const std::string detail = "audit log recovered: grants issued before 1234 ms (Unix) are refused; seq 5 changed";
  HistoryRecord r{1'234, "hub", latchkey::Rule::A2, "", "", "", latchkey::RecordKind::kLogRecovered, 1'234, 2, detail};
  if (mode == Records::kReworded) r.detail = "recovered";
  if (mode == Records::kSchema1) r = HistoryRecord{1'234, "hub", latchkey::Rule::A2, "", "", "", {}, 0, 1, detail};
  h.add(r);
  latchkey::gate::GateSetup setup;
  h.apply(setup, 2'000);
  EXPECT_EQ(setup.grants_not_before_ms, 1'234);
  // A schema-1 text that does not carry a cut-off sets none.
  latchkey::gate::RestartHistory bad;
  bad.add({1'234, "hub", latchkey::Rule::A2, "", "", "", {}, 0, 1, "audit log recovered: grants issued before x"});
  bad.apply(setup, 2'000);
  EXPECT_EQ(setup.grants_not_before_ms, 0);
}

TEST_P(RestartHistory, A2_UnverifiedLogGrantsNothingAndRaisesAnAlarm) {
  SimWorld::Options o = options();
  o.audit_unverified = "record 7 does not verify";
  SimWorld w(o);
  ASSERT_TRUE(w.warm_up());
  EXPECT_EQ(w.alarms_with("A2"), 1);
  EXPECT_TRUE(w.engine().storage_failed());
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "U3");
  EXPECT_TRUE(w.observed().unlocks.empty());
}

TEST_P(RestartHistory, G4_ChallengeFloodDoesNotLockOutACourier) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  // Each time the courier asks for a challenge, a flood of 100 requests
  // evicts it before the proof arrives: denied, but never counted.
  for (int attempt = 0; attempt < 6; ++attempt) {
    const auto g = w.mint();
    const auto c = w.challenge();
    for (int i = 0; i < 100; ++i) w.challenge();
    const uint64_t id = w.request(w.request_bytes(g, c));
    auto d = decide(w, id);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->rule, latchkey::Rule::G2);
    EXPECT_NE(d->message.find("flood"), std::string::npos) << d->message;
  }
  EXPECT_EQ(w.alarms_with("G4"), 0) << "a challenge flood locked the courier out";
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "(allowed)");
}

TEST_P(RestartHistory, G4_UnknownChallengesStillCount) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  for (int i = 0; i < 5; ++i) {
    const auto g = w.mint();
    EXPECT_EQ(rule_of(w, w.request(w.request_bytes(g, latchkey::crypto::Bytes(32, static_cast<uint8_t>(i))))), "G2");
  }
  EXPECT_EQ(w.alarms_with("G4"), 1);
}
