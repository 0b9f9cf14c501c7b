#include "api_request_handler.hpp"

#include <array>
#include <string>
#include <vector>

#include "endpoints.hpp"
#include "event_stream.hpp"
#include "json_reply.hpp"
#include "request_body.hpp"
#include "request_target.hpp"
#include "latchkey/http/api_routes.hpp"
#include "openapi_json.hpp"
#include "status_page_html.hpp"

namespace latchkey::hub::http {
namespace {

enum class Endpoint {
  OpenApi, Health, Challenge, Unlock, Doors, Sessions, Alarms, Audit, AuditVerify, Plugins, Events,
  TestDoorAction, TestCameraFault, Snapshot,
};

// "*" matches one id segment.
struct Route {
  Endpoint endpoint;
  std::string_view method;
  std::array<std::string_view, 5> pattern;
  std::size_t length;
  bool test_control;
};

constexpr Route kRoutes[] = {
    {Endpoint::OpenApi, "GET", {"v1", "openapi.json"}, 2, false},
    {Endpoint::Health, "GET", {"v1", "health"}, 2, false},
    {Endpoint::Challenge, "POST", {"v1", "doors", "*", "challenge"}, 4, false},
    {Endpoint::Unlock, "POST", {"v1", "doors", "*", "unlock"}, 4, false},
    {Endpoint::Doors, "GET", {"v1", "doors"}, 2, false},
    {Endpoint::Sessions, "GET", {"v1", "sessions"}, 2, false},
    {Endpoint::Alarms, "GET", {"v1", "alarms"}, 2, false},
    {Endpoint::Audit, "GET", {"v1", "audit"}, 2, false},
    {Endpoint::AuditVerify, "GET", {"v1", "audit", "verify"}, 3, false},
    {Endpoint::Plugins, "GET", {"v1", "plugins"}, 2, false},
    {Endpoint::Events, "GET", {"v1", "events"}, 2, false},
    {Endpoint::Snapshot, "GET", {"v1", "cameras", "*", "snapshot"}, 4, false},
    {Endpoint::TestDoorAction, "POST", {"v1", "test", "doors", "*", "action"}, 5, true},
    {Endpoint::TestCameraFault, "POST", {"v1", "test", "cameras", "*", "fault"}, 5, true},
};

bool matches(const Route& route, const std::vector<std::string>& segments) {
  if (segments.size() != route.length) return false;
  for (std::size_t i = 0; i < route.length; ++i) {
    if (route.pattern[i] == "*") {
      if (segments[i].empty()) return false;
    } else if (route.pattern[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

void send_unauthorized(Poco::Net::HTTPServerResponse& response, bool presented) {
  response.set("WWW-Authenticate",
               presented ? "Bearer realm=\"latchkey\", error=\"invalid_token\"" : "Bearer realm=\"latchkey\"");
  send_error(response, 401, presented ? "wrong bearer token" : "missing bearer token");
}

// Checks "Authorization: Bearer <token>". Sends the 401 itself when it fails.
bool authenticate(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                  const std::string& token) {
  if (!request.has("Authorization")) {
    send_unauthorized(response, false);
    return false;
  }
  const std::string& value = request.get("Authorization");
  constexpr std::string_view kScheme = "bearer ";
  bool scheme_ok = value.size() > kScheme.size();
  for (std::size_t i = 0; scheme_ok && i < kScheme.size(); ++i) {
    scheme_ok = Poco::Ascii::toLower(value[i]) == kScheme[i];
  }
  std::string_view presented;
  if (scheme_ok) {
    presented = std::string_view(value).substr(kScheme.size());
    while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
    while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
  }
  if (!scheme_ok || !token_matches(presented, token)) {
    send_unauthorized(response, true);
    return false;
  }
  return true;
}

void send_status_page(Poco::Net::HTTPServerResponse& response) {
  response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
  set_common_headers(response);
  response.set("Content-Security-Policy",
               "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
               "connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'none'");
  response.set("Referrer-Policy", "no-referrer");
  response.setContentType("text/html; charset=utf-8");
  response.sendBuffer(kStatusPageHtml.data(), kStatusPageHtml.size());
}

}  // namespace

std::vector<ApiRoute> api_routes() {
  std::vector<ApiRoute> out;
  for (const Route& route : kRoutes) {
    std::string path;
    for (std::size_t i = 0; i < route.length; ++i) {
      path += '/';
      path += route.pattern[i] == "*" ? (route.pattern[i - 1] == "doors" ? "{door}" : "{camera}")
                                      : std::string(route.pattern[i]);
    }
    out.push_back({std::string(route.method), path, route.test_control});
  }
  return out;
}

bool token_matches(std::string_view presented, std::string_view expected) {
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    unsigned char p = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff |= static_cast<unsigned char>(p ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0 && !expected.empty();
}

void ApiRequestHandler::handleRequest(Poco::Net::HTTPServerRequest& request,
                                      Poco::Net::HTTPServerResponse& response) {
  try {
    if (core_->stopping()) {
      send_error(response, 503, "server stopping", true);
      return;
    }
    const std::string& version = request.getVersion();
    if (version != Poco::Net::HTTPMessage::HTTP_1_1 && version != Poco::Net::HTTPMessage::HTTP_1_0) {
      // Poco echoes the request's version in the status line; answer in ours.
      response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
      send_error(response, 400, "unsupported HTTP version", true);
      return;
    }
    route(request, response);
  } catch (const std::exception&) {
    if (!response.sent()) send_error(response, 500, "internal error", true);
  }
}

void ApiRequestHandler::route(Poco::Net::HTTPServerRequest& request,
                              Poco::Net::HTTPServerResponse& response) {
  std::string error;
  auto target = parse_request_target(request.getURI(), error);
  if (!target) {
    send_error(response, 400, error, request_has_body(request));
    return;
  }
  const std::string& method = request.getMethod();
  // A body nobody reads must not be taken for the next request.
  if (request_has_body(request)) response.setKeepAlive(false);

  if (target->path == "/") {
    if (method != "GET") {
      response.set("Allow", "GET");
      send_error(response, 405, "method not allowed");
      return;
    }
    send_status_page(response);
    return;
  }
  if (target->segments.empty() || target->segments.front() != "v1") {
    send_error(response, 404, "no such path");
    return;
  }

  // Health and the API's description need no token.
  const bool is_public =
      target->segments.size() == 2 && (target->segments[1] == "health" || target->segments[1] == "openapi.json");
  if (!is_public && !authenticate(request, response, core_->options.token)) return;

  const Route* found = nullptr;
  std::string allow;
  for (const Route& route : kRoutes) {
    if (!matches(route, target->segments)) continue;
    if (route.test_control && !core_->options.test_control) continue;
    if (route.method == method) found = &route;
    if (!allow.empty()) allow += ", ";
    allow += route.method;
  }
  if (allow.empty()) {
    send_error(response, 404, "no such path");
    return;
  }
  if (found == nullptr) {
    response.set("Allow", allow);
    send_error(response, 405, "method not allowed");
    return;
  }

  // Ids are checked before the hub sees them.
  std::string id;
  for (std::size_t i = 0; i < found->length; ++i) {
    if (found->pattern[i] != "*") continue;
    id = target->segments[i];
    if (!is_valid_device_id(id)) {
      send_error(response, 400,
                 std::string(found->pattern[i - 1] == "doors" ? "door" : "camera") +
                     " id must be 1-63 printable characters without '/' or space");
      return;
    }
  }

  // POST endpoints and the event stream take no query parameters.
  if ((found->method == "POST" || found->endpoint == Endpoint::Events) && !target->query.empty()) {
    send_error(response, 400, "unknown query parameter '" + target->query.front().first + "'");
    return;
  }

  switch (found->endpoint) {
    case Endpoint::OpenApi:
      return send_json(response, 200, std::string(kOpenApiJson));
    case Endpoint::Health:
      return serve_health(*core_, *target, response);
    case Endpoint::Challenge:
      return serve_challenge(*core_, id, request, response);
    case Endpoint::Unlock:
      return serve_unlock(*core_, id, request, response);
    case Endpoint::Doors:
      return serve_doors(*core_, *target, response);
    case Endpoint::Sessions:
      return serve_sessions(*core_, *target, response);
    case Endpoint::Alarms:
      return serve_alarms(*core_, *target, response);
    case Endpoint::Audit:
      return serve_audit(*core_, *target, response);
    case Endpoint::AuditVerify:
      return serve_audit_verify(*core_, *target, response);
    case Endpoint::Plugins:
      return serve_plugins(*core_, *target, response);
    case Endpoint::Events:
      return serve_event_stream(*core_, request, response);
    case Endpoint::TestDoorAction:
      return serve_test_door_action(*core_, id, request, response);
    case Endpoint::TestCameraFault:
      return serve_test_camera_fault(*core_, id, request, response);
    case Endpoint::Snapshot:
      return serve_snapshot(*core_, id, *target, response);
  }
}

}  // namespace latchkey::hub::http
