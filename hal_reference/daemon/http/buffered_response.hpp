// BufferedResponse: the HTTPServerResponse the handlers write to. An ordinary
// answer is collected in memory and handed back to the connection front end,
// which writes it without holding a worker thread (a client that reads slowly
// costs a buffer, not a thread). A chunked answer (the event stream) is
// written straight to the socket on every flush, by the worker that serves
// it, each flush within the write timeout. Internal to latchkey_http.
#ifndef LATCHKEY_HTTP_BUFFERED_RESPONSE_HPP
#define LATCHKEY_HTTP_BUFFERED_RESPONSE_HPP

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "poco_includes.hpp"

namespace latchkey::hub::http {

class BufferedResponse : public Poco::Net::HTTPServerResponse {
 public:
  // socket_fd: where a chunked answer goes on flush (-1: nowhere, keep all in
  // memory). head_only: a HEAD request, so no body bytes are kept.
  BufferedResponse(int socket_fd, int write_timeout_ms, bool head_only);
  ~BufferedResponse() override;

  // The front end answered "Expect: 100-continue" before reading the body.
  void sendContinue() override {}
  std::ostream& send() override;
  void sendFile(const std::string& path, const std::string& media_type) override;
  void sendBuffer(const void* buffer, std::size_t length) override;
  void redirect(const std::string& uri, HTTPStatus status = HTTP_FOUND) override;
  void requireAuthentication(const std::string& realm) override;
  bool sent() const override { return sent_; }

  // After the handler returns: ends a chunked body.
  void finish();
  // The bytes not written yet (all of them for an ordinary answer).
  std::string take_output() { return std::move(output_); }
  // Some bytes went to the socket already: the connection cannot be reused.
  bool streamed() const { return streamed_; }
  // Writing to the socket failed or timed out: the connection is dead.
  bool write_failed() const { return write_failed_; }

  // Appends body bytes sent through send()'s stream; flushes on sync. Used by
  // the stream buffer only.
  void append_body(std::string_view bytes);
  bool flush_body();

 private:
  void write_head();
  bool write_to_socket();

  class BodyStreamBuf;
  int socket_fd_;
  int write_timeout_ms_;
  bool head_only_;
  bool sent_ = false;
  bool chunked_ = false;
  bool streamed_ = false;
  bool write_failed_ = false;
  std::string output_;
  std::string pending_;   // chunked body bytes not framed yet
  std::unique_ptr<BodyStreamBuf> buf_;
  std::unique_ptr<std::ostream> stream_;
};

// A complete answer with {"error": error} and Connection: close, for what the
// front end refuses on its own (400, 408, 413, 431, 501, 503).
std::string error_response_bytes(int status, std::string_view error);

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_BUFFERED_RESPONSE_HPP
