#include "z2m_lock.hpp"

#include <latchkey/mqtt/password_file.hpp>

#include <Poco/JSON/Object.h>

#include <unistd.h>

#include <algorithm>
#include <random>
#include <sstream>
#include <utility>

namespace latchkey::z2m {
namespace {

using plugin::Error;
using std::chrono::milliseconds;

constexpr int kQos = 1;
constexpr milliseconds kMinAskInterval{1000};
constexpr milliseconds kMaxAskInterval{60000};  // a sleepy sensor is not asked more often than this
constexpr milliseconds kLogPace{1000};

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::string client_id(const std::string& lock_name) {
  std::random_device random;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string suffix;
  for (int i = 0; i < 8; ++i) suffix.push_back(kDigits[random() & 0xF]);
  std::string name;
  for (char c : lock_name.substr(0, 40)) name.push_back((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_');
  return "lk-z2m-" + name + "-" + std::to_string(::getpid()) + "-" + suffix;
}

std::string json_text(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

const char* lock_name_of(lk_lock_state s) {
  switch (s) {
    case LK_LOCK_STATE_LOCKED: return "Locked";
    case LK_LOCK_STATE_UNLOCKED: return "Unlocked";
    case LK_LOCK_STATE_NOT_FULLY_LOCKED: return "NotFullyLocked (jammed)";
    default: return "Unknown";
  }
}

const char* door_name_of(lk_door_state s) {
  switch (s) {
    case LK_DOOR_STATE_OPEN: return "Open";
    case LK_DOOR_STATE_CLOSED: return "Closed";
    default: return "Unknown";
  }
}


}  // namespace

std::unique_ptr<Z2mLock> Z2mLock::open(std::string_view uri, plugin::EventSink sink) {
  Z2mUri parsed = Z2mUri::parse(uri);
  std::string password = mqtt::read_password_file(parsed.password_file, "z2m_lock");
  auto lock = std::make_unique<Z2mLock>(std::move(parsed), std::move(password), sink);
  lock->await_first_reports();
  return lock;
}

Z2mLock::Z2mLock(Z2mUri uri, std::string password, plugin::EventSink sink)
    : uri_(std::move(uri)), sink_(sink), lock_topic_(uri_.lock_topic()), sensor_topic_(uri_.sensor_topic()) {
  mqtt::LinkConfig config;
  config.log_prefix = "z2m_lock";
  config.host = uri_.host;
  config.port = uri_.port;
  config.tls = uri_.tls;
  config.tls_ca_file = uri_.tls_ca_file;
  config.user = uri_.user;
  config.password = std::move(password);
  config.client_id = client_id(uri_.lock_name);
  config.subscriptions = {{lock_topic_, kQos}, {sensor_topic_, kQos}};
  mqtt::LinkCallbacks callbacks;
  callbacks.error_log = [](const std::string& line) { plugin::log(LK_LOG_ERROR, line); };
  callbacks.connected = [this] { on_connected(); };
  callbacks.lost = [this](const std::string& why) { on_lost(why); };
  callbacks.refused = [this](int code, const std::string& why) { on_refused(code, why); };
  callbacks.message_retained = [this](std::string_view t, const uint8_t* d, std::size_t n, bool retained) {
    on_message(t, d, n, retained);
  };
  // The link's thread may connect (and on_connected publish through link_)
  // before make_unique returns: its callbacks wait for the mutex until
  // link_ is set.
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    link_ = std::make_unique<mqtt::MqttLink>(std::move(config), std::move(callbacks));
  } catch (const mqtt::LinkError& e) {
    throw Error(LK_ERR_INVALID_ARGUMENT, e.what());
  }
}

Z2mLock::~Z2mLock() {
  scheduler_.stop();  // no deadline runs after this (a link callback can no longer queue one)
  link_.reset();      // no report, loss or refusal after this
  plugin::LockCompletion pending;
  lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (operation_) {
      pending = operation_->done;
      state = lock_;
      operation_.reset();
    }
  }
  pending.complete(LK_ERR_CLOSED, state);
}

void Z2mLock::await_first_reports() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, milliseconds(uri_.get_timeout_ms),
                    [this] { return (lock_fresh_ && sensor_fresh_) || !refused_.empty(); });
  const std::string broker = uri_.host + ":" + std::to_string(uri_.port);
  if (!refused_.empty())
    throw Error(LK_ERR_IO, "broker " + broker + " refused user '" + uri_.user + "': " + refused_ +
                               " (check the user and its password_file)");
  if (!connected_) {
    log(LK_LOG_WARNING, "not connected to broker " + broker + " yet: lock and door stay Unknown until it answers");
  } else {
    if (!lock_fresh_)
      log(LK_LOG_WARNING, "no answer from " + lock_topic_ + " to /get within " + std::to_string(uri_.get_timeout_ms) +
                              " ms: the lock stays Unknown until it reports (is the friendly name right?)");
    if (!sensor_fresh_)
      log(LK_LOG_WARNING, "no report from " + sensor_topic_ + " within " + std::to_string(uri_.get_timeout_ms) +
                              " ms: the door stays Unknown until the sensor reports (open and close the door once)");
  }
  if (!auto_relock_time_s_)
    log(LK_LOG_INFO, lock_fresh_ ? "the lock does not expose auto_relock_time: the hub relocks (U4)"
                                 : "auto_relock_time unknown at open: the hub relocks (U4)");
  opened_ = true;
}

