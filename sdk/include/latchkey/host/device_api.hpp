// Host side: the device interface the hub programs against.
//
// LockDevice, CameraDevice and AuthzDevice are what the runtime, the engine's
// shell and the certification suite call. Two kinds of object implement them:
// the in-process handles of devices.hpp (the plugin is loaded into this
// process) and the proxies of latchkey/isolation (the plugin runs in its own
// lk-plugin-host process). Code written against these classes runs the same
// either way.
//
// Contract differences the caller must allow for:
// - A call may fail with LK_ERR_TIMEOUT or LK_ERR_CLOSED because the process
//   serving the device failed; such failures are reported once more through
//   the plugin's status (see latchkey/isolation/plugin_runner.hpp).
// - deliver_nonce, start_recording, stop_recording, lock and unlock are
//   "accepting" calls on a proxy: LK_OK means the call was sent; a refusal
//   the plugin answers later arrives through DeviceHooks::on_call_failed, and
//   for lock/unlock as a completion carrying the error.
#ifndef LATCHKEY_HOST_DEVICE_API_HPP
#define LATCHKEY_HOST_DEVICE_API_HPP

#include <latchkey/latchkey.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace latchkey::host {

class LentBytes;

struct DeviceEvent {
  lk_event_kind kind = 0;
  uint32_t value = 0;
  uint32_t detail = 0;
  uint64_t device_time_ns = 0;
  std::shared_ptr<LentBytes> data;  // set for events that carry bytes (LK_EVENT_ATTESTATION)
};

// Called on a plugin thread (or inside a call into the device); must not
// block, call back into the device or destroy it. Exceptions are caught and
// logged, never passed to the plugin. The same holds for
// LockCompletionHandler; a completion the plugin fires inside lock()/unlock()
// is delivered once that call has returned LK_OK.
using EventHandler = std::function<void(const DeviceEvent&)>;
using LockCompletionHandler = std::function<void(const lk_lock_completion&)>;

// What a device reports besides its events.
struct DeviceHooks {
  EventHandler on_event;
  // An accepting call (see above) that the plugin refused after LK_OK was
  // returned: the call's name ("deliver_nonce") and the plugin's result.
  std::function<void(const std::string& call, lk_result result)> on_call_failed;
};

// Counts what a device did against the contract (for tests and certification).
struct ContractViolations {
  uint64_t duplicate_completions = 0;   // a completion fired a second time
  uint64_t unknown_completions = 0;     // a completion for no pending operation
  uint64_t completions_after_failed_start = 0;
  uint64_t events_after_close = 0;
  uint64_t missing_completions = 0;     // still pending when close() returned; the host completed them (LK_ERR_CLOSED)
};

class LockDevice {
 public:
  virtual ~LockDevice() = default;
  // Closes the device now (idempotent); pending completions fire before it
  // returns and later calls return LK_ERR_CLOSED. violations() stays readable.
  virtual void close() = 0;
  virtual lk_result describe(lk_lock_description* description) = 0;
  virtual lk_result lock_state(lk_lock_state* state) = 0;
  virtual lk_result door_state(lk_door_state* state) = 0;
  // Start an operation; done fires once if LK_OK is returned.
  virtual lk_result lock(uint64_t operation_id, LockCompletionHandler done) = 0;
  virtual lk_result unlock(const lk_unlock_params& params, LockCompletionHandler done) = 0;
  // Test control (LK_ERR_UNSUPPORTED when the plugin offers none).
  virtual lk_result inject_fault(lk_fault fault, int64_t parameter) = 0;
  virtual lk_result clear_faults() = 0;
  virtual lk_result physical_action(lk_physical_action action) = 0;
  virtual std::size_t pending_operations() const = 0;
  virtual ContractViolations violations() const = 0;
};

class CameraDevice {
 public:
  virtual ~CameraDevice() = default;
  virtual void close() = 0;
  virtual lk_result describe(lk_camera_description* description) = 0;
  virtual lk_result deliver_nonce(const uint8_t* nonce, std::size_t size) = 0;
  virtual lk_result start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) = 0;
  virtual lk_result stop_recording() = 0;
  virtual bool supports_snapshot() const noexcept = 0;
  // LK_ERR_UNSUPPORTED without snapshot.
  virtual lk_result snapshot(std::vector<uint8_t>* frame, lk_snapshot_info* info) = 0;
  virtual lk_result inject_fault(lk_fault fault, int64_t parameter) = 0;
  virtual lk_result clear_faults() = 0;
  virtual ContractViolations violations() const = 0;
};

class AuthzDevice {
 public:
  virtual ~AuthzDevice() = default;
  virtual void close() = 0;
  // LK_OK fills grant; LK_ERR_DENIED fills refusal; other codes: the check failed.
  virtual lk_result verify(const std::string& hub_id, const std::string& door_id, int64_t now_unix_ms,
                           const std::vector<uint8_t>& credential, lk_grant_info* grant,
                           lk_authz_refusal* refusal) = 0;
};

}  // namespace latchkey::host

#endif  // LATCHKEY_HOST_DEVICE_API_HPP
