#include "endpoints.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include "json_reply.hpp"
#include "request_body.hpp"
#include "snapshot_image.hpp"

namespace latchkey::hub::http {
namespace {

bool no_query(const RequestTarget& target, Response& response) {
  std::string error;
  if (check_query_names(target, {}, error)) return true;
  send_error(response, 400, error);
  return false;
}

// Reads an optional unsigned query parameter; sends 400 when it is not one.
bool query_u64(const RequestTarget& target, std::string_view name, uint64_t& value,
               Response& response) {
  auto text = query_value(target, name);
  if (!text) return true;
  auto parsed = parse_decimal_u64(*text);
  if (!parsed) {
    send_error(response, 400, "query parameter '" + std::string(name) + "' must be a decimal number");
    return false;
  }
  value = *parsed;
  return true;
}

// Reads the body as a JSON object with the given fields; sends the refusal itself.
Poco::JSON::Object::Ptr read_object(ServerCore& core, Request& request, Response& response,
                                    const std::vector<std::string_view>& fields) {
  std::string body;
  BodyError failure = read_json_body(request, core.options.max_body, body);
  if (failure.status != 0) {
    send_error(response, failure.status, failure.error, failure.close);
    return nullptr;
  }
  std::string error;
  auto object = parse_json_object(body, fields, error);
  if (object.isNull()) send_error(response, 400, error);
  return object;
}

bool one_of(const std::string& value, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

}  // namespace

void serve_health(ServerCore& core, const RequestTarget& target, Response& response) {
  if (no_query(target, response)) send_answer(response, render(core.api.health()));
}

void serve_challenge(ServerCore& core, const std::string& door, Request& request, Response& response) {
  // No body, or an empty JSON object.
  if (request_has_body(request) && read_object(core, request, response, {}).isNull()) return;
  send_answer(response, render(core.api.challenge(door)));
}

void serve_unlock(ServerCore& core, const std::string& door, Request& request, Response& response) {
  auto object = read_object(core, request, response, {"request"});
  if (object.isNull()) return;
  std::string hex;
  std::string error;
  std::vector<uint8_t> unlock_request;
  if (!get_string_field(*object, "request", hex, error) ||
      !decode_hex_field("request", hex, kMinUnlockRequestBytes, kMaxUnlockRequestBytes,
                        unlock_request, error)) {
    send_error(response, 400, error);
    return;
  }
  send_answer(response, render(core.api.unlock(door, unlock_request)));
}

void serve_doors(ServerCore& core, const RequestTarget& target, Response& response) {
  if (no_query(target, response)) send_answer(response, render(core.api.doors()));
}

void serve_sessions(ServerCore& core, const RequestTarget& target, Response& response) {
  if (no_query(target, response)) send_answer(response, render(core.api.sessions()));
}

void serve_alarms(ServerCore& core, const RequestTarget& target, Response& response) {
  std::string error;
  if (!check_query_names(target, {"since"}, error)) {
    send_error(response, 400, error);
    return;
  }
  uint64_t since = 0;
  if (query_u64(target, "since", since, response)) send_answer(response, render(core.api.alarms(since)));
}

void serve_audit(ServerCore& core, const RequestTarget& target, Response& response) {
  std::string error;
  if (!check_query_names(target, {"from", "limit"}, error)) {
    send_error(response, 400, error);
    return;
  }
  uint64_t from = 0;
  uint64_t limit = kDefaultAuditLimit;
  if (!query_u64(target, "from", from, response) || !query_u64(target, "limit", limit, response)) return;
  if (limit < 1 || limit > kMaxAuditLimit) {
    send_error(response, 400, "query parameter 'limit' must be 1 to " + std::to_string(kMaxAuditLimit));
    return;
  }
  send_answer(response, render(core.api.audit(from, static_cast<std::size_t>(limit))));
}

void serve_audit_verify(ServerCore& core, const RequestTarget& target, Response& response) {
  if (no_query(target, response)) send_answer(response, render(core.api.audit_verify()));
}

void serve_plugins(ServerCore& core, const RequestTarget& target, Response& response) {
  if (no_query(target, response)) send_answer(response, render(core.api.plugins()));
}

void serve_snapshot(ServerCore& core, const std::string& camera, const RequestTarget& target, Response& response) {
  if (!no_query(target, response)) return;
  const ApiResult<CameraSnapshot> shot = core.api.snapshot(camera);
  if (!shot.ok()) {
    send_error(response, http_status(shot.error().kind), shot.error().message);
    return;
  }
  WebImage image{"image/jpeg", shot->image};
  if (shot->format == CameraSnapshot::Format::kPpm) {
    std::string error;
    auto bmp = bmp_from_ppm(shot->image, &error);
    if (!bmp) {
      send_error(response, 503, "camera '" + camera + "': " + error);
      return;
    }
    image = std::move(*bmp);
  }
  response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
  set_common_headers(response);
  response.setContentType(image.media_type);
  response.sendBuffer(image.bytes.data(), image.bytes.size());
}

void serve_test_door_action(ServerCore& core, const std::string& door, Request& request,
                            Response& response) {
  auto object = read_object(core, request, response, {"action"});
  if (object.isNull()) return;
  std::string action;
  std::string error;
  if (!get_string_field(*object, "action", action, error)) {
    send_error(response, 400, error);
    return;
  }
  if (!one_of(action, {"open", "close", "manual_lock", "manual_unlock"})) {
    send_error(response, 400, "field 'action' must be open, close, manual_lock or manual_unlock");
    return;
  }
  send_answer(response, render(core.api.test_door_action(door, action)));
}

void serve_test_camera_fault(ServerCore& core, const std::string& camera, Request& request,
                             Response& response) {
  auto object = read_object(core, request, response, {"fault", "parameter"});
  if (object.isNull()) return;
  std::string fault;
  int64_t parameter = 0;
  std::string error;
  if (!get_string_field(*object, "fault", fault, error) ||
      !get_int_field(*object, "parameter", parameter, error)) {
    send_error(response, 400, error);
    return;
  }
  if (!one_of(fault, {"freeze", "offline", "replay", "ignore_nonce", "repeat_counter", "wrong_key",
                      "clock_jump", "covered", "clear"})) {
    send_error(response, 400,
               "field 'fault' must be freeze, offline, replay, ignore_nonce, repeat_counter, "
               "wrong_key, clock_jump, covered or clear");
    return;
  }
  send_answer(response, render(core.api.test_camera_fault(camera, fault, parameter)));
}

}  // namespace latchkey::hub::http
