// One or more tests per docs/rules.md ID, each driving the real GateEngine through
// SimWorld and asserting the rule's outcome and its rule ID. Removing the
// code that enforces a rule makes its test fail.
// One file, as the rules are one document: long by nature.
#include "sim_world.hpp"

#include <latchkey/lk_camera.h>

#include <gtest/gtest.h>

using latchkey::sim::SimWorld;
using latchkey::gate::AuthzVerdict;
using latchkey::gate::ms_to_ns;

namespace {

SimWorld::Options options(uint64_t seed = 7) {
  SimWorld::Options o;
  o.seed = seed;
  return o;
}

// Drives a request to its decision (recording and commit take a few frames).
std::optional<latchkey::gate::Decision> decide(SimWorld& w, uint64_t id, int64_t max_ms = 4'000) {
  for (int64_t t = 0; t < max_ms; t += 10) {
    if (auto d = w.decision(id)) return d;
    w.run_for(10);
  }
  return w.decision(id);
}

std::string rule_of(SimWorld& w, uint64_t id) {
  auto d = decide(w, id);
  if (!d) return "(no decision)";
  return d->allowed ? "(allowed)" : std::string(latchkey::name(d->rule));
}

bool has_audit(const SimWorld& w, const std::string& type, const std::string& rule) {
  for (const auto& r : w.audit())
    if (r.entry.type == type && latchkey::name(r.entry.rule) == rule) return true;
  return false;
}

// A full happy delivery: returns the request id after the unlock was allowed.
uint64_t unlock(SimWorld& w) {
  const auto g = w.mint();
  const uint64_t id = w.request_with(g);
  auto d = decide(w, id);
  EXPECT_TRUE(d && d->allowed) << (d ? std::string(latchkey::name(d->rule)) + ": " + d->message : "no decision");
  w.run_for(100);  // the bolt moves
  return id;
}

}  // namespace

TEST(Gate, HappyDelivery_RecordsUnlocksAndCompletesWithVerifiedRelock) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  unlock(w);
  ASSERT_EQ(w.observed().unlocks.size(), 1u);
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_UNLOCKED);
  w.open_door();
  w.run_for(2'000);
  w.close_door();
  w.run_for(200);
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_LOCKED);
  EXPECT_FALSE(w.engine().door("front")->session.has_value());
  EXPECT_TRUE(has_audit(w, "session", "U8"));  // completed
  EXPECT_TRUE(w.observed().alarms.empty());
}

// ---- G1 ----
TEST(Gate, G1_ForgedExpiredWrongDoorAndRevokedGrantsAreDenied) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  EXPECT_EQ(rule_of(w, w.request_with(w.forge())), "G1");
  EXPECT_EQ(rule_of(w, w.request_with(w.mint(-7'200'000, -3'600'000))), "G1");  // expired
  EXPECT_EQ(rule_of(w, w.request_with(w.mint(3'600'000, 7'200'000))), "G1");    // not yet valid
  EXPECT_EQ(rule_of(w, w.request_with(w.mint(-1000, 25 * 3'600'000LL))), "G1");  // lifetime > 24 h
  const auto other_door = w.mint(-60'000, 3'600'000, "back");
  EXPECT_EQ(rule_of(w, w.request(w.request_bytes(other_door, w.challenge()), std::nullopt)), "G1");
  auto revoked = w.mint();
  w.engine().revoke(latchkey::crypto::to_hex(latchkey::crypto::view(revoked.grant_id)), w.now());
  w.run_for(1);
  // Skip the G4 lockout these denials would trigger: a new world for the revoked case.
  SimWorld w2(options(8));
  ASSERT_TRUE(w2.warm_up());
  auto g = w2.mint();
  w2.engine().revoke(latchkey::crypto::to_hex(latchkey::crypto::view(g.grant_id)), w2.now());
  EXPECT_EQ(rule_of(w2, w2.request_with(g)), "G1");
  EXPECT_TRUE(w.observed().unlocks.empty());
  EXPECT_TRUE(w2.observed().unlocks.empty());
}

// G1 by a fleet revocation list (docs/fleet.md "Revocations"): a list names
// grants of its own issuer only; each newly revoked grant is audited once.
TEST(Gate, G1_FleetRevocationListRevokesOnlyItsOwnIssuersGrants) {
  SimWorld w(options(8));
  ASSERT_TRUE(w.warm_up());
  auto g = w.mint();
  const std::string id = latchkey::crypto::to_hex(latchkey::crypto::view(g.grant_id));
  EXPECT_EQ(w.engine().set_issuer_revocations("issuer-2", {id}, "revoked by list issuer-2 #1", w.now()), 1u);
  EXPECT_EQ(w.engine().set_issuer_revocations("issuer-1", {id}, "revoked by list issuer-1 #4", w.now()), 1u);
  EXPECT_EQ(w.engine().set_issuer_revocations("issuer-1", {id}, "revoked by list issuer-1 #5", w.now()), 0u);
  w.run_for(1);
  std::size_t audited = 0;
  for (const auto& r : w.audit())
    if (r.entry.type == "grant" && r.entry.detail.rfind("revoked by list issuer-1", 0) == 0) ++audited;
  EXPECT_EQ(audited, 1u) << "a grant already revoked by the issuer's list is not audited again";
  EXPECT_EQ(rule_of(w, w.request_with(g)), "G1");
  // The issuer's newer list no longer names it; issuer-2's list cannot revoke issuer-1's grant.
  EXPECT_EQ(w.engine().set_issuer_revocations("issuer-1", {}, "revoked by list issuer-1 #6", w.now()), 0u);
  auto g2 = w.mint();
  const std::string id2 = latchkey::crypto::to_hex(latchkey::crypto::view(g2.grant_id));
  w.engine().set_issuer_revocations("issuer-2", {id, id2}, "revoked by list issuer-2 #2", w.now());
  EXPECT_EQ(rule_of(w, w.request_with(g2)), "(allowed)");
}

