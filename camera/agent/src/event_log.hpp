// One line per notable event on stderr, through the log every Latchkey
// program shares (latchkey/common/log.hpp): "<RFC 3339 time>
// lk-camera-agent[<id>] <level>: <text>", or the journal's form under systemd.
// Lines from several threads never interleave; lines below --log-level are
// dropped.
#pragma once

#include <latchkey/common/log.hpp>

#include <string>

namespace latchkey::camera {

// Sets the camera id every later line names (empty before the config is read).
void set_log_camera_id(const std::string& camera_id);

// An event at info level.
void log_event(const std::string& text);
void log_event(logging::LogLevel level, const std::string& text);

}  // namespace latchkey::camera
