#include "event_log.hpp"

#include <cstdio>
#include <ctime>
#include <mutex>

namespace latchkey::camera {

namespace {
std::mutex g_mutex;
std::string g_prefix = "lk-camera-agent: ";  // guarded by g_mutex
}  // namespace

void set_log_camera_id(const std::string& camera_id) {
  const std::lock_guard lock(g_mutex);
  g_prefix = "lk-camera-agent[" + camera_id + "]: ";
}

void log_event(const std::string& text) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm local{};
  localtime_r(&now.tv_sec, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &local);
  const std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "%s.%03ld %s%s\n", stamp, now.tv_nsec / 1000000L, g_prefix.c_str(), text.c_str());
  std::fflush(stderr);
}

}  // namespace latchkey::camera
