#include "server_core.hpp"

#include <chrono>

namespace latchkey::hub::http {

void EventQueue::push(const HubEvent& event) {
  {
    std::lock_guard lock(mutex_);
    if (closed_ || overflowed_) return;
    if (events_.size() >= limit_) {
      // A client this far behind is dropped; it resumes with Last-Event-ID.
      overflowed_ = true;
      events_.clear();
    } else {
      events_.push_back(event);
    }
  }
  ready_.notify_one();
}

void EventQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

EventQueue::Wake EventQueue::wait(int timeout_ms, std::deque<HubEvent>& out) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                  [this] { return closed_ || overflowed_ || !events_.empty(); });
  if (closed_) return Wake::Closed;
  if (overflowed_) return Wake::Overflowed;
  if (events_.empty()) return Wake::Timeout;
  out.swap(events_);
  events_.clear();
  return Wake::Events;
}

bool ServerCore::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void ServerCore::begin_stop() {
  std::set<std::shared_ptr<EventQueue>> streams;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    streams = streams_;
  }
  for (const auto& queue : streams) queue->close();
}

bool ServerCore::add_stream(const std::shared_ptr<EventQueue>& queue) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  if (streams_.size() >= static_cast<std::size_t>(options.max_event_streams)) return false;
  streams_.insert(queue);
  return true;
}

void ServerCore::remove_stream(const std::shared_ptr<EventQueue>& queue) {
  std::lock_guard lock(mutex_);
  streams_.erase(queue);
}

}  // namespace latchkey::hub::http