void Z2mLock::describe(lk_lock_description& description) {
  std::lock_guard<std::mutex> lock(mutex_);
  description.flags = LK_LOCK_CAP_DOOR_SENSOR | (auto_relock_time_s_ ? LK_LOCK_CAP_RELOCK_DEADLINE : 0u);
  description.max_actuation_ms = uri_.actuation_ms;
  description.max_relock_deadline_ms = auto_relock_time_s_ ? uri_.max_relock_s * 1000u : 0u;
}

lk_lock_state Z2mLock::lock_state() {
  std::lock_guard<std::mutex> lock(mutex_);
  return lock_;
}

lk_door_state Z2mLock::door_state() {
  std::lock_guard<std::mutex> lock(mutex_);
  return door_;
}

void Z2mLock::lock(plugin::LockCompletion done) {
  std::lock_guard<std::mutex> lock(mutex_);
  start_locked(LK_LOCK_STATE_LOCKED, std::nullopt, std::move(done));
}

void Z2mLock::unlock(const lk_unlock_params& params, plugin::LockCompletion done) {
  if (params.unlatch != 0) throw Error(LK_ERR_UNSUPPORTED, "a Zigbee2MQTT lock has no separate latch to pull");
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<uint32_t> relock_s;
  if (auto_relock_time_s_ && params.relock_deadline_ms > 0) {
    if (params.relock_deadline_ms > uri_.max_relock_s * 1000u)
      throw Error(LK_ERR_INVALID_ARGUMENT, "relock_deadline_ms " + std::to_string(params.relock_deadline_ms) +
                                               " exceeds max_relock_s " + std::to_string(uri_.max_relock_s) + " s");
    // auto_relock_time is in whole seconds: rounded up, so the lock never relocks before the deadline.
    relock_s = (params.relock_deadline_ms + 999) / 1000;
  }
  start_locked(LK_LOCK_STATE_UNLOCKED, relock_s, std::move(done));
}

