// ApiClient: a blocking HTTP/1.1 client for latchkeyd's API (docs/api.md)
// over Poco::Net::HTTPClientSession, with the bearer token on every request.
//
// One connection, kept alive between requests; a request that fails on a
// kept-alive connection the daemon had already closed is sent once more on
// a fresh one. Not thread-safe: use one ApiClient per thread.
//
// Errors: transport failures (connection refused, timeout, connection lost)
// throw ApiError with status() 0. The typed helpers (challenge, unlock)
// also throw ApiError, with the HTTP status, when the answer is not the
// documented one; get, post and send return every HTTP answer as it came.
#ifndef LATCHKEY_CLIENT_API_CLIENT_HPP
#define LATCHKEY_CLIENT_API_CLIENT_HPP

#include <latchkey/client/api_endpoint.hpp>

#include <Poco/JSON/Object.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace Poco::Net {
class HTTPClientSession;
}

namespace latchkey::client {

class ApiError : public std::runtime_error {
 public:
  ApiError(const std::string& what, int status = 0) : std::runtime_error(what), status_(status) {}
  int status() const noexcept { return status_; }  // 0: no HTTP answer

 private:
  int status_;
};

struct ApiResponse {
  int status = 0;
  std::string content_type;
  std::string body;

  // The body as a JSON object; throws ApiError naming the status and the
  // start of the body when it is not one.
  Poco::JSON::Object::Ptr json() const;
  // The "error" (and "rule") of an error answer, or the body when it is not JSON.
  std::string error_text() const;
};

// A request with every part under the caller's control (tests of bad input).
struct RawRequest {
  std::string method = "GET";
  std::string path = "/";
  std::optional<std::string> body;               // sent with Content-Length
  std::optional<std::string> content_type;        // nullopt: no Content-Type header
  // nullopt: "Bearer <the client's token>"; "" : no Authorization header;
  // anything else is sent as the header's value.
  std::optional<std::string> authorization;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  // An unlock waits for the cameras' recording acknowledgement and the commit.
  std::chrono::milliseconds receive_timeout{15000};
};

// The answer to POST /v1/doors/{door}/unlock.
struct UnlockAnswer {
  int status = 0;
  bool allowed = false;      // 200 with "decision":"allow"
  std::string decision;      // "allow" or "deny"
  std::string rule;          // docs/rules.md ID of a deny
  std::string error;         // why, for a deny or an error
  std::string session;       // hex session id of an allow
  int64_t request_id = 0;
};

class ApiClient {
 public:
  ApiClient(ApiEndpoint endpoint, std::string token, ClientOptions options = {});
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  const ApiEndpoint& endpoint() const noexcept { return endpoint_; }

  ApiResponse get(const std::string& path);
  // POST with Content-Type: application/json.
  ApiResponse post(const std::string& path, const std::string& json_body);
  ApiResponse send(const RawRequest& request);

  // G2: POST /v1/doors/{door}/challenge; the challenge bytes.
  std::vector<uint8_t> challenge(const std::string& door);
  // POST /v1/doors/{door}/unlock with {"request":"<hex>"}; 200 and 403 are
  // answers, anything else throws ApiError.
  UnlockAnswer unlock(const std::string& door, const std::vector<uint8_t>& unlock_request);
  // Test control (docs/api.md, [hub] test_control = true).
  ApiResponse door_action(const std::string& door, const std::string& action);
  ApiResponse camera_fault(const std::string& camera, const std::string& fault, int64_t parameter = 0);

 private:
  ApiResponse exchange(const RawRequest& request);
  void reset_session();

  ApiEndpoint endpoint_;
  std::string token_;
  ClientOptions options_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  bool reused_ = false;     // the current connection already carried a request
  bool timed_out_ = false;  // the last exchange failed for want of an answer
};

// Percent-encodes a path segment (door and camera ids).
std::string encode_path_segment(const std::string& segment);

}  // namespace latchkey::client

#endif  // LATCHKEY_CLIENT_API_CLIENT_HPP
