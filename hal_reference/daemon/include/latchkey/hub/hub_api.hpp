// HubApi: what the HTTP server (and anything else outside the loop) may ask
// of the running hub. The runtime implements it by marshalling each call onto
// its libuv loop and waiting for the answer, so every method is thread-safe
// and may block for as long as the decision takes (unlock: recording and the
// durable commit, a few seconds at most). Bodies are JSON; docs/api.md is the
// contract for each one.
#ifndef LATCHKEY_HUB_HUB_API_HPP
#define LATCHKEY_HUB_HUB_API_HPP

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace latchkey::hub {

struct ApiResponse {
  int status = 200;        // HTTP status: 200, 403 (denied), 404 (unknown door/camera), 409, 503, ...
  std::string body;        // JSON
};

// A server-sent event: name ("alarm", "decision", "session", "door", "camera",
// "audit") and a JSON object.
struct HubEvent {
  uint64_t id = 0;         // increasing
  std::string name;
  std::string json;
};

class HubApi {
 public:
  virtual ~HubApi() = default;

  virtual ApiResponse health() = 0;
  // G2: a fresh single-use challenge for a door.
  virtual ApiResponse challenge(const std::string& door_id) = 0;
  // Submits a serialized UnlockRequest (grant + proof of presence); answers
  // with the decision: 200 allow, 403 deny with the rule ID.
  virtual ApiResponse unlock(const std::string& door_id, const std::vector<uint8_t>& unlock_request) = 0;
  virtual ApiResponse doors() = 0;
  virtual ApiResponse sessions() = 0;
  virtual ApiResponse alarms(uint64_t since_id) = 0;
  virtual ApiResponse audit(uint64_t from_seq, std::size_t limit) = 0;
  virtual ApiResponse audit_verify() = 0;
  // Each plugin: mode (isolated or in_process), state (running, restarting,
  // quarantined), host pid, failures, restarts and the last fault.
  virtual ApiResponse plugins() = 0;

  // Test control, only when the hub's configuration enables it (otherwise 404).
  // action: open, close, manual_lock, manual_unlock.
  virtual ApiResponse test_door_action(const std::string& door_id, const std::string& action) = 0;
  // fault: freeze, offline, replay, ignore_nonce, repeat_counter, wrong_key, clock_jump, clear.
  virtual ApiResponse test_camera_fault(const std::string& camera_id, const std::string& fault,
                                        int64_t parameter) = 0;

  // Live events. The callback runs on the hub's loop thread and must not
  // block: queue and return. Events with id > since_id still in the hub's
  // recent history are replayed first. Returns a subscription id.
  virtual uint64_t subscribe(uint64_t since_id, std::function<void(const HubEvent&)> on_event) = 0;
  virtual void unsubscribe(uint64_t subscription) = 0;
};

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_HUB_API_HPP
