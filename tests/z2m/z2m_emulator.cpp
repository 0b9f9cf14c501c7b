#include "z2m_emulator.hpp"

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <unistd.h>

#include <sstream>
#include <stdexcept>

namespace latchkey::testing {
namespace {

using std::chrono::milliseconds;
using Poco::JSON::Object;

std::string text_of(const Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

}  // namespace

Z2mEmulator::Z2mEmulator(Z2mEmulatorOptions options)
    : options_(std::move(options)),
      bolt_(options_.locked ? Bolt::kLocked : Bolt::kUnlocked),
      commanded_lock_(options_.locked),
      door_closed_(options_.door_closed),
      auto_relock_time_s_(options_.auto_relock_time_s) {
  mqtt::LinkConfig config;
  config.log_prefix = "z2m-emulator";
  config.host = options_.host;
  config.port = options_.port;
  config.user = options_.user;
  config.password = options_.password;
  config.client_id = "lk-z2m-emulator-" + std::to_string(::getpid()) + "-" + options_.lock_name.substr(0, 30);
  config.subscriptions = {{lock_topic() + "/set", 1}, {lock_topic() + "/get", 1}, {sensor_topic() + "/get", 1}};
  mqtt::LinkCallbacks callbacks;
  callbacks.connected = [this] {
    std::lock_guard<std::mutex> lock(mutex_);
    connected_ = true;
    changed_.notify_all();
  };
  callbacks.lost = [this](const std::string&) {
    std::lock_guard<std::mutex> lock(mutex_);
    connected_ = false;
  };
  callbacks.message = [this](std::string_view t, const uint8_t* d, std::size_t n) { on_message(t, d, n); };
  std::unique_lock<std::mutex> lock(mutex_);  // callbacks wait until link_ is set
  link_ = std::make_unique<mqtt::MqttLink>(std::move(config), std::move(callbacks));
  if (!changed_.wait_for(lock, std::chrono::seconds(10), [this] { return connected_; }))
    throw std::runtime_error("z2m emulator: not connected to " + options_.host + ":" + std::to_string(options_.port) +
                             " as " + options_.user + " within 10 s");
  // Connected means the SUBSCRIBEs were queued, not that the broker has them:
  // a read of its own sensor, subscribed last, comes back once all are in
  // place (the broker keeps one client's packets in order).
  const std::string probe = "{\"contact\":\"\"}";
  link_->publish(sensor_topic() + "/get", reinterpret_cast<const uint8_t*>(probe.data()), probe.size(), 1, nullptr);
  if (!changed_.wait_for(lock, std::chrono::seconds(10), [this] { return subscribed_; }))
    throw std::runtime_error("z2m emulator: its subscriptions were not in place within 10 s");
  if (options_.stale_retained) {
    // What the broker kept from long ago: the opposite of the truth.
    Object stale_lock;
    stale_lock.set("lock_state", bolt_ == Bolt::kLocked ? "unlocked" : "locked");
    stale_lock.set("state", bolt_ == Bolt::kLocked ? "UNLOCK" : "LOCK");
    if (options_.exposes_auto_relock) stale_lock.set("auto_relock_time", 0);
    publish_locked(lock_topic(), text_of(stale_lock), true);
    Object stale_sensor;
    stale_sensor.set("contact", !door_closed_);
    publish_locked(sensor_topic(), text_of(stale_sensor), true);
  }
  lock.unlock();
  if (options_.checkin_ms > 0) scheduler_.after(milliseconds(options_.checkin_ms), [this] { checkin(); });
}

Z2mEmulator::~Z2mEmulator() {
  scheduler_.stop();
  // The link's thread may be inside a callback that publishes (on_set
  // answers a command): link_ is taken away under the mutex the callbacks
  // hold, so they find it gone, and the link is joined without the mutex.
  std::unique_ptr<mqtt::MqttLink> link;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    link = std::move(link_);
  }
  link.reset();
}

void Z2mEmulator::set_faults(const Z2mFaults& faults) {
  std::lock_guard<std::mutex> lock(mutex_);
  faults_ = faults;
}

void Z2mEmulator::open_door() {
  std::lock_guard<std::mutex> lock(mutex_);
  door_closed_ = false;
  publish_sensor_locked();
}

void Z2mEmulator::close_door() {
  std::lock_guard<std::mutex> lock(mutex_);
  door_closed_ = true;
  publish_sensor_locked();
  if (relock_when_closed_ && bolt_ == Bolt::kUnlocked) {
    relock_when_closed_ = false;
    scheduler_.after(milliseconds(options_.actuation_ms), [this] { move_bolt(Bolt::kLocked, "auto_lock", "self"); });
  }
}

void Z2mEmulator::manual_lock() { move_bolt(Bolt::kLocked, "manual_lock", "manual"); }
void Z2mEmulator::manual_unlock() { move_bolt(Bolt::kUnlocked, "manual_unlock", "manual"); }

void Z2mEmulator::lock_while_open() {
  std::lock_guard<std::mutex> lock(mutex_);
  door_closed_ = false;
  publish_sensor_locked();
  bolt_ = Bolt::kLocked;
  commanded_lock_ = true;
  publish_lock_locked("manual_lock", "manual");
}

void Z2mEmulator::publish_raw(const std::string& leaf, std::string_view payload, bool retain) {
  std::lock_guard<std::mutex> lock(mutex_);
  publish_locked(options_.base_topic + "/" + leaf, std::string(payload), retain);
}

bool Z2mEmulator::locked() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bolt_ == Bolt::kLocked;
}

bool Z2mEmulator::door_closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return door_closed_;
}

