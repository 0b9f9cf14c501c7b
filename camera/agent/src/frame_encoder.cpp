#include "frame_encoder.hpp"

#include <algorithm>

namespace latchkey::camera {

bool FrameEncoder::open(int width, int height, AVRational frame_rate, std::string& error) {
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (codec == nullptr) codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  if (codec == nullptr) {
    error = "this FFmpeg has neither a libx264 nor an MPEG-4 encoder";
    return false;
  }
  CodecContextPtr encoder(avcodec_alloc_context3(codec));
  picture_.reset(av_frame_alloc());
  packet_.reset(av_packet_alloc());
  parameters_.reset(avcodec_parameters_alloc());
  if (!encoder || !picture_ || !packet_ || !parameters_) {
    error = "out of memory";
    return false;
  }
  encoder->width = std::max(2, width & ~1);
  encoder->height = std::max(2, height & ~1);
  encoder->pix_fmt = AV_PIX_FMT_YUV420P;
  encoder->time_base = time_base_;
  const bool rate_known = frame_rate.num > 0 && frame_rate.den > 0;
  if (rate_known) encoder->framerate = frame_rate;
  encoder->gop_size = rate_known ? std::max(1, static_cast<int>(2 * frame_rate.num / frame_rate.den)) : 20;
  encoder->max_b_frames = 0;  // every packet leaves at once: the byte count follows the pictures
  encoder->thread_count = 1;
  encoder->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // Matroska keeps the headers in the track
  if (std::string(codec->name) == "libx264") {
    av_opt_set(encoder->priv_data, "preset", "veryfast", 0);
    av_opt_set(encoder->priv_data, "tune", "zerolatency", 0);
  } else {
    encoder->bit_rate = 2'000'000;
  }
  int r = avcodec_open2(encoder.get(), codec, nullptr);
  if (r < 0) {
    error = std::string("cannot open the ") + codec->name + " encoder: " + av_error_text(r);
    return false;
  }
  if ((r = avcodec_parameters_from_context(parameters_.get(), encoder.get())) < 0) {
    error = "cannot describe the encoded stream: " + av_error_text(r);
    return false;
  }
  picture_->format = encoder->pix_fmt;
  picture_->width = encoder->width;
  picture_->height = encoder->height;
  if ((r = av_frame_get_buffer(picture_.get(), 0)) < 0) {
    error = "out of memory: " + av_error_text(r);
    return false;
  }
  encoder_ = std::move(encoder);
  scale_.reset();
  source_format_ = -1;
  last_pts_ = kNoTimestamp;
  return true;
}

const char* FrameEncoder::codec_name() const { return encoder_ ? encoder_->codec->name : "none"; }

bool FrameEncoder::encode(const AVFrame& frame, int64_t time_ms, const PacketOut& out, std::string& error) {
  if (!encoder_) return false;
  if (!scale_ || frame.width != source_width_ || frame.height != source_height_ || frame.format != source_format_) {
    scale_.reset(sws_getContext(frame.width, frame.height, static_cast<AVPixelFormat>(frame.format), encoder_->width,
                                encoder_->height, encoder_->pix_fmt, SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!scale_) {
      error = "cannot convert the source's pictures for the encoder";
      return false;
    }
    source_width_ = frame.width;
    source_height_ = frame.height;
    source_format_ = frame.format;
  }
  int r = av_frame_make_writable(picture_.get());
  if (r < 0) {
    error = "out of memory: " + av_error_text(r);
    return false;
  }
  sws_scale(scale_.get(), frame.data, frame.linesize, 0, frame.height, picture_->data, picture_->linesize);
  // Strictly increasing: two frames within one millisecond still get their own time.
  picture_->pts = last_pts_ != kNoTimestamp && time_ms <= last_pts_ ? last_pts_ + 1 : time_ms;
  last_pts_ = picture_->pts;
  if ((r = avcodec_send_frame(encoder_.get(), picture_.get())) < 0) {
    error = "cannot encode a frame: " + av_error_text(r);
    return false;
  }
  return drain(out, error);
}

bool FrameEncoder::finish(const PacketOut& out, std::string& error) {
  if (!encoder_) return true;
  avcodec_send_frame(encoder_.get(), nullptr);
  const bool ok = drain(out, error);
  encoder_.reset();
  return ok;
}

bool FrameEncoder::drain(const PacketOut& out, std::string& error) {
  for (;;) {
    const int r = avcodec_receive_packet(encoder_.get(), packet_.get());
    if (r == kAvErrorAgain || r == kAvErrorEof) return true;
    if (r < 0) {
      error = "the encoder failed: " + av_error_text(r);
      return false;
    }
    const bool written = out(*packet_, time_base_);
    av_packet_unref(packet_.get());
    if (!written) return false;
  }
}

}  // namespace latchkey::camera
