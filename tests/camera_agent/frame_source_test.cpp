// The frame source and its digest: decoded pixels, frame by frame; the
// stuck-sensor and looped-footage test aids; the digest equal to BLAKE2b-256
// of the GRAY8 pixels as the ffmpeg command decodes them; native-rate reading.
#include "camera_agent_test_support.hpp"
#include "frame_source.hpp"

#include <gtest/gtest.h>

#include <set>

namespace latchkey::camera {
namespace {

using camera_test::hex;

std::vector<CapturedFrame> read_frames(FrameSource& source, int count) {
  std::vector<CapturedFrame> frames;
  CapturedFrame frame;
  for (int i = 0; i < count && source.next(frame) == FrameSource::Status::kFrame; ++i) frames.push_back(frame);
  return frames;
}

SourceOptions unpaced(const std::string& source) {
  SourceOptions options;
  options.source = source;
  options.paced = false;
  return options;
}

TEST(FrameSource, DigestsChangeFrameToFrame) {
  std::atomic<bool> stop{false};
  FrameSource source(unpaced("lavfi:testsrc2=size=320x240:rate=25"), stop);
  const auto frames = read_frames(source, 30);
  ASSERT_EQ(frames.size(), 30u);
  std::set<std::string> distinct;
  for (const auto& f : frames) {
    distinct.insert(hex(f.digest.data(), f.digest.size()));
    EXPECT_FALSE(f.frozen);
  }
  EXPECT_EQ(distinct.size(), frames.size()) << "testsrc2 moves: every frame's pixels differ";
  for (std::size_t i = 1; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].index, frames[i - 1].index + 1);
    EXPECT_GE(frames[i].capture_ns, frames[i - 1].capture_ns);
  }
}

TEST(FrameSource, FreezeAfterRepeatsTheLastDigest) {
  std::atomic<bool> stop{false};
  SourceOptions options = unpaced("lavfi:testsrc2=size=320x240:rate=25");
  options.freeze_after = 5;
  FrameSource source(options, stop);
  const auto frames = read_frames(source, 12);
  ASSERT_EQ(frames.size(), 12u);
  for (int i = 0; i < 4; ++i) EXPECT_NE(frames[i].digest, frames[i + 1].digest) << i;
  for (int i = 5; i < 12; ++i) {
    EXPECT_EQ(frames[i].digest, frames[4].digest) << "frame " << i + 1 << " repeats frame 5";
    EXPECT_TRUE(frames[i].frozen);
    EXPECT_GT(frames[i].capture_ns, frames[i - 1].capture_ns) << "a stuck sensor still delivers, with new times";
  }
}

TEST(FrameSource, DigestIsBlake2bOfTheGrayPixels) {
  if (!camera_test::have_ffmpeg_command()) GTEST_SKIP() << "no ffmpeg command";
  const std::string graph = "testsrc2=size=320x240:rate=25";
  std::atomic<bool> stop{false};
  FrameSource source(unpaced("lavfi:" + graph), stop);
  const auto frames = read_frames(source, 10);
  const auto expected = camera_test::ffmpeg_gray_digests(graph, true, 10, 320, 240);
  ASSERT_EQ(expected.size(), 10u);
  ASSERT_EQ(frames.size(), 10u);
  for (std::size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(frames[i].digest, expected[i]) << "frame " << i + 1;
}

TEST(FrameSource, DigestOfAnEncodedFileIsBlake2bOfItsDecodedGrayPixels) {
  if (!camera_test::have_ffmpeg_command()) GTEST_SKIP() << "no ffmpeg command";
  camera_test::TempDir dir;
  const std::string clip = dir.file("clip.mkv");
  ASSERT_TRUE(camera_test::make_test_video(clip, "mpeg4", 12, "176x144", 10));
  std::atomic<bool> stop{false};
  FrameSource source(unpaced(clip), stop);
  const auto frames = read_frames(source, 12);
  const auto expected = camera_test::ffmpeg_gray_digests(clip, false, 12, 176, 144);
  ASSERT_EQ(frames.size(), 12u);
  ASSERT_EQ(expected.size(), 12u);
  for (std::size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(frames[i].digest, expected[i]) << "frame " << i + 1;
}

TEST(FrameSource, ARemuxedCopyHasTheSameDigests) {
  if (!camera_test::have_ffmpeg_command()) GTEST_SKIP() << "no ffmpeg command";
  camera_test::TempDir dir;
  const std::string clip = dir.file("clip.mkv");
  const std::string copy = dir.file("copy.mp4");
  ASSERT_TRUE(camera_test::make_test_video(clip, "mpeg4", 10, "176x144", 10));
  ASSERT_TRUE(camera_test::run("ffmpeg -hide_banner -loglevel error -y -i '" + clip + "' -c copy '" + copy + "'"));
  std::atomic<bool> stop{false};
  FrameSource a(unpaced(clip), stop);
  FrameSource b(unpaced(copy), stop);
  const auto first = read_frames(a, 10);
  const auto second = read_frames(b, 10);
  ASSERT_EQ(first.size(), 10u);
  ASSERT_EQ(second.size(), 10u);
  for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i].digest, second[i].digest) << i;
}

