#include <latchkey/client/api_client.hpp>
#include <latchkey/client/api_json.hpp>
#include <latchkey/crypto/crypto.hpp>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>

#include <algorithm>
#include <cctype>

namespace latchkey::client {

namespace {

Poco::Timespan timespan(std::chrono::milliseconds ms) { return Poco::Timespan(ms.count() * 1000); }

std::string body_excerpt(const std::string& body) {
  constexpr std::size_t kMax = 200;
  return body.size() <= kMax ? body : body.substr(0, kMax) + "...";
}

}  // namespace

Poco::JSON::Object::Ptr ApiResponse::json() const {
  try {
    return parse_json_object(body);
  } catch (const std::runtime_error& e) {
    throw ApiError("HTTP " + std::to_string(status) + " answer is " + e.what() + ": " + body_excerpt(body), status);
  }
}

std::string ApiResponse::error_text() const {
  try {
    const auto object = parse_json_object(body);
    std::string text = json_text(object, "error");
    if (text.empty()) return body_excerpt(body);
    const std::string rule = json_text(object, "rule");
    return rule.empty() ? text : text + " (" + rule + ")";
  } catch (const std::runtime_error&) {
    return body_excerpt(body);
  }
}

ApiClient::ApiClient(ApiEndpoint endpoint, std::string token, ClientOptions options)
    : endpoint_(std::move(endpoint)), token_(std::move(token)), options_(options) {}

ApiClient::~ApiClient() = default;

void ApiClient::reset_session() {
  session_ = std::make_unique<Poco::Net::HTTPClientSession>(endpoint_.host, endpoint_.port);
  session_->setTimeout(timespan(options_.connect_timeout), timespan(options_.receive_timeout),
                       timespan(options_.receive_timeout));
  session_->setKeepAlive(true);
  reused_ = false;
}

ApiResponse ApiClient::get(const std::string& path) {
  RawRequest request;
  request.method = "GET";
  request.path = path;
  return send(request);
}

ApiResponse ApiClient::post(const std::string& path, const std::string& json_body) {
  RawRequest request;
  request.method = "POST";
  request.path = path;
  request.body = json_body;
  request.content_type = "application/json";
  return send(request);
}

ApiResponse ApiClient::send(const RawRequest& request) {
  if (!session_) reset_session();
  const bool was_reused = reused_;
  try {
    return exchange(request);
  } catch (const ApiError&) {
    // A kept-alive connection the daemon closed while idle fails before the
    // request reaches it: try once more on a fresh connection. A timeout is
    // an answer that did not come, not a closed connection.
    if (!was_reused || timed_out_) throw;
    reset_session();
    return exchange(request);
  }
}

ApiResponse ApiClient::exchange(const RawRequest& request) {
  const std::string what = request.method + " " + endpoint_.url() + request.path;
  timed_out_ = false;
  try {
    Poco::Net::HTTPRequest http(request.method, request.path, Poco::Net::HTTPMessage::HTTP_1_1);
    http.setKeepAlive(true);
    http.setHost(endpoint_.host, endpoint_.port);
    if (!request.authorization) {
      http.set("Authorization", "Bearer " + token_);
    } else if (!request.authorization->empty()) {
      http.set("Authorization", *request.authorization);
    }
    if (request.content_type) http.setContentType(*request.content_type);
    for (const auto& [name, value] : request.headers) http.set(name, value);
    if (request.body) http.setContentLength(static_cast<std::streamsize>(request.body->size()));
    // With a Content-Length, Poco buffers the header in the request stream: flush it first.
    session_->sendRequest(http).flush();
    if (request.body) {
      // The body goes straight to the socket: a server may answer early (413)
      // and close before reading all of it, and that answer is still worth
      // reading, so a failed write is not yet an error. (Poco's request
      // stream would keep the unsent bytes and fail the answer's read too.)
      const std::string& body = *request.body;
      std::size_t sent = 0;
      try {
        while (sent < body.size()) {
          const int n = session_->socket().sendBytes(body.data() + sent,
                                                     static_cast<int>(std::min<std::size_t>(body.size() - sent, 65536)));
          if (n <= 0) break;
          sent += static_cast<std::size_t>(n);
        }
      } catch (const Poco::Exception&) {
        // Read the answer below; without one, that read reports the failure.
      }
    }
    Poco::Net::HTTPResponse http_response;
    std::istream& in = session_->receiveResponse(http_response);
    ApiResponse response;
    response.status = static_cast<int>(http_response.getStatus());
    response.content_type = http_response.getContentType();
    Poco::StreamCopier::copyToString(in, response.body);
    if (http_response.getKeepAlive()) {
      reused_ = true;
    } else {
      session_.reset();
    }
    return response;
  } catch (const Poco::TimeoutException&) {
    session_.reset();
    timed_out_ = true;
    throw ApiError(what + ": no answer within " + std::to_string(options_.receive_timeout.count()) + " ms");
  } catch (const Poco::Exception& e) {
    session_.reset();
    throw ApiError(what + ": " + e.displayText());
  } catch (const std::ios_base::failure& e) {
    session_.reset();
    throw ApiError(what + ": " + e.what());
  }
}

std::vector<uint8_t> ApiClient::challenge(const std::string& door) {
  const ApiResponse response = post("/v1/doors/" + encode_path_segment(door) + "/challenge", "{}");
  if (response.status != 200) {
    throw ApiError("challenge for door '" + door + "': HTTP " + std::to_string(response.status) + ": " +
                       response.error_text(),
                   response.status);
  }
  const auto bytes = crypto::from_hex(json_text(response.json(), "challenge"));
  if (!bytes || bytes->empty()) {
    throw ApiError("challenge for door '" + door + "': answer has no hex \"challenge\": " + response.body,
                   response.status);
  }
  return *bytes;
}

UnlockAnswer ApiClient::unlock(const std::string& door, const std::vector<uint8_t>& unlock_request) {
  auto body = new_json_object();
  body->set("request", crypto::to_hex(unlock_request));
  const ApiResponse response = post("/v1/doors/" + encode_path_segment(door) + "/unlock", json_string(body));
  if (response.status != 200 && response.status != 403) {
    throw ApiError("unlock at door '" + door + "': HTTP " + std::to_string(response.status) + ": " +
                       response.error_text(),
                   response.status);
  }
  const auto object = response.json();
  UnlockAnswer answer;
  answer.status = response.status;
  answer.decision = json_text(object, "decision");
  answer.rule = json_text(object, "rule");
  answer.error = json_text(object, "error");
  answer.session = json_text(object, "session");
  answer.request_id = json_int(object, "request_id");
  answer.allowed = response.status == 200 && answer.decision == "allow";
  return answer;
}

ApiResponse ApiClient::door_action(const std::string& door, const std::string& action) {
  auto body = new_json_object();
  body->set("action", action);
  return post("/v1/test/doors/" + encode_path_segment(door) + "/action", json_string(body));
}

ApiResponse ApiClient::camera_fault(const std::string& camera, const std::string& fault, int64_t parameter) {
  auto body = new_json_object();
  body->set("fault", fault);
  body->set("parameter", Poco::Int64(parameter));
  return post("/v1/test/cameras/" + encode_path_segment(camera) + "/fault", json_string(body));
}

std::string encode_path_segment(const std::string& segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : segment) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

}  // namespace latchkey::client
