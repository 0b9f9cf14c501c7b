// Host side: RAII handles over open devices of a loaded plugin.
//
// Each handle keeps its Plugin (and so the library) alive, serialises calls
// on its device with a mutex (ABI thread rule), receives events on any plugin
// thread through an EventHandler, and closes the device in its destructor.
// Lock completions are matched by an operation token, so a completion that a
// faulty plugin fires twice, or for an unknown operation, is counted as a
// contract violation instead of touching freed memory. Event sink contexts
// and completion tokens are numbers looked up in a process-wide table, never
// host pointers: a plugin that fires after a handle is destroyed reaches no
// device (the event's data is released, the line goes to stderr).
#ifndef LATCHKEY_HOST_DEVICES_HPP
#define LATCHKEY_HOST_DEVICES_HPP

#include <latchkey/host/device_api.hpp>
#include <latchkey/host/plugin.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace latchkey::host {

// Bytes a plugin lent with an event. Calls the plugin's release function
// exactly once, when the last owner lets go; keeps the library loaded. For an
// event without a release function (data valid only during on_event) it keeps
// its own copy of the bytes instead.
class LentBytes {
 public:
  LentBytes() = default;
  LentBytes(std::shared_ptr<Plugin> plugin, const lk_event& event);
  // Bytes that arrived by other means (from an lk-plugin-host): owned here.
  explicit LentBytes(std::vector<uint8_t> bytes);
  ~LentBytes();
  LentBytes(LentBytes&& other) noexcept;
  LentBytes& operator=(LentBytes&& other) noexcept;
  LentBytes(const LentBytes&) = delete;
  LentBytes& operator=(const LentBytes&) = delete;

  const uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::vector<uint8_t> copy() const { return {data_, data_ + size_}; }

 private:
  void reset() noexcept;
  std::shared_ptr<Plugin> plugin_;
  const uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  lk_release_fn release_ = nullptr;
  void* release_context_ = nullptr;
  std::vector<uint8_t> owned_;  // the copy of borrowed (not lent) bytes
};

class LockHandle final : public LockDevice {
 public:
  // Opens device_uri on the plugin's lock interface. Returns the lk_result of
  // open; *out is set on LK_OK. Throws std::logic_error if the plugin has no
  // lock interface.
  static lk_result open(std::shared_ptr<Plugin> plugin, const std::string& uri, EventHandler on_event,
                        std::unique_ptr<LockHandle>* out);
  ~LockHandle() override;  // closes the device
  LockHandle(const LockHandle&) = delete;
  LockHandle& operator=(const LockHandle&) = delete;

  // Closes the device now (idempotent); pending completions fire before it
  // returns and later calls return LK_ERR_CLOSED. The handle stays valid so
  // violations() can still be read. Must not be called from a handler.
  void close() override;

  lk_result describe(lk_lock_description* description) override;
  lk_result lock_state(lk_lock_state* state) override;
  lk_result door_state(lk_door_state* state) override;
  // Start an operation; done fires once on a plugin thread if LK_OK is returned.
  lk_result lock(uint64_t operation_id, LockCompletionHandler done) override;
  lk_result unlock(const lk_unlock_params& params, LockCompletionHandler done) override;
  // Test control (LK_ERR_UNSUPPORTED when the plugin offers none).
  lk_result inject_fault(lk_fault fault, int64_t parameter) override;
  lk_result clear_faults() override;
  lk_result physical_action(lk_physical_action action) override;

  std::size_t pending_operations() const override;
  ContractViolations violations() const override;
  const std::shared_ptr<Plugin>& plugin() const noexcept;

  struct State;

 private:
  explicit LockHandle(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

class CameraHandle final : public CameraDevice {
 public:
  static lk_result open(std::shared_ptr<Plugin> plugin, const std::string& uri, EventHandler on_event,
                        std::unique_ptr<CameraHandle>* out);
  ~CameraHandle() override;  // closes the device
  CameraHandle(const CameraHandle&) = delete;
  CameraHandle& operator=(const CameraHandle&) = delete;

  // As LockHandle::close(). Lent bytes already handed out stay valid.
  void close() override;

  lk_result describe(lk_camera_description* description) override;
  lk_result deliver_nonce(const uint8_t* nonce, std::size_t size) override;
  lk_result start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) override;
  lk_result stop_recording() override;
  bool supports_snapshot() const noexcept override;
  // Sizes the buffer with a NULL query first; LK_ERR_UNSUPPORTED without snapshot.
  lk_result snapshot(std::vector<uint8_t>* frame, lk_snapshot_info* info) override;
  lk_result inject_fault(lk_fault fault, int64_t parameter) override;
  lk_result clear_faults() override;

  ContractViolations violations() const override;
  const std::shared_ptr<Plugin>& plugin() const noexcept;

  struct State;

 private:
  explicit CameraHandle(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

class AuthzHandle final : public AuthzDevice {
 public:
  static lk_result open(std::shared_ptr<Plugin> plugin, const std::string& config, std::unique_ptr<AuthzHandle>* out);
  ~AuthzHandle() override;  // closes the provider
  AuthzHandle(const AuthzHandle&) = delete;
  AuthzHandle& operator=(const AuthzHandle&) = delete;

  // Closes the provider now (idempotent); later calls return LK_ERR_CLOSED.
  void close() override;

  // LK_OK fills grant; LK_ERR_DENIED fills refusal; other codes: the check failed.
  lk_result verify(const std::string& hub_id, const std::string& door_id, int64_t now_unix_ms,
                   const std::vector<uint8_t>& credential, lk_grant_info* grant, lk_authz_refusal* refusal) override;
  const std::shared_ptr<Plugin>& plugin() const noexcept;

  struct State;

 private:
  explicit AuthzHandle(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace latchkey::host

#endif  // LATCHKEY_HOST_DEVICES_HPP
