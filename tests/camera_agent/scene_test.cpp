// Scene measurements (docs/rules.md C8) of real decoded pictures: lavfi sources
// through the agent's FrameSource, measured by latchkey_attest from the
// GRAY8 picture the digest is of. Dark and bright, sharp and blurred, the
// reference view's scene and others; and the SceneMeter that takes, keeps
// and retakes the reference view.
#include "camera_agent_test_support.hpp"
#include "frame_source.hpp"
#include "scene_meter.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace latchkey::camera {
namespace {

constexpr char kSize[] = "size=320x240:rate=25";

// Reads count frames of a lavfi graph at full speed and keeps each picture.
std::vector<GrayPicture> pictures(const std::string& graph, int count) {
  std::atomic<bool> stop{false};
  SourceOptions options;
  options.source = "lavfi:" + graph;
  options.paced = false;
  FrameSource source(options, stop);
  std::vector<GrayPicture> out;
  CapturedFrame frame;
  for (int i = 0; i < count && source.next(frame) == FrameSource::Status::kFrame; ++i) {
    EXPECT_NE(frame.gray, nullptr);
    EXPECT_GE(frame.gray_stride, frame.gray_width);
    GrayPicture p;
    p.assign(frame.gray, frame.gray_width, frame.gray_height, frame.gray_stride, frame.index);
    out.push_back(std::move(p));
  }
  return out;
}

lk_attest_scene measure(const GrayPicture& p, const ReferenceView* reference = nullptr) {
  lk_attest_scene scene{};
  EXPECT_EQ(lk_attest_scene_measure(p.pixels.data(), static_cast<uint32_t>(p.width), static_cast<uint32_t>(p.height),
                                    static_cast<std::size_t>(p.width), reference ? reference->data() : nullptr, &scene),
            LK_ATTEST_OK);
  return scene;
}

ReferenceView thumbnail(const GrayPicture& p) {
  ReferenceView view{};
  EXPECT_EQ(lk_attest_thumbnail(p.pixels.data(), static_cast<uint32_t>(p.width), static_cast<uint32_t>(p.height),
                                static_cast<std::size_t>(p.width), view.data()),
            LK_ATTEST_OK);
  return view;
}

// "testsrc2" -> "testsrc2=size=320x240:rate=25"; "color=black" -> "color=black:size=...".
std::string graph(const std::string& source, const std::string& filters = "") {
  const char separator = source.find('=') == std::string::npos ? '=' : ':';
  return source + separator + kSize + (filters.empty() ? "" : "," + filters);
}

TEST(Scene, C8_BlackIsNearZeroAndWhiteNear255000) {
  for (const auto& p : pictures(graph("color=black"), 5)) {
    const lk_attest_scene s = measure(p);
    EXPECT_LE(s.mean_luminance, 1000u);
    EXPECT_EQ(s.sharpness, 0u);
  }
  for (const auto& p : pictures(graph("color=white"), 5)) {
    const lk_attest_scene s = measure(p);
    EXPECT_GE(s.mean_luminance, 254000u);
    EXPECT_EQ(s.sharpness, 0u);
  }
  const lk_attest_scene grey = measure(pictures(graph("color=gray"), 1).at(0));
  EXPECT_GT(grey.mean_luminance, 100000u);
  EXPECT_LT(grey.mean_luminance, 160000u);
}

TEST(Scene, C8_ABlurredPictureIsMuchLessSharp) {
  const auto sharp = pictures(graph("testsrc2"), 10);
  const auto blurred = pictures(graph("testsrc2", "boxblur=10"), 10);
  ASSERT_EQ(sharp.size(), 10u);
  ASSERT_EQ(blurred.size(), 10u);
  for (std::size_t i = 0; i < sharp.size(); ++i) {
    const lk_attest_scene a = measure(sharp[i]);
    const lk_attest_scene b = measure(blurred[i]);
    EXPECT_LT(uint64_t{b.sharpness} * 5, a.sharpness) << "frame " << i + 1 << ": " << a.sharpness << " vs " << b.sharpness;
    // Blurring keeps the light: the mean stays within 2 %.
    EXPECT_NEAR(static_cast<double>(a.mean_luminance), static_cast<double>(b.mean_luminance), 0.02 * a.mean_luminance);
  }
}

TEST(Scene, C8_TheReferenceViewTellsItsSceneFromOthers) {
  const auto same = pictures(graph("testsrc2"), 60);
  ASSERT_EQ(same.size(), 60u);
  const ReferenceView reference = thumbnail(same[10]);
  ASSERT_EQ(lk_attest_reference_check(reference.data(), nullptr, 0), LK_ATTEST_OK);
  uint32_t lowest_same = 1000;
  for (const auto& p : same) lowest_same = std::min(lowest_same, measure(p, &reference).reference_similarity);
  EXPECT_GE(lowest_same, 850u) << "testsrc2 moves a little: still its own view";

  uint32_t highest_other = 0;
  for (const char* other : {"smptebars", "mandelbrot", "rgbtestsrc", "color=black"})
    for (const auto& p : pictures(graph(other), 5)) {
      const uint32_t s = measure(p, &reference).reference_similarity;
      highest_other = std::max(highest_other, s);
      EXPECT_LE(s, 400u) << other;
    }
  std::printf("similarity to a testsrc2 reference: testsrc2 >= %u, other scenes <= %u\n", lowest_same, highest_other);

  // Dimmed or brightened (dusk, a lamp), testsrc2 stays itself.
  for (const char* light : {"eq=brightness=-0.25", "eq=brightness=0.2", "eq=contrast=0.5"})
    for (const auto& p : pictures(graph("testsrc2", light), 20))
      EXPECT_GE(measure(p, &reference).reference_similarity, 800u) << light;
  // Turned away: the same scene mirrored, or aimed at one corner of it, is
  // not. (Not flipped upside down: testsrc2 is mostly vertical bars.)
  for (const char* turned : {"hflip", "crop=160:120:0:0,scale=320:240", "crop=160:120:160:120,scale=320:240"})
    for (const auto& p : pictures(graph("testsrc2", turned), 10))
      EXPECT_LE(measure(p, &reference).reference_similarity, 600u) << turned;
}

// ---- SceneMeter ---------------------------------------------------------

constexpr uint64_t kSecond = 1'000'000'000;

TEST(SceneMeter, C8_TakesTheReferenceFromTheFirstUsableFrameAfterSettlingAndSavesIt) {
  camera_test::TempDir dir;
  const std::string path = dir.file("reference.pgm");
  SceneMeter meter(SceneOptions{path, false, kSecond, "", false});
  EXPECT_FALSE(meter.has_reference());
  EXPECT_NE(meter.describe().find("does not exist"), std::string::npos) << meter.describe();

  const auto black = pictures(graph("color=black"), 3);
  const auto view = pictures(graph("testsrc2"), 3);
  EXPECT_FALSE(meter.measure(view[0], 10 * kSecond)) << "the first frame starts the settling";
  EXPECT_FALSE(meter.measure(view[1], 10 * kSecond + kSecond / 2)) << "still settling";
  EXPECT_FALSE(meter.measure(black[0], 11 * kSecond)) << "a flat picture is no reference";
  EXPECT_FALSE(std::filesystem::exists(path));
  const auto scene = meter.measure(view[2], 11 * kSecond + 1);
  ASSERT_TRUE(scene);
  EXPECT_TRUE(meter.has_reference());
  EXPECT_EQ(scene->reference_similarity, 1000u) << "the reference frame is like itself";
  EXPECT_EQ(scene->mean_luminance, measure(view[2]).mean_luminance);
  ReferenceView saved{};
  ASSERT_EQ(lk_attest_reference_load(path.c_str(), saved.data(), nullptr, 0), LK_ATTEST_OK);
  EXPECT_EQ(saved, thumbnail(view[2]));
  const auto dark = meter.measure(black[1], 12 * kSecond);
  ASSERT_TRUE(dark) << "once there is a reference, every picture is measured";
  EXPECT_EQ(dark->reference_similarity, 0u);
  EXPECT_EQ(dark->sharpness, 0u);
}

TEST(SceneMeter, C8_KeepsAnExistingReferenceAndRetakesItOnlyWhenAsked) {
  camera_test::TempDir dir;
  const std::string path = dir.file("reference.pgm");
  const auto view = pictures(graph("testsrc2"), 2);
  const auto other = pictures(graph("mandelbrot"), 2);
  const ReferenceView original = thumbnail(view[0]);
  ASSERT_EQ(lk_attest_reference_save(path.c_str(), original.data(), nullptr, 0), LK_ATTEST_OK);
  {
    SceneMeter meter(SceneOptions{path, false, kSecond, "", false});
    ASSERT_TRUE(meter.has_reference());
    EXPECT_NE(meter.describe().find("loaded"), std::string::npos) << meter.describe();
    const auto scene = meter.measure(other[0], 5 * kSecond);
    ASSERT_TRUE(scene) << "measured at once, no settling";
    EXPECT_LE(scene->reference_similarity, 400u) << "a turned camera looks unlike its reference";
    ReferenceView still{};
    ASSERT_EQ(lk_attest_reference_load(path.c_str(), still.data(), nullptr, 0), LK_ATTEST_OK);
    EXPECT_EQ(still, original) << "the reference is never replaced unasked";
  }
  SceneMeter retake(SceneOptions{path, true, 0, "", false});
  EXPECT_FALSE(retake.has_reference());
  EXPECT_NE(retake.describe().find("--retake-reference"), std::string::npos) << retake.describe();
  const auto scene = retake.measure(other[1], 5 * kSecond);
  ASSERT_TRUE(scene);
  EXPECT_EQ(scene->reference_similarity, 1000u);
  ReferenceView retaken{};
  ASSERT_EQ(lk_attest_reference_load(path.c_str(), retaken.data(), nullptr, 0), LK_ATTEST_OK);
  EXPECT_EQ(retaken, thumbnail(other[1]));
}

TEST(SceneMeter, C8_ARefusedReferenceFileStopsTheAgentWithItsReason) {
  camera_test::TempDir dir;
  const std::string path = dir.file("reference.pgm");
  std::ofstream(path) << "P5\n32 18\n255\n" << std::string(576, 'x');
  try {
    SceneMeter meter(SceneOptions{path, false, kSecond, "", false});
    ADD_FAILURE() << "a malformed reference file was accepted";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("not a latchkey reference view"), std::string::npos) << what;
    EXPECT_NE(what.find("--retake-reference"), std::string::npos) << what;
  }
  // --retake-reference does not read it, and replaces it.
  SceneMeter retake(SceneOptions{path, true, 0, "", false});
  ASSERT_TRUE(retake.measure(pictures(graph("testsrc2"), 1).at(0), kSecond));
  ReferenceView loaded{};
  EXPECT_EQ(lk_attest_reference_load(path.c_str(), loaded.data(), nullptr, 0), LK_ATTEST_OK);
}

