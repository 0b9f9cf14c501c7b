// EventCollector: follows /v1/events on its own thread and keeps every
// event, so a caller can wait for the one it expects (demo, tests).
//
// The optional callback runs on the collector's thread for each event, in
// order, before the event becomes visible to wait_for(). The stream is not
// re-opened when it ends (the daemon stopped); ended() then says so.
// Thread-safe; the destructor stops the thread.
#ifndef LATCHKEY_CLIENT_EVENT_COLLECTOR_HPP
#define LATCHKEY_CLIENT_EVENT_COLLECTOR_HPP

#include <latchkey/client/event_stream.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace latchkey::client {

class EventCollector {
 public:
  using Callback = std::function<void(const SseEvent&)>;

  EventCollector(ApiEndpoint endpoint, std::string token, Callback on_event = {});
  ~EventCollector();
  EventCollector(const EventCollector&) = delete;
  EventCollector& operator=(const EventCollector&) = delete;

  // Waits until the stream answered (true) or failed or timed out (false).
  bool wait_connected(std::chrono::milliseconds timeout);

  // The first event at index >= from (see size()) matching `match`, waiting
  // up to timeout for it to arrive; nullopt on timeout or when the stream
  // ended without one. *index receives its position when given.
  std::optional<SseEvent> wait_for(const std::function<bool(const SseEvent&)>& match,
                                   std::chrono::milliseconds timeout, std::size_t from = 0,
                                   std::size_t* index = nullptr);

  std::size_t size() const;
  std::vector<SseEvent> events() const;
  bool ended() const;
  // Why the stream ended, when it failed; empty otherwise.
  std::string failure() const;

  void stop();

 private:
  void run();

  EventStream stream_;
  Callback on_event_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<SseEvent> events_;
  bool connected_ = false;
  bool ended_ = false;
  std::string failure_;
  std::thread thread_;
};

}  // namespace latchkey::client

#endif  // LATCHKEY_CLIENT_EVENT_COLLECTOR_HPP
