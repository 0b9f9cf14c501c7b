#include "buffered_response.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <streambuf>

#include "json_reply.hpp"

namespace latchkey::hub::http {

class BufferedResponse::BodyStreamBuf : public std::streambuf {
 public:
  explicit BodyStreamBuf(BufferedResponse& response) : response_(response) {}

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char byte = traits_type::to_char_type(c);
    response_.append_body(std::string_view(&byte, 1));
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    response_.append_body(std::string_view(s, static_cast<std::size_t>(n)));
    return n;
  }
  int sync() override { return response_.flush_body() ? 0 : -1; }

 private:
  BufferedResponse& response_;
};

BufferedResponse::BufferedResponse(int socket_fd, int write_timeout_ms, bool head_only)
    : socket_fd_(socket_fd), write_timeout_ms_(write_timeout_ms), head_only_(head_only) {}

BufferedResponse::~BufferedResponse() = default;

void BufferedResponse::write_head() {
  std::ostringstream head;
  write(head);
  output_ += head.str();
  sent_ = true;
}

std::ostream& BufferedResponse::send() {
  if (sent_) throw Poco::IllegalStateException("response already sent");
  chunked_ = getChunkedTransferEncoding();
  // Without a length or chunks only the end of the connection ends the body.
  if (!chunked_ && !hasContentLength()) setKeepAlive(false);
  write_head();
  buf_ = std::make_unique<BodyStreamBuf>(*this);
  stream_ = std::make_unique<std::ostream>(buf_.get());
  return *stream_;
}

void BufferedResponse::sendFile(const std::string&, const std::string&) {
  throw Poco::NotImplementedException("BufferedResponse::sendFile");
}

void BufferedResponse::sendBuffer(const void* buffer, std::size_t length) {
  if (sent_) throw Poco::IllegalStateException("response already sent");
  setContentLength64(static_cast<Poco::Int64>(length));
  setChunkedTransferEncoding(false);
  write_head();
  if (!head_only_) output_.append(static_cast<const char*>(buffer), length);
}

void BufferedResponse::redirect(const std::string& uri, HTTPStatus status) {
  setStatusAndReason(status);
  set("Location", uri);
  sendBuffer("", 0);
}

void BufferedResponse::requireAuthentication(const std::string& realm) {
  setStatusAndReason(HTTP_UNAUTHORIZED);
  set("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
  sendBuffer("", 0);
}

void BufferedResponse::append_body(std::string_view bytes) {
  if (head_only_ || write_failed_) return;
  if (chunked_) pending_.append(bytes);
  else output_.append(bytes);
}

bool BufferedResponse::flush_body() {
  if (write_failed_) return false;
  if (!chunked_) return true;   // an ordinary answer is written by the front end
  if (!pending_.empty()) {
    char size[24];
    std::snprintf(size, sizeof size, "%zx\r\n", pending_.size());
    output_ += size;
    output_ += pending_;
    output_ += "\r\n";
    pending_.clear();
  }
  return write_to_socket();
}

void BufferedResponse::finish() {
  if (!chunked_ || write_failed_) return;
  flush_body();
  output_ += "0\r\n\r\n";
  write_to_socket();
}

bool BufferedResponse::write_to_socket() {
  if (socket_fd_ < 0 || output_.empty()) return !write_failed_;
  streamed_ = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(write_timeout_ms_);
  std::size_t written = 0;
  while (written < output_.size()) {
    const ssize_t n = ::send(socket_fd_, output_.data() + written, output_.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() > 0) {
        pollfd p{socket_fd_, POLLOUT, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        // Ready (or an error the next send reports) or interrupted: try again.
        if (ready > 0 || (ready < 0 && errno == EINTR)) continue;
      }
    }
    // Timed out, reset or closed: this stream is over.
    write_failed_ = true;
    output_.clear();
    return false;
  }
  output_.clear();
  return true;
}

std::string error_response_bytes(int status, std::string_view error) {
  BufferedResponse response(-1, 0, false);
  response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
  response.set("Server", "latchkeyd");
  send_error(response, status, error, true);
  return response.take_output();
}

}  // namespace latchkey::hub::http
