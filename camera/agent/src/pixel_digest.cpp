#include "pixel_digest.hpp"

#include <stdexcept>
#include <string>

namespace latchkey::camera {

PixelDigest::PixelDigest() {
  if (const auto r = lk_attest_digest_create(&digest_); r != LK_ATTEST_OK)
    throw std::runtime_error(std::string("frame digest: ") + lk_attest_result_name(r));
}

PixelDigest::~PixelDigest() { lk_attest_digest_free(digest_); }

FrameDigest PixelDigest::digest_frame(const AVFrame& frame) {
  if (frame.width <= 0 || frame.height <= 0) throw std::runtime_error("decoded frame has no size");
  if (frame.width != width_ || frame.height != height_ || frame.format != source_format_ || !scale_) {
    // Same size in and out: the conversion only changes the pixel format.
    // SWS_BICUBIC is what the ffmpeg command uses, so `ffmpeg -pix_fmt gray
    // -f rawvideo` gives the same bytes (tests/camera_agent checks this).
    scale_.reset(sws_getContext(frame.width, frame.height, static_cast<AVPixelFormat>(frame.format), frame.width,
                                frame.height, AV_PIX_FMT_GRAY8, SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!scale_)
      throw std::runtime_error(std::string("cannot convert ") +
                               (av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame.format))
                                    ? av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame.format))
                                    : "an unknown pixel format") +
                               " to gray");
    width_ = frame.width;
    height_ = frame.height;
    source_format_ = frame.format;
    stride_ = (width_ + 63) & ~63;  // aligned rows for swscale; the padding is never digested
    pixels_.assign(static_cast<std::size_t>(stride_) * static_cast<std::size_t>(height_), 0);
  }
  uint8_t* planes[4] = {pixels_.data(), nullptr, nullptr, nullptr};
  int strides[4] = {stride_, 0, 0, 0};
  const int rows = sws_scale(scale_.get(), frame.data, frame.linesize, 0, frame.height, planes, strides);
  if (rows != frame.height) throw std::runtime_error("gray conversion failed: " + av_error_text(rows));
  return digest_again();
}

FrameDigest PixelDigest::digest_again() {
  FrameDigest out{};
  for (int row = 0; row < height_; ++row)
    lk_attest_digest_update(digest_, pixels_.data() + static_cast<std::size_t>(row) * static_cast<std::size_t>(stride_),
                            static_cast<std::size_t>(width_));
  if (const auto r = lk_attest_digest_final(digest_, out.data()); r != LK_ATTEST_OK)
    throw std::runtime_error(std::string("frame digest: ") + lk_attest_result_name(r));
  return out;
}

}  // namespace latchkey::camera
