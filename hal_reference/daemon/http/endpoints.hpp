// The endpoints of docs/api.md once routing, authentication and id checks are
// done: each validates its query or body, asks the HubApi and sends its typed
// answer rendered by api_json. Internal to latchkey_http.
#ifndef LATCHKEY_HTTP_ENDPOINTS_HPP
#define LATCHKEY_HTTP_ENDPOINTS_HPP

#include <string>

#include "latchkey/hub/hub_api.hpp"
#include "poco_includes.hpp"
#include "request_target.hpp"
#include "server_core.hpp"

namespace latchkey::hub::http {

// Decoded UnlockRequest sizes accepted before the hub parses it.
inline constexpr std::size_t kMinUnlockRequestBytes = 64;
inline constexpr std::size_t kMaxUnlockRequestBytes = 8192;
// GET /v1/audit: default and largest limit.
inline constexpr uint64_t kDefaultAuditLimit = 100;
inline constexpr uint64_t kMaxAuditLimit = 1000;

using Response = Poco::Net::HTTPServerResponse;
using Request = Poco::Net::HTTPServerRequest;

void serve_health(ServerCore& core, const RequestTarget& target, Response& response);
void serve_challenge(ServerCore& core, const std::string& door, Request& request, Response& response);
void serve_unlock(ServerCore& core, const std::string& door, Request& request, Response& response);
void serve_doors(ServerCore& core, const RequestTarget& target, Response& response);
void serve_sessions(ServerCore& core, const RequestTarget& target, Response& response);
void serve_alarms(ServerCore& core, const RequestTarget& target, Response& response);
void serve_audit(ServerCore& core, const RequestTarget& target, Response& response);
void serve_audit_verify(ServerCore& core, const RequestTarget& target, Response& response);
void serve_plugins(ServerCore& core, const RequestTarget& target, Response& response);
// GET /v1/cameras/{camera}/snapshot: the picture (image/jpeg, or image/bmp from a PPM).
void serve_snapshot(ServerCore& core, const std::string& camera, const RequestTarget& target, Response& response);
void serve_test_door_action(ServerCore& core, const std::string& door, Request& request,
                            Response& response);
void serve_test_camera_fault(ServerCore& core, const std::string& camera, Request& request,
                             Response& response);

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_ENDPOINTS_HPP
