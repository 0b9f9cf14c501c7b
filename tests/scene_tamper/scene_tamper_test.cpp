// C8 on real frames, end to end: lk-camera-agent on FFmpeg's test picture,
// tampered with at a known second of the source, through Mosquitto to a real
// latchkeyd. Each tampering gives the camera-tamper alarm (C8) within
// tamper_window + 50 ms of the first tampered frame's capture, and the camera
// is not LIVE after it; an untouched view gives no alarm. See scene_world.hpp
// for how the times are taken, docs/camera-agent.md for what each case is.
#include "scene_world.hpp"

#include <gtest/gtest.h>

#include <iostream>

namespace latchkey::scene {
namespace {

// One world for all cases (one camera, one key, one reference view),
// destroyed at exit: its agent, hub and broker stop with it.
SceneWorld& world() {
  static SceneWorld w([] {
    WorldOptions options = default_world_options();
    options.log = [](const std::string& line) { std::cerr << "  " << line << "\n"; };
    return options;
  }());
  return w;
}

void expect_detected(Tamper tamper) {
  SceneWorld& w = world();
  const CaseResult r = w.run(tamper);
  ASSERT_TRUE(r.t0_ns) << "no attested frame was out of the limits: " << r.describe();
  ASSERT_TRUE(r.alarm_us) << r.describe() << "\n" << w.diagnostics();
  EXPECT_LE(r.delay_us(), w.target_us()) << "C8 later than tamper_window + 50 ms: " << r.describe();
  EXPECT_GE(r.delay_us(), w.options().tamper_window_ms * 1000LL) << "C8 inside the window: " << r.describe();
  EXPECT_NE(r.alarm_message.find("camera-tamper"), std::string::npos) << r.describe();
  EXPECT_FALSE(r.live_at_end) << r.describe();
}

// Enrolment (lkctl enrol's code): watching the agent for a few seconds, it
// sees the view's measurements and chooses limits the view keeps and the
// tampering of this suite breaks (the sharpness floor a third of what was
// seen: the blurred view measures about 1900 against 11000-12500).
TEST(SceneTamper, C8_EnrolmentWatchesTheViewAndChoosesItsLimits) {
  const SceneWorld::Enrolled e = world().enrol(3000);
  EXPECT_EQ(e.camera_id, "porch");
  ASSERT_GT(e.samples, 20u) << "the agent attests every frame: about 75 in 3 s";
  EXPECT_GE(e.min_luminance, e.chosen_min_luminance);
  EXPECT_LE(e.max_luminance, e.chosen_max_luminance);
  EXPECT_GE(e.min_sharpness, e.chosen_min_sharpness);
  EXPECT_GE(e.min_similarity, e.chosen_min_similarity);
  EXPECT_EQ(e.chosen_min_sharpness, e.min_sharpness / 3);
  EXPECT_GT(e.chosen_min_sharpness, 1923u) << "the blurred view would pass";
  EXPECT_LT(e.chosen_min_similarity, 600u) << "someone at the door would trip it";
  EXPECT_GT(e.chosen_min_similarity, 171u) << "the turned view would pass";
  // What the person is shown: the reference view the agent compares with.
  EXPECT_EQ(e.snapshot_bytes, 15u + 320u * 180u * 3u);
  EXPECT_TRUE(e.snapshot_is_the_reference_file) << "the snapshot is not the agent's reference PGM";
}

TEST(SceneTamper, C8_AnUntouchedViewGivesNoAlarm) {
  const CaseResult r = world().run(Tamper::kNone);
  EXPECT_GT(r.attestations, 50u) << r.describe();
  EXPECT_EQ(r.out_of_limits, 0u) << r.describe();
  EXPECT_FALSE(r.alarm_us) << r.describe();
  EXPECT_TRUE(r.live_at_end) << r.describe();
}

TEST(SceneTamper, C8_CoveredLens) { expect_detected(Tamper::kBlack); }
TEST(SceneTamper, C8_BlindedByALight) { expect_detected(Tamper::kWhite); }
TEST(SceneTamper, C8_OutOfFocus) { expect_detected(Tamper::kBlurred); }
TEST(SceneTamper, C8_AnotherSceneInFront) { expect_detected(Tamper::kOtherScene); }
TEST(SceneTamper, C8_TurnedAway) { expect_detected(Tamper::kTurned); }

// The documented limit (docs/camera-agent.md, "What C8 does not catch"): a
// perfect still of the enrolled view with fresh sensor noise in every frame
// has the view's light, sharpness and layout, and changing digests (so not
// C5 either). The measurements cannot tell it from a quiet scene; the test
// pins that down, so that a change of the measurements that starts catching
// it, or a false alarm, is noticed.
TEST(SceneTamper, C8_APerfectStillOfTheViewWithNoiseIsNotCaught) {
  const CaseResult r = world().run(Tamper::kStillWithNoise);
  EXPECT_GT(r.attestations, 50u) << r.describe();
  EXPECT_EQ(r.out_of_limits, 0u) << r.describe();
  EXPECT_FALSE(r.alarm_us) << r.describe();
  EXPECT_TRUE(r.live_at_end) << r.describe();
}

}  // namespace
}  // namespace latchkey::scene