// ---- G2 ----
// G1 after admission: a grant revoked while its request waits for the cameras
// to record (U2) opens nothing, whichever way the revocation comes; the deny
// is G1 with its audit record and the grant is not consumed.
namespace {
void revoked_while_recording_is_pending(bool by_fleet_list) {
  SimWorld w(options(9));
  ASSERT_TRUE(w.warm_up());
  w.camera().ignore_recording = true;  // the recording acknowledgement is pending
  const auto g = w.mint();
  const std::string grant_hex = latchkey::crypto::to_hex(latchkey::crypto::view(g.grant_id));
  const uint64_t id = w.request_with(g);
  w.run_for(300);
  ASSERT_FALSE(w.decision(id)) << "the request must still wait for recording";
  ASSERT_TRUE(w.engine().door("front")->session.has_value());
  const std::string session_id = w.engine().door("front")->session->session_id;
  if (by_fleet_list)
    w.engine().set_issuer_revocations("issuer-1", {grant_hex}, "revoked by list issuer-1 #1", w.now());
  else
    w.engine().revoke(grant_hex, w.now());
  // Now the camera acknowledges recording the session after all.
  w.camera().ignore_recording = false;
  w.camera().recording_session = session_id;
  const auto d = decide(w, id);
  ASSERT_TRUE(d) << "no decision";
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(d->rule, latchkey::Rule::G1);
  EXPECT_EQ(d->message, "grant is revoked");
  w.run_for(1'000);
  EXPECT_TRUE(w.observed().unlocks.empty());
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_LOCKED);
  EXPECT_FALSE(w.engine().door("front")->session.has_value());
  EXPECT_EQ(w.consumed().count(g.grant_id), 0u);
  bool deny_audited = false;
  for (const auto& r : w.audit()) {
    EXPECT_NE(r.entry.kind, latchkey::RecordKind::kAllow) << r.entry.detail;
    if (r.entry.type == "decision" && r.entry.rule == latchkey::Rule::G1 && r.entry.subject == grant_hex &&
        r.entry.detail.find("grant is revoked") != std::string::npos)
      deny_audited = true;
  }
  EXPECT_TRUE(deny_audited);
}
}  // namespace

TEST(Gate, G1_GrantRevokedWhileRecordingIsPendingDoesNotUnlock) { revoked_while_recording_is_pending(false); }

TEST(Gate, G1_FleetListRevokingAGrantWhileRecordingIsPendingDoesNotUnlock) {
  revoked_while_recording_is_pending(true);
}

TEST(Gate, G2_ChallengeIsSingleUseFreshAndSignedByTheCourier) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  const auto g = w.mint();
  // Never issued.
  EXPECT_EQ(rule_of(w, w.request(w.request_bytes(g, latchkey::crypto::Bytes(32, 1)))), "G2");
  // Expired: issued more than challenge_ttl ago.
  const auto old = w.challenge();
  w.run_for(31'000);
  EXPECT_EQ(rule_of(w, w.request(w.request_bytes(g, old))), "G2");
  // Signed by someone other than the grant's courier.
  auto thief = g;
  thief.courier = latchkey::crypto::KeyPair::generate();
  EXPECT_EQ(rule_of(w, w.request(w.request_bytes(thief, w.challenge()))), "G2");
  EXPECT_TRUE(w.observed().unlocks.empty());
}

TEST(Gate, G2_ReusedChallengeIsDenied) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  const auto c = w.challenge();
  const auto a = w.mint();
  ASSERT_TRUE(decide(w, w.request(w.request_bytes(a, c)))->allowed);
  const auto b = w.mint();
  EXPECT_EQ(rule_of(w, w.request(w.request_bytes(b, c))), "G2");
}

// ---- G3 ----
TEST(Gate, G3_GrantOpensTheDoorAtMostOnce) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  const auto g = w.mint();
  ASSERT_TRUE(decide(w, w.request_with(g))->allowed);
  w.run_for(100);
  w.open_door();
  w.close_door();
  w.run_for(500);
  EXPECT_EQ(rule_of(w, w.request_with(g)), "G3");
  EXPECT_EQ(w.observed().unlocks.size(), 1u);
  EXPECT_EQ(w.grants_consumed_twice(), 0);
}

TEST(Gate, G3_ConsumedGrantsSurviveRestart) {
  SimWorld first(options(3));
  ASSERT_TRUE(first.warm_up());
  const auto g = first.mint();
  ASSERT_TRUE(decide(first, first.request_with(g))->allowed);
  auto o = options(3);  // same seed: same issuer key
  o.consumed_grants = first.consumed();
  SimWorld restarted(o);
  ASSERT_TRUE(restarted.warm_up());
  EXPECT_EQ(rule_of(restarted, restarted.request_with(g)), "G3");
}

// ---- G4 ----
TEST(Gate, G4_FiveRejectionsLockRemoteUnlockWithDoublingLockouts) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rule_of(w, w.request_with(w.forge())), "G1");
  EXPECT_EQ(w.alarms_with("G4"), 1);
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "G4");  // even a valid grant
  w.run_for(61'000);
  ASSERT_TRUE(w.warm_up());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rule_of(w, w.request_with(w.forge())), "G1");
  EXPECT_EQ(w.alarms_with("G4"), 2);
  w.run_for(61'000);
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "G4");  // second lockout lasts 120 s
  w.run_for(60'000);
  ASSERT_TRUE(w.warm_up());
  auto d = decide(w, w.request_with(w.mint()));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->allowed) << d->rule << ": " << d->message;
}

// ---- C2 ----
TEST(Gate, C2_CameraEchoingAStaleNonceIsRejectedAndNotLive) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().stale_nonce = true;
  w.run_for(1'500);
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
  EXPECT_TRUE(has_audit(w, "attestation_rejected", "C2"));
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "U1");
}

