// ServerCore: what the connection threads share with ApiServer: the HubApi,
// the options, whether the server is stopping, and the open event streams so
// stop() can end them. Internal to latchkey_http.
#ifndef LATCHKEY_HTTP_SERVER_CORE_HPP
#define LATCHKEY_HTTP_SERVER_CORE_HPP

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <set>

#include "latchkey/hub/api_server.hpp"
#include "latchkey/hub/hub_api.hpp"

namespace latchkey::hub::http {

// The events waiting for one stream. push() runs on the hub's loop thread and
// never blocks beyond this short mutex; past the limit it marks the stream
// overflowed instead of growing.
class EventQueue {
 public:
  explicit EventQueue(std::size_t limit) : limit_(limit) {}

  void push(const HubEvent& event);
  // Ends the wait of the stream's thread for good (server stopping).
  void close();

  enum class Wake { Events, Timeout, Closed, Overflowed };
  // Waits up to timeout_ms for events; moves them into out.
  Wake wait(int timeout_ms, std::deque<HubEvent>& out);

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<HubEvent> events_;
  std::size_t limit_;
  bool closed_ = false;
  bool overflowed_ = false;
};

class ServerCore {
 public:
  ServerCore(HubApi& api, const ApiServer::Options& options) : api(api), options(options) {}

  HubApi& api;
  const ApiServer::Options options;

  bool stopping() const;
  // Marks the server stopping and closes every registered stream.
  void begin_stop();

  // Registers a stream; false when the server stops or max_event_streams are open.
  bool add_stream(const std::shared_ptr<EventQueue>& queue);
  void remove_stream(const std::shared_ptr<EventQueue>& queue);

 private:
  mutable std::mutex mutex_;
  bool stopping_ = false;
  std::set<std::shared_ptr<EventQueue>> streams_;
};

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_SERVER_CORE_HPP