void Z2mLock::start_locked(lk_lock_state target, std::optional<uint32_t> relock_s, plugin::LockCompletion done) {
  if (operation_) throw Error(LK_ERR_BUSY, "an operation is already in progress");
  if (!connected_) throw Error(LK_ERR_IO, "not connected to the broker: the command was not sent");
  std::string error;
  if (relock_s && relock_s != auto_relock_time_s_) {
    Poco::JSON::Object relock;
    relock.set("auto_relock_time", *relock_s);
    if (!publish_locked(lock_topic_ + "/set", json_text(relock), &error)) throw Error(LK_ERR_IO, error);
    log(LK_LOG_INFO, "auto_relock_time set to " + std::to_string(*relock_s) + " s (U4)");
  }
  Poco::JSON::Object command;
  command.set("state", target == LK_LOCK_STATE_LOCKED ? "LOCK" : "UNLOCK");
  if (!publish_locked(lock_topic_ + "/set", json_text(command), &error)) throw Error(LK_ERR_IO, error);
  Operation operation;
  operation.target = target;
  operation.done = std::move(done);
  const uint64_t id = operation.done.operation_id();
  operation.timeout_task =
      scheduler_.after(milliseconds(uri_.actuation_ms), [this, id] { on_operation_timeout(id); });
  operation_ = std::move(operation);
}

bool Z2mLock::publish_locked(const std::string& topic, const std::string& json, std::string* error) {
  return link_->publish(topic, reinterpret_cast<const uint8_t*>(json.data()), json.size(), kQos, error).has_value();
}

void Z2mLock::on_operation_timeout(uint64_t operation_id) {
  Finished finished;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!operation_ || operation_->done.operation_id() != operation_id) return;
    finished.done = operation_->done;
    finished.result = LK_ERR_TIMEOUT;
    operation_.reset();
    // F1: the command may or may not have moved the bolt; nobody said.
    set_lock_locked(LK_LOCK_STATE_UNKNOWN, LK_SOURCE_UNSPECIFIED,
                    "no lock_state report within actuation_ms " + std::to_string(uri_.actuation_ms) +
                        " ms of the command (F1)");
    finished.state = lock_;
    doubt_locked(true, false);  // ask where the bolt is
  }
  finished.done.complete(finished.result, finished.state);
}

void Z2mLock::on_connected() {
  std::lock_guard<std::mutex> lock(mutex_);
  connected_ = true;
  if (down_logged_) log(LK_LOG_INFO, "connected to the broker again");
  down_logged_ = false;
  // Whatever the broker holds retained may be stale: only answers count.
  lock_fresh_ = false;
  sensor_fresh_ = false;
  ask_logged_ = false;
  ask_interval_ = std::max(kMinAskInterval, milliseconds(uri_.get_timeout_ms));
  ask_locked();
}

void Z2mLock::ask_locked() {
  if (!connected_) return;
  std::string error;
  if (!lock_fresh_ && !publish_locked(lock_topic_ + "/get", R"({"state":""})", &error))
    log(LK_LOG_WARNING, "asking the lock failed: " + error);
  if (!sensor_fresh_ && !publish_locked(sensor_topic_ + "/get", R"({"contact":""})", &error))
    log(LK_LOG_WARNING, "asking the sensor failed: " + error);
  scheduler_.cancel(ask_task_);
  ask_task_ = 0;
  if (!lock_fresh_ || !sensor_fresh_) ask_task_ = scheduler_.after(ask_interval_, [this] { on_ask_due(); });
}

void Z2mLock::doubt_locked(bool lock, bool sensor) {
  lock_fresh_ = lock_fresh_ && !lock;
  sensor_fresh_ = sensor_fresh_ && !sensor;
  if (ask_task_ != 0 || !connected_) return;  // already asking, or on_connected will
  // Not at once: a sender of bad messages must not make the driver flood
  // the devices with reads. The Unknown state has been logged with its reason.
  ask_logged_ = true;
  ask_interval_ = std::max(kMinAskInterval, milliseconds(uri_.get_timeout_ms));
  ask_task_ = scheduler_.after(ask_interval_, [this] { on_ask_due(); });
}

