// One line per notable event on stderr: "lk-camera-agent[<id>]: <text>".
// Lines from several threads never interleave.
#pragma once

#include <string>

namespace latchkey::camera {

// Sets the camera id every later line names (empty before the config is read).
void set_log_camera_id(const std::string& camera_id);

void log_event(const std::string& text);

}  // namespace latchkey::camera
