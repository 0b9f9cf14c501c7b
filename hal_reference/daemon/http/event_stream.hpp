// GET /v1/events: server-sent events fed by HubApi::subscribe. Internal to
// latchkey_http.
#ifndef LATCHKEY_HTTP_EVENT_STREAM_HPP
#define LATCHKEY_HTTP_EVENT_STREAM_HPP

#include <string>

#include "latchkey/hub/hub_api.hpp"
#include "poco_includes.hpp"
#include "server_core.hpp"

namespace latchkey::hub::http {

// One event in text/event-stream form: id, event (the name cleaned to
// [A-Za-z0-9_.-]) and one data line per line of data, then a blank line.
std::string format_event(uint64_t id, const std::string& name, const std::string& data);
// A hub event with its name and data rendered by api_json.
std::string format_event(const HubEvent& event);

// Serves one stream until the client goes away, the server stops, or the
// client falls event_queue_limit events behind. Unsubscribes on every exit.
void serve_event_stream(ServerCore& core, Poco::Net::HTTPServerRequest& request,
                        Poco::Net::HTTPServerResponse& response);

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_EVENT_STREAM_HPP
