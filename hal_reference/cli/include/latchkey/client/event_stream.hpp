// EventStream: a reader of GET /v1/events (text/event-stream, docs/api.md).
//
// read() connects, then calls the handler once per complete event (an
// `id:`, `event:` and `data:` block ended by a blank line) until the daemon
// ends the stream, the handler returns false, or stop() is called from
// another thread. Comment lines (":") are skipped; several data lines are
// joined with "\n" as the SSE format says.
#ifndef LATCHKEY_CLIENT_EVENT_STREAM_HPP
#define LATCHKEY_CLIENT_EVENT_STREAM_HPP

#include <latchkey/client/api_endpoint.hpp>

#include <Poco/JSON/Object.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace Poco::Net {
class HTTPClientSession;
}

namespace latchkey::client {

struct SseEvent {
  uint64_t id = 0;
  std::string name;   // alarm, decision, session, door, camera, audit
  std::string data;   // JSON text
  std::chrono::steady_clock::time_point received;

  // data parsed as a JSON object; null when it is not one.
  Poco::JSON::Object::Ptr json() const;
};

class EventStream {
 public:
  EventStream(ApiEndpoint endpoint, std::string token);
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Blocks while following the stream. last_event_id > 0 sends
  // Last-Event-ID so the daemon replays what came after it. Throws ApiError
  // when the connection fails or the answer is not an event stream; returns
  // normally when the stream ends, the handler returns false or stop() was
  // called. on_open, when set, runs once the daemon accepted the stream.
  void read(const std::function<bool(const SseEvent&)>& handler, uint64_t last_event_id = 0,
            const std::function<void()>& on_open = {});
  // Ends a read() in progress on another thread (shuts the socket down).
  // Safe to call at any time, also before read() and more than once.
  void stop();

 private:
  ApiEndpoint endpoint_;
  std::string token_;
  std::mutex mutex_;  // guards session_ and stopped_ against stop()
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  bool stopped_ = false;
};

}  // namespace latchkey::client

#endif  // LATCHKEY_CLIENT_EVENT_STREAM_HPP
