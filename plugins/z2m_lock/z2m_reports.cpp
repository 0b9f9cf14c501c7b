#include "z2m_reports.hpp"

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <array>
#include <string_view>
#include <utility>

namespace latchkey::z2m {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;

constexpr uint32_t kMaxRelockTimeS = 7 * 24 * 3600;

// Printable, short and safe for a log line.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text.substr(0, 40)) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  if (text.size() > 40) out += "...";
  return out + "'";
}

Object::Ptr parse_object(const uint8_t* data, std::size_t size, std::string* error) {
  if (size == 0) {
    *error = "empty payload";
    return nullptr;
  }
  if (size > kMaxPayloadBytes) {
    *error = "payload of " + std::to_string(size) + " bytes (at most " + std::to_string(kMaxPayloadBytes) + ")";
    return nullptr;
  }
  try {
    Poco::JSON::Parser parser;
    const Var parsed = parser.parse(std::string(reinterpret_cast<const char*>(data), size));
    if (parsed.type() != typeid(Object::Ptr)) {
      *error = "not a JSON object";
      return nullptr;
    }
    Object::Ptr object = parsed.extract<Object::Ptr>();
    if (object.isNull()) *error = "not a JSON object";
    return object;
  } catch (const Poco::Exception& e) {
    *error = "not JSON: " + e.displayText().substr(0, 120);
  } catch (const std::exception& e) {
    *error = std::string("not JSON: ") + e.what();
  }
  return nullptr;
}

// The string value of key: nullopt when absent or null; error when another type.
bool optional_string(const Object& object, const char* key, std::optional<std::string>* out, std::string* error) {
  if (!object.has(key) || object.isNull(key)) return true;
  const Var value = object.get(key);
  if (!value.isString()) {
    *error = std::string("'") + key + "' is not a string";
    return false;
  }
  *out = value.extract<std::string>();
  return true;
}

std::optional<lk_operation_source> source_of_name(const std::string& name) {
  static const std::array<std::pair<std::string_view, lk_operation_source>, 9> kNames{{
      {"manual", LK_SOURCE_MANUAL},
      {"keypad", LK_SOURCE_KEYPAD},
      {"rf", LK_SOURCE_REMOTE},
      {"zigbee", LK_SOURCE_REMOTE},
      {"remote", LK_SOURCE_REMOTE},
      {"auto", LK_SOURCE_AUTO},
      {"self", LK_SOURCE_AUTO},
      {"schedule", LK_SOURCE_SCHEDULE},
      {"rfid", LK_SOURCE_UNSPECIFIED},
  }};
  for (const auto& [n, source] : kNames)
    if (n == name) return source;
  return std::nullopt;
}

std::optional<lk_operation_source> source_of_action(const std::string& action) {
  static const std::array<std::pair<std::string_view, lk_operation_source>, 12> kActions{{
      {"manual_lock", LK_SOURCE_MANUAL},
      {"manual_unlock", LK_SOURCE_MANUAL},
      {"key_lock", LK_SOURCE_MANUAL},
      {"key_unlock", LK_SOURCE_MANUAL},
      {"one_touch_lock", LK_SOURCE_MANUAL},
      {"keypad_lock", LK_SOURCE_KEYPAD},
      {"keypad_unlock", LK_SOURCE_KEYPAD},
      {"auto_lock", LK_SOURCE_AUTO},
      {"schedule_lock", LK_SOURCE_SCHEDULE},
      {"schedule_unlock", LK_SOURCE_SCHEDULE},
      {"rfid_lock", LK_SOURCE_UNSPECIFIED},
      {"rfid_unlock", LK_SOURCE_UNSPECIFIED},
  }};
  for (const auto& [a, source] : kActions)
    if (a == action) return source;
  return std::nullopt;
}

}  // namespace

std::optional<LockReport> parse_lock_report(const uint8_t* data, std::size_t size, std::string* error) {
  const Object::Ptr object = parse_object(data, size, error);
  if (object.isNull()) return std::nullopt;
  LockReport report;

  std::optional<std::string> text;
  if (!optional_string(*object, "lock_state", &text, error)) return std::nullopt;
  if (text) {
    if (*text == "locked") report.lock_state = LK_LOCK_STATE_LOCKED;
    else if (*text == "unlocked") report.lock_state = LK_LOCK_STATE_UNLOCKED;
    else if (*text == "not_fully_locked") report.lock_state = LK_LOCK_STATE_NOT_FULLY_LOCKED;
    else {
      *error = "unknown lock_state " + quoted(*text) + " (locked, unlocked or not_fully_locked)";
      return std::nullopt;
    }
  }

  text.reset();
  if (!optional_string(*object, "state", &text, error)) return std::nullopt;
  if (text) {
    if (*text == "LOCK") report.state_locked = true;
    else if (*text == "UNLOCK") report.state_locked = false;
    else {
      *error = "unknown state " + quoted(*text) + " (LOCK or UNLOCK)";
      return std::nullopt;
    }
  }

  text.reset();
  if (!optional_string(*object, "door_state", &text, error)) return std::nullopt;
  if (text) {
    static constexpr std::array<std::string_view, 6> kDoorStates{"open",           "closed", "error_jammed",
                                                                 "error_forced_open", "error_unspecified",
                                                                 "undefined"};
    bool known = false;
    for (std::string_view d : kDoorStates) known |= d == *text;
    if (!known) {
      *error = "unknown door_state " + quoted(*text);
      return std::nullopt;
    }
    report.jammed |= *text == "error_jammed";
  }

  text.reset();
  if (!optional_string(*object, "action", &text, error)) return std::nullopt;
  if (text) {
    report.action = *text;
    report.jammed |= *text == "error_jammed";
    report.source = source_of_action(*text);
  }

  text.reset();
  if (!optional_string(*object, "action_source_name", &text, error)) return std::nullopt;
  // The source name says who moved the bolt for a plain lock/unlock action.
  if (text && !report.source && (report.action == "lock" || report.action == "unlock")) {
    report.source = source_of_name(*text);
    if (!report.source) report.source = LK_SOURCE_UNSPECIFIED;
  }

  if (object->has("auto_relock_time") && !object->isNull("auto_relock_time")) {
    const Var value = object->get("auto_relock_time");
    if (!value.isInteger()) {
      *error = "'auto_relock_time' is not a whole number of seconds";
      return std::nullopt;
    }
    const Poco::Int64 seconds = value.convert<Poco::Int64>();
    if (seconds < 0 || seconds > kMaxRelockTimeS) {
      *error = "'auto_relock_time' " + std::to_string(seconds) + " s is out of range (0 to " +
               std::to_string(kMaxRelockTimeS) + ")";
      return std::nullopt;
    }
    report.auto_relock_time_s = static_cast<uint32_t>(seconds);
  }
  return report;
}

std::optional<SensorReport> parse_sensor_report(const uint8_t* data, std::size_t size, std::string* error) {
  const Object::Ptr object = parse_object(data, size, error);
  if (object.isNull()) return std::nullopt;
  SensorReport report;
  if (object->has("contact") && !object->isNull("contact")) {
    const Var value = object->get("contact");
    if (!value.isBoolean()) {
      *error = "'contact' is not true or false";
      return std::nullopt;
    }
    report.contact = value.extract<bool>();
  }
  return report;
}

}  // namespace latchkey::z2m
