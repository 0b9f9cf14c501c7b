// ApiServer: the HTTP face of the hub (docs/api.md). It authenticates and
// validates every request, then asks a HubApi and writes the answer back; it
// owns no hub state and makes no decision.
//
// Connections: one front-end thread (epoll) owns every connection while it is
// idle, being read or being written. It accepts up to max_connections (at the
// cap the connection idle the longest is dropped for the new one), reads each
// request whole against a header deadline and a body deadline (whole-request
// deadlines, not per read: a client dribbling a byte at a time is cut off with
// 408 all the same), parses the head strictly (400 for bare LF, a header line
// without a colon, a NUL, a chunk without its CRLF, ...) and only then hands
// the complete request to one of max_threads workers that run the handlers.
// Answers go back to the front end to be written, so neither idle nor slow
// clients hold a worker; only an event stream does (at most
// max_event_streams, fewer than the workers).
//
// Threading: construct, start(), port() and stop() from one thread (the one
// that owns the server), never from the hub's loop thread: stop() waits for
// workers that may be waiting on the loop (an unlock, an unsubscribe). The
// HubApi is called from the workers, so it must be thread-safe (it is, by its
// own contract), and it must outlive the server or at least the call to stop().
#ifndef LATCHKEY_HUB_API_SERVER_HPP
#define LATCHKEY_HUB_API_SERVER_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "latchkey/hub/hub_api.hpp"

namespace latchkey::hub {

class ApiServer {
 public:
  struct Options {
    // "host:port" ("[::1]:port" for IPv6); port 0 picks a free port.
    std::string address = "127.0.0.1:7380";
    // Bearer token for every /v1 path except GET /v1/health. Must not be empty.
    std::string token;
    // Largest accepted POST body in bytes (413 above it). The default holds the
    // largest unlock request (8192 bytes as 16384 hex digits) with room for
    // the JSON around it.
    std::size_t max_body = 20480;
    // Worker threads that run the handlers; each open event stream holds one.
    int max_threads = 16;
    // Serve /v1/test/... (simulated devices only); otherwise those paths are 404.
    bool test_control = false;
    // Event streams open at once; one more gets 503. At most max_threads - 1.
    int max_event_streams = 8;
    // Events waiting per stream; a client that lets more pile up is dropped
    // and resumes with Last-Event-ID.
    std::size_t event_queue_limit = 1024;
    // Comment line on an idle event stream, so proxies and clients see it alive.
    int heartbeat_ms = 15000;
    // Open connections at once; at the cap a new one replaces the connection
    // that has waited longest for its client (503 when none is waiting).
    std::size_t max_connections = 1024;
    // From accept (or a kept-alive request's first byte) to the end of the
    // request head; 408 after it.
    int header_timeout_ms = 5000;
    // From the end of the head to the body's last byte; 408 after it.
    int body_timeout_ms = 10000;
    // How long a kept-alive connection may wait for its next request.
    int keep_alive_timeout_ms = 5000;
    // How long writing one answer (or one flush of an event stream) may take.
    int write_timeout_ms = 10000;
  };

  // Borrows api for the server's lifetime. Does not bind yet.
  ApiServer(HubApi& api, Options options);
  // Calls stop().
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the address and starts serving. Throws std::invalid_argument for a
  // bad option (empty token, unparsable address, a limit that is not
  // positive) and std::runtime_error when
  // the address cannot be bound or the server is already running.
  void start();

  // The bound port (the real one when the address asked for port 0); 0 before start().
  uint16_t port() const;

  // Stops accepting, ends every open event stream, closes idle connections and
  // waits until no worker touches the HubApi any more. A request
  // already inside the HubApi (an unlock waiting for its decision) is let
  // finish. Idempotent; start() may be called again afterwards.
  void stop();

 private:
  struct Running;
  HubApi& api_;
  Options options_;
  std::unique_ptr<Running> running_;
};

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_API_SERVER_HPP
