// A device's own worker thread running timed tasks (header-only, C++17).
//
// Each simulated device owns one Scheduler. Tasks run one at a time on the
// worker thread, ordered by their steady_clock due time (ties in submission
// order). A device's close() calls stop(), which joins the worker: after it
// returns no task of that device runs again, so the library can be unloaded.
#ifndef LATCHKEY_SIM_SCHEDULER_HPP
#define LATCHKEY_SIM_SCHEDULER_HPP

#include <latchkey/cpp/plugin.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace latchkey::sim {

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;
  using TaskId = uint64_t;
  using Task = std::function<void()>;

  // Starts the worker thread.
  Scheduler() : worker_([this] { run(); }) {}
  // Drops pending tasks and joins the worker (see stop()).
  ~Scheduler() { stop(); }
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues task to run at when. Returns an id for cancel(); 0 once stopped.
  TaskId at(Clock::time_point when, Task task) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return 0;
    const TaskId id = ++last_id_;
    tasks_.emplace(Key{when, id}, std::move(task));
    wake_.notify_one();
    return id;
  }

  // Queues task to run delay from now.
  TaskId after(std::chrono::nanoseconds delay, Task task) { return at(Clock::now() + delay, std::move(task)); }

  // Removes a queued task. Returns false if it already ran, is running or is unknown.
  bool cancel(TaskId id) {
    if (id == 0) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
      if (it->first.id == id) {
        tasks_.erase(it);
        return true;
      }
    }
    return false;
  }

  // Drops every queued task, waits for a running one to finish and joins the
  // worker. Idempotent. Must not be called from a task (it would join itself).
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      tasks_.clear();
      wake_.notify_one();
    }
    if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
  }

  bool on_worker_thread() const noexcept { return std::this_thread::get_id() == worker_.get_id(); }

 private:
  struct Key {
    Clock::time_point when;
    TaskId id;
    bool operator<(const Key& other) const noexcept {
      return when != other.when ? when < other.when : id < other.id;
    }
  };

  void run() noexcept {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (tasks_.empty()) {
        wake_.wait(lock);
        continue;
      }
      const auto first = tasks_.begin();
      // A copy: cancel() may erase the node while this thread waits on it.
      const Clock::time_point due = first->first.when;
      if (Clock::now() < due) {
        wake_.wait_until(lock, due);
        continue;
      }
      Task task = std::move(first->second);
      tasks_.erase(first);
      lock.unlock();
      try {
        task();
      } catch (const std::exception& e) {
        plugin::log(LK_LOG_ERROR, std::string("sim: task failed: ") + e.what());
      } catch (...) {
        plugin::log(LK_LOG_ERROR, "sim: task failed with a non-standard exception");
      }
      task = nullptr;  // destroy captures before taking the lock again
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<Key, Task> tasks_;
  TaskId last_id_ = 0;
  bool stopping_ = false;
  std::thread worker_;  // last: starts after the members it uses exist
};

// The device's monotonic clock, in nanoseconds.
inline uint64_t monotonic_ns() noexcept {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Scheduler::Clock::now().time_since_epoch()).count());
}

}  // namespace latchkey::sim

#endif  // LATCHKEY_SIM_SCHEDULER_HPP
