#include "command_intake.hpp"

#include "event_log.hpp"

#include <latchkey/camera_link.pb.h>

#include <algorithm>

namespace latchkey::camera {

bool CommandIntake::offer(const uint8_t* data, std::size_t size) {
  if (size > kMaxCommandSize) {
    log_event("ignored a command of " + std::to_string(size) + " bytes (at most 64)");
    return false;
  }
  latchkey::v1::CameraCommand command;
  if (!command.ParseFromArray(data, static_cast<int>(size))) {
    log_event("ignored a command that is not a CameraCommand");
    return false;
  }
  RecordingCommand out;
  out.command_id = command.command_id();
  switch (command.command_case()) {
    case latchkey::v1::CameraCommand::kStartRecording: {
      const std::string& session = command.start_recording().session_id();
      if (session.size() != out.session_id.size()) {
        log_event("ignored command " + std::to_string(out.command_id) + ": its session id has " +
                  std::to_string(session.size()) + " bytes, not 16");
        return false;
      }
      std::copy(session.begin(), session.end(), out.session_id.begin());
      out.start = true;
      break;
    }
    case latchkey::v1::CameraCommand::kStopRecording:
      out.start = false;
      break;
    default:
      log_event("ignored command " + std::to_string(out.command_id) + ": it asks for nothing this agent knows");
      return false;
  }
  const std::lock_guard lock(mutex_);
  if (last_id_ && out.command_id <= *last_id_) {
    log_event("ignored command " + std::to_string(out.command_id) + ": not newer than command " +
              std::to_string(*last_id_) + " (a redelivery)");
    return false;
  }
  last_id_ = out.command_id;
  queue_.push_back(out);
  return true;
}

void CommandIntake::forget_last_id() {
  const std::lock_guard lock(mutex_);
  last_id_.reset();
}

std::optional<RecordingCommand> CommandIntake::take() {
  const std::lock_guard lock(mutex_);
  if (queue_.empty()) return std::nullopt;
  RecordingCommand command = queue_.front();
  queue_.pop_front();
  return command;
}

}  // namespace latchkey::camera
