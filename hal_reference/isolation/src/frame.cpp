#include <latchkey/isolation/frame.hpp>

namespace latchkey::isolation {

void append_frame(const std::string& message, std::string* out) {
  const auto n = static_cast<uint32_t>(message.size());
  const char header[kFrameHeaderBytes] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                                          static_cast<char>(n >> 8), static_cast<char>(n)};
  out->append(header, kFrameHeaderBytes);
  out->append(message);
}

std::optional<std::string> FrameReader::next() {
  if (failed()) return std::nullopt;
  if (buffered() < kFrameHeaderBytes) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + offset_);
  const std::size_t n = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
  if (n > max_frame_) {
    error_ = "a frame announces " + std::to_string(n) + " bytes, over the limit of " + std::to_string(max_frame_);
    return std::nullopt;
  }
  if (buffered() < kFrameHeaderBytes + n) return std::nullopt;
  std::string message = buffer_.substr(offset_ + kFrameHeaderBytes, n);
  offset_ += kFrameHeaderBytes + n;
  // Drop consumed bytes once they dominate the buffer (amortised O(1) per byte).
  if (offset_ > 4096 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return message;
}

}  // namespace latchkey::isolation