void Z2mLock::on_ask_due() {
  std::lock_guard<std::mutex> lock(mutex_);
  ask_task_ = 0;
  if (!connected_ || (lock_fresh_ && sensor_fresh_)) return;
  if (!ask_logged_ && opened_) {
    ask_logged_ = true;
    log(LK_LOG_WARNING, std::string("still no answer to /get from ") + (lock_fresh_ ? "" : lock_topic_ + " ") +
                            (sensor_fresh_ ? "" : sensor_topic_ + " ") + "(asking again, less and less often)");
  }
  ask_interval_ = std::min(ask_interval_ * 2, kMaxAskInterval);
  ask_locked();
}

void Z2mLock::on_lost(const std::string& why) {
  std::lock_guard<std::mutex> lock(mutex_);
  connected_ = false;
  if (!down_logged_)
    log(LK_LOG_WARNING, "broker " + uri_.host + ":" + std::to_string(uri_.port) + " not reachable: " + why +
                            " (reconnecting)");
  down_logged_ = true;
  // Without the broker no report can arrive: nothing is known (F1).
  set_lock_locked(LK_LOCK_STATE_UNKNOWN, LK_SOURCE_UNSPECIFIED, "the broker link is down");
  set_door_locked(LK_DOOR_STATE_UNKNOWN, "the broker link is down");
  lock_fresh_ = false;
  sensor_fresh_ = false;
}

void Z2mLock::on_refused(int code, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (mqtt::credentials_refused(code)) refused_ = why;
    log_paced_locked(LK_LOG_ERROR, "refused", "the broker refused user '" + uri_.user + "': " + why);
  }
  changed_.notify_all();
}

void Z2mLock::on_message(std::string_view topic, const uint8_t* data, std::size_t size, bool retained) {
  const bool is_lock = topic == lock_topic_;
  const bool is_sensor = topic == sensor_topic_;
  if (!is_lock && !is_sensor) return;
  std::optional<Finished> finished;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (retained) {
      // A retained message was stored before we subscribed, maybe long ago:
      // it is never the truth. The answer to /get is (README.md, "At connect").
      log_paced_locked(LK_LOG_INFO, std::string(topic) + "/retained",
                       "retained message on " + std::string(topic) + " ignored (it may be stale); asked with /get");
      return;
    }
    std::string error;
    if (is_lock) {
      const std::optional<LockReport> report = parse_lock_report(data, size, &error);
      if (!report) {
        refuse_locked(lock_topic_, error);
        set_lock_locked(LK_LOCK_STATE_UNKNOWN, LK_SOURCE_UNSPECIFIED, "its report did not parse");
        doubt_locked(true, false);
      } else {
        finished = on_lock_report(*report);
      }
    } else {
      const std::optional<SensorReport> report = parse_sensor_report(data, size, &error);
      if (!report) {
        refuse_locked(sensor_topic_, error);
        set_door_locked(LK_DOOR_STATE_UNKNOWN, "the sensor's report did not parse");
        doubt_locked(false, true);
      } else {
        on_sensor_report(*report);
      }
    }
  }
  changed_.notify_all();
  if (finished) finished->done.complete(finished->result, finished->state);
}

