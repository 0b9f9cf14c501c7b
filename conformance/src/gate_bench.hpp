// A reference hub (hal_reference's Runtime, in process) with the plugin under
// test in one role and the reference plugins in the others, so that the gate
// engine's real rules judge the plugin (TC-GATE). Every plugin runs in the
// run's mode (`mode =` of its [plugin.*] section): isolated in its own
// lk-plugin-host, or loaded into the hub.
#ifndef LATCHKEY_CERTIFY_GATE_BENCH_HPP
#define LATCHKEY_CERTIFY_GATE_BENCH_HPP

#include "suite.hpp"

#include <latchkey/hub/runtime.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

namespace latchkey::certify {

class GateBench {
 public:
  enum class Role { kLock, kCamera, kAuthz };

  // Builds the configuration, starts the hub on its own thread. Throws
  // std::runtime_error naming what failed.
  GateBench(const Subject& subject, Role role, const std::string& uri);
  ~GateBench();
  GateBench(const GateBench&) = delete;
  GateBench& operator=(const GateBench&) = delete;

  hub::Runtime& hub() { return *runtime_; }
  const std::string& door() const { return door_; }
  const std::string& camera() const { return camera_id_; }
  const gate::GateConfig& gate() const;

  bool wait_live(std::chrono::milliseconds timeout);
  // Challenge, fresh grant, proof of presence: the hub's decision.
  hub::ApiResult<hub::UnlockOutcome> request_unlock();
  bool wait_lock_state(const std::string& state, std::chrono::milliseconds timeout);
  std::string lock_state();
  std::string session_end();  // "open", "completed", "compromised" or "" when none
  bool wait_session_end(const std::string& end, std::chrono::milliseconds timeout);
  bool wait_alarm(const std::string& rule, std::chrono::milliseconds timeout);
  // Alarms whose rule starts with rule_prefix (all when empty).
  std::size_t alarm_count(const std::string& rule_prefix = "");
  // Plays a door action on the hub's lock; false when the lock cannot play it.
  bool door_action(const std::string& action);
  // Injects a fault into the hub's own lock device through the hub's test
  // control (either mode): done, or kConflict naming the lock's refusal.
  hub::ApiResult<hub::TestControlDone> inject_lock_fault(lk_fault fault);

 private:
  std::string config_text() const;

  const Subject& subject_;
  Role role_;
  std::filesystem::path dir_;
  std::string door_ = "front";
  std::string lock_name_ = "front";  // [lock.front]
  std::string camera_id_ = "porch";
  std::string lock_file_, camera_file_, authz_file_;
  std::string lock_uri_, camera_uri_, camera_key_hex_, authz_config_, issuer_key_id_;
  crypto::KeyPair issuer_, courier_;
  std::unique_ptr<hub::Runtime> runtime_;
  std::thread loop_;
};

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_GATE_BENCH_HPP
