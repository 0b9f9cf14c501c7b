// A thread that calls a function every tick until destroyed (the net
// camera's watchdog). The destructor stops and joins it: afterwards the
// function does not run.
#ifndef LATCHKEY_NET_CAMERA_TICKER_HPP
#define LATCHKEY_NET_CAMERA_TICKER_HPP

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace latchkey::net_camera {

class Ticker {
 public:
  Ticker(std::chrono::milliseconds tick, std::function<void()> fn) : tick_(tick), fn_(std::move(fn)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Ticker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, tick_, [this] { return stopping_; })) {
      lock.unlock();
      fn_();
      lock.lock();
    }
  }

  const std::chrono::milliseconds tick_;
  const std::function<void()> fn_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: it uses everything above
};

}  // namespace latchkey::net_camera

#endif  // LATCHKEY_NET_CAMERA_TICKER_HPP
