#include "request_head_parser.hpp"

namespace latchkey::hub::http {
namespace {

// RFC 9110 5.6.2 token characters.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

RequestHeadParser::State RequestHeadParser::refuse(int status, std::string error) {
  status_ = status;
  error_ = std::move(error);
  state_ = State::Refused;
  return state_;
}

RequestHeadParser::State RequestHeadParser::parse(std::string_view input) {
  while (state_ == State::NeedMore) {
    const std::size_t lf = input.find('\n', scanned_);
    const std::size_t end = lf == std::string_view::npos ? input.size() : lf;
    // A CR must be followed by LF; one that is the last byte so far waits.
    for (std::size_t i = scanned_; i < end; ++i) {
      if (input[i] == '\0' && !have_request_line_) return refuse(400, "NUL byte in the request line");
      if (input[i] == '\r' && i + 1 < end) return refuse(400, "CR not followed by LF in the request head");
    }
    if (lf == std::string_view::npos) {
      if (input.size() > limits_.max_head_bytes) {
        return refuse(431, "request head larger than " + std::to_string(limits_.max_head_bytes) + " bytes");
      }
      scanned_ = !input.empty() && input.back() == '\r' ? input.size() - 1 : input.size();
      return state_;
    }
    if (lf + 1 > limits_.max_head_bytes) {
      return refuse(431, "request head larger than " + std::to_string(limits_.max_head_bytes) + " bytes");
    }
    if (lf == 0 || input[lf - 1] != '\r') {
      return refuse(400, "bare LF line ending in the request head (lines end in CRLF)");
    }
    const std::string_view line = input.substr(line_start_, (lf > line_start_ && input[lf - 1] == '\r' ? lf - 1 : lf) - line_start_);
    line_start_ = scanned_ = lf + 1;
    if (line.empty()) {
      // Empty lines before the request line are ignored (RFC 9112 2.2); after
      // it, the first one ends the head.
      if (!have_request_line_) continue;
      head_size_ = lf + 1;
      state_ = State::Complete;
      return state_;
    }
    take_line(line);
  }
  return state_;
}

RequestHeadParser::State RequestHeadParser::take_line(std::string_view line) {
  if (!have_request_line_) {
    have_request_line_ = true;
    return take_request_line(line);
  }
  return take_field(line);
}

RequestHeadParser::State RequestHeadParser::take_request_line(std::string_view line) {
  const std::size_t first = line.find(' ');
  const std::size_t last = line.rfind(' ');
  if (first == std::string_view::npos || first == last || line.find(' ', first + 1) != last) {
    return refuse(400, "request line must be 'METHOD target HTTP/1.1' with single spaces");
  }
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, last - first - 1);
  const std::string_view version = line.substr(last + 1);
  if (!is_token(method)) return refuse(400, "request line: the method is not a token");
  if (target.empty()) return refuse(400, "request line: the target is empty");
  for (char c : target) {
    if (c < '!' || c > '~') return refuse(400, "request line: the target holds a byte that is not visible ASCII");
  }
  const bool well_formed = version.size() == 8 && version.substr(0, 5) == "HTTP/" && is_digit(version[5]) &&
                           version[6] == '.' && is_digit(version[7]);
  if (!well_formed) return refuse(400, "request line: the version is not HTTP/<digit>.<digit>");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return refuse(400, "unsupported HTTP version " + std::string(version) + " (1.0 and 1.1 are served)");
  }
  head_.method = method;
  head_.target = target;
  head_.version = version;
  return state_;
}

RequestHeadParser::State RequestHeadParser::take_field(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    return refuse(400, "folded header line (obsolete line folding is not accepted)");
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return refuse(400, "header line without a colon");
  const std::string_view name = line.substr(0, colon);
  if (name.empty()) return refuse(400, "header line with an empty name");
  if (name.back() == ' ' || name.back() == '\t') return refuse(400, "whitespace before the colon in a header line");
  if (!is_token(name)) return refuse(400, "header name is not a token");
  if (name.size() > limits_.max_name_bytes) {
    return refuse(431, "header name longer than " + std::to_string(limits_.max_name_bytes) + " bytes");
  }
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  for (char c : value) {
    if (c == '\0') return refuse(400, "NUL byte in header '" + std::string(name) + "'");
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return refuse(400, "control character in header '" + std::string(name) + "'");
    }
  }
  if (head_.fields.size() >= limits_.max_fields) {
    return refuse(431, "more than " + std::to_string(limits_.max_fields) + " header fields");
  }
  head_.fields.emplace_back(name, value);
  return state_;
}

}  // namespace latchkey::hub::http