TEST(SceneMeter, C8_AReferenceThatCannotBeSavedIsNotUsed) {
  camera_test::TempDir dir;
  SceneMeter meter(SceneOptions{dir.file("missing/reference.pgm"), false, 0, "", false});
  const auto view = pictures(graph("testsrc2"), 2);
  EXPECT_FALSE(meter.measure(view[0], kSecond));
  EXPECT_FALSE(meter.has_reference()) << "only a saved reference counts: a restart would otherwise take another";
  std::filesystem::create_directory(dir.file("missing"));
  EXPECT_FALSE(meter.measure(view[1], 2 * kSecond)) << "a failed save is tried again after 5 s, not at once";
  EXPECT_TRUE(meter.measure(view[1], 7 * kSecond));
  EXPECT_TRUE(std::filesystem::exists(dir.file("missing/reference.pgm")));
}

TEST(SceneMeter, C8_APictureTooSmallIsNotMeasured) {
  camera_test::TempDir dir;
  SceneMeter meter(SceneOptions{dir.file("reference.pgm"), false, 0, "", false});
  const auto tiny = pictures("testsrc2=size=16x16:rate=25", 1);
  ASSERT_EQ(tiny.size(), 1u);
  EXPECT_FALSE(meter.measure(tiny[0], kSecond));
  EXPECT_FALSE(meter.has_reference());
}

}  // namespace
}  // namespace latchkey::camera

