// A bounded hand-over from the hub's loop thread to the publisher's thread.
// push() never waits for the consumer: it takes a mutex that the consumer
// holds only to swap the queue out. When the queue is full the events are
// dropped, all of them, and the consumer is told to resync from the hub's
// views instead (a state rebuilt from the views is right; a state rebuilt
// from a stream with holes would not be).
#ifndef LATCHKEY_HOME_ASSISTANT_EVENT_QUEUE_HPP
#define LATCHKEY_HOME_ASSISTANT_EVENT_QUEUE_HPP

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>

namespace latchkey::home_assistant {

template <class T>
class DropAndResyncQueue {
 public:
  explicit DropAndResyncQueue(std::size_t limit) : limit_(limit == 0 ? 1 : limit) {}

  struct Batch {
    std::deque<T> items;
    bool resync = false;   // events were dropped (or resync() was asked): rebuild from the views
    bool stopping = false;
  };

  // Never blocks on the consumer. False when the item was dropped.
  bool push(T item) {
    {
      std::lock_guard lock(mutex_);
      if (items_.size() >= limit_) {
        dropped_ += items_.size() + 1;
        items_.clear();
        resync_ = true;
        ++overflows_;
        wake_.notify_one();
        return false;
      }
      items_.push_back(std::move(item));
    }
    wake_.notify_one();
    return true;
  }
  void request_resync() {
    {
      std::lock_guard lock(mutex_);
      resync_ = true;
    }
    wake_.notify_one();
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
  }

  // Waits up to `timeout` for something to do, then takes everything.
  Batch take(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, timeout, [this] { return stopping_ || resync_ || !items_.empty(); });
    Batch b;
    b.items.swap(items_);
    b.resync = std::exchange(resync_, false);
    b.stopping = stopping_;
    return b;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  uint64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }
  uint64_t overflows() const {
    std::lock_guard lock(mutex_);
    return overflows_;
  }

 private:
  const std::size_t limit_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<T> items_;
  bool resync_ = false;
  bool stopping_ = false;
  uint64_t dropped_ = 0;
  uint64_t overflows_ = 0;
};

}  // namespace latchkey::home_assistant

#endif  // LATCHKEY_HOME_ASSISTANT_EVENT_QUEUE_HPP
