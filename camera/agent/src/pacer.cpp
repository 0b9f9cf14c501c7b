#include "pacer.hpp"

#include <latchkey/lk_attest.h>

#include <algorithm>
#include <thread>

namespace latchkey::camera {

uint64_t monotonic_ns() { return lk_attest_monotonic_ns(); }

bool sleep_until(uint64_t deadline_ns, const std::atomic<bool>& stop) {
  constexpr uint64_t kSliceNs = 20'000'000;  // how quickly a stop request is seen
  for (;;) {
    if (stop.load()) return false;
    const uint64_t now = monotonic_ns();
    if (now >= deadline_ns) return true;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min(deadline_ns - now, kSliceNs)));
  }
}

bool Pacer::wait_for(int64_t media_ns, const std::atomic<bool>& stop) {
  const uint64_t now = monotonic_ns();
  if (!anchored_ || media_ns < anchor_media_ns_) {
    anchored_ = true;
    anchor_media_ns_ = media_ns;
    anchor_wall_ns_ = now;
    return !stop.load();
  }
  const uint64_t due = anchor_wall_ns_ + static_cast<uint64_t>(media_ns - anchor_media_ns_);
  if (now > due && now - due > static_cast<uint64_t>(kMaxLagNs)) {
    anchor_media_ns_ = media_ns;
    anchor_wall_ns_ = now;
    return !stop.load();
  }
  return sleep_until(due, stop);
}

}  // namespace latchkey::camera
