// Recording commands from the hub (CameraCommand on .../command, QoS 1):
// parsed, checked and queued for the capture thread, which owns the recorder.
// A command whose command_id is not greater than the last one taken is a
// redelivery (or older) and is ignored; so is anything malformed. Each is
// logged.
#pragma once

#include "recorder.hpp"

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace latchkey::camera {

struct RecordingCommand {
  uint64_t command_id = 0;
  bool start = false;      // false: stop
  SessionId session_id{};  // for start
};

class CommandIntake {
 public:
  static constexpr std::size_t kMaxCommandSize = 64;  // docs/camera-link.md "Limits"

  // From the MQTT thread. Returns true when the command was queued.
  bool offer(const uint8_t* data, std::size_t size);

  // On a new connection: with a clean session nothing from before can be
  // redelivered, and a hub that restarted counts its command ids from 1 again.
  void forget_last_id();

  // From the capture thread: the oldest queued command, if any.
  std::optional<RecordingCommand> take();

 private:
  std::mutex mutex_;
  std::deque<RecordingCommand> queue_;
  std::optional<uint64_t> last_id_;
};

}  // namespace latchkey::camera
