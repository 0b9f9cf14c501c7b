// Encodes decoded frames for a recording when the source gives raw pictures
// (lavfi, a raw V4L2 format) that no container should hold as they are:
// H.264 with libx264 when FFmpeg has it, else MPEG-4 part 2, YUV 4:2:0, one
// key frame at least every 2 s so any part of a segment can be played.
#pragma once

#include "ffmpeg_util.hpp"

#include <functional>
#include <string>

namespace latchkey::camera {

class FrameEncoder {
 public:
  using PacketOut = std::function<bool(const AVPacket& packet, AVRational time_base)>;

  // Sets up an encoder for frames of width x height (made even for 4:2:0).
  // frame_rate is the source's (for the key frame interval), {0,1} if unknown.
  bool open(int width, int height, AVRational frame_rate, std::string& error);

  // The encoder's stream description, for the segment file (after open).
  const AVCodecParameters& parameters() const { return *parameters_; }
  AVRational time_base() const { return time_base_; }
  const char* codec_name() const;

  // Encodes one frame shown at time_ms (milliseconds since the segment
  // began) and hands every packet it yields to out. False when out fails or
  // the frame cannot be encoded.
  bool encode(const AVFrame& frame, int64_t time_ms, const PacketOut& out, std::string& error);

  // Gives out the packets still inside the encoder.
  bool finish(const PacketOut& out, std::string& error);

 private:
  bool drain(const PacketOut& out, std::string& error);

  static constexpr AVRational time_base_ = {1, 1000};
  CodecContextPtr encoder_;
  ScalePtr scale_;
  FramePtr picture_;
  PacketPtr packet_;
  struct ParametersDeleter {
    void operator()(AVCodecParameters* p) const { avcodec_parameters_free(&p); }
  };
  std::unique_ptr<AVCodecParameters, ParametersDeleter> parameters_;
  int source_width_ = 0;
  int source_height_ = 0;
  int source_format_ = -1;
  int64_t last_pts_ = kNoTimestamp;
};

}  // namespace latchkey::camera
