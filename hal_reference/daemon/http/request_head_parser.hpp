// RequestHeadParser: a strict, incremental parser of an HTTP/1.x request head
// (request line and header fields, up to the blank line). It is fed the bytes
// received so far and remembers how far it got, so a client sending one byte
// at a time costs one look at each byte. Internal to latchkey_http.
//
// Refused, each with 400 and a message saying what was wrong: a line ending in
// a bare LF or a CR without LF, a header line without a colon, whitespace
// before the colon, a folded (obsolete continuation) line, a NUL or other
// control character in a field, a malformed request line or version.
// Refused with 431: a head past max_head_bytes, more than max_fields fields or
// a field name longer than max_name_bytes.
#ifndef LATCHKEY_HTTP_REQUEST_HEAD_PARSER_HPP
#define LATCHKEY_HTTP_REQUEST_HEAD_PARSER_HPP

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::hub::http {

struct HeadLimits {
  std::size_t max_head_bytes = 8192;   // request line, fields and the blank line
  std::size_t max_fields = 100;
  std::size_t max_name_bytes = 256;
};

struct RequestHead {
  std::string method;
  std::string target;
  std::string version;   // "HTTP/1.1" or "HTTP/1.0"; other versions are refused
  std::vector<std::pair<std::string, std::string>> fields;   // as sent, values trimmed
};

class RequestHeadParser {
 public:
  enum class State { NeedMore, Complete, Refused };

  explicit RequestHeadParser(HeadLimits limits = {}) : limits_(limits) {}

  // input holds every byte received for this request so far, from its first
  // one; each call passes the same bytes plus what arrived since. Returns
  // Complete once the blank line is in, Refused at the first violation.
  State parse(std::string_view input);

  // Bytes of the head, blank line included (valid once Complete).
  std::size_t head_size() const { return head_size_; }
  const RequestHead& head() const { return head_; }
  RequestHead take_head() { return std::move(head_); }
  // The refusal (valid once Refused): 400 or 431 and what was wrong.
  int status() const { return status_; }
  const std::string& error() const { return error_; }

 private:
  State refuse(int status, std::string error);
  State take_line(std::string_view line);
  State take_request_line(std::string_view line);
  State take_field(std::string_view line);

  HeadLimits limits_;
  State state_ = State::NeedMore;
  std::size_t line_start_ = 0;   // first byte of the line not yet complete
  std::size_t scanned_ = 0;      // bytes already looked at for a line end
  bool have_request_line_ = false;
  std::size_t head_size_ = 0;
  RequestHead head_;
  int status_ = 0;
  std::string error_;
};

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_REQUEST_HEAD_PARSER_HPP
