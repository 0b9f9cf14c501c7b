#include <latchkey/loop/deadline_timer.hpp>

#include <utility>

namespace latchkey::loop {

void DeadlineTimer::open(uv_loop_t* loop, std::function<void()> on_expiry) {
  on_expiry_ = std::move(on_expiry);
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  open_ = true;
}

void DeadlineTimer::arm_at(uint64_t deadline_ns) {
  if (!open_) return;
  deadline_ns_ = deadline_ns;
  start_for_rest();
}

void DeadlineTimer::start_for_rest() {
  const uint64_t now = now_ns();
  // Whole milliseconds, rounded up: never early by the rounding.
  const uint64_t ms = deadline_ns_ <= now ? 0 : (deadline_ns_ - now + 999'999) / 1'000'000;
  uv_timer_start(&timer_, &DeadlineTimer::on_timer, ms, 0);
}

void DeadlineTimer::on_timer(uv_timer_t* handle) {
  auto* self = static_cast<DeadlineTimer*>(handle->data);
  // The loop's cached time may lag the clock: an early expiry waits out the rest.
  if (now_ns() < self->deadline_ns_) return self->start_for_rest();
  if (self->on_expiry_) self->on_expiry_();
}

void DeadlineTimer::stop() {
  if (open_) uv_timer_stop(&timer_);
}

bool DeadlineTimer::armed() const {
  return open_ && uv_is_active(reinterpret_cast<const uv_handle_t*>(&timer_)) != 0;
}

void DeadlineTimer::close() {
  if (!open_) return;
  open_ = false;
  auto* handle = reinterpret_cast<uv_handle_t*>(&timer_);
  if (!uv_is_closing(handle)) uv_close(handle, nullptr);
}

}  // namespace latchkey::loop
