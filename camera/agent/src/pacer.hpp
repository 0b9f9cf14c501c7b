// Reads a non-live source at its native rate (like ffmpeg -re): each frame is
// released when as much wall time has passed since the first one as its
// timestamp says, so a file is watched, not consumed at once.
#pragma once

#include <atomic>
#include <cstdint>

namespace latchkey::camera {

// CLOCK_MONOTONIC in nanoseconds (lk_attest_monotonic_ns).
uint64_t monotonic_ns();

// Sleeps until deadline_ns (monotonic) or until *stop is set, in short
// slices. Returns false when stopped.
bool sleep_until(uint64_t deadline_ns, const std::atomic<bool>& stop);

class Pacer {
 public:
  // Waits until the frame at media time media_ns is due. Returns false when stopped.
  bool wait_for(int64_t media_ns, const std::atomic<bool>& stop);
  // Starts afresh at the next frame (after a pause such as a reopen).
  void reset() { anchored_ = false; }

 private:
  // The agent fell behind by more than this (a slow machine, a pause): it
  // starts afresh instead of racing through the backlog.
  static constexpr int64_t kMaxLagNs = 1'000'000'000;
  bool anchored_ = false;
  int64_t anchor_media_ns_ = 0;
  uint64_t anchor_wall_ns_ = 0;
};

}  // namespace latchkey::camera
