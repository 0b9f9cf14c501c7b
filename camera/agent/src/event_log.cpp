#include "event_log.hpp"

namespace latchkey::camera {

void set_log_camera_id(const std::string& camera_id) {
  logging::set_log_program("lk-camera-agent[" + camera_id + "]");
}

void log_event(const std::string& text) { logging::log(logging::LogLevel::kInfo, text); }

void log_event(logging::LogLevel level, const std::string& text) { logging::log(level, text); }

}  // namespace latchkey::camera