std::optional<Z2mLock::Finished> Z2mLock::on_lock_report(const LockReport& report) {
  if (report.auto_relock_time_s) auto_relock_time_s_ = report.auto_relock_time_s;
  std::optional<lk_lock_state> state = report.lock_state;
  if (report.jammed) state = LK_LOCK_STATE_NOT_FULLY_LOCKED;  // never believe Locked next to a jam
  if (!state) return std::nullopt;  // no lock_state in it: nothing about the bolt
  lock_fresh_ = true;
  // A new jam: the jam action, or the bolt entering not_fully_locked. The
  // cached not_fully_locked that Zigbee2MQTT echoes with the next command is
  // not one (the bolt has not moved yet).
  const bool new_jam = report.jammed || (*state == LK_LOCK_STATE_NOT_FULLY_LOCKED && lock_ != *state);
  lk_operation_source source = report.source.value_or(LK_SOURCE_UNSPECIFIED);
  if (!report.source && operation_ && *state == operation_->target) source = LK_SOURCE_REMOTE;
  set_lock_locked(*state, source, "lock_state report" + (report.action.empty() ? "" : " (action " + report.action + ")"));
  if (new_jam) {
    log(LK_LOG_WARNING, "jammed: " + (report.action.empty() ? std::string("lock_state not_fully_locked") : report.action));
    if (opened_) sink_.emit(LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, 0, now_ns());
  }
  if (!operation_) return std::nullopt;
  // Only a lock_state report completes a command, never the publish.
  if (!new_jam && *state != operation_->target) return std::nullopt;  // e.g. the old state echoed with the command
  Finished finished;
  finished.done = operation_->done;
  finished.result = new_jam ? LK_ERR_JAMMED : LK_OK;
  finished.state = lock_;
  scheduler_.cancel(operation_->timeout_task);
  operation_.reset();
  return finished;
}

void Z2mLock::on_sensor_report(const SensorReport& report) {
  sensor_fresh_ = true;
  arm_sensor_watch_locked();
  if (report.contact) set_door_locked(*report.contact ? LK_DOOR_STATE_CLOSED : LK_DOOR_STATE_OPEN, "contact report");
}

void Z2mLock::arm_sensor_watch_locked() {
  scheduler_.cancel(sensor_task_);
  sensor_task_ = 0;
  if (uri_.sensor_timeout_s == 0) return;
  sensor_task_ = scheduler_.after(std::chrono::seconds(uri_.sensor_timeout_s), [this] { on_sensor_silent(); });
}

void Z2mLock::on_sensor_silent() {
  std::lock_guard<std::mutex> lock(mutex_);
  sensor_task_ = 0;
  doubt_locked(false, true);
  set_door_locked(LK_DOOR_STATE_UNKNOWN, "no report from " + sensor_topic_ + " for sensor_timeout_s " +
                                             std::to_string(uri_.sensor_timeout_s) + " s");
}

void Z2mLock::refuse_locked(const std::string& topic, const std::string& problem) {
  log_paced_locked(LK_LOG_WARNING, topic, "message on " + topic + " refused: " + problem);
}

void Z2mLock::set_lock_locked(lk_lock_state state, lk_operation_source source, const std::string& why) {
  if (state == lock_) return;
  lock_ = state;
  log(state == LK_LOCK_STATE_UNKNOWN ? LK_LOG_WARNING : LK_LOG_INFO,
      std::string("lock ") + lock_name_of(state) + ": " + why);
  if (opened_) sink_.emit(LK_EVENT_LOCK_STATE, state, source, now_ns());
}

void Z2mLock::set_door_locked(lk_door_state state, const std::string& why) {
  if (state == door_) return;
  door_ = state;
  log(state == LK_DOOR_STATE_UNKNOWN ? LK_LOG_WARNING : LK_LOG_INFO, std::string("door ") + door_name_of(state) + ": " + why);
  if (opened_) sink_.emit(LK_EVENT_DOOR_STATE, state, 0, now_ns());
}

void Z2mLock::log(lk_log_level level, const std::string& message) const {
  plugin::log(level, "z2m_lock " + uri_.lock_name + ": " + message);
}

void Z2mLock::log_paced_locked(lk_log_level level, const std::string& key, const std::string& message) {
  const auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = paced_.try_emplace(key);
  Paced& p = it->second;
  if (!fresh && now - p.last < kLogPace) {
    ++p.suppressed;
    return;
  }
  p.last = now;
  const uint64_t suppressed = std::exchange(p.suppressed, 0);
  log(level, suppressed == 0 ? message : message + " (and " + std::to_string(suppressed) + " more like it before)");
}

}  // namespace latchkey::z2m
