// Runtime: the reference hub. One libuv loop owns every piece of runtime
// state: the gate engine, the audit log, the devices of the loaded plugins,
// the timers (engine deadlines, nonces, checkpoints, clock checks) and the
// queue of work posted from other threads (plugin events through
// uv_async_send, API calls). Everything the engine asks for is carried out
// on the loop; an unlock command leaves only after its decision record and
// the grant's consumption are durable (U3).
#ifndef LATCHKEY_HUB_RUNTIME_HPP
#define LATCHKEY_HUB_RUNTIME_HPP

#include <latchkey/hub/daemon_config.hpp>
#include <latchkey/hub/hub_api.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace latchkey::hub {

class Runtime : public HubApi {
 public:
  // Loads the plugins, opens the devices and the audit log (creating the
  // data directory, hub key and API token at first start) and recovers from
  // the last stop (F2). Throws std::runtime_error naming what failed.
  explicit Runtime(DaemonConfig config);
  ~Runtime() override;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Runs the loop on the calling thread until stop(). SIGTERM and SIGINT
  // stop it; SIGHUP reopens the log file.
  void run();
  // Before run(): calls `beat` on the loop thread at once and then every
  // `every` while the loop turns. latchkeyd's systemd watchdog beats from
  // here, so a loop that stops turning stops the beats and the service
  // manager restarts the daemon.
  void set_heartbeat(std::chrono::milliseconds every, std::function<void()> beat);
  // Thread-safe. Makes run() return; API calls fail fast (kUnavailable) from now on.
  void stop();
  // After run() returned and the API server stopped: closes the devices and
  // the audit log with a final signed checkpoint (A2).
  void shutdown();

  const std::string& api_token() const;
  const DaemonConfig& config() const;

  // HubApi
  ApiResult<Health> health() override;
  ApiResult<Challenge> challenge(const std::string& door_id) override;
  ApiResult<UnlockOutcome> unlock(const std::string& door_id, const std::vector<uint8_t>& unlock_request) override;
  ApiResult<std::vector<DoorStatus>> doors() override;
  ApiResult<Sessions> sessions() override;
  ApiResult<std::vector<Alarm>> alarms(uint64_t since_id) override;
  ApiResult<std::vector<AuditRecord>> audit(uint64_t from_seq, std::size_t limit) override;
  ApiResult<AuditVerification> audit_verify() override;
  ApiResult<std::vector<PluginStatus>> plugins() override;
  ApiResult<TestControlDone> test_door_action(const std::string& door_id, const std::string& action) override;
  ApiResult<TestControlDone> test_camera_fault(const std::string& camera_id, const std::string& fault,
                                               int64_t parameter) override;
  // Test control for embedding code and tests (not on HTTP): injects a fault
  // by its number (lk_fault, or a plugin's own code) into a lock ("lock") or
  // camera ("camera") device by name. kNotFound unless test control is enabled.
  ApiResult<TestControlDone> test_device_fault(const std::string& kind, const std::string& device, uint32_t fault,
                                               int64_t parameter);
  // The host process of a plugin (0: in-process or not running).
  int plugin_pid(const std::string& plugin) const;
  ApiResult<RemoteCommandAnswer> remote_lock(const std::string& door_id, const std::string& source) override;
  ApiResult<RemoteCommandAnswer> remote_unlock(const std::string& door_id, const std::string& source,
                                               const std::string& what) override;
  ApiResult<CameraSnapshot> snapshot(const std::string& camera_id) override;
  uint64_t subscribe(uint64_t since_id, std::function<void(const HubEvent&)> on_event) override;
  void unsubscribe(uint64_t subscription) override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_RUNTIME_HPP
