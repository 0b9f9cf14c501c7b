// What latchkeyd tells Home Assistant over MQTT (docs/home-assistant.md):
// the discovery configs of its entities, their state payloads, and the one
// command it reads. Pure functions of the hub's typed views (hub_api.hpp);
// JSON through Poco::JSON. No I/O: the publisher (publisher.hpp) sends them.
#ifndef LATCHKEY_HOME_ASSISTANT_DISCOVERY_HPP
#define LATCHKEY_HOME_ASSISTANT_DISCOVERY_HPP

#include <latchkey/hub/hub_api.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::home_assistant {

// The topics, from [mqtt] discovery_prefix and topic_prefix.
struct Topics {
  std::string discovery;  // "homeassistant"
  std::string base;       // "latchkey/<hub id>"

  std::string availability() const { return base + "/availability"; }
  std::string lock_state(const std::string& door) const { return base + "/door/" + door + "/lock"; }
  std::string lock_command(const std::string& door) const { return base + "/door/" + door + "/set"; }
  std::string session(const std::string& door) const { return base + "/door/" + door + "/session"; }
  std::string camera_live(const std::string& camera) const { return base + "/camera/" + camera + "/live"; }
  std::string alarm_event() const { return base + "/alarm/event"; }
  std::string last_alarm() const { return base + "/alarm/last"; }
  // What the hub subscribes to: every door's command topic.
  std::string command_filter() const { return base + "/door/+/set"; }
  // The door a command topic names, or nullopt when `topic` is not one.
  std::optional<std::string> door_of_command(std::string_view topic) const;
};

// One MQTT message to publish.
struct Message {
  std::string topic;
  std::string payload;
  bool retain = true;
};

inline constexpr const char* kOnline = "online";
inline constexpr const char* kOffline = "offline";

// A name Home Assistant takes in a discovery topic and a unique id (letters,
// digits, '_' and '-'): '_' becomes "__" and any other byte "_" and two hex
// digits, so distinct hub, door and camera ids never give the same name.
std::string escape_id(std::string_view id);

// Every entity's retained discovery config: per door a lock and a session
// sensor, per camera a LIVE binary_sensor (on its door's device), and for
// the hub an alarm event and a last-alarm sensor.
std::vector<Message> discovery_configs(const Topics& topics, const std::string& hub_id, const std::string& version,
                                       const std::vector<hub::DoorStatus>& doors);

// The lock entity's state: LOCKED, UNLOCKED, JAMMED, or None (unknown, also
// while the lock's plugin is in fault).
std::string lock_payload(const hub::DoorStatus& door);
// "ON" while LIVE, else "OFF".
std::string live_payload(bool live);
// {"state": "none"|"pending"|"open", "door", "session", "courier", "since"};
// since_ms (wall clock) is when the publisher first saw the session.
std::string session_payload(const std::string& door, const std::optional<hub::OpenSession>& session,
                            int64_t since_ms);
// {"event_type": rule ID, "rule", "message", "door", "camera", "id", "time"}.
std::string alarm_payload(const hub::Alarm& alarm);
// The event entity's event types: every rule ID, and "none".
std::vector<std::string> alarm_event_types();

// A payload on a lock's command topic.
enum class Command { kLock, kUnlock, kOpen };
inline constexpr std::size_t kMaxCommandBytes = 64;
struct ParsedCommand {
  std::optional<Command> command;
  std::string problem;  // when refused: what was wrong, fit for a log line
};
// Exactly LOCK, UNLOCK or OPEN (Home Assistant's payloads); anything else,
// a payload over kMaxCommandBytes or one that is not printable text, is refused.
ParsedCommand parse_command(const uint8_t* data, std::size_t size);

// "2026-12-07T16:10:57Z"
std::string iso_time(int64_t wall_ms);

}  // namespace latchkey::home_assistant

#endif  // LATCHKEY_HOME_ASSISTANT_DISCOVERY_HPP
