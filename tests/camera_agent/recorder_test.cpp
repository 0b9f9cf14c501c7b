// Recording: a real file for the session, the byte count reported equal to
// the size on disk, a file libavformat can decode; remuxed when the source
// is encoded, encoded when it is raw.
#include "camera_agent_test_support.hpp"
#include "frame_source.hpp"
#include "recorder.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace latchkey::camera {
namespace {

const SessionId kSession = {0x5e, 0x55, 0x10, 0x4e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

struct RecordingRun {
  int frames_fed = 0;
  bool bytes_never_exceeded_disk = true;
  uint64_t bytes_midway = 0;
};

// Starts a segment, feeds it up to frames frames of source (packets through
// the sink, pictures through on_frame), checks the reported bytes against
// the disk as it goes, and stops it.
RecordingRun record(Recorder& recorder, FrameSource& source, int frames) {
  RecordingRun run;
  source.set_packet_sink([&](const AVPacket& p, AVRational tb) { recorder.on_packet(p, tb, monotonic_ns()); });
  EXPECT_TRUE(recorder.start(kSession, *source.codec_parameters(), source.time_base(), source.frame_rate()));
  CapturedFrame frame;
  while (run.frames_fed < frames && source.next(frame) == FrameSource::Status::kFrame) {
    recorder.on_frame(*frame.frame, frame.capture_ns);
    ++run.frames_fed;
    const uint64_t reported = recorder.state().recorded_bytes;
    if (reported > camera_test::file_size(recorder.path())) run.bytes_never_exceeded_disk = false;
    if (run.frames_fed == frames / 2) run.bytes_midway = reported;
  }
  recorder.stop();
  return run;
}

TEST(Recorder, EncodesARawSourceAndReportsTheBytesOnDisk) {
  camera_test::TempDir dir;
  std::atomic<bool> stop{false};
  SourceOptions options;
  options.source = "lavfi:testsrc2=size=320x240:rate=25";
  FrameSource source(options, stop);  // paced: a second of real time
  Recorder recorder(dir.path(), "0badcafe");
  const RecordingRun run = record(recorder, source, 25);
  EXPECT_FALSE(recorder.remuxing()) << "lavfi gives raw pictures: they are encoded";
  const RecordingState& state = recorder.state();
  EXPECT_FALSE(state.recording);
  EXPECT_TRUE(state.has_session);
  EXPECT_EQ(state.session_id, kSession);
  EXPECT_EQ(state.segment_id, 1u);
  const std::string path = recorder.path();
  EXPECT_NE(path.find(camera_test::hex(kSession.data(), kSession.size())), std::string::npos) << path;
  EXPECT_NE(path.find("-1.mkv"), std::string::npos) << path;
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(state.recorded_bytes, camera_test::file_size(path)) << "the final count is the file's size";
  EXPECT_TRUE(run.bytes_never_exceeded_disk) << "never more reported than written";
  EXPECT_GT(run.bytes_midway, 0u);
  EXPECT_LT(run.bytes_midway, state.recorded_bytes) << "the count grows while recording";
  EXPECT_EQ(camera_test::count_video_frames(path), run.frames_fed);
}

// Reads 7 frames of a clip with key frames at 1, 6, 11 and 16, then starts
// a segment and records to the end; returns the frames in the file.
int frames_recorded_after_seven(bool told_of_the_source) {
  camera_test::TempDir dir;
  const std::string clip = dir.file("clip.mp4");
  EXPECT_TRUE(camera_test::make_test_video(clip, "mpeg4", 20, "176x144", 10));
  std::atomic<bool> stop{false};
  SourceOptions options;
  options.source = clip;
  options.paced = false;
  FrameSource source(options, stop);
  Recorder recorder(dir.path(), "0badcafe");
  if (told_of_the_source) recorder.source_changed(*source.codec_parameters());
  source.set_packet_sink([&](const AVPacket& p, AVRational tb) { recorder.on_packet(p, tb, monotonic_ns()); });
  CapturedFrame frame;
  for (int i = 0; i < 7; ++i) EXPECT_EQ(source.next(frame), FrameSource::Status::kFrame);
  EXPECT_TRUE(recorder.start(kSession, *source.codec_parameters(), source.time_base(), source.frame_rate()));
  while (source.next(frame) == FrameSource::Status::kFrame) {
  }
  recorder.stop();
  EXPECT_EQ(recorder.state().recorded_bytes, camera_test::file_size(recorder.path()));
  return camera_test::count_video_frames(recorder.path());
}

TEST(Recorder, ARemuxedSegmentBeginsWithTheGroupOfPicturesUnderWay) {
  if (!camera_test::have_ffmpeg_command()) GTEST_SKIP() << "no ffmpeg command";
  EXPECT_EQ(frames_recorded_after_seven(true), 15) << "from the key frame before the start (frame 6) on";
}

TEST(Recorder, WithoutKeptPacketsASegmentWaitsForTheNextKeyFrame) {
  if (!camera_test::have_ffmpeg_command()) GTEST_SKIP() << "no ffmpeg command";
  EXPECT_EQ(frames_recorded_after_seven(false), 10) << "from frame 11 on";
}

TEST(Recorder, ANewSegmentWhileRecordingAlsoBeginsWithTheGroupUnderWay) {
  if (!camera_test::have_ffmpeg_command()) GTEST_SKIP() << "no ffmpeg command";
  camera_test::TempDir dir;
  const std::string clip = dir.file("clip.mp4");
  ASSERT_TRUE(camera_test::make_test_video(clip, "mpeg4", 20, "176x144", 10));  // key frames at 1, 6, 11, 16
  std::atomic<bool> stop{false};
  SourceOptions options;
  options.source = clip;
  options.paced = false;
  FrameSource source(options, stop);
  Recorder recorder(dir.path(), "0badcafe");
  recorder.source_changed(*source.codec_parameters());
  source.set_packet_sink([&](const AVPacket& p, AVRational tb) { recorder.on_packet(p, tb, monotonic_ns()); });
  ASSERT_TRUE(recorder.start(kSession, *source.codec_parameters(), source.time_base(), source.frame_rate()));
  CapturedFrame frame;
  for (int i = 0; i < 7; ++i) ASSERT_EQ(source.next(frame), FrameSource::Status::kFrame);
  const std::string first = recorder.path();
  SessionId other = kSession;
  other[0] ^= 0xff;
  ASSERT_TRUE(recorder.start(other, *source.codec_parameters(), source.time_base(), source.frame_rate()));
  while (source.next(frame) == FrameSource::Status::kFrame) {
  }
  recorder.stop();
  EXPECT_EQ(recorder.state().segment_id, 2u);
  EXPECT_EQ(recorder.state().session_id, other);
  EXPECT_GE(camera_test::count_video_frames(first), 7);
  EXPECT_EQ(camera_test::count_video_frames(recorder.path()), 15) << "from frame 6, the key frame before the switch";
}

TEST(Recorder, RemuxesAnEncodedSourcePacketForPacket) {
  if (!camera_test::have_ffmpeg_command()) GTEST_SKIP() << "no ffmpeg command";
  camera_test::TempDir dir;
  const std::string clip = dir.file("clip.mp4");
  ASSERT_TRUE(camera_test::make_test_video(clip, "mpeg4", 20, "176x144", 10));
  std::atomic<bool> stop{false};
  SourceOptions options;
  options.source = clip;
  options.paced = false;
  FrameSource source(options, stop);
  Recorder recorder(dir.path(), "0badcafe");
  const RecordingRun run = record(recorder, source, 100);
  EXPECT_EQ(run.frames_fed, 20);
  EXPECT_TRUE(recorder.remuxing());
  EXPECT_TRUE(run.bytes_never_exceeded_disk);
  EXPECT_EQ(recorder.state().recorded_bytes, camera_test::file_size(recorder.path()));
  std::string codec;
  EXPECT_EQ(camera_test::count_video_frames(recorder.path(), &codec), 20);
  EXPECT_EQ(codec, "mpeg4") << "copied, not re-encoded";
}

TEST(Recorder, SegmentsCountUpAndNeverOverwrite) {
  camera_test::TempDir dir;
  std::atomic<bool> stop{false};
  SourceOptions options;
  options.source = "lavfi:testsrc2=size=160x120:rate=25";
  options.paced = false;
  FrameSource source(options, stop);
  Recorder recorder(dir.path(), "0badcafe");
  record(recorder, source, 5);
  const std::string first = recorder.path();
  record(recorder, source, 5);
  EXPECT_EQ(recorder.state().segment_id, 2u);
  EXPECT_NE(recorder.path(), first);
  EXPECT_TRUE(std::filesystem::exists(first));
  Recorder again(dir.path(), "0badcafe");  // the same boot tag: its segment 1 exists
  EXPECT_FALSE(again.start(kSession, *source.codec_parameters(), source.time_base(), source.frame_rate()));
  EXPECT_FALSE(again.state().recording);
}

TEST(Recorder, AnUnwritableDirectoryMeansNotRecording) {
  std::atomic<bool> stop{false};
  SourceOptions options;
  options.source = "lavfi:testsrc2=size=160x120:rate=25";
  options.paced = false;
  FrameSource source(options, stop);
  CapturedFrame frame;
  ASSERT_EQ(source.next(frame), FrameSource::Status::kFrame);
  Recorder recorder("/nonexistent/recordings", "0badcafe");
  EXPECT_FALSE(recorder.start(kSession, *source.codec_parameters(), source.time_base(), source.frame_rate()));
  EXPECT_FALSE(recorder.state().recording) << "the hub is told the truth: no recording (U2 fails closed)";
}

}  // namespace
}  // namespace latchkey::camera
