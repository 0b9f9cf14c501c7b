#include <latchkey/client/api_json.hpp>
#include <latchkey/client/event_text.hpp>

#include <ctime>
#include <cstdio>
#include <vector>

namespace latchkey::client {

std::string short_id(const std::string& id, std::size_t n) {
  return id.size() <= n + 3 ? id : id.substr(0, n) + "...";
}

std::string format_unix_ms(int64_t unix_ms, bool with_date) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[96];
  if (with_date) {
    std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%03d", parts.tm_year + 1900, parts.tm_mon + 1,
                  parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, static_cast<int>(unix_ms % 1000));
  } else {
    std::snprintf(text, sizeof text, "%02d:%02d:%02d.%03d", parts.tm_hour, parts.tm_min, parts.tm_sec,
                  static_cast<int>(unix_ms % 1000));
  }
  return text;
}

std::string describe_event_data(const SseEvent& event) {
  const Poco::JSON::Object::Ptr object = event.json();
  if (!object) return event.data;
  // The fields a person reads first; ids of sessions and grants shortened.
  static const std::vector<std::string> kFields = {
      "door",    "id",      "camera",  "type",   "decision", "rule",    "command", "result",
      "lock_state", "door_state", "lock_alarm", "live", "status", "end", "state", "session",
      "grant",   "subject", "message", "error",  "detail",
  };
  std::string line;
  for (const std::string& field : kFields) {
    std::string value = json_text(object, field);
    if (value.empty()) continue;
    if (field == "session" || field == "grant" || field == "subject") value = short_id(value);
    if (field == "detail" && value.size() > 80) value = value.substr(0, 77) + "...";
    if (!line.empty()) line += ' ';
    line += field + "=" + value;
  }
  return line.empty() ? event.data : line;
}

}  // namespace latchkey::client
