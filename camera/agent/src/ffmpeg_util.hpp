// Owning handles for the FFmpeg objects the agent uses, and FFmpeg's error
// codes as text. Every FFmpeg header the agent needs is included here once.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <cstdint>
#include <memory>
#include <string>

namespace latchkey::camera {

// AV_NOPTS_VALUE and AVERROR_EOF without the C casts of their macros.
inline constexpr int64_t kNoTimestamp = INT64_MIN;
inline constexpr int kAvErrorEof = -static_cast<int>(static_cast<unsigned>('E') | (static_cast<unsigned>('O') << 8) |
                                                     (static_cast<unsigned>('F') << 16) |
                                                     (static_cast<unsigned>(' ') << 24));
inline constexpr int kAvErrorAgain = -EAGAIN;

std::string av_error_text(int error);

// Registers libavdevice's inputs (v4l2, lavfi) once and quiets FFmpeg's own
// logging to warnings; safe to call repeatedly.
void init_ffmpeg();

struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct InputDeleter {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct ScaleDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};

using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using InputPtr = std::unique_ptr<AVFormatContext, InputDeleter>;
using ScalePtr = std::unique_ptr<SwsContext, ScaleDeleter>;

}  // namespace latchkey::camera
