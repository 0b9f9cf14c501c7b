#include <latchkey/home_assistant/discovery.hpp>

#include <latchkey/crypto/crypto.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cctype>
#include <ctime>
#include <sstream>

namespace latchkey::home_assistant {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::string stringify(const Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

std::string hex(const hub::Bytes& bytes) { return crypto::to_hex(crypto::ByteView(bytes.data(), bytes.size())); }

std::string rule_event_type(Rule rule) {
  const std::string_view n = name(rule);
  return n.empty() ? std::string("none") : std::string(n);
}

// Builds the configs; one per entity.
class ConfigBuilder {
 public:
  ConfigBuilder(const Topics& topics, const std::string& hub_id, const std::string& version)
      : topics_(topics), hub_id_(hub_id), node_(escape_id(hub_id)), version_(version) {}

  Object::Ptr hub_device() const {
    Object::Ptr d = new Object;
    d->set("identifiers", identifiers(hub_device_id()));
    d->set("name", "Latchkey hub " + hub_id_);
    d->set("manufacturer", "Latchkey");
    d->set("model", "latchkeyd");
    d->set("sw_version", version_);
    return d;
  }
  Object::Ptr door_device(const std::string& door) const {
    Object::Ptr d = new Object;
    d->set("identifiers", identifiers(hub_device_id() + "_door_" + escape_id(door)));
    d->set("name", "Latchkey door " + door);
    d->set("manufacturer", "Latchkey");
    d->set("model", "camera-gated door");
    d->set("via_device", hub_device_id());
    return d;
  }

  // The fields every entity shares; object_id is unique within the hub.
  Object::Ptr entity(const std::string& object_id, const std::string& name, const Object::Ptr& device) const {
    Object::Ptr e = new Object;
    e->set("name", name);
    e->set("unique_id", hub_device_id() + "_" + object_id);
    e->set("availability_topic", topics_.availability());
    e->set("payload_available", kOnline);
    e->set("payload_not_available", kOffline);
    e->set("device", device);
    Object::Ptr origin = new Object;
    origin->set("name", "Latchkey latchkeyd");
    origin->set("sw_version", version_);
    e->set("origin", origin);
    return e;
  }

  Message message(const std::string& component, const std::string& object_id, const Object::Ptr& config) const {
    return {topics_.discovery + "/" + component + "/" + node_ + "/" + object_id + "/config", stringify(config), true};
  }

 private:
  std::string hub_device_id() const { return "latchkey_" + node_; }
  static Array::Ptr identifiers(const std::string& id) {
    Array::Ptr a = new Array;
    a->add(id);
    return a;
  }

  const Topics& topics_;
  std::string hub_id_;
  std::string node_;
  std::string version_;
};

}  // namespace

std::optional<std::string> Topics::door_of_command(std::string_view topic) const {
  const std::string head = base + "/door/";
  const std::string_view tail = "/set";
  if (topic.size() <= head.size() + tail.size() || topic.substr(0, head.size()) != head ||
      topic.substr(topic.size() - tail.size()) != tail)
    return std::nullopt;
  const std::string_view door = topic.substr(head.size(), topic.size() - head.size() - tail.size());
  if (door.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(door);
}

std::string escape_id(std::string_view id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : id) {
    const auto byte = static_cast<unsigned char>(ch);
    if (std::isalnum(byte) || ch == '-') {
      out += ch;
    } else if (ch == '_') {
      out += "__";
    } else {
      out += '_';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

std::vector<Message> discovery_configs(const Topics& topics, const std::string& hub_id, const std::string& version,
                                       const std::vector<hub::DoorStatus>& doors) {
  const ConfigBuilder b(topics, hub_id, version);
  std::vector<Message> out;
  for (const hub::DoorStatus& door : doors) {
    const std::string d = escape_id(door.id);
    const Object::Ptr device = b.door_device(door.id);

    // The lock: LOCK only. UNLOCK is declared (Home Assistant requires both)
    // and refused by the hub (G1).
    Object::Ptr lock = b.entity("door_" + d + "_lock", "Lock", device);
    lock->set("command_topic", topics.lock_command(door.id));
    lock->set("state_topic", topics.lock_state(door.id));
    lock->set("payload_lock", "LOCK");
    lock->set("payload_unlock", "UNLOCK");
    lock->set("state_locked", "LOCKED");
    lock->set("state_unlocked", "UNLOCKED");
    lock->set("state_jammed", "JAMMED");
    lock->set("optimistic", false);
    lock->set("retain", false);  // a retained command would run again at every connect
    lock->set("qos", 1);
    out.push_back(b.message("lock", "door_" + d + "_lock", lock));

    Object::Ptr session = b.entity("door_" + d + "_session", "Session", device);
    session->set("state_topic", topics.session(door.id));
    session->set("value_template", "{{ value_json.state }}");
    session->set("json_attributes_topic", topics.session(door.id));
    session->set("icon", "mdi:package-variant");
    out.push_back(b.message("sensor", "door_" + d + "_session", session));

    for (const hub::CameraStatus& camera : door.cameras) {
      const std::string c = escape_id(camera.id);
      Object::Ptr live = b.entity("camera_" + c + "_live", "Camera " + camera.id + " LIVE", device);
      live->set("state_topic", topics.camera_live(camera.id));
      live->set("payload_on", "ON");
      live->set("payload_off", "OFF");
      live->set("icon", "mdi:cctv");
      out.push_back(b.message("binary_sensor", "camera_" + c + "_live", live));
    }
  }

  const Object::Ptr hub_device = b.hub_device();
  Object::Ptr alarm = b.entity("alarm", "Alarm", hub_device);
  alarm->set("state_topic", topics.alarm_event());
  Array::Ptr types = new Array;
  for (const std::string& t : alarm_event_types()) types->add(t);
  alarm->set("event_types", types);
  alarm->set("icon", "mdi:alarm-light");
  out.push_back(b.message("event", "alarm", alarm));

  Object::Ptr last = b.entity("last_alarm", "Last alarm", hub_device);
  last->set("state_topic", topics.last_alarm());
  last->set("value_template", "{{ value_json.rule }}");
  last->set("json_attributes_topic", topics.last_alarm());
  last->set("icon", "mdi:alarm-light-outline");
  out.push_back(b.message("sensor", "last_alarm", last));
  return out;
}

std::string lock_payload(const hub::DoorStatus& door) {
  if (door.lock_faulted) return "None";
  if (door.door_state == hub::DoorState::kJammed) return "JAMMED";
  switch (door.lock_state) {
    case hub::LockState::kLocked: return "LOCKED";
    case hub::LockState::kUnlocked:
    case hub::LockState::kUnlatched: return "UNLOCKED";
    case hub::LockState::kNotFullyLocked: return "JAMMED";
    case hub::LockState::kUnknown: break;
  }
  return "None";
}

std::string live_payload(bool live) { return live ? "ON" : "OFF"; }

std::string session_payload(const std::string& door, const std::optional<hub::OpenSession>& session,
                            int64_t since_ms) {
  Object::Ptr o = new Object;
  o->set("door", door);
  if (!session) {
    o->set("state", "none");
    return stringify(o);
  }
  o->set("state", session->unlocked ? "open" : "pending");
  o->set("session", hex(session->session));
  o->set("courier", session->courier);
  o->set("since", iso_time(since_ms));
  return stringify(o);
}

std::string alarm_payload(const hub::Alarm& alarm) {
  Object::Ptr o = new Object;
  o->set("event_type", rule_event_type(alarm.rule));
  o->set("rule", rule_event_type(alarm.rule));
  o->set("message", alarm.message);
  o->set("door", alarm.door);
  o->set("camera", alarm.camera);
  o->set("id", alarm.id);
  o->set("time", iso_time(alarm.time_ms));
  return stringify(o);
}

std::vector<std::string> alarm_event_types() {
  std::vector<std::string> types;
  for (const Rule* r = all_rules_begin(); r != all_rules_end(); ++r)
    if (*r != Rule::kNone) types.push_back(std::string(name(*r)));
  types.push_back("none");
  return types;
}

ParsedCommand parse_command(const uint8_t* data, std::size_t size) {
  if (size > kMaxCommandBytes)
    return {std::nullopt, "payload of " + std::to_string(size) + " bytes is longer than " +
                              std::to_string(kMaxCommandBytes)};
  if (size == 0) return {std::nullopt, "empty payload"};
  std::string text;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] < 0x20 || data[i] > 0x7e)
      return {std::nullopt, "payload is not printable text (byte " + std::to_string(data[i]) + " at " +
                                std::to_string(i) + ")"};
    text += static_cast<char>(data[i]);
  }
  if (text == "LOCK") return {Command::kLock, {}};
  if (text == "UNLOCK") return {Command::kUnlock, {}};
  if (text == "OPEN") return {Command::kOpen, {}};
  return {std::nullopt, "unknown payload '" + text + "' (expected LOCK, UNLOCK or OPEN)"};
}

std::string iso_time(int64_t wall_ms) {
  const std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  struct tm utc {};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace latchkey::home_assistant
