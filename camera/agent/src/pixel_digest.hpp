// The frame digest the agent signs: BLAKE2b-256 (lk_attest_digest) of the
// decoded picture converted to 8-bit grey (GRAY8, the luma a person sees) at
// its native size, fed row by row, width bytes a row, top to bottom: the
// pixels only, never the padding FFmpeg adds at the end of each row.
//
// Why decoded pixels and not the encoded packets: the digest must change
// exactly when the picture changes. A re-muxed or re-encoded replay of the
// same footage carries different packets (other container, timestamps,
// GOP, rate control) while its pictures are the same, and an encoder fed a
// stuck sensor still emits changing packets (new timestamps, skip frames
// after a key frame) although every picture is identical. Digests of the
// pixels make a frozen sensor show as identical digests (docs/rules.md C5) and
// looped footage return to digests seen before (C7), whatever the encoding.
// Grey rather than colour: one plane, no chroma siting or subsampling
// choices between cameras, and a third less to hash; any change a person can
// see changes the luma.
#pragma once

#include "ffmpeg_util.hpp"

#include <latchkey/lk_attest.h>

#include <array>
#include <vector>

namespace latchkey::camera {

using FrameDigest = std::array<uint8_t, LK_ATTEST_DIGEST_SIZE>;

class PixelDigest {
 public:
  PixelDigest();  // throws std::runtime_error when libsodium cannot start
  ~PixelDigest();
  PixelDigest(const PixelDigest&) = delete;
  PixelDigest& operator=(const PixelDigest&) = delete;

  // Converts frame to GRAY8 at its own size, keeps those pixels and returns
  // their digest. Throws std::runtime_error when the frame cannot be converted.
  FrameDigest digest_frame(const AVFrame& frame);

  // The digest of the pixels kept from the last frame, computed again (the
  // stuck-sensor test aid: same pixels, same digest).
  FrameDigest digest_again();

  int width() const { return width_; }
  int height() const { return height_; }
  // The kept GRAY8 pixels: height rows of stride() bytes, width() of them pixels.
  const uint8_t* pixels() const { return pixels_.data(); }
  int stride() const { return stride_; }

 private:
  lk_attest_digest* digest_ = nullptr;
  ScalePtr scale_;
  int width_ = 0;
  int height_ = 0;
  int stride_ = 0;
  int source_format_ = -1;
  std::vector<uint8_t> pixels_;
};

}  // namespace latchkey::camera
