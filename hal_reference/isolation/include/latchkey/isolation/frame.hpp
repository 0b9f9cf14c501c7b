// Length-prefixed framing of the plugin-host protocol (sdk/proto/latchkey/
// plugin_host.proto): a 4-byte big-endian length, then the message bytes.
#ifndef LATCHKEY_ISOLATION_FRAME_HPP
#define LATCHKEY_ISOLATION_FRAME_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace latchkey::isolation {

// The largest message either end accepts. A snapshot frame is the largest
// thing that travels; 16 MiB leaves room for it and refuses a runaway length.
inline constexpr std::size_t kMaxFrameBytes = std::size_t{16} << 20;
inline constexpr std::size_t kFrameHeaderBytes = 4;

// Appends one frame holding `message` to `out`.
void append_frame(const std::string& message, std::string* out);

// Accumulates bytes read from a stream socket and cuts them into messages.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_frame = kMaxFrameBytes) : max_frame_(max_frame) {}

  void feed(const char* data, std::size_t size) { buffer_.append(data, size); }

  // The next complete message, or nullopt when more bytes are needed. Once a
  // header announces more than the limit, error() is set and nothing more is
  // returned: the stream cannot be resynchronised.
  std::optional<std::string> next();

  bool failed() const noexcept { return !error_.empty(); }
  const std::string& error() const noexcept { return error_; }
  std::size_t buffered() const noexcept { return buffer_.size() - offset_; }

 private:
  std::size_t max_frame_;
  std::string buffer_;
  std::size_t offset_ = 0;
  std::string error_;
};

}  // namespace latchkey::isolation

#endif  // LATCHKEY_ISOLATION_FRAME_HPP
