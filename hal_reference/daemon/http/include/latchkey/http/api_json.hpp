// The JSON of docs/api.md: each HubApi answer and event rendered in one
// place, with Poco::JSON, and the HTTP status each answer gets. Everything
// the API emits (answers, error bodies, event data) is written here.
#ifndef LATCHKEY_HTTP_API_JSON_HPP
#define LATCHKEY_HTTP_API_JSON_HPP

#include <string>
#include <string_view>
#include <vector>

#include "latchkey/hub/hub_api.hpp"

namespace latchkey::hub::http {

// An answer as it goes on the wire: status and JSON body.
struct RenderedAnswer {
  int status = 200;
  std::string body;
};

// 200 with the value's JSON (an unlock deny: 403), or the error's status
// (kBadRequest 400, kNotFound 404, kConflict 409, kUnavailable 503) with
// {"error": message, "rule": rule when one applies}.
RenderedAnswer render(const ApiResult<Health>& result);
RenderedAnswer render(const ApiResult<Challenge>& result);
RenderedAnswer render(const ApiResult<UnlockOutcome>& result);
RenderedAnswer render(const ApiResult<std::vector<DoorStatus>>& result);
RenderedAnswer render(const ApiResult<Sessions>& result);
RenderedAnswer render(const ApiResult<std::vector<Alarm>>& result);
RenderedAnswer render(const ApiResult<std::vector<AuditRecord>>& result);
RenderedAnswer render(const ApiResult<AuditVerification>& result);
RenderedAnswer render(const ApiResult<std::vector<PluginStatus>>& result);
RenderedAnswer render(const ApiResult<TestControlDone>& result);

int http_status(ApiErrorKind kind);

// {"error": error} for a refusal of the HTTP layer itself; the text is cut to
// a readable length (at a character boundary).
std::string error_body(std::string_view error);

// The server-sent event's name: alarm, decision, session, door, camera,
// audit or plugin.
const char* event_name(const EventData& data);
// The event's data: one JSON object, on one line, with the time the hub
// published it ("time_ms", Unix ms, and "time", RFC 3339; an alarm's own
// time_ms is its time).
std::string event_json(const HubEvent& event);
// RFC 3339 in UTC with milliseconds, the form of every "time" field.
std::string rfc3339(int64_t unix_ms);

// s with every byte sequence that is not UTF-8 replaced by U+FFFD, so that
// what is rendered is always valid JSON text.
std::string valid_utf8(std::string_view s);

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_API_JSON_HPP
