// A Zigbee2MQTT lock and contact sensor, as Zigbee2MQTT shows them on MQTT,
// for the z2m_lock tests, lk-certify and lk-demo. It connects to the real
// broker (as Zigbee2MQTT's own broker user) and speaks the documented
// payloads: state on <base>/<name> (the whole cached state, as Zigbee2MQTT
// publishes it), commands on <base>/<lock>/set, reads on <base>/<name>/get.
//
// A command is echoed at once with the new `state` and the old `lock_state`
// (Zigbee2MQTT's optimistic publish); the bolt's lock_state report follows
// after actuation_ms. Faults (Faults) change that: a late report, no report,
// a jam, a sensor that goes silent. stale_retained publishes a retained state
// that contradicts the truth before the emulator goes live.
#ifndef LATCHKEY_TESTS_Z2M_Z2M_EMULATOR_HPP
#define LATCHKEY_TESTS_Z2M_Z2M_EMULATOR_HPP

#include <latchkey/mqtt/mqtt_link.hpp>
#include <latchkey/sim/scheduler.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::testing {

struct Z2mEmulatorOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 1883;
  std::string user = "zigbee2mqtt";
  std::string password;
  std::string base_topic = "zigbee2mqtt";
  std::string lock_name = "front_lock";
  std::string sensor_name = "front_contact";
  uint32_t actuation_ms = 100;     // bolt travel: the lock_state report follows the command this much later
  bool exposes_auto_relock = true; // the lock reports auto_relock_time (and honours it)
  uint32_t auto_relock_time_s = 0; // its value at start (0: off)
  uint32_t checkin_ms = 0;         // the sensor reports its state this often; 0: only on change and /get
  bool locked = true;
  bool door_closed = true;
  bool stale_retained = false;     // retained "unlocked" and "open" before going live; the truth differs
};

struct Z2mFaults {
  uint32_t late_report_ms = 0;  // the lock_state report comes this much after the bolt moved
  bool no_report = false;       // the bolt moves (or not) in silence; /get on the lock is not answered
  bool jam = false;             // the next command sticks half way: not_fully_locked and action error_jammed
  bool sensor_silent = false;   // the contact sensor sends nothing (changes, check-ins, /get answers)
};

class Z2mEmulator {
 public:
  explicit Z2mEmulator(Z2mEmulatorOptions options);  // returns once connected; throws std::runtime_error
  ~Z2mEmulator();
  Z2mEmulator(const Z2mEmulator&) = delete;
  Z2mEmulator& operator=(const Z2mEmulator&) = delete;

  void set_faults(const Z2mFaults& faults);
  void clear_faults() { set_faults({}); }

  // The physical world.
  void open_door();
  void close_door();
  void manual_lock();    // a person turns the thumb-turn (action manual_lock)
  void manual_unlock();
  // The bolt throws while the door stands open and the lock reports it: the
  // contact says open, lock_state says locked (U8's inconsistency).
  void lock_while_open();

  // Publishes bytes as Zigbee2MQTT would on <base>/<leaf> (bad-input tests).
  void publish_raw(const std::string& leaf, std::string_view payload, bool retain = false);

  bool locked() const;
  bool door_closed() const;
  uint32_t auto_relock_time_s() const;
  uint32_t commands() const;  // state commands received on /set
  uint32_t gets() const;      // /get requests on the lock
  const Z2mEmulatorOptions& options() const { return options_; }
  std::string lock_topic() const { return options_.base_topic + "/" + options_.lock_name; }
  std::string sensor_topic() const { return options_.base_topic + "/" + options_.sensor_name; }

 private:
  enum class Bolt { kLocked, kUnlocked, kNotFullyLocked };

  void on_message(std::string_view topic, const uint8_t* data, std::size_t size);
  void on_set(const uint8_t* data, std::size_t size);
  void move_bolt(Bolt target, const std::string& action, const std::string& source);  // worker
  void publish_lock_locked(const std::string& action, const std::string& source);
  void publish_sensor_locked();
  void publish_locked(const std::string& topic, const std::string& payload, bool retain = false);
  void arm_relock_locked();
  void checkin();

  const Z2mEmulatorOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool connected_ = false;
  bool subscribed_ = false;  // its own probe came back: every subscription is in place
  Bolt bolt_;
  bool commanded_lock_;  // `state`: the last command (or the bolt at start)
  bool door_closed_;
  uint32_t auto_relock_time_s_;
  bool relock_when_closed_ = false;
  Z2mFaults faults_;
  uint32_t commands_ = 0;
  uint32_t gets_ = 0;
  latchkey::sim::Scheduler::TaskId relock_task_ = 0;
  latchkey::sim::Scheduler scheduler_;
  std::unique_ptr<mqtt::MqttLink> link_;
};

}  // namespace latchkey::testing

#endif  // LATCHKEY_TESTS_Z2M_Z2M_EMULATOR_HPP
