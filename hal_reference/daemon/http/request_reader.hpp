// RequestReader: one request's bytes to a complete request: the head through
// RequestHeadParser, then the framing checks, then the body (Content-Length,
// or chunked through ChunkedBodyDecoder) up to max_body. No I/O and no clock:
// the connection front end feeds it and keeps the deadlines. Internal to
// latchkey_http.
//
// Framing refused: both Content-Length and Transfer-Encoding, more than one
// of either, a Content-Length that is not a decimal number (400); a transfer
// coding other than chunked (501); an Expect other than 100-continue (417); a
// declared or decoded body past max_body (413).
#ifndef LATCHKEY_HTTP_REQUEST_READER_HPP
#define LATCHKEY_HTTP_REQUEST_READER_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "chunked_body_decoder.hpp"
#include "request_head_parser.hpp"

namespace latchkey::hub::http {

class RequestReader {
 public:
  enum class State { NeedMore, Complete, Refused };

  RequestReader(HeadLimits limits, std::size_t max_body) : head_parser_(limits), max_body_(max_body) {}

  // input holds the bytes received and not yet taken, this request's first
  // byte first. Erases what belongs to this request; bytes of a next
  // (pipelined) request stay in input.
  State feed(std::string& input);

  // True once the head is in (the body deadline applies from then on).
  bool head_done() const { return head_done_; }
  // True once, when the head asked for "100 Continue" before a body.
  bool take_continue();
  // Why an incomplete request cannot be completed when the client closed.
  std::string truncated_error() const;

  RequestHead take_head() { return std::move(head_); }
  std::string take_body() { return std::move(body_); }
  int status() const { return status_; }
  const std::string& error() const { return error_; }

 private:
  State refuse(int status, std::string error);
  State check_framing();

  RequestHeadParser head_parser_;
  std::size_t max_body_;
  State state_ = State::NeedMore;
  bool head_done_ = false;
  bool send_continue_ = false;
  RequestHead head_;
  std::optional<ChunkedBodyDecoder> chunked_;
  uint64_t body_left_ = 0;   // Content-Length bytes still to come
  std::string body_;
  int status_ = 0;
  std::string error_;
};

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_REQUEST_READER_HPP
