#include "chunked_body_decoder.hpp"

#include <algorithm>

namespace latchkey::hub::http {
namespace {

// A size line longer than this is not a chunk size (16 hex digits + CRLF).
constexpr std::size_t kMaxSizeLine = 18;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ChunkedBodyDecoder::State ChunkedBodyDecoder::refuse(int status, std::string error) {
  status_ = status;
  error_ = std::move(error);
  state_ = State::Refused;
  return state_;
}

ChunkedBodyDecoder::State ChunkedBodyDecoder::take_size_line(std::string_view line, std::size_t body_size) {
  if (line.empty() || line.size() > 16) return refuse(400, "chunk size must be 1 to 16 hex digits");
  uint64_t size = 0;
  for (char c : line) {
    if (c == ';') return refuse(400, "chunk extensions are not accepted");
    const int digit = hex_value(c);
    if (digit < 0) return refuse(400, "chunk size must be 1 to 16 hex digits");
    size = size * 16 + static_cast<uint64_t>(digit);
  }
  if (size > max_body_ - std::min(max_body_, body_size)) {
    return refuse(413, "body larger than " + std::to_string(max_body_) + " bytes");
  }
  remaining_ = size;
  part_ = size == 0 ? Part::Trailer : Part::Data;
  return state_;
}

ChunkedBodyDecoder::State ChunkedBodyDecoder::feed(std::string_view input, std::size_t& consumed,
                                                   std::string& body) {
  consumed = 0;
  while (state_ == State::NeedMore && consumed < input.size()) {
    const std::string_view rest = input.substr(consumed);
    switch (part_) {
      case Part::SizeLine:
      case Part::Trailer: {
        const std::size_t lf = rest.find('\n');
        if (lf == std::string_view::npos) {
          if (rest.size() > kMaxSizeLine) {
            return refuse(400, part_ == Part::Trailer ? "trailer fields are not accepted"
                                                      : "chunk size must be 1 to 16 hex digits");
          }
          return state_;   // the partial line comes again with more bytes
        }
        if (lf == 0 || rest[lf - 1] != '\r') return refuse(400, "bare LF in the chunked body (lines end in CRLF)");
        const std::string_view line = rest.substr(0, lf - 1);
        consumed += lf + 1;
        if (part_ == Part::Trailer) {
          if (!line.empty()) return refuse(400, "trailer fields are not accepted");
          state_ = State::Complete;
          return state_;
        }
        take_size_line(line, body.size());
        break;
      }
      case Part::Data: {
        const auto n = static_cast<std::size_t>(std::min<uint64_t>(remaining_, rest.size()));
        body.append(rest.data(), n);
        consumed += n;
        remaining_ -= n;
        if (remaining_ == 0) part_ = Part::DataEnd;
        break;
      }
      case Part::DataEnd: {
        // The two bytes after a chunk's data must be exactly CRLF.
        if (rest.size() < 2) {
          if (rest[0] != '\r') return refuse(400, "chunk data not followed by CRLF");
          return state_;
        }
        if (rest[0] != '\r' || rest[1] != '\n') return refuse(400, "chunk data not followed by CRLF");
        consumed += 2;
        part_ = Part::SizeLine;
        break;
      }
    }
  }
  return state_;
}

}  // namespace latchkey::hub::http
