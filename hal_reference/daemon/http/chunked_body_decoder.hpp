// ChunkedBodyDecoder: a strict, incremental decoder of a chunked request body
// (RFC 9112 7.1) with a size limit. Internal to latchkey_http.
//
// Refused with 400: a size line that is not 1-16 hex digits ending in CRLF,
// chunk extensions, a chunk whose data is not followed by CRLF, trailer
// fields. Refused with 413: more than max_body decoded bytes.
#ifndef LATCHKEY_HTTP_CHUNKED_BODY_DECODER_HPP
#define LATCHKEY_HTTP_CHUNKED_BODY_DECODER_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::hub::http {

class ChunkedBodyDecoder {
 public:
  enum class State { NeedMore, Complete, Refused };

  explicit ChunkedBodyDecoder(std::size_t max_body) : max_body_(max_body) {}

  // Decodes from input, appending data to body. Sets consumed to the bytes of
  // input it used; bytes it left (an incomplete size line) come again in the
  // next call, in front of what arrived since. Once Complete, consumed ends
  // at the body's last byte, so what follows is the next request.
  State feed(std::string_view input, std::size_t& consumed, std::string& body);

  int status() const { return status_; }
  const std::string& error() const { return error_; }

 private:
  enum class Part { SizeLine, Data, DataEnd, Trailer };
  State refuse(int status, std::string error);
  State take_size_line(std::string_view line, std::size_t body_size);

  std::size_t max_body_;
  Part part_ = Part::SizeLine;
  uint64_t remaining_ = 0;   // data bytes left in the current chunk
  State state_ = State::NeedMore;
  int status_ = 0;
  std::string error_;
};

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_CHUNKED_BODY_DECODER_HPP