TEST(FrameSource, AFileEndsAndALoopedFileReturnsToEarlierDigests) {
  if (!camera_test::have_ffmpeg_command()) GTEST_SKIP() << "no ffmpeg command";
  camera_test::TempDir dir;
  const std::string clip = dir.file("loop.mkv");
  ASSERT_TRUE(camera_test::make_test_video(clip, "ffv1", 8, "160x120", 10));
  std::atomic<bool> stop{false};
  {
    FrameSource once(unpaced(clip), stop);
    EXPECT_EQ(read_frames(once, 20).size(), 8u) << "without --loop a file ends";
    CapturedFrame frame;
    EXPECT_EQ(once.next(frame), FrameSource::Status::kEnded);
  }
  SourceOptions options = unpaced(clip);
  options.loop = true;
  FrameSource looped(options, stop);
  const auto frames = read_frames(looped, 24);
  ASSERT_EQ(frames.size(), 24u);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(frames[i].digest, frames[i + 8].digest) << "pass 2 repeats pass 1 at " << i;
  for (int i = 0; i < 7; ++i) EXPECT_NE(frames[i].digest, frames[i + 1].digest);
}

TEST(FrameSource, AFileIsReadAtItsNativeRate) {
  if (!camera_test::have_ffmpeg_command()) GTEST_SKIP() << "no ffmpeg command";
  camera_test::TempDir dir;
  const std::string clip = dir.file("clip.mkv");
  ASSERT_TRUE(camera_test::make_test_video(clip, "ffv1", 11, "160x120", 10));
  std::atomic<bool> stop{false};
  SourceOptions options;
  options.source = clip;  // paced, as the agent reads it
  FrameSource source(options, stop);
  const auto frames = read_frames(source, 11);
  ASSERT_EQ(frames.size(), 11u);
  const double seconds = static_cast<double>(frames.back().capture_ns - frames.front().capture_ns) / 1e9;
  EXPECT_GT(seconds, 0.9) << "10 frame intervals at 10 fps take a second";
  EXPECT_LT(seconds, 1.6);
}

TEST(FrameSource, StopEndsAWait) {
  std::atomic<bool> stop{false};
  SourceOptions options;
  options.source = "lavfi:testsrc2=size=160x120:rate=1";
  FrameSource source(options, stop);
  CapturedFrame frame;
  ASSERT_EQ(source.next(frame), FrameSource::Status::kFrame);
  stop = true;
  EXPECT_EQ(source.next(frame), FrameSource::Status::kStopped);
}

TEST(FrameSource, AMissingFileIsRefused) {
  std::atomic<bool> stop{false};
  EXPECT_THROW(FrameSource(unpaced("/nonexistent/clip.mkv"), stop), std::runtime_error);
  EXPECT_THROW(FrameSource(unpaced("lavfi:nosuchfilter"), stop), std::runtime_error);
}

}  // namespace
}  // namespace latchkey::camera
