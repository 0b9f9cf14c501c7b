// At most one log line per interval for a kind of event a sender can repeat
// at will (oversized or malformed messages): the rest are counted and the
// count goes into the next line written.
#ifndef LATCHKEY_NET_CAMERA_LOG_THROTTLE_HPP
#define LATCHKEY_NET_CAMERA_LOG_THROTTLE_HPP

#include <latchkey/cpp/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace latchkey::net_camera {

class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::milliseconds interval = std::chrono::seconds(1)) : interval_(interval) {}

  void log(lk_log_level level, const std::string& message) {
    const auto now = std::chrono::steady_clock::now();
    uint64_t suppressed = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (last_ && now - *last_ < interval_) {
        ++suppressed_;
        return;
      }
      last_ = now;
      suppressed = suppressed_;
      suppressed_ = 0;
    }
    plugin::log(level, suppressed == 0 ? message
                                       : message + " (and " + std::to_string(suppressed) + " more like it before)");
  }

 private:
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  uint64_t suppressed_ = 0;
};

}  // namespace latchkey::net_camera

#endif  // LATCHKEY_NET_CAMERA_LOG_THROTTLE_HPP
