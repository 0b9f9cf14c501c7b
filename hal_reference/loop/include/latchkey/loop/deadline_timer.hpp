// A one-shot libuv timer armed to an absolute deadline on the monotonic
// clock uv_hrtime() reads (nanoseconds), and never fired before it.
#ifndef LATCHKEY_LOOP_DEADLINE_TIMER_HPP
#define LATCHKEY_LOOP_DEADLINE_TIMER_HPP

#include <uv.h>

#include <cstdint>
#include <functional>

namespace latchkey::loop {

// Loop thread only. open() once, arm_at() as often as the deadline changes
// (each replaces the last), stop() to disarm, close() before the loop's last
// run. libuv counts whole milliseconds from the loop's cached time, which may
// lag: the wait is rounded up, and a timer that still fires early waits out
// the rest instead of calling on_expiry.
class DeadlineTimer {
 public:
  DeadlineTimer() = default;
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // The monotonic clock the deadlines are on.
  static uint64_t now_ns() { return uv_hrtime(); }

  void open(uv_loop_t* loop, std::function<void()> on_expiry);
  // Fires on_expiry once, at deadline_ns or soon after (at the loop's next
  // turn when it has passed).
  void arm_at(uint64_t deadline_ns);
  void stop();
  bool armed() const;
  uint64_t deadline_ns() const { return deadline_ns_; }
  // Stops it and closes its handle (libuv finishes at the loop's next run). Again: nothing.
  void close();

 private:
  static void on_timer(uv_timer_t* handle);
  void start_for_rest();

  uv_timer_t timer_{};
  std::function<void()> on_expiry_;
  uint64_t deadline_ns_ = 0;
  bool open_ = false;
};

}  // namespace latchkey::loop

#endif  // LATCHKEY_LOOP_DEADLINE_TIMER_HPP
