// Recording for the hub's sessions (docs/rules.md U2): on StartRecording the agent
// writes a real file, and its attestations say so, with the segment and the
// bytes on disk. An encoded source (a file, RTSP, V4L2 MJPEG/H.264) is
// remuxed packet for packet; a raw one (lavfi, raw V4L2) is encoded
// (frame_encoder.hpp). Files are named
// <session id hex>-<boot tag>-<segment id>.mkv in the record directory.
//
// A remuxed segment must begin with a key frame. So that it does not wait
// for the next one (a camera's group of pictures lasts seconds), the recorder
// keeps the packets since the last key frame (up to 32 MB) and begins a
// segment with them: the file then starts a little before the command,
// never after it.
#pragma once

#include "frame_encoder.hpp"
#include "segment_file.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace latchkey::camera {

using SessionId = std::array<uint8_t, 16>;

// What attestations carry about recording (lk_attest_set_recording).
struct RecordingState {
  bool recording = false;
  bool has_session = false;  // false until the first segment
  SessionId session_id{};
  uint64_t segment_id = 0;      // of the segment being (or last) recorded; increasing per agent run
  uint64_t recorded_bytes = 0;  // its size on disk, measured after flushing

  bool operator==(const RecordingState&) const = default;
};

std::string to_hex(const uint8_t* data, std::size_t size);

class Recorder {
 public:
  // boot_tag goes into every file name, so segments of two runs of the
  // agent for one session never collide.
  Recorder(std::string directory, std::string boot_tag);
  ~Recorder();  // finishes an open segment
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Opens a new segment for session of the source described by parameters
  // (its packets in time_base, frames at frame_rate). False when it cannot
  // (the reason is logged); the state then says not recording.
  bool start(const SessionId& session, const AVCodecParameters& parameters, AVRational time_base,
             AVRational frame_rate);
  // Finishes the segment (trailer) and logs its size. The state keeps the
  // segment's id and final size, with recording false.
  void stop();

  // A new input (the first, or a live source reopened): the packets kept
  // from the last key frame belong to the old one and are dropped.
  void source_changed(const AVCodecParameters& parameters);

  // The source's encoded packets and decoded frames; each is used or not
  // according to the segment's mode. now_ns is the frame's capture time.
  void on_packet(const AVPacket& packet, AVRational time_base, uint64_t now_ns);
  void on_frame(const AVFrame& frame, uint64_t capture_ns);

  bool recording() const { return state_.recording; }
  bool remuxing() const { return remux_; }
  const RecordingState& state() const { return state_; }
  const std::string& path() const { return file_.path(); }

 private:
  void fail(const std::string& why);
  void update_bytes(uint64_t now_ns);
  void keep(const AVPacket& packet, AVRational time_base);
  void drop_kept();

  static constexpr std::size_t kMaxKeptBytes = 32u << 20;
  struct Kept {
    PacketPtr packet;
    AVRational time_base;
  };

  std::string directory_;
  std::string boot_tag_;
  RecordingState state_;
  uint64_t next_segment_id_ = 1;
  SegmentFile file_;
  FrameEncoder encoder_;
  bool remux_ = false;
  bool waiting_for_key_ = false;
  uint64_t segment_start_ns_ = 0;
  bool keeping_ = false;            // the source's packets can be remuxed: keep the current group
  std::vector<Kept> kept_;          // from a key frame on, or empty
  std::size_t kept_bytes_ = 0;
};

}  // namespace latchkey::camera
