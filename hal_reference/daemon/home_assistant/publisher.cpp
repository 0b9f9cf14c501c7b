#include <latchkey/home_assistant/publisher.hpp>
#include <latchkey/hub/log.hpp>

#include <latchkey/crypto/crypto.hpp>
#include <latchkey/mqtt/mqtt_link.hpp>

#include "../src/runtime_files.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>
#include <stdexcept>

namespace latchkey::home_assistant {
namespace {

constexpr const char* kSource = "home_assistant";
constexpr std::size_t kMaxPasswordBytes = 1024;
constexpr auto kIdleWait = std::chrono::milliseconds(1000);  // how often a failed resync is tried again

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The publisher's lines ("info", "warning", "error") in latchkeyd's log.
void default_log(const std::string& level, const std::string& message) {
  hub::log(hub::parse_log_level(level).value_or(hub::LogLevel::kInfo), message);
}

std::string describe(const hub::ApiError& e) {
  return e.message + (e.rule == Rule::kNone ? std::string() : " (" + std::string(name(e.rule)) + ")");
}

}  // namespace

std::string read_password_file(const std::filesystem::path& file) {
  const std::string where = "[mqtt] password_file " + file.string() + ": ";
  std::optional<std::string> text;
  try {
    text = hub::read_secret_file(file);
  } catch (const std::exception& e) {
    throw std::runtime_error("[mqtt] password_file: " + std::string(e.what()));
  }
  if (!text) throw std::runtime_error(where + "does not exist");
  std::string password = *text;
  if (password.size() > kMaxPasswordBytes + 2)
    throw std::runtime_error(where + "longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  if (!password.empty() && password.back() == '\n') password.pop_back();
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) throw std::runtime_error(where + "is empty");
  if (password.size() > kMaxPasswordBytes)
    throw std::runtime_error(where + "longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  if (password.find('\n') != std::string::npos) throw std::runtime_error(where + "holds more than one line");
  // libmosquitto takes a C string: it would send only what comes before a NUL.
  if (password.find('\0') != std::string::npos) throw std::runtime_error(where + "holds a NUL byte");
  return password;
}

Publisher::Publisher(hub::HubApi& hub, PublisherOptions options)
    : hub_(hub), options_(std::move(options)), queue_(options_.queue_limit) {
  if (!options_.log) options_.log = default_log;
  topics_.discovery = options_.mqtt.discovery_prefix;
  topics_.base = options_.mqtt.topic_prefix.empty() ? "latchkey/" + options_.hub_id : options_.mqtt.topic_prefix;

  // No replay of the hub's history: every connect starts from the views.
  subscription_ = hub_.subscribe(std::numeric_limits<uint64_t>::max(),
                                 [this](const hub::HubEvent& e) { queue_.push(e); });
  thread_ = std::thread([this] { run(); });

  mqtt::LinkConfig link;
  link.host = options_.mqtt.host;
  link.port = options_.mqtt.port;
  link.tls = options_.mqtt.tls;
  link.tls_ca_file = options_.mqtt.tls_ca_file.string();
  link.user = options_.mqtt.user;
  link.password = options_.password;
  link.client_id = options_.mqtt.client_id.empty() ? "latchkey-" + options_.hub_id : options_.mqtt.client_id;
  link.keepalive_s = static_cast<int>(options_.mqtt.keepalive_s);
  link.subscriptions = {{topics_.command_filter(), 1}};
  link.will = mqtt::LastWill{topics_.availability(), kOffline, 1, true};
  link.log_prefix = "[mqtt] " + options_.mqtt.host + ":" + std::to_string(options_.mqtt.port);
  mqtt::LinkCallbacks callbacks;
  callbacks.connected = [this] {
    was_connected_ = true;
    log("info", "[mqtt] connected to " + options_.mqtt.host + ":" + std::to_string(options_.mqtt.port) +
                    "; publishing Home Assistant discovery under " + topics_.discovery + "/");
    queue_.request_resync();
  };
  callbacks.lost = [this](const std::string& why) {
    if (was_connected_.exchange(false)) log("warning", "[mqtt] connection to the broker lost: " + why);
  };
  callbacks.refused = [this](int code, const std::string& why) {
    log("error", "[mqtt] the broker refused the connection (" + std::to_string(code) + "): " + why);
  };
  callbacks.message = [this](std::string_view topic, const uint8_t* data, std::size_t size) {
    on_message(topic, data, size);
  };
  callbacks.error_log = [this](const std::string& line) { log("error", line); };
  try {
    link_ = std::make_unique<mqtt::MqttLink>(std::move(link), std::move(callbacks));
  } catch (...) {
    hub_.unsubscribe(subscription_);
    queue_.stop();
    thread_.join();
    throw;
  }
}

Publisher::~Publisher() {
  hub_.unsubscribe(subscription_);
  queue_.stop();
  if (thread_.joinable()) thread_.join();
  // A clean goodbye sends no last will: say "offline" ourselves, and give
  // the link's thread a moment to write it before it disconnects.
  if (link_ && link_->connected() && send(topics_.availability(), kOffline, true))
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  link_.reset();
}

void Publisher::log(const std::string& level, const std::string& message) const { options_.log(level, message); }

bool Publisher::send(const std::string& topic, const std::string& payload, bool retain) {
  std::string error;
  if (!link_ || !link_->publish(topic, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), 1, &error,
                                retain)) {
    synced_ = false;  // everything again at the next connect
    return false;
  }
  return true;
}

bool Publisher::send(const Message& m) { return send(m.topic, m.payload, m.retain); }

void Publisher::run() {
  for (;;) {
    auto batch = queue_.take(kIdleWait);
    if (batch.stopping) return;
    const bool connected = link_ != nullptr && link_->connected();
    if (!connected) {
      synced_ = false;
      continue;
    }
    if (batch.resync || !synced_) {
      if (batch.resync && synced_) log("warning", "[mqtt] events were dropped; republishing every state");
      resync();
      continue;  // the views are newer than the events taken with them
    }
    bool doors_dirty = false;
    for (const hub::HubEvent& e : batch.items) handle(e, doors_dirty);
    if (doors_dirty) refresh_doors();
  }
}

// Every config and every state, from the hub's views.
void Publisher::resync() {
  auto doors = hub_.doors();
  if (!doors.ok()) {
    log("warning", "[mqtt] cannot read the doors for Home Assistant: " + describe(doors.error()));
    synced_ = false;
    return;
  }
  ++resyncs_;
  synced_ = true;
  sent_.clear();
  bool ok = send(topics_.availability(), kOnline, true);
  for (const Message& m : discovery_configs(topics_, options_.hub_id, options_.version, doors.value()))
    ok = send(m) && ok;
  for (const hub::DoorStatus& door : doors.value()) {
    publish_door(door);
    for (const hub::CameraStatus& camera : door.cameras)
      if (send(topics_.camera_live(camera.id), live_payload(camera.live), true))
        sent_[topics_.camera_live(camera.id)] = live_payload(camera.live);
  }
  auto alarms = hub_.alarms(0);
  if (alarms.ok() && !alarms.value().empty()) ok = send(topics_.last_alarm(), alarm_payload(alarms.value().back()), true) && ok;
  if (!ok) synced_ = false;
}

void Publisher::handle(const hub::HubEvent& event, bool& doors_dirty) {
  if (const auto* a = std::get_if<hub::Alarm>(&event.data)) {
    const std::string payload = alarm_payload(*a);
    send(topics_.alarm_event(), payload, false);
    send(topics_.last_alarm(), payload, true);
  } else if (const auto* c = std::get_if<hub::CameraLiveness>(&event.data)) {
    const std::string topic = topics_.camera_live(c->camera);
    const std::string payload = live_payload(c->live);
    if (sent_[topic] != payload && send(topic, payload, true)) sent_[topic] = payload;
  } else if (std::holds_alternative<hub::LockStateChanged>(event.data) ||
             std::holds_alternative<hub::DoorStateChanged>(event.data) ||
             std::holds_alternative<hub::LockAlarmReported>(event.data) ||
             std::holds_alternative<hub::SessionChange>(event.data) ||
             std::holds_alternative<hub::DoorCommand>(event.data) ||
             std::holds_alternative<hub::DecisionEvent>(event.data) ||
             std::holds_alternative<hub::PluginChanged>(event.data)) {
    doors_dirty = true;  // the lock entity's state and the session come from the door views
  }
}

void Publisher::refresh_doors() {
  auto doors = hub_.doors();
  if (!doors.ok()) {
    log("warning", "[mqtt] cannot read the doors for Home Assistant: " + describe(doors.error()));
    synced_ = false;
    return;
  }
  for (const hub::DoorStatus& door : doors.value()) publish_door(door);
}

void Publisher::publish_door(const hub::DoorStatus& door) {
  const std::string lock_topic = topics_.lock_state(door.id);
  const std::string lock = lock_payload(door);
  if (sent_.count(lock_topic) == 0 || sent_[lock_topic] != lock) {
    if (send(lock_topic, lock, true)) sent_[lock_topic] = lock;
  }
  int64_t since = 0;
  if (door.session) {
    const std::string id = crypto::to_hex(crypto::ByteView(door.session->session.data(), door.session->session.size()));
    auto it = session_since_.find(door.id);
    if (it == session_since_.end() || it->second.first != id) it = session_since_.insert_or_assign(door.id, std::pair{id, wall_ms()}).first;
    since = it->second.second;
  } else {
    session_since_.erase(door.id);
  }
  const std::string session_topic = topics_.session(door.id);
  const std::string session = session_payload(door.id, door.session, since);
  if (sent_.count(session_topic) == 0 || sent_[session_topic] != session) {
    if (send(session_topic, session, true)) sent_[session_topic] = session;
  }
}

// On the link's thread. Bad input is refused with a log line and changes
// nothing; the hub decides and audits every well-formed command.
void Publisher::on_message(std::string_view topic, const uint8_t* data, std::size_t size) {
  const std::optional<std::string> door = topics_.door_of_command(topic);
  if (!door) {
    log("warning", "[mqtt] ignored a message on " + std::string(topic) + ": not a lock command topic");
    return;
  }
  const ParsedCommand parsed = parse_command(data, size);
  if (!parsed.command) {
    log("warning", "[mqtt] refused the command on " + std::string(topic) + ": " + parsed.problem);
    return;
  }
  if (*parsed.command == Command::kLock) {
    const auto answer = hub_.remote_lock(*door, kSource);
    if (!answer.ok())
      log("warning", "[mqtt] LOCK on " + std::string(topic) + " refused: " + describe(answer.error()));
    else if (answer->accepted)
      log("info", "[mqtt] LOCK for door '" + *door + "' from Home Assistant: " + answer->message);
    else
      log("warning", "[mqtt] LOCK for door '" + *door + "' from Home Assistant refused (" +
                         std::string(name(answer->rule)) + "): " + answer->message);
    return;
  }
  const std::string what = *parsed.command == Command::kOpen ? "open" : "unlock";
  const auto answer = hub_.remote_unlock(*door, kSource, what);
  if (!answer.ok())
    log("warning", "[mqtt] " + what + " on " + std::string(topic) + " refused: " + describe(answer.error()));
  else
    log("warning", "[mqtt] " + what + " for door '" + *door + "' from Home Assistant refused (" +
                       std::string(name(answer->rule)) + "): " + answer->message);
}

}  // namespace latchkey::home_assistant
