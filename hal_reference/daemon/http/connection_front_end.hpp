// ConnectionFrontEnd: one thread with epoll that owns every API connection
// while it is idle, being read or being written. It accepts, enforces the
// connection cap (the connection idle the longest is dropped first), reads a
// whole request against whole-request deadlines (head, then body; not per
// read, so a client dribbling a byte at a time is cut off too), parses the
// head strictly, and only then hands the complete request to a worker. The
// worker hands the answer back and the front end writes it, so neither idle
// nor slow clients hold a worker thread. Internal to latchkey_http.
//
// Threading: the constructor, start() and stop() from the owning thread;
// finished() from any thread (the workers); the dispatch callback runs on the
// front end's thread and must not block.
#ifndef LATCHKEY_HTTP_CONNECTION_FRONT_END_HPP
#define LATCHKEY_HTTP_CONNECTION_FRONT_END_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "request_head_parser.hpp"

namespace latchkey::hub::http {

struct FrontEndLimits {
  std::size_t max_connections = 1024;
  int header_timeout_ms = 5000;       // from accept (or a kept-alive request's first byte) to the blank line
  int body_timeout_ms = 10000;        // from the blank line to the body's last byte
  int keep_alive_timeout_ms = 5000;   // between requests on one connection
  int write_timeout_ms = 10000;       // for writing one answer
  std::size_t max_body = 20480;
  int max_requests_per_connection = 100;
  HeadLimits head;
};

// A complete request for a worker. fd stays owned by the front end; the
// worker may write a streamed answer to it until it calls finished().
struct ReadyRequest {
  uint64_t connection = 0;
  int fd = -1;
  RequestHead head;
  std::string body;
  bool more_input = false;   // bytes after this request arrived already
  bool may_keep_alive = true;
};

// A worker's answer: bytes still to write and whether the connection may
// carry another request.
struct FinishedRequest {
  uint64_t connection = 0;
  std::string output;
  bool keep_alive = false;
  bool broken = false;   // writing failed: close without writing
};

class ConnectionFrontEnd {
 public:
  using Dispatch = std::function<void(ReadyRequest)>;

  // Takes ownership of listen_fd (a bound, listening socket).
  ConnectionFrontEnd(int listen_fd, FrontEndLimits limits, Dispatch dispatch);
  ~ConnectionFrontEnd();
  ConnectionFrontEnd(const ConnectionFrontEnd&) = delete;
  ConnectionFrontEnd& operator=(const ConnectionFrontEnd&) = delete;

  // Starts the thread. Throws std::runtime_error when epoll cannot be set up.
  void start();
  // Hands a dispatched connection back. Any thread.
  void finished(FinishedRequest request);
  // Stops accepting and reading and closes idle connections; waits until
  // every dispatched request came back through finished() (its answer is
  // written if the socket takes it at once), then ends the thread.
  void stop();

 private:
  class Loop;
  std::unique_ptr<Loop> loop_;
};

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_CONNECTION_FRONT_END_HPP
