// Reading the hub's state over the API (docs/api.md) and waiting for it to
// reach an expected one: what lk-demo and the integration tests assert on.
// Each wait polls every 20 ms and returns false at its timeout.
#ifndef LATCHKEY_DEMO_HUB_STATUS_HPP
#define LATCHKEY_DEMO_HUB_STATUS_HPP

#include <latchkey/client/api_client.hpp>

#include <Poco/JSON/Object.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace latchkey::demo {

using JsonObject = Poco::JSON::Object::Ptr;

// Polls `condition` until it holds or `timeout` passes; true if it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// GET /v1/doors; the object of one door, null when absent. Throws
// client::ApiError unless the answer is 200.
std::vector<JsonObject> doors(client::ApiClient& api);
JsonObject door(client::ApiClient& api, const std::string& door_id);
// True when every camera of every door reports "live": true.
bool all_cameras_live(client::ApiClient& api);
bool wait_cameras_live(client::ApiClient& api, std::chrono::milliseconds timeout);
// Waits for the door's lock and door state (empty: any) with no open session.
bool wait_door_idle(client::ApiClient& api, const std::string& door_id, const std::string& lock_state,
                    const std::string& door_state, std::chrono::milliseconds timeout);

// GET /v1/sessions; the session with this hex id, null when not listed.
std::vector<JsonObject> sessions(client::ApiClient& api);
JsonObject session(client::ApiClient& api, const std::string& session_hex);
// Waits until the session is listed with "end" == end; returns it or null.
JsonObject wait_session_end(client::ApiClient& api, const std::string& session_hex, const std::string& end,
                            std::chrono::milliseconds timeout);

// GET /v1/alarms?since=id
std::vector<JsonObject> alarms_since(client::ApiClient& api, int64_t since_id);
int64_t last_alarm_id(client::ApiClient& api);
// Waits for an alarm after since_id with this rule (and door or camera, when not empty).
JsonObject wait_alarm(client::ApiClient& api, int64_t since_id, const std::string& rule, const std::string& door,
                      const std::string& camera, std::chrono::milliseconds timeout);

// GET /v1/audit from `from_seq` to the end, page by page.
std::vector<JsonObject> audit_records(client::ApiClient& api, int64_t from_seq = 1);
int64_t last_audit_seq(client::ApiClient& api);

}  // namespace latchkey::demo

#endif  // LATCHKEY_DEMO_HUB_STATUS_HPP