TEST(Gate, C2_HubSendsAFreshNonceEveryPeriod) {
  SimWorld w(options());
  const auto before = w.camera().nonce;
  w.run_for(1'000);
  // 4 periods of 250 ms: the camera has seen a new nonce, and liveness follows.
  EXPECT_NE(w.camera().nonce, before);
  EXPECT_TRUE(w.engine().camera_live(w.camera_id(), w.now()));
}

// ---- C3 ----
TEST(Gate, C3_RepeatedCounterIsRejected) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().repeat_counter = true;
  w.run_for(1'500);
  EXPECT_TRUE(has_audit(w, "attestation_rejected", "C3"));
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
}

TEST(Gate, C3_ClockJumpIsRejected) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().clock_offset_ns += ms_to_ns(2'000);
  w.run_for(300);
  EXPECT_TRUE(has_audit(w, "attestation_rejected", "C3"));
}

TEST(Gate, C3_BootIdChangeWithoutReenrolmentIsRejected) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().boot_id = std::string(16, 'b');
  w.camera().counter = 0;
  w.run_for(1'500);
  EXPECT_TRUE(has_audit(w, "attestation_rejected", "C3"));
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
}

TEST(Gate, C1_SignatureByAnotherKeyIsRejected) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().wrong_key = true;
  w.run_for(1'500);
  EXPECT_TRUE(has_audit(w, "attestation_rejected", "C1"));
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
}

TEST(Gate, C3_ReplayedAttestationsAreRejected) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().replay = true;
  w.run_for(1'500);
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
  EXPECT_TRUE(has_audit(w, "attestation_rejected", "C3") || has_audit(w, "attestation_rejected", "C2"));
}

// ---- C4 ----
TEST(Gate, C4_LiveNeedsFourAcceptedInARowAndAFreshOne) {
  SimWorld w(options());
  w.run_for(600);  // at most 3 attestations after the first nonce
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
  ASSERT_TRUE(w.warm_up());
  w.camera().offline = true;
  w.run_for(999);
  w.run_for(300);
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
  w.camera().offline = false;
  w.run_for(600);  // back, but fewer than 4 in a row yet
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
  EXPECT_TRUE(w.warm_up());
}

TEST(Gate, C4_EveryChangeOfLivenessIsSaidOnceWithTheLastAcceptedAttestation) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  const auto& changes = w.observed().liveness;
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_TRUE(changes[0].second.live);
  EXPECT_EQ(changes[0].second.camera_id, w.camera_id());
  w.run_for(1'000);  // attestations go on: no change, nothing said
  EXPECT_EQ(changes.size(), 1u);
  w.camera().offline = true;
  w.run_for(1'500);
  ASSERT_EQ(changes.size(), 2u);
  const auto& [at, lost] = changes[1];
  EXPECT_FALSE(lost.live);
  ASSERT_NE(lost.last_accepted, latchkey::gate::kNever);
  // Said when LIVE ended: live_timeout after the last accepted attestation (C4).
  EXPECT_EQ(at - lost.last_accepted, latchkey::gate::ms_to_ns(w.engine().config().live_timeout_ms));
  w.camera().offline = false;
  ASSERT_TRUE(w.warm_up());
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_TRUE(changes[2].second.live);
}

// ---- C5 ----
TEST(Gate, C5_FrozenFrameEndsLivenessWithinTheFreezeWindow) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().frozen = true;
  w.run_for(2'500);
  EXPECT_TRUE(w.engine().camera_live(w.camera_id(), w.now()));  // still within freeze_window
  w.run_for(1'000);
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
  EXPECT_TRUE(has_audit(w, "attestation_rejected", "C5"));
}

// ---- C7 ----
TEST(Gate, C7_LoopedFootageEndsLivenessAtTheFirstRepeatedFrame) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.run_for(5'000);  // 20 distinct frames the loop can return to
  ASSERT_TRUE(w.engine().camera_live(w.camera_id(), w.now()));
  w.camera().looped = true;  // well signed, fresh nonces, rising counters: only the pixels repeat
  w.run_for(300);
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
  EXPECT_TRUE(has_audit(w, "attestation_rejected", "C7"));
  w.run_for(5'000);  // the loop plays on: the camera stays not LIVE
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
}

TEST(Gate, C7_ADigestOlderThanTheLoopWindowIsNoLoop) {
  auto o = options();
  o.config.loop_window_ms = 10'000;
  SimWorld w(o);
  ASSERT_TRUE(w.warm_up());
  w.camera().loop_back = 60;  // 15 s back at 4 attestations a second: beyond the window
  w.run_for(20'000);
  w.camera().looped = true;
  w.run_for(2'000);
  EXPECT_TRUE(w.engine().camera_live(w.camera_id(), w.now()));
  EXPECT_FALSE(has_audit(w, "attestation_rejected", "C7"));
}

TEST(Gate, C7_AFrozenRunIsC5sCaseNotALoop) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().frozen = true;
  w.run_for(2'000);
  EXPECT_TRUE(w.engine().camera_live(w.camera_id(), w.now()));
  EXPECT_FALSE(has_audit(w, "attestation_rejected", "C7"));
}

// ---- C8 ----
TEST(Gate, C8_CoveredLensEndsLivenessAfterTheTamperWindowWithOneAlarm) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().covered = true;
  w.run_for(1'500);  // within tamper_window (2 s): a hand passing is tolerated
  EXPECT_TRUE(w.engine().camera_live(w.camera_id(), w.now()));
  EXPECT_EQ(w.alarms_with("C8"), 0);
  w.run_for(1'000);
  EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now()));
  EXPECT_TRUE(has_audit(w, "attestation_rejected", "C8"));
  w.run_for(3'000);
  EXPECT_EQ(w.alarms_with("C8"), 1);  // one camera-tamper alarm per episode
  w.camera().covered = false;
  ASSERT_TRUE(w.warm_up());
  w.camera().covered = true;
  w.run_for(3'000);
  EXPECT_EQ(w.alarms_with("C8"), 2);  // a new episode, a new alarm
}

// C8 ends LIVE when tamper_window has passed since the first attestation out
// of limits, by the engine's own deadline: not at the next attestation after
// the window, which with a slow camera would be up to a period later.
TEST(Gate, C8_LivenessEndsWhenTheWindowEndsNotAtTheNextAttestation) {
  SimWorld w(options());
  w.camera().period_ns = ms_to_ns(400);
  ASSERT_TRUE(w.warm_up(5'000));
  const uint64_t sent_before = w.attestations_sent();
  w.camera().covered = true;
  // Find the arrival of the first covered attestation: the next one sent.
  while (w.attestations_sent() == sent_before) w.run_for(1);
  const latchkey::gate::MonoNs first_sent = w.now();
  const latchkey::gate::MonoNs window = ms_to_ns(w.engine().config().tamper_window_ms);
  while (w.engine().camera_live(w.camera_id(), w.now()) && w.now() < first_sent + window + ms_to_ns(1'000))
    w.run_for(1);
  const latchkey::gate::MonoNs ended = w.now() - first_sent;
  // The attestation takes attestation_latency (10 ms) to arrive; the window
  // runs from its arrival; the 1 ms steps add at most 1 ms.
  EXPECT_GE(ended, window) << "LIVE ended inside the window";
  EXPECT_LE(ended, window + ms_to_ns(10) + ms_to_ns(2)) << "LIVE ended " << (ended - window) / 1'000'000
                                                        << " ms after the window (waited for an attestation?)";
  EXPECT_EQ(w.alarms_with("C8"), 1) << "the camera-tamper alarm comes with the end of LIVE";
  EXPECT_TRUE(has_audit(w, "camera", "C8"));
}

// The window runs from the first tampered frame, not from when its
// attestation arrived: a frame that waited on the camera (up to a period
// before it is signed) starts the window at its capture, on the hub's clock
// as the fastest recent transit tells.
TEST(Gate, C8_TheWindowRunsFromTheCaptureOfTheFirstTamperedFrame) {
  SimWorld w(options());
  w.camera().period_ns = ms_to_ns(400);
  ASSERT_TRUE(w.warm_up(5'000));
  const uint64_t sent_before = w.attestations_sent();
  w.camera().covered = true;
  w.camera().capture_lag_ns = ms_to_ns(120);  // the covered frame was captured 120 ms before it was sent
  while (w.attestations_sent() == sent_before) w.run_for(1);
  const latchkey::gate::MonoNs captured = w.now() - ms_to_ns(120);
  const latchkey::gate::MonoNs window = ms_to_ns(w.engine().config().tamper_window_ms);
  while (w.engine().camera_live(w.camera_id(), w.now()) && w.now() < captured + window + ms_to_ns(1'000))
    w.run_for(1);
  const latchkey::gate::MonoNs ended = w.now() - captured;
  // Capture + the fastest transit (10 ms) + the window, within the 1 ms steps.
  EXPECT_GE(ended, window + ms_to_ns(10)) << (ended - window) / 1'000'000 << " ms";
  EXPECT_LE(ended, window + ms_to_ns(12)) << "LIVE ended " << (ended - window) / 1'000'000
                                          << " ms after capture + window (counted from the arrival?)";
  EXPECT_EQ(w.alarms_with("C8"), 1);
}

TEST(Gate, C8_EachLimitIsItsOwnReason) {
  struct Case {
    const char* what;
    uint32_t luminance, sharpness, similarity;
    const char* reason;
  };
  for (const Case& c : {Case{"dark", 2'000, 20'000, 900, "too dark"}, Case{"bright", 252'000, 20'000, 900, "too bright"},
                        Case{"blurred", 128'000, 100, 900, "too blurred"},
                        Case{"turned", 128'000, 20'000, 50, "unlike the reference view"}}) {
    SimWorld w(options());
    ASSERT_TRUE(w.warm_up()) << c.what;
    w.camera().luminance = c.luminance;
    w.camera().sharpness = c.sharpness;
    w.camera().similarity = c.similarity;
    w.run_for(3'000);
    EXPECT_FALSE(w.engine().camera_live(w.camera_id(), w.now())) << c.what;
    bool named = false;
    for (const auto& r : w.audit())
      if (r.entry.type == "attestation_rejected" && r.entry.rule == latchkey::Rule::C8 &&
          r.entry.detail.find(c.reason) != std::string::npos)
        named = true;
    EXPECT_TRUE(named) << c.what << ": no C8 rejection saying '" << c.reason << "'";
  }
}

TEST(Gate, C8_MissingMeasurementsCountOnlyWhereRequired) {
  SimWorld lenient(options());
  lenient.camera().measures_scene = false;
  EXPECT_TRUE(lenient.warm_up());
  lenient.run_for(5'000);
  EXPECT_TRUE(lenient.engine().camera_live(lenient.camera_id(), lenient.now()));

  auto o = options();
  o.scene.required = true;
  SimWorld strict(o);
  strict.camera().measures_scene = false;
  strict.run_for(5'000);
  EXPECT_FALSE(strict.engine().camera_live(strict.camera_id(), strict.now()));
  EXPECT_TRUE(has_audit(strict, "attestation_rejected", "C8"));
}

TEST(Gate, C8_LimitsOutsideTheirBoundsAreRefusedNamingTheCamera) {
  auto o = options();
  o.scene.min_luminance = 200'000;
  o.scene.max_luminance = 100'000;
  EXPECT_THROW(SimWorld w(o), std::exception);
  o = options();
  o.scene.min_similarity = 1'001;
  EXPECT_THROW(SimWorld w(o), std::exception);
}

// ---- C6 ----
TEST(Gate, C6_OfflineCameraRaisesAnAlarmOutsideDeliveries) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().offline = true;
  w.run_for(9'000);
  EXPECT_EQ(w.alarms_with("C6"), 0);
  w.run_for(3'000);
  EXPECT_EQ(w.alarms_with("C6"), 1);
  w.run_for(10'000);
  EXPECT_EQ(w.alarms_with("C6"), 1);  // once per outage
}

// ---- U1 ----
TEST(Gate, U1_UnlockNeedsEveryBoundCameraLive) {
  auto o = options();
  o.cameras = 2;
  SimWorld w(o);
  ASSERT_TRUE(w.warm_up());
  w.camera(1).offline = true;
  w.run_for(1'100);
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "U1");
  EXPECT_TRUE(w.observed().unlocks.empty());
}

// ---- U2 ----
TEST(Gate, U2_CameraThatDoesNotAcknowledgeRecordingBlocksTheUnlock) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().ignore_recording = true;
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "U2");
  EXPECT_TRUE(w.observed().unlocks.empty());
}

TEST(Gate, U2_UnlockFollowsARecordingAcknowledgement) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  const uint64_t id = w.request_with(w.mint());
  ASSERT_TRUE(decide(w, id)->allowed);
  const auto session = w.engine().door("front")->session->session_id;
  EXPECT_EQ(w.engine().monitor(w.camera_id())->recording_session(), session);
}

// ---- U3 ----
TEST(Gate, U3_NoLogNoUnlockUntilStorageRecovers) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.storage_fails = true;
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "U3");
  EXPECT_TRUE(w.observed().unlocks.empty());
  EXPECT_EQ(w.alarms_with("U3"), 1);
  w.storage_fails = false;
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "U3");  // still stopped
  w.engine().on_storage_recovered(w.now());
  auto d = decide(w, w.request_with(w.mint()));
  EXPECT_TRUE(d && d->allowed);
}

TEST(Gate, U3_DecisionIsDurableBeforeTheUnlockCommand) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  unlock(w);
  ASSERT_EQ(w.observed().unlocks.size(), 1u);
  const auto unlock_at = w.observed().unlocks[0].first;
  bool durable_before = false;
  for (const auto& r : w.audit())
    if (r.durable && r.entry.type == "decision" && !r.entry.consumes_grant.empty() && r.at <= unlock_at)
      durable_before = true;
  EXPECT_TRUE(durable_before);
}

// ---- A2 with the fleet witness (docs/fleet.md) ----
TEST(Gate, A2_NothingGrantedUntilTheWitnessConfirms) {
  SimWorld::Options o = options();
  o.witness_required = true;
  SimWorld w(o);
  ASSERT_TRUE(w.warm_up());
  EXPECT_EQ(w.engine().witness_hold(), latchkey::gate::GateEngine::WitnessHold::kAwaiting);
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "A2");
  EXPECT_TRUE(w.observed().unlocks.empty());
  EXPECT_EQ(w.alarms_with("A2"), 0) << "waiting for the witness is no alarm";
  w.engine().on_witness_confirmed("the witness holds none", w.now());
  EXPECT_EQ(w.engine().witness_hold(), latchkey::gate::GateEngine::WitnessHold::kNone);
  auto d = decide(w, w.request_with(w.mint()));
  EXPECT_TRUE(d && d->allowed);
}

TEST(Gate, A2_ARefusalByTheWitnessStopsGrantingForGood) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.engine().on_witness_refused("the witness holds size 9; the log has only 4 records", w.now());
  w.run_for(10);
  EXPECT_EQ(w.alarms_with("A2"), 1);
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "A2");
  // A later confirmation (another answer) and storage recovery lift nothing.
  w.engine().on_witness_confirmed("ok", w.now());
  w.engine().on_storage_recovered(w.now());
  w.engine().on_witness_refused("again", w.now());
  w.run_for(10);
  EXPECT_EQ(w.alarms_with("A2"), 1) << "one alarm per refusal";
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "A2");
  EXPECT_TRUE(w.observed().unlocks.empty());
  // Refusals for the hub's own reasons do not count towards G4's lockout.
  for (int i = 0; i < 6; ++i) w.request_with(w.mint());
  w.run_for(100);
  EXPECT_EQ(w.alarms_with("G4"), 0);
}

// ---- U4 ----
TEST(Gate, U4_UnlockCarriesTheRelockDeadlineAndTheHubBacksItUp) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.lock().no_self_relock = true;  // a lock without its own deadline
  unlock(w);
  ASSERT_EQ(w.observed().unlocks.size(), 1u);
  EXPECT_EQ(w.observed().unlocks[0].second.relock_deadline_ms, w.engine().config().relock_deadline_ms);
  w.run_for(w.engine().config().relock_deadline_ms + 200);
  ASSERT_FALSE(w.observed().locks.empty());
  EXPECT_EQ(w.observed().locks.back().second.rule, latchkey::Rule::U4);
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_LOCKED);
}

// ---- U5 ----
TEST(Gate, U5_CameraLostWithDoorClosed_RelocksAtOnce) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  unlock(w);
  w.camera().offline = true;
  const auto last = *w.engine().monitor(w.camera_id())->last_accepted();
  w.run_for(2'000);
  ASSERT_FALSE(w.observed().locks.empty());
  const auto& [at, cmd] = w.observed().locks.front();
  EXPECT_EQ(cmd.rule, latchkey::Rule::U5);
  EXPECT_LE(at - last, ms_to_ns(w.engine().config().live_timeout_ms + 50));
  EXPECT_EQ(w.alarms_with("U5"), 1);
  EXPECT_TRUE(has_audit(w, "session", "U5"));  // ended compromised
}

TEST(Gate, U5_CameraLostWithDoorOpen_AlarmsAtOnceAndRelocksWhenClosed) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  unlock(w);
  w.open_door();
  w.run_for(500);
  w.camera().frozen = true;  // the 2017 attack
  w.run_for(4'000);
  EXPECT_EQ(w.alarms_with("U5"), 1);
  EXPECT_TRUE(w.observed().locks.empty());  // the bolt cannot go out into an open door
  w.close_door();
  w.run_for(200);
  ASSERT_EQ(w.observed().locks.size(), 1u);
  EXPECT_EQ(w.observed().locks[0].second.rule, latchkey::Rule::U5);
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_LOCKED);
}

// ---- U6 ----
TEST(Gate, U6_SecondOpeningInOneSessionIsAnAlarm) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.lock().actuation_ns = ms_to_ns(400);  // slow bolt: room for a second opening
  unlock(w);
  w.run_for(400);
  w.open_door();
  w.close_door();
  w.run_for(50);
  w.open_door();
  EXPECT_EQ(w.alarms_with("U6"), 1);
}

// ---- U7 ----
TEST(Gate, U7_DoorLeftOpenPastSessionMaxIsAnAlarm) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  unlock(w);
  w.open_door();
  w.run_for(w.engine().config().session_max_ms + 100);
  EXPECT_EQ(w.alarms_with("U7"), 1);
  w.close_door();
  w.run_for(200);
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_LOCKED);
}

// ---- U8 ----
TEST(Gate, U8_RelockIsCommandedWithinOneSecondOfTheDoorClosing) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  unlock(w);
  w.open_door();
  w.run_for(1'000);
  const auto closed_at = w.now();
  w.close_door();
  w.run_for(100);
  ASSERT_EQ(w.observed().locks.size(), 1u);
  EXPECT_EQ(w.observed().locks[0].second.rule, latchkey::Rule::U8);
  EXPECT_LE(w.observed().locks[0].first - closed_at, ms_to_ns(1'000));
}

TEST(Gate, U8_LockedWhileDoorOpenIsAnInconsistencyAlarm) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  unlock(w);
  w.open_door();
  w.lock().lie_locked = true;
  w.engine().on_lock_state("front", w.lock().reported(), w.now());
  w.run_for(1);
  EXPECT_EQ(w.alarms_with("U8"), 1);
  EXPECT_TRUE(w.engine().door("front")->session.has_value());  // not completed by a lie
}

// ---- F1 ----
TEST(Gate, F1_UnknownLockStateDeniesUnlock) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.engine().on_lock_state("front", LK_LOCK_STATE_UNKNOWN, w.now());
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "F1");
}

TEST(Gate, F1_PluginFaultDuringSessionCompromisesIt) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  unlock(w);
  w.engine().on_lock_fault("front", "plugin crashed", w.now());
  w.run_for(10);
  EXPECT_EQ(w.alarms_with("F1"), 1);
  EXPECT_FALSE(w.engine().door("front")->session.has_value());
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "F1");
}

TEST(Gate, F1_JammedRelockIsAnAlarm) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  unlock(w);
  w.open_door();
  w.lock().jam = true;
  w.close_door();
  w.run_for(200);
  EXPECT_GE(w.alarms_with("F1"), 1);
  EXPECT_TRUE(has_audit(w, "session", "F1"));
}

