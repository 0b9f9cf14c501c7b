// Collects what a device delivers on plugin threads (events, lock
// completions, log lines) and lets a test wait for a condition with a timeout.
#ifndef LATCHKEY_TESTS_PLUGINS_EVENT_RECORDER_HPP
#define LATCHKEY_TESTS_PLUGINS_EVENT_RECORDER_HPP

#include <latchkey/host/devices.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace latchkey::testing {

using Millis = std::chrono::milliseconds;

class EventRecorder {
 public:
  host::EventHandler handler() {
    return [this](const host::DeviceEvent& event) {
      std::lock_guard<std::mutex> lock(mutex_);
      events_.push_back(event);
      changed_.notify_all();
    };
  }

  host::LockCompletionHandler completion() {
    return [this](const lk_lock_completion& completion) {
      std::lock_guard<std::mutex> lock(mutex_);
      completions_[completion.operation_id].push_back(completion);
      changed_.notify_all();
    };
  }

  host::LogHandler log_handler() {
    return [this](lk_log_level, const std::string& driver_id, const std::string& message) {
      std::lock_guard<std::mutex> lock(mutex_);
      logs_.push_back(driver_id + ": " + message);
      changed_.notify_all();
    };
  }

  // Waits until pred() (called with the lock held) is true; false on timeout.
  template <class Pred>
  bool wait(Millis timeout, Pred pred) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, pred);
  }

  // Waits for the first completion of operation_id.
  bool wait_completion(uint64_t operation_id, Millis timeout, lk_lock_completion* out = nullptr) {
    std::unique_lock<std::mutex> lock(mutex_);
    const bool ok = changed_.wait_for(lock, timeout, [&] { return !completions_[operation_id].empty(); });
    if (ok && out != nullptr) *out = completions_[operation_id].front();
    return ok;
  }

  std::size_t completion_count(uint64_t operation_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    return completions_[operation_id].size();
  }

  // Index of the first event at or after from matching kind (and value, and
  // detail when given), waiting up to timeout; -1 when none came.
  long wait_event(lk_event_kind kind, long value, long detail, std::size_t from, Millis timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    long found = -1;
    changed_.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < events_.size(); ++i) {
        const host::DeviceEvent& e = events_[i];
        if (e.kind == kind && (value < 0 || e.value == static_cast<uint32_t>(value)) &&
            (detail < 0 || e.detail == static_cast<uint32_t>(detail))) {
          found = static_cast<long>(i);
          return true;
        }
      }
      return false;
    });
    return found;
  }

  std::size_t event_count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_.size();
  }

  // For wait() predicates, which run with the lock held: how many events of
  // kind arrived at or after index from.
  std::size_t event_count_unlocked(std::size_t from, lk_event_kind kind) const {
    std::size_t n = 0;
    for (std::size_t i = from; i < events_.size(); ++i) n += events_[i].kind == kind ? 1 : 0;
    return n;
  }

  std::vector<host::DeviceEvent> events() {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }

  std::vector<std::string> logs() {
    std::lock_guard<std::mutex> lock(mutex_);
    return logs_;
  }

  bool logged(const std::string& fragment) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& line : logs_)
      if (line.find(fragment) != std::string::npos) return true;
    return false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<host::DeviceEvent> events_;
  std::map<uint64_t, std::vector<lk_lock_completion>> completions_;
  std::vector<std::string> logs_;
};

}  // namespace latchkey::testing

#endif  // LATCHKEY_TESTS_PLUGINS_EVENT_RECORDER_HPP