uint32_t Z2mEmulator::auto_relock_time_s() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return auto_relock_time_s_;
}

uint32_t Z2mEmulator::commands() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return commands_;
}

uint32_t Z2mEmulator::gets() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return gets_;
}

void Z2mEmulator::on_message(std::string_view topic, const uint8_t* data, std::size_t size) {
  if (topic == lock_topic() + "/set") {
    on_set(data, size);
  } else if (topic == lock_topic() + "/get") {
    std::lock_guard<std::mutex> lock(mutex_);
    ++gets_;
    changed_.notify_all();
    if (!faults_.no_report) publish_lock_locked("", "");
  } else if (topic == sensor_topic() + "/get") {
    std::lock_guard<std::mutex> lock(mutex_);
    subscribed_ = true;
    changed_.notify_all();
    if (!faults_.sensor_silent) publish_sensor_locked();
  }
}

void Z2mEmulator::on_set(const uint8_t* data, std::size_t size) {
  Object::Ptr command;
  try {
    Poco::JSON::Parser parser;
    const Poco::Dynamic::Var parsed = parser.parse(std::string(reinterpret_cast<const char*>(data), size));
    if (parsed.type() == typeid(Object::Ptr)) command = parsed.extract<Object::Ptr>();
  } catch (const Poco::Exception&) {
  }
  if (command.isNull()) return;  // Zigbee2MQTT logs an error and does nothing
  std::lock_guard<std::mutex> lock(mutex_);
  if (command->has("auto_relock_time") && options_.exposes_auto_relock) {
    const Poco::Dynamic::Var v = command->get("auto_relock_time");
    if (v.isInteger() && v.convert<int64_t>() >= 0) {
      auto_relock_time_s_ = static_cast<uint32_t>(v.convert<int64_t>());
      if (!faults_.no_report) publish_lock_locked("", "");
    }
  }
  if (!command->has("state") || !command->get("state").isString()) return;
  const std::string state = command->get("state").extract<std::string>();
  if (state != "LOCK" && state != "UNLOCK") return;
  ++commands_;
  changed_.notify_all();
  const bool lock_it = state == "LOCK";
  commanded_lock_ = lock_it;
  // Zigbee2MQTT's optimistic echo: the new `state`, the old lock_state.
  publish_lock_locked("", "");
  const Bolt target = lock_it ? Bolt::kLocked : Bolt::kUnlocked;
  scheduler_.after(milliseconds(options_.actuation_ms),
                   [this, target, lock_it] { move_bolt(target, lock_it ? "lock" : "unlock", "rf"); });
}

void Z2mEmulator::move_bolt(Bolt target, const std::string& action, const std::string& source) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string reported_action = action;
  if (faults_.jam) {
    bolt_ = Bolt::kNotFullyLocked;
    reported_action = "error_jammed";
  } else {
    bolt_ = target;
  }
  commanded_lock_ = bolt_ != Bolt::kUnlocked;
  scheduler_.cancel(relock_task_);
  relock_task_ = 0;
  relock_when_closed_ = false;
  if (bolt_ == Bolt::kUnlocked) arm_relock_locked();
  if (faults_.no_report) return;
  if (faults_.late_report_ms > 0) {
    // The report was held up (a busy mesh, a sleepy end device).
    const bool jammed = bolt_ == Bolt::kNotFullyLocked;
    scheduler_.after(milliseconds(faults_.late_report_ms), [this, reported_action, source, jammed] {
      std::lock_guard<std::mutex> later(mutex_);
      if (jammed == (bolt_ == Bolt::kNotFullyLocked)) publish_lock_locked(reported_action, source);
    });
    return;
  }
  publish_lock_locked(reported_action, source);
}

void Z2mEmulator::arm_relock_locked() {
  if (!options_.exposes_auto_relock || auto_relock_time_s_ == 0) return;
  relock_task_ = scheduler_.after(std::chrono::seconds(auto_relock_time_s_), [this] {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      relock_task_ = 0;
      if (bolt_ != Bolt::kUnlocked) return;
      if (!door_closed_) {
        relock_when_closed_ = true;  // never into an open door's frame
        return;
      }
    }
    move_bolt(Bolt::kLocked, "auto_lock", "self");
  });
}

void Z2mEmulator::publish_lock_locked(const std::string& action, const std::string& source) {
  Object state;
  state.set("battery", 87);
  state.set("linkquality", 142);
  state.set("state", commanded_lock_ ? "LOCK" : "UNLOCK");
  state.set("lock_state", bolt_ == Bolt::kLocked     ? "locked"
                          : bolt_ == Bolt::kUnlocked ? "unlocked"
                                                     : "not_fully_locked");
  if (options_.exposes_auto_relock) state.set("auto_relock_time", auto_relock_time_s_);
  if (!action.empty()) state.set("action", action);
  if (!source.empty()) state.set("action_source_name", source);
  publish_locked(lock_topic(), text_of(state));
}

void Z2mEmulator::publish_sensor_locked() {
  if (faults_.sensor_silent) return;
  Object state;
  state.set("battery", 100);
  state.set("contact", door_closed_);
  state.set("linkquality", 96);
  state.set("voltage", 3005);
  publish_locked(sensor_topic(), text_of(state));
}

void Z2mEmulator::publish_locked(const std::string& topic, const std::string& payload, bool retain) {
  if (!link_) return;  // stopping (see the destructor)
  std::string error;
  link_->publish(topic, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), 1, &error, retain);
}

void Z2mEmulator::checkin() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    publish_sensor_locked();
  }
  scheduler_.after(milliseconds(options_.checkin_ms), [this] { checkin(); });
}

}  // namespace latchkey::testing