TEST(Gate, F1_MissingCompletionPutsTheLockInDoubt) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.lock().no_completion = true;
  const uint64_t id = w.request_with(w.mint());
  ASSERT_TRUE(decide(w, id)->allowed);
  w.run_for(w.engine().config().lock_command_timeout_ms + 100);
  EXPECT_GE(w.alarms_with("F1"), 1);
  EXPECT_TRUE(w.engine().door("front")->lock_faulted);
}

TEST(Gate, F1_UnsynchronisedWallClockDeniesUnlock) {
  auto o = options();
  o.clock_synced = false;
  SimWorld w(o);
  ASSERT_TRUE(w.warm_up());
  EXPECT_EQ(rule_of(w, w.request_with(w.mint())), "F1");
}

// ---- F2 ----
TEST(Gate, F2_SessionOpenAtRestartEndsCompromisedWithRelockAndNoUnlock) {
  auto o = options();
  o.sessions_open_at_stop["front"] = "00112233445566778899aabbccddeeff";
  SimWorld w(o);
  EXPECT_EQ(w.alarms_with("F2"), 1);
  ASSERT_EQ(w.observed().locks.size(), 1u);
  EXPECT_EQ(w.observed().locks[0].second.rule, latchkey::Rule::F2);
  w.run_for(3'000);
  EXPECT_TRUE(w.observed().unlocks.empty());
}

// ---- F3 ----
TEST(Gate, F3_PluginVerdictIsNecessary) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  AuthzVerdict refused;
  refused.outcome = AuthzVerdict::Outcome::kRefused;
  refused.message = "provider says no";
  const auto g = w.mint();
  EXPECT_EQ(rule_of(w, w.request(w.request_bytes(g, w.challenge()), refused)), "F3");
  AuthzVerdict none;
  EXPECT_EQ(rule_of(w, w.request(w.request_bytes(g, w.challenge()), none)), "F3");
}

