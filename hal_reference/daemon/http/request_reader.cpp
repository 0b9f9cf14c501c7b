#include "request_reader.hpp"

#include <algorithm>

#include "request_target.hpp"

namespace latchkey::hub::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

RequestReader::State RequestReader::refuse(int status, std::string error) {
  status_ = status;
  error_ = std::move(error);
  state_ = State::Refused;
  return state_;
}

bool RequestReader::take_continue() {
  const bool wanted = send_continue_;
  send_continue_ = false;
  return wanted;
}

std::string RequestReader::truncated_error() const {
  if (!head_done_) return "connection closed inside the request head";
  return chunked_ ? "connection closed inside the chunked body" : "body shorter than Content-Length";
}

RequestReader::State RequestReader::check_framing() {
  const std::string* length = nullptr;
  const std::string* coding = nullptr;
  const std::string* expect = nullptr;
  for (const auto& [name, value] : head_.fields) {
    const std::string** slot = iequals(name, "Content-Length")      ? &length
                               : iequals(name, "Transfer-Encoding") ? &coding
                               : iequals(name, "Expect")            ? &expect
                                                                    : nullptr;
    if (slot == nullptr) continue;
    if (*slot != nullptr) return refuse(400, "header '" + name + "' given twice");
    *slot = &value;
  }
  // Both would let a proxy and this server see different bodies (RFC 9112 6.3).
  if (length != nullptr && coding != nullptr) {
    return refuse(400, "both Content-Length and Transfer-Encoding given");
  }
  if (coding != nullptr) {
    if (!iequals(*coding, "chunked")) {
      return refuse(501, "Transfer-Encoding '" + coding->substr(0, 40) + "' is not supported (only chunked)");
    }
    chunked_.emplace(max_body_);
  } else if (length != nullptr) {
    auto declared = parse_decimal_u64(*length);
    if (!declared) {
      // Twenty digits or more: past any limit, but still a number.
      const bool digits = !length->empty() && std::all_of(length->begin(), length->end(),
                                                          [](char c) { return c >= '0' && c <= '9'; });
      if (!digits) return refuse(400, "Content-Length is not a decimal number");
      return refuse(413, "body larger than " + std::to_string(max_body_) + " bytes");
    }
    if (*declared > max_body_) return refuse(413, "body larger than " + std::to_string(max_body_) + " bytes");
    body_left_ = *declared;
  }
  const bool has_body = chunked_.has_value() || body_left_ > 0;
  if (expect != nullptr) {
    if (!iequals(*expect, "100-continue")) return refuse(417, "only 'Expect: 100-continue' is supported");
    send_continue_ = has_body && head_.version == "HTTP/1.1";
  }
  return state_;
}

RequestReader::State RequestReader::feed(std::string& input) {
  if (state_ != State::NeedMore) return state_;
  if (!head_done_) {
    const auto parsed = head_parser_.parse(input);
    if (parsed == RequestHeadParser::State::Refused) return refuse(head_parser_.status(), head_parser_.error());
    if (parsed == RequestHeadParser::State::NeedMore) return state_;
    input.erase(0, head_parser_.head_size());
    head_ = head_parser_.take_head();
    head_done_ = true;
    if (check_framing() == State::Refused) return state_;
  }
  if (chunked_) {
    std::size_t consumed = 0;
    const auto decoded = chunked_->feed(input, consumed, body_);
    input.erase(0, consumed);
    if (decoded == ChunkedBodyDecoder::State::Refused) return refuse(chunked_->status(), chunked_->error());
    if (decoded == ChunkedBodyDecoder::State::Complete) state_ = State::Complete;
    return state_;
  }
  const auto n = static_cast<std::size_t>(std::min<uint64_t>(body_left_, input.size()));
  body_.append(input, 0, n);
  input.erase(0, n);
  body_left_ -= n;
  if (body_left_ == 0) state_ = State::Complete;
  return state_;
}

}  // namespace latchkey::hub::http
