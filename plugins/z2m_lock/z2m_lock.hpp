// A door made of a Zigbee2MQTT lock and a Zigbee2MQTT contact sensor, both
// reached through an MQTT broker (README.md). The driver observes and
// actuates; it never decides: a command is confirmed only by a later
// lock_state report, silence makes the lock Unknown (docs/rules.md F1).
//
// Threads: the MQTT link's thread delivers reports and link changes; the
// scheduler's worker runs deadlines (operation timeout, re-asking /get, the
// sensor's silence); the host calls in on its own threads. One mutex guards
// the state; events are emitted holding it, completions fire outside it. The
// destructor stops the scheduler, then the link, so no event or completion
// follows close (lk_lock.h).
#ifndef LATCHKEY_Z2M_LOCK_Z2M_LOCK_HPP
#define LATCHKEY_Z2M_LOCK_Z2M_LOCK_HPP

#include "z2m_reports.hpp"
#include "z2m_uri.hpp"

#include <latchkey/cpp/plugin.hpp>
#include <latchkey/mqtt/mqtt_link.hpp>
#include <latchkey/sim/scheduler.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::z2m {

class Z2mLock final : public plugin::LockDriver {
 public:
  // Parses the URI, reads the password file, connects and waits up to
  // get_timeout_ms for fresh answers from the lock and the sensor. Throws
  // plugin::Error: INVALID_ARGUMENT for a bad URI or password file, IO when
  // the broker refuses the credentials. Without answers it opens anyway,
  // with the lock or door Unknown (the hub denies, F1), and says so in the log.
  static std::unique_ptr<Z2mLock> open(std::string_view uri, plugin::EventSink sink);

  Z2mLock(Z2mUri uri, std::string password, plugin::EventSink sink);
  ~Z2mLock() override;

  void describe(lk_lock_description& description) override;
  lk_lock_state lock_state() override;
  lk_door_state door_state() override;
  void lock(plugin::LockCompletion done) override;
  void unlock(const lk_unlock_params& params, plugin::LockCompletion done) override;

 private:
  struct Operation {
    lk_lock_state target = LK_LOCK_STATE_LOCKED;
    plugin::LockCompletion done;
    latchkey::sim::Scheduler::TaskId timeout_task = 0;
  };
  // A completion to fire once the mutex is released.
  struct Finished {
    plugin::LockCompletion done;
    lk_result result = LK_OK;
    lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
  };

  void await_first_reports();
  void on_connected();
  void on_lost(const std::string& why);
  void on_refused(int code, const std::string& why);
  void on_message(std::string_view topic, const uint8_t* data, std::size_t size, bool retained);
  std::optional<Finished> on_lock_report(const LockReport& report);  // mutex_ held
  void on_sensor_report(const SensorReport& report);                // mutex_ held
  void refuse_locked(const std::string& topic, const std::string& problem);  // mutex_ held
  void ask_locked();                                                 // mutex_ held: /get what is not fresh
  void doubt_locked(bool lock, bool sensor);                         // mutex_ held: no longer fresh, ask
  void on_ask_due();
  void on_operation_timeout(uint64_t operation_id);
  void on_sensor_silent();
  void arm_sensor_watch_locked();
  void start_locked(lk_lock_state target, std::optional<uint32_t> relock_s, plugin::LockCompletion done);
  void set_lock_locked(lk_lock_state state, lk_operation_source source, const std::string& why);
  void set_door_locked(lk_door_state state, const std::string& why);
  bool publish_locked(const std::string& topic, const std::string& json, std::string* error);
  void log(lk_log_level level, const std::string& message) const;
  void log_paced_locked(lk_log_level level, const std::string& key, const std::string& message);

  const Z2mUri uri_;
  const plugin::EventSink sink_;
  const std::string lock_topic_;
  const std::string sensor_topic_;

  std::mutex mutex_;  // guards everything below; events are emitted holding it
  std::condition_variable changed_;
  bool opened_ = false;       // events wait until open() has returned the device
  bool connected_ = false;
  bool down_logged_ = false;
  std::string refused_;       // the broker refused our credentials
  lk_lock_state lock_ = LK_LOCK_STATE_UNKNOWN;
  lk_door_state door_ = LK_DOOR_STATE_UNKNOWN;
  bool lock_fresh_ = false;   // a live lock_state report since the last connect
  bool sensor_fresh_ = false; // a live sensor report since the last connect
  bool ask_logged_ = false;
  std::optional<uint32_t> auto_relock_time_s_;  // the lock exposes auto_relock_time (its last value)
  std::optional<Operation> operation_;
  latchkey::sim::Scheduler::TaskId ask_task_ = 0;
  std::chrono::milliseconds ask_interval_{1000};  // doubles while unanswered, up to a minute
  latchkey::sim::Scheduler::TaskId sensor_task_ = 0;
  struct Paced {
    std::chrono::steady_clock::time_point last;
    uint64_t suppressed = 0;
  };
  std::map<std::string, Paced> paced_;

  latchkey::sim::Scheduler scheduler_;         // before link_: the link's callbacks schedule tasks
  std::unique_ptr<mqtt::MqttLink> link_;       // started last in the constructor
};

}  // namespace latchkey::z2m

#endif  // LATCHKEY_Z2M_LOCK_Z2M_LOCK_HPP
