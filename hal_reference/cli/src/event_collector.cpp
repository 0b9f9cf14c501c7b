#include <latchkey/client/api_client.hpp>
#include <latchkey/client/event_collector.hpp>

namespace latchkey::client {

EventCollector::EventCollector(ApiEndpoint endpoint, std::string token, Callback on_event)
    : stream_(std::move(endpoint), std::move(token)), on_event_(std::move(on_event)) {
  thread_ = std::thread([this] { run(); });
}

EventCollector::~EventCollector() { stop(); }

void EventCollector::stop() {
  stream_.stop();
  if (thread_.joinable()) thread_.join();
}

void EventCollector::run() {
  try {
    stream_.read(
        [this](const SseEvent& event) {
          if (on_event_) on_event_(event);
          std::lock_guard lock(mutex_);
          events_.push_back(event);
          changed_.notify_all();
          return true;
        },
        0,
        [this] {
          std::lock_guard lock(mutex_);
          connected_ = true;
          changed_.notify_all();
        });
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    failure_ = e.what();
  }
  std::lock_guard lock(mutex_);
  ended_ = true;
  changed_.notify_all();
}

bool EventCollector::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return connected_ || ended_; });
  return connected_ && !ended_;
}

std::optional<SseEvent> EventCollector::wait_for(const std::function<bool(const SseEvent&)>& match,
                                                 std::chrono::milliseconds timeout, std::size_t from,
                                                 std::size_t* index) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  std::size_t next = from;
  for (;;) {
    for (; next < events_.size(); ++next) {
      if (match(events_[next])) {
        if (index) *index = next;
        return events_[next];
      }
    }
    if (ended_) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && next == events_.size()) {
      return std::nullopt;
    }
  }
}

std::size_t EventCollector::size() const {
  std::lock_guard lock(mutex_);
  return events_.size();
}

std::vector<SseEvent> EventCollector::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

bool EventCollector::ended() const {
  std::lock_guard lock(mutex_);
  return ended_;
}

std::string EventCollector::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

}  // namespace latchkey::client
