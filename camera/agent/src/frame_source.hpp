// Frames from a real source through libavformat and libavcodec: a V4L2
// camera, an RTSP (or other network) stream, a file, or a lavfi test source.
// Every frame is decoded and digested (pixel_digest.hpp). Live sources are
// reopened when they fail; files and lavfi are read at their native rate and
// end, unless looped. Two test aids make the source misbehave on purpose:
// loop (looped footage, C7) and freeze_after (a stuck sensor, C5).
#pragma once

#include "ffmpeg_util.hpp"
#include "pacer.hpp"
#include "pixel_digest.hpp"
#include "source_kind.hpp"

#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::camera {

struct SourceOptions {
  std::string source;
  std::vector<std::pair<std::string, std::string>> input_options;
  bool loop = false;          // test aid: start a file or lavfi source again at its end, forever
  uint64_t freeze_after = 0;  // test aid: after this many frames, re-digest the last one forever (0 = off)
  bool paced = true;          // read non-live sources at their native rate (tests may read at full speed)
};

struct CapturedFrame {
  const AVFrame* frame = nullptr;  // the decoded picture; valid until the next call of next()
  FrameDigest digest{};
  uint64_t capture_ns = 0;  // CLOCK_MONOTONIC when the frame was decoded (or re-digested)
  uint64_t index = 0;       // frames delivered so far, this one included
  bool frozen = false;      // a re-digest of the last frame (freeze_after)
  // The GRAY8 picture the digest is of (pixel_digest.hpp): gray_height rows
  // gray_stride bytes apart, gray_width pixels each; valid until the next
  // call of next(). What the scene measurements (C8) are taken from.
  const uint8_t* gray = nullptr;
  int gray_width = 0;
  int gray_height = 0;
  int gray_stride = 0;
};

// The video stream's encoded packets as read, before decoding, with
// timestamps continued across loops: what a recording remuxes.
using PacketSink = std::function<void(const AVPacket& packet, AVRational time_base)>;

class FrameSource {
 public:
  // Opens the source. A file or lavfi source that cannot be opened throws
  // std::runtime_error; a live one is retried by next(), with a log line.
  FrameSource(SourceOptions options, const std::atomic<bool>& stop);
  ~FrameSource();
  FrameSource(const FrameSource&) = delete;
  FrameSource& operator=(const FrameSource&) = delete;

  enum class Status { kFrame, kEnded, kStopped };
  // Blocks until the next frame (kFrame), the end of a non-looped file or
  // lavfi source (kEnded), or a stop request (kStopped).
  Status next(CapturedFrame& out);

  void set_packet_sink(PacketSink sink) { sink_ = std::move(sink); }

  // Of the input open now; nullptr / {0,1} while a live source is down.
  const AVCodecParameters* codec_parameters() const;
  AVRational time_base() const;
  // Counts the opens of a live source: a recording starts a new segment when
  // it changes, as the stream's parameters may have changed.
  uint64_t generation() const { return generation_; }
  // The source's frame rate as FFmpeg guesses it, {0,1} when unknown.
  AVRational frame_rate() const { return frame_rate_; }
  const SourceLocation& location() const { return location_; }

 private:
  bool open_input(std::string& error);
  void close_input();
  bool reopen_live(const std::string& why);
  bool restart_loop();
  Status deliver(CapturedFrame& out);
  Status deliver_frozen(CapturedFrame& out);
  void set_gray(CapturedFrame& out) const;
  int read_and_send();
  static int interrupt(void* opaque);

  SourceOptions options_;
  const std::atomic<bool>& stop_;
  SourceLocation location_;
  PacketSink sink_;
  InputPtr input_;
  CodecContextPtr decoder_;
  int stream_ = -1;
  FramePtr frame_;
  PacketPtr packet_;
  PixelDigest pixels_;
  Pacer pacer_;
  bool draining_ = false;
  bool frozen_ = false;
  uint64_t generation_ = 0;
  uint64_t delivered_ = 0;
  uint64_t io_deadline_ns_ = 0;       // the interrupt callback aborts blocking I/O past this
  uint64_t last_packet_ns_ = 0;
  uint64_t last_capture_ns_ = 0;
  uint64_t retry_delay_ms_ = 500;
  int64_t ts_offset_ = 0;             // added to timestamps so loops continue the timeline
  int64_t next_ts_ = 0;               // end of the latest packet, offset applied
  int64_t frame_interval_ns_ = 100'000'000;
  AVRational frame_rate_ = {0, 1};
  uint64_t decode_errors_ = 0;
};

}  // namespace latchkey::camera