namespace latchkey::camera {
namespace {

// C8 with a night view: where the night (an IR mode) changes the scene more
// than light does, a second reference taken at night makes the night view
// count as the camera's own, while a view like neither still does not.
TEST(SceneMeter, C8_ANightReferenceMakesTheNightViewTheCamerasOwn) {
  camera_test::TempDir dir;
  const std::string day = dir.file("reference.pgm"), night = dir.file("night.pgm");
  const auto day_view = pictures(graph("testsrc2"), 3);
  const auto night_view = pictures(graph("smptebars"), 3);  // as unlike the day as a scene gets
  const auto other = pictures(graph("mandelbrot"), 3);
  {
    SceneMeter meter(SceneOptions{day, false, 0, night, false});
    ASSERT_TRUE(meter.measure(day_view[0], kSecond)) << "the day reference is taken";
    EXPECT_FALSE(meter.has_night_reference());
    EXPECT_NE(meter.describe().find("--take-night-reference"), std::string::npos) << meter.describe();
    const auto s = meter.measure(night_view[0], 2 * kSecond);
    ASSERT_TRUE(s);
    EXPECT_LE(s->reference_similarity, 400u) << "without a night reference the night view is unlike the day";
  }
  {
    SceneMeter meter(SceneOptions{day, false, 0, night, true});  // at night: --take-night-reference
    const auto s = meter.measure(night_view[0], kSecond);
    ASSERT_TRUE(s);
    EXPECT_TRUE(meter.has_night_reference());
    EXPECT_GE(s->reference_similarity, 950u);
  }
  SceneMeter meter(SceneOptions{day, false, 0, night, false});  // later starts load both
  ASSERT_TRUE(meter.has_night_reference());
  EXPECT_GE(meter.measure(day_view[1], kSecond)->reference_similarity, 950u);
  EXPECT_GE(meter.measure(night_view[1], 2 * kSecond)->reference_similarity, 950u);
  EXPECT_LE(meter.measure(other[0], 3 * kSecond)->reference_similarity, 400u) << "a view like neither";
}

TEST(SceneMeter, C8_ANightReferenceIsTakenOnlyAfterTheDayOne) {
  camera_test::TempDir dir;
  EXPECT_THROW(SceneMeter(SceneOptions{dir.file("reference.pgm"), false, 0, dir.file("night.pgm"), true}),
               std::runtime_error);
}

}  // namespace
}  // namespace latchkey::camera