TEST(Gate, F3_PluginVerdictIsNeverSufficient) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  const auto forged = w.forge();
  AuthzVerdict lying;
  lying.outcome = AuthzVerdict::Outcome::kAccepted;
  lying.grant_id = forged.grant_id;
  lying.door_id = "front";
  EXPECT_EQ(rule_of(w, w.request(w.request_bytes(forged, w.challenge()), lying)), "G1");
  const auto g = w.mint();
  AuthzVerdict mismatched = lying;
  mismatched.grant_id = std::string(16, 'x');
  EXPECT_EQ(rule_of(w, w.request(w.request_bytes(g, w.challenge()), mismatched)), "F3");
  EXPECT_TRUE(w.observed().unlocks.empty());
}

// The pending verdict, as latchkeyd gives it: the engine checks and starts
// recording while the plugin answers, and commits nothing before it has.
SimWorld::Options pending_authz(int64_t latency_ms) {
  auto o = options();
  o.authz_latency_ns = latchkey::gate::ms_to_ns(latency_ms);
  return o;
}

bool allow_recorded(const SimWorld& w) {
  for (const auto& r : w.audit())
    if (r.entry.kind == latchkey::RecordKind::kAllow) return true;
  return false;
}

TEST(Gate, F3_PendingVerdictHoldsTheCommitUntilItComes) {
  SimWorld w(pending_authz(1'500));
  ASSERT_TRUE(w.warm_up());
  const uint64_t id = w.request_with(w.mint());
  w.run_for(1'000);  // cameras have acknowledged long since
  EXPECT_EQ(w.engine().monitor(w.camera_id())->recording_session(), w.engine().door("front")->session->session_id);
  EXPECT_FALSE(w.decision(id));
  EXPECT_FALSE(allow_recorded(w));
  EXPECT_TRUE(w.observed().unlocks.empty());
  auto d = decide(w, id);
  ASSERT_TRUE(d && d->allowed) << (d ? d->message : "no decision");
  EXPECT_EQ(w.observed().unlocks.size(), 1u);
}

TEST(Gate, F3_PendingRefusalDeniesAndReleasesTheGrantAndTheCameras) {
  SimWorld w(pending_authz(200));
  ASSERT_TRUE(w.warm_up());
  const auto g = w.mint();
  AuthzVerdict refused;
  refused.outcome = AuthzVerdict::Outcome::kRefused;
  refused.message = "provider says no";
  const auto d = decide(w, w.request(w.request_bytes(g, w.challenge()), refused));
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(d->rule, latchkey::Rule::F3);
  EXPECT_NE(d->message.find("provider says no"), std::string::npos) << d->message;
  EXPECT_FALSE(allow_recorded(w));
  EXPECT_TRUE(w.observed().unlocks.empty());
  EXPECT_FALSE(w.engine().door("front")->session);
  EXPECT_TRUE(w.camera().recording_session.empty());  // told to stop
  // The grant was only reserved: once the provider agrees, it opens the door.
  w.run_for(100);
  auto again = decide(w, w.request_with(g));
  EXPECT_TRUE(again && again->allowed);
}

TEST(Gate, F3_PendingVerdictForAnotherGrantDenies) {
  SimWorld w(pending_authz(200));
  ASSERT_TRUE(w.warm_up());
  AuthzVerdict other;
  other.outcome = AuthzVerdict::Outcome::kAccepted;
  other.grant_id = std::string(16, 'x');
  other.door_id = "front";
  EXPECT_EQ(rule_of(w, w.request(w.request_bytes(w.mint(), w.challenge()), other)), "F3");
  EXPECT_TRUE(w.observed().unlocks.empty());
}

TEST(Gate, F3_NoVerdictWithinTheRecordingTimeoutDenies) {
  SimWorld w(pending_authz(60'000));
  ASSERT_TRUE(w.warm_up());
  const auto d = decide(w, w.request_with(w.mint()), 5'000);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(d->rule, latchkey::Rule::F3);
  EXPECT_NE(d->message.find("in time"), std::string::npos) << d->message;
  EXPECT_TRUE(w.observed().unlocks.empty());
}

TEST(Gate, F3_PendingVerdictAfterTheEnginesOwnDenyChangesNothing) {
  SimWorld w(pending_authz(200));
  ASSERT_TRUE(w.warm_up());
  const uint64_t id = w.request_with(w.forge());  // the engine denies G1 at once
  EXPECT_EQ(rule_of(w, id), "G1");
  w.run_for(500);  // the provider's (accepting) verdict for it comes and goes
  EXPECT_EQ(w.observed().decisions.size(), 1u);
  EXPECT_TRUE(w.observed().unlocks.empty());
}

// ---- Configuration ----
TEST(GateConfig, OutOfBoundsValueIsRefusedNamingKeyValueAndBounds) {
  try {
    latchkey::gate::GateConfig::parse("live_timeout_ms = 100\n");
    FAIL() << "accepted an out-of-bounds value";
  } catch (const latchkey::gate::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("live_timeout_ms"), std::string::npos) << what;
    EXPECT_NE(what.find("100"), std::string::npos) << what;
    EXPECT_NE(what.find("[200, 5000]"), std::string::npos) << what;
  }
  EXPECT_THROW(latchkey::gate::GateConfig::parse("no_such_key = 1\n"), latchkey::gate::ConfigError);
  EXPECT_THROW(latchkey::gate::GateConfig::parse("nonce_period_ms = fast\n"), latchkey::gate::ConfigError);
  EXPECT_EQ(latchkey::gate::GateConfig::parse("# defaults\nnonce_period_ms = 100\n").nonce_period_ms, 100);
}

TEST(GateConfig, EveryBoundIsEnforced) {
  for (const auto& b : latchkey::gate::GateConfig::bounds()) {
    latchkey::gate::GateConfig c;
    EXPECT_THROW(c.set(b.key, std::to_string(b.min - 1)), latchkey::gate::ConfigError) << b.key;
    EXPECT_THROW(c.set(b.key, std::to_string(b.max + 1)), latchkey::gate::ConfigError) << b.key;
    EXPECT_NO_THROW(c.set(b.key, std::to_string(b.min))) << b.key;
    EXPECT_NO_THROW(c.set(b.key, std::to_string(b.max))) << b.key;
  }
}

TEST(Gate, C6_EventsBeforeStartRaiseNoHealthAlarm) {
  // The daemon feeds the devices' initial states before start(); the cameras
  // have not had a chance to attest yet, so no camera-offline alarm may follow.
  latchkey::gate::GateSetup setup;
  setup.hub_id = "hub-1";
  setup.doors.push_back({"front", {"porch"}});
  setup.cameras.push_back({"porch", latchkey::crypto::KeyPair::generate().public_key});
  latchkey::gate::GateEngine engine(setup, [](std::span<uint8_t> out) { std::fill(out.begin(), out.end(), 1); });
  const auto boot = ms_to_ns(3'600'000);  // an hour of uptime before the hub starts
  engine.on_lock_state("front", LK_LOCK_STATE_LOCKED, boot);
  engine.on_door_state("front", LK_DOOR_STATE_CLOSED, boot);
  engine.start(boot);
  engine.tick(boot + ms_to_ns(100));
  for (const auto& a : engine.take_actions())
    EXPECT_FALSE(std::holds_alternative<latchkey::gate::RaiseAlarm>(a)) << "alarm before the health timeout";
  engine.tick(boot + ms_to_ns(engine.config().health_timeout_ms));
  int c6 = 0;
  for (const auto& a : engine.take_actions())
    if (const auto* alarm = std::get_if<latchkey::gate::RaiseAlarm>(&a)) c6 += alarm->rule == latchkey::Rule::C6;
  EXPECT_EQ(c6, 1);
}

TEST(Gate, F1_DoubtArrivingWhileCamerasAcknowledgeDeniesThePendingRequest) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  w.camera().ignore_recording = true;  // hold the request in its recording phase
  const uint64_t id = w.request_with(w.mint());
  w.run_for(20);
  ASSERT_FALSE(w.decision(id).has_value());
  w.engine().on_lock_alarm("front", LK_ALARM_LOCK_JAMMED, w.now());
  w.camera().ignore_recording = false;
  EXPECT_EQ(rule_of(w, id), "F1");
  w.run_for(1'000);
  EXPECT_TRUE(w.observed().unlocks.empty());
}

TEST(Gate, F1_FailedRelockIsRetriedAndAlarmsOnce) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  unlock(w);
  w.open_door();
  w.lock().jam = true;
  w.close_door();
  w.run_for(200);
  const std::size_t locks_after_jam = w.observed().locks.size();
  const int alarms_after_jam = w.alarms_with("F1");
  w.lock().jam = false;
  w.run_for(31'000);  // the retry comes after 30 s
  EXPECT_GT(w.observed().locks.size(), locks_after_jam);
  EXPECT_EQ(w.lock().bolt, LK_LOCK_STATE_LOCKED);
  EXPECT_EQ(w.alarms_with("F1"), alarms_after_jam);
}

// Refused messages on a camera's link (LK_CAMERA_STATUS_MESSAGE_REFUSED) are
// audited: foreign ones under C1, at most two records per camera and kind a
// second, the rest counted into the next; liveness is not touched.
TEST(Gate, C1_RefusedMessagesOnACamerasLinkAreAuditedAndPaced) {
  SimWorld w(options());
  ASSERT_TRUE(w.warm_up());
  const std::string cam = w.camera_id();
  auto refused = [&](const std::string& rule) {
    std::vector<std::string> details;
    for (const auto& r : w.audit())
      if (r.entry.type == "message_refused" && latchkey::name(r.entry.rule) == rule && r.entry.subject == cam)
        details.push_back(r.entry.detail);
    return details;
  };
  for (int i = 0; i < 20; ++i)
    w.engine().on_camera_message_refused(cam, LK_CAMERA_REFUSED_FOREIGN, "user 'garden' published 90 bytes", w.now());
  w.engine().on_camera_message_refused(cam, LK_CAMERA_REFUSED_OVERSIZED, "2000 bytes", w.now());
  w.engine().on_camera_message_refused("no-such-camera", LK_CAMERA_REFUSED_FOREIGN, "x", w.now());
  w.run_for(10);
  ASSERT_EQ(refused("C1").size(), 1u);
  EXPECT_EQ(refused("C1")[0], "foreign: user 'garden' published 90 bytes");
  ASSERT_EQ(refused("").size(), 1u);
  EXPECT_EQ(refused("")[0], "oversized: 2000 bytes");
  EXPECT_TRUE(w.engine().camera_live(cam, w.now())) << "a refusal says nothing about liveness";
  w.run_for(1000);
  w.engine().on_camera_message_refused(cam, LK_CAMERA_REFUSED_FOREIGN, "again", w.now());
  w.run_for(10);
  ASSERT_EQ(refused("C1").size(), 2u);
  EXPECT_EQ(refused("C1")[1], "foreign: again (and 19 more refusal reports since the last record)");
}

// The engine alone decides what a plugin's failure means (F1): the runtime
// reports it, the engine puts the plugin's devices in fault and alarms; a
// restored plugin's camera re-enrols only if it proves the pinned key (C1).
TEST(Gate, F1_PluginFailurePutsItsDevicesInFaultWithOneAlarm) {
  latchkey::gate::GateSetup setup;
  setup.hub_id = "hub-1";
  const auto key = latchkey::crypto::KeyPair::generate().public_key;
  setup.doors.push_back({"front", {"porch"}, "locks"});
  setup.doors.push_back({"back", {"porch"}, "other-locks"});
  setup.cameras.push_back({"porch", key, {}, "cams"});
  setup.authz_plugin = "authz";
  latchkey::gate::GateEngine engine(setup, [](std::span<uint8_t> out) { std::fill(out.begin(), out.end(), 1); });
  const auto t = ms_to_ns(1'000);
  for (const char* door : {"front", "back"}) {
    engine.on_lock_state(door, LK_LOCK_STATE_LOCKED, t);
    engine.on_door_state(door, LK_DOOR_STATE_CLOSED, t);
  }
  engine.start(t);
  engine.take_actions();
  const auto count = [&](const char* type, latchkey::Rule rule) {
    int n = 0;
    for (const auto& a : engine.take_actions()) {
      if (const auto* r = std::get_if<latchkey::gate::AppendAudit>(&a)) n += r->type == type && r->rule == rule;
    }
    return n;
  };

  engine.on_plugin_failed("locks", "host crashed", 500, t);
  EXPECT_TRUE(engine.door("front")->lock_faulted) << "the failed plugin's lock is in fault";
  EXPECT_FALSE(engine.door("back")->lock_faulted) << "another plugin's lock is not";
  EXPECT_EQ(engine.door("front")->lock_state, LK_LOCK_STATE_UNKNOWN);
  engine.on_plugin_failed("authz", "host hung", -1, t);
  int alarms = 0, faults = 0;
  for (const auto& a : engine.take_actions()) {
    if (const auto* r = std::get_if<latchkey::gate::RaiseAlarm>(&a)) alarms += r->rule == latchkey::Rule::F1;
    if (const auto* r = std::get_if<latchkey::gate::AppendAudit>(&a))
      faults += r->type == "plugin_fault" && r->rule == latchkey::Rule::F1;
  }
  EXPECT_EQ(alarms, 2) << "one alarm per failure";
  EXPECT_EQ(faults, 2) << "the lock's fault and the authorization plugin's";

  engine.on_plugin_quarantined("locks", "5 failures in 60 s", t);
  EXPECT_EQ(count("alarm", latchkey::Rule::F1), 1);

  // The camera's plugin came back: the same key re-enrols; another key stays out.
  engine.on_plugin_restored("cams", 42, t);
  engine.on_camera_reopened("porch", "porch", key, t);
  EXPECT_EQ(count("camera", latchkey::Rule::C3), 1);
  const auto other = latchkey::crypto::KeyPair::generate().public_key;
  engine.on_camera_reopened("porch", "porch", other, t);
  EXPECT_EQ(count("alarm", latchkey::Rule::C1), 1);
  EXPECT_FALSE(engine.camera_live("porch", t));
  EXPECT_EQ(latchkey::gate::camera_identity_problem("porch", key, "porch", key), "");
  EXPECT_NE(latchkey::gate::camera_identity_problem("porch", key, "door", key), "");
}
