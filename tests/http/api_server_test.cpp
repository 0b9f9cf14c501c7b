// ApiServer against docs/api.md: authentication, routing, validation of ids,
// queries and bodies, and the hub's answers passed through unchanged.
// One list of cases per endpoint of one server: long by nature.
#include "latchkey/hub/api_server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "fake_hub_api.hpp"
#include "http_test_support.hpp"

namespace latchkey::hub::testing {
namespace {

const std::string kUnlockHex(128, 'a');   // 64 bytes of 0xaa

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void start(ApiServer::Options options) {
    server_.reset();
    options.address = "127.0.0.1:0";
    options.token = kToken;
    options.test_control = options.test_control || test_control_;
    server_ = std::make_unique<ApiServer>(hub_, options);
    server_->start();
    port_ = server_->port();
  }
  Reply get(const std::string& path, const CallOptions& options = {}) {
    return call(port_, "GET", path, "", options);
  }
  Reply post(const std::string& path, const std::string& body, const CallOptions& options = {}) {
    return call(port_, "POST", path, body, options);
  }
  static void expect_error(const Reply& reply, int status, const std::string& fragment) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(reply.header("Content-Type"), "application/json");
    EXPECT_EQ(reply.body.rfind("{\"error\":", 0), 0u) << reply.body;
    EXPECT_NE(reply.body.find(fragment), std::string::npos) << reply.body;
  }

  FakeHubApi hub_;
  bool test_control_ = true;
  std::unique_ptr<ApiServer> server_;
  uint16_t port_ = 0;
};

// ---- authentication -----------------------------------------------------------

TEST_F(ApiServerTest, Auth_MissingToken_401WithWwwAuthenticate) {
  Reply reply = get("/v1/doors", {.token = std::nullopt});
  expect_error(reply, 401, "missing bearer token");
  EXPECT_EQ(reply.header("WWW-Authenticate"), "Bearer realm=\"latchkey\"");
  EXPECT_EQ(hub_.call_count(), 0u);
}

TEST_F(ApiServerTest, Auth_WrongToken_401) {
  std::string wrong = kToken;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  for (const std::string& token : {wrong, kToken + "x", kToken.substr(1), std::string("x")}) {
    Reply reply = get("/v1/doors", {.token = token});
    expect_error(reply, 401, "wrong bearer token");
    EXPECT_NE(reply.header("WWW-Authenticate").find("invalid_token"), std::string::npos);
  }
  Reply basic = get("/v1/doors", {.token = std::nullopt, .headers = {{"Authorization", "Basic " + kToken}}});
  EXPECT_EQ(basic.status, 401);
  EXPECT_EQ(hub_.call_count(), 0u);
}

TEST_F(ApiServerTest, Auth_WrongToken_401EvenOnUnknownPaths) {
  EXPECT_EQ(get("/v1/nothing", {.token = std::nullopt}).status, 401);
  EXPECT_EQ(call(port_, "DELETE", "/v1/doors", "", {.token = "x"}).status, 401);
}

TEST_F(ApiServerTest, Auth_RightToken_ReachesHub) {
  Reply reply = get("/v1/doors");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "{\"doors\":[]}");
  Reply lower = get("/v1/doors", {.token = std::nullopt, .headers = {{"Authorization", "bearer " + kToken}}});
  EXPECT_EQ(lower.status, 200);
}

TEST_F(ApiServerTest, Health_NeedsNoToken) {
  Reply reply = get("/v1/health", {.token = std::nullopt});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body,
            R"({"status":"ok","storage":"ok","uptime_ms":0,"doors":0,"cameras":0,"audit_records":0})");
}

TEST_F(ApiServerTest, TokenMatches_ComparesWholeToken) {
  EXPECT_EQ(get("/v1/sessions", {.token = kToken + " "}).status, 200);   // trailing space trimmed
  EXPECT_EQ(get("/v1/sessions", {.token = kToken + "0"}).status, 401);
  EXPECT_EQ(get("/v1/sessions", {.token = ""}).status, 401);
}

// ---- headers ------------------------------------------------------------------------

TEST_F(ApiServerTest, Responses_CarryJsonAndNoStore) {
  for (const Reply& reply : {get("/v1/health"), get("/v1/nope"), get("/v1/doors", {.token = std::nullopt}),
                             post("/v1/doors/front/unlock", "{")}) {
    EXPECT_EQ(reply.header("Content-Type"), "application/json");
    EXPECT_EQ(reply.header("Cache-Control"), "no-store");
  }
}

TEST_F(ApiServerTest, StatusPage_ServedWithoutTokenAsHtml) {
  Reply reply = get("/", {.token = std::nullopt});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(reply.header("Cache-Control"), "no-store");
  EXPECT_NE(reply.header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(reply.body.find("<h1>Latchkey hub status</h1>"), std::string::npos);
  EXPECT_NE(reply.body.find("/v1/events"), std::string::npos);
  EXPECT_EQ(post("/", "{}").status, 405);
}

// ---- routing ------------------------------------------------------------------------

TEST_F(ApiServerTest, Route_UnknownPath_404) {
  for (const char* path : {"/v1", "/v1/", "/v1/doors/", "/v1/doors/front", "/v1/doors/front/open",
                           "/v2/doors", "/index.html", "/v1//doors", "/v1/audit/verify/x"}) {
    expect_error(get(path), 404, "no such path");
  }
  EXPECT_EQ(hub_.call_count(), 0u);
}

TEST_F(ApiServerTest, Route_WrongMethod_405WithAllow) {
  Reply reply = post("/v1/doors", "{}");
  expect_error(reply, 405, "method not allowed");
  EXPECT_EQ(reply.header("Allow"), "GET");
  Reply unlock = get("/v1/doors/front/unlock");
  EXPECT_EQ(unlock.status, 405);
  EXPECT_EQ(unlock.header("Allow"), "POST");
  EXPECT_EQ(call(port_, "DELETE", "/v1/health", "", {.token = std::nullopt}).status, 405);
  EXPECT_EQ(call(port_, "PUT", "/v1/events").status, 405);
  EXPECT_EQ(hub_.call_count(), 0u);
}

TEST_F(ApiServerTest, TestControl_Disabled_404) {
  test_control_ = false;
  start({});
  expect_error(post("/v1/test/doors/front/action", R"({"action":"open"})"), 404, "no such path");
  expect_error(post("/v1/test/cameras/porch/fault", R"({"fault":"freeze"})"), 404, "no such path");
  EXPECT_EQ(hub_.call_count(), 0u);
}

// ---- ids in paths -------------------------------------------------------------------

TEST_F(ApiServerTest, PathId_Invalid_400BeforeHub) {
  const std::string too_long(64, 'd');
  for (const std::string& id : {too_long, std::string("a%2Fb"), std::string("a%20b"), std::string("%C3%A9t%C3%A9"),
                                std::string("tab%09"), std::string("%7F")}) {
    expect_error(post("/v1/doors/" + id + "/challenge", ""), 400, "door id");
  }
  expect_error(post("/v1/test/cameras/" + too_long + "/fault", R"({"fault":"clear"})"), 400, "camera id");
  expect_error(post("/v1/doors/a%zz/challenge", ""), 400, "percent");
  expect_error(post("/v1/doors/a%00/challenge", ""), 400, "percent");
  EXPECT_EQ(hub_.call_count(), 0u);
}

TEST_F(ApiServerTest, PathId_DecodedAndPassed) {
  EXPECT_EQ(post("/v1/doors/" + std::string(63, 'd') + "/challenge", "").status, 200);
  EXPECT_EQ(post("/v1/doors/front%2Ddoor/challenge", "").status, 200);
  auto calls = hub_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].id, std::string(63, 'd'));
  EXPECT_EQ(calls[1].method, "challenge");
  EXPECT_EQ(calls[1].id, "front-door");
}

// ---- query parameters -----------------------------------------------------------------

TEST_F(ApiServerTest, Query_ValidValuesAndDefaults) {
  EXPECT_EQ(get("/v1/alarms").status, 200);
  EXPECT_EQ(get("/v1/alarms?since=42").status, 200);
  EXPECT_EQ(get("/v1/audit").status, 200);
  EXPECT_EQ(get("/v1/audit?from=18446744073709551615&limit=1000").status, 200);
  auto calls = hub_.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].number, 0u);
  EXPECT_EQ(calls[1].number, 42u);
  EXPECT_EQ(calls[2].number, 0u);
  EXPECT_EQ(calls[2].limit, 100u);
  EXPECT_EQ(calls[3].number, UINT64_MAX);
  EXPECT_EQ(calls[3].limit, 1000u);
}

TEST_F(ApiServerTest, Query_Invalid_400) {
  expect_error(get("/v1/audit?limit=1001"), 400, "'limit'");
  expect_error(get("/v1/audit?limit=0"), 400, "'limit'");
  expect_error(get("/v1/audit?from=-1"), 400, "'from'");
  expect_error(get("/v1/audit?from=18446744073709551616"), 400, "'from'");
  expect_error(get("/v1/audit?from=1&from=2"), 400, "twice");
  expect_error(get("/v1/alarms?since=1x"), 400, "'since'");
  expect_error(get("/v1/alarms?since="), 400, "'since'");
  expect_error(get("/v1/alarms?sinse=1"), 400, "unknown query parameter 'sinse'");
  expect_error(get("/v1/doors?x=1"), 400, "unknown query parameter 'x'");
  expect_error(get("/v1/events?since=1"), 400, "unknown query parameter");
  expect_error(post("/v1/doors/front/challenge?door=back", ""), 400, "unknown query parameter 'door'");
  EXPECT_EQ(hub_.call_count(), 0u);
}

// ---- bodies -------------------------------------------------------------------------

TEST_F(ApiServerTest, Body_WrongContentType_415) {
  const std::string body = "{\"request\":\"" + kUnlockHex + "\"}";
  expect_error(post("/v1/doors/front/unlock", body, {.content_type = "text/plain"}), 415, "application/json");
  expect_error(post("/v1/doors/front/unlock", body, {.content_type = ""}), 415, "application/json");
  expect_error(post("/v1/doors/front/unlock", body, {.content_type = "application/jsonx"}), 415, "Content-Type");
  EXPECT_EQ(post("/v1/doors/front/unlock", body, {.content_type = "Application/JSON; charset=utf-8"}).status, 200);
  EXPECT_EQ(hub_.call_count(), 1u);
}

TEST_F(ApiServerTest, Body_DeclaredTooLarge_413WithoutReading) {
  // Only the headers go out: the answer must not wait for 20 KiB that never come.
  RawResult result = raw_exchange(port_, "POST /v1/doors/front/unlock HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                             kToken + "\r\nContent-Type: application/json\r\nContent-Length: 20481\r\n\r\n");
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.status(), 413) << result.data;
  EXPECT_EQ(hub_.call_count(), 0u);
}

TEST_F(ApiServerTest, Body_UndeclaredChunkedTooLarge_413) {
  std::string body = "{\"request\":\"" + std::string(21000, 'a') + "\"}";
  expect_error(post("/v1/doors/front/unlock", body, {.chunked = true}), 413, "larger than 20480");
  EXPECT_EQ(hub_.call_count(), 0u);
}

// docs/api.md allows unlock requests of 64 to 8192 bytes; the body limit must
// let the largest one through (16384 hex digits in {"request":"..."}).
TEST_F(ApiServerTest, Limits_LargestUnlockRequestPassesTheHttpLayer_OneByteMoreIsRefused) {
  const std::string largest = "{\"request\":\"" + std::string(2 * 8192, 'c') + "\"}";
  ASSERT_EQ(post("/v1/doors/front/unlock", largest).status, 200);
  auto calls = hub_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].bytes.size(), 8192u);
  expect_error(post("/v1/doors/front/unlock", "{\"request\":\"" + std::string(2 * 8193, 'c') + "\"}"), 400,
               "must hold 64 to 8192 bytes");
  EXPECT_EQ(hub_.call_count(), 1u);
}

TEST_F(ApiServerTest, Limits_BodyOfExactlyMaxBodyAccepted_OneByteMore413NamingTheLimit) {
  const std::size_t max_body = ApiServer::Options{}.max_body;
  const std::string request = "{\"request\":\"" + kUnlockHex + "\"}";
  // Whitespace is valid JSON padding: the body is exactly max_body bytes.
  const std::string at_limit = request + std::string(max_body - request.size(), ' ');
  EXPECT_EQ(post("/v1/doors/front/unlock", at_limit).status, 200);
  expect_error(post("/v1/doors/front/unlock", at_limit + " "), 413,
               "body larger than " + std::to_string(max_body) + " bytes");
  expect_error(post("/v1/doors/front/unlock", at_limit + " ", {.chunked = true}), 413,
               "body larger than " + std::to_string(max_body) + " bytes");
  EXPECT_EQ(hub_.call_count(), 1u);
}

TEST_F(ApiServerTest, Body_ChunkedWithinLimit_Accepted) {
  EXPECT_EQ(post("/v1/doors/front/unlock", "{\"request\":\"" + kUnlockHex + "\"}", {.chunked = true}).status, 200);
}

TEST_F(ApiServerTest, Body_ConfiguredLimit_413) {
  start({.max_body = 100});
  expect_error(post("/v1/doors/front/unlock", "{\"request\":\"" + kUnlockHex + "\"}"), 413, "larger than 100");
}

TEST_F(ApiServerTest, Body_ShorterThanDeclared_400) {
  RawResult result = raw_exchange(port_, raw_request("POST", "/v1/doors/front/unlock", "") +
                                             "");  // Content-Length 0 is fine; now lie about it:
  EXPECT_EQ(result.status(), 400) << result.data;   // empty body is not a JSON object
  std::string text = "POST /v1/doors/front/unlock HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
                     "\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"request\":";
  RawResult short_body = raw_exchange(port_, text);
  EXPECT_EQ(short_body.status(), 400) << short_body.data;
  EXPECT_NE(short_body.data.find("shorter than Content-Length"), std::string::npos);
}

TEST_F(ApiServerTest, Version_Unsupported_400InOurVersion) {
  RawResult result = raw_exchange(port_, "GET /v1/health HTTP/2.0\r\nHost: x\r\n\r\n");
  EXPECT_EQ(result.data.rfind("HTTP/1.1 400 ", 0), 0u) << result.data;
  EXPECT_NE(result.data.find("unsupported HTTP version"), std::string::npos);
  EXPECT_EQ(hub_.call_count(), 0u);
}

TEST_F(ApiServerTest, Body_MissingLength_411) {
  RawResult result = raw_exchange(port_, "POST /v1/doors/front/unlock HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                             kToken + "\r\nContent-Type: application/json\r\n\r\n{}");
  EXPECT_EQ(result.status(), 411) << result.data;
}

TEST_F(ApiServerTest, Body_MalformedJson_400) {
  for (const char* body : {"{", "{\"request\":}", "{\"request\":tru}", "{\"request\":\"aa\",}", "\xff\xfe"}) {
    expect_error(post("/v1/doors/front/unlock", body), 400, "not valid JSON");
  }
  expect_error(post("/v1/doors/front/unlock", std::string(100, '[') + std::string(100, ']')), 400, "nests deeper");
  EXPECT_EQ(hub_.call_count(), 0u);
}

TEST_F(ApiServerTest, Body_NotAnObject_400) {
  for (const char* body : {"[]", "\"request\"", "42", "null", "[{\"request\":\"aa\"}]"}) {
    expect_error(post("/v1/doors/front/unlock", body), 400, "must be a JSON object");
  }
}

TEST_F(ApiServerTest, Body_WrongFieldType_400NamingField) {
  expect_error(post("/v1/doors/front/unlock", R"({"request":42})"), 400, "'request' must be a string");
  expect_error(post("/v1/doors/front/unlock", R"({"request":["aa"]})"), 400, "'request' must be a string");
  expect_error(post("/v1/doors/front/unlock", R"({})"), 400, "'request' is missing");
  expect_error(post("/v1/doors/front/unlock", R"({"request":"aa","extra":1})"), 400, "unknown field 'extra'");
  expect_error(post("/v1/test/doors/front/action", R"({"action":true})"), 400, "'action' must be a string");
  expect_error(post("/v1/test/doors/front/action", R"({"action":"smash"})"), 400, "'action' must be open");
  expect_error(post("/v1/test/cameras/porch/fault", R"({"fault":"freeze","parameter":"3"})"), 400,
               "'parameter' must be an integer");
  expect_error(post("/v1/test/cameras/porch/fault", R"({"fault":"freeze","parameter":1.5})"), 400,
               "'parameter' must be an integer");
  expect_error(post("/v1/test/cameras/porch/fault", R"({"fault":"freeze","parameter":true})"), 400,
               "'parameter' must be an integer");
  expect_error(post("/v1/test/cameras/porch/fault", R"({"fault":"freeze","parameter":9223372036854775808})"), 400,
               "'parameter'");
  expect_error(post("/v1/test/cameras/porch/fault", R"({"fault":"melt"})"), 400, "'fault' must be");
  expect_error(post("/v1/doors/front/challenge", R"({"door":"front"})"), 400, "unknown field 'door'");
  EXPECT_EQ(hub_.call_count(), 0u);
}

TEST_F(ApiServerTest, Body_BadHex_400) {
  auto unlock = [&](const std::string& hex) { return post("/v1/doors/front/unlock", "{\"request\":\"" + hex + "\"}"); };
  expect_error(unlock(std::string(127, 'a')), 400, "even number of hex digits");
  expect_error(unlock(std::string(126, 'a') + "zz"), 400, "is not hex");
  expect_error(unlock(std::string(126, 'a') + "0x"), 400, "is not hex");
  expect_error(unlock("aabb"), 400, "64 to 8192 bytes");
  expect_error(unlock(""), 400, "64 to 8192 bytes");
  EXPECT_EQ(hub_.call_count(), 0u);
}

TEST_F(ApiServerTest, Unlock_HexDecodedToBytes) {
  std::string hex;
  for (int i = 0; i < 64; ++i) hex += i % 2 ? "Ff" : "0a";
  ASSERT_EQ(post("/v1/doors/front/unlock", "{\"request\":\"" + hex + "\"}").status, 200);
  auto calls = hub_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].method, "unlock");
  EXPECT_EQ(calls[0].id, "front");
  ASSERT_EQ(calls[0].bytes.size(), 64u);
  EXPECT_EQ(calls[0].bytes[0], 0x0a);
  EXPECT_EQ(calls[0].bytes[1], 0xff);
}

TEST_F(ApiServerTest, Challenge_NoBodyOrEmptyObject) {
  EXPECT_EQ(post("/v1/doors/front/challenge", "", {.content_type = ""}).status, 200);
  EXPECT_EQ(post("/v1/doors/front/challenge", "{}").status, 200);
  EXPECT_EQ(post("/v1/doors/front/challenge", "{}", {.content_type = "text/plain"}).status, 415);
  EXPECT_EQ(hub_.call_count(), 2u);
}

TEST_F(ApiServerTest, TestControl_PassesActionAndFault) {
  EXPECT_EQ(post("/v1/test/doors/front/action", R"({"action":"manual_unlock"})").status, 200);
  EXPECT_EQ(post("/v1/test/cameras/porch/fault", R"({"fault":"clock_jump","parameter":-5000})").status, 200);
  EXPECT_EQ(post("/v1/test/cameras/porch/fault", R"({"fault":"clear"})").status, 200);
  auto calls = hub_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].word, "manual_unlock");
  EXPECT_EQ(calls[1].id, "porch");
  EXPECT_EQ(calls[1].word, "clock_jump");
  EXPECT_EQ(calls[1].parameter, -5000);
  EXPECT_EQ(calls[2].parameter, 0);
}

// ---- the hub's answers ---------------------------------------------------------------

TEST_F(ApiServerTest, Hub_TypedAnswersRenderedWithTheirStatus) {
  UnlockOutcome deny;
  deny.door = "front";
  deny.rule = Rule::G1;
  deny.message = "grant expired";
  deny.request_id = 7;
  hub_.answer([&](FakeHubApi::Answers& a) { a.unlock = deny; });
  Reply reply = post("/v1/doors/front/unlock", "{\"request\":\"" + kUnlockHex + "\"}");
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.body, R"({"decision":"deny","door":"front","rule":"G1","error":"grant expired","request_id":7})");
  EXPECT_EQ(reply.header("Cache-Control"), "no-store");

  UnlockOutcome allow;
  allow.allowed = true;
  allow.door = "front";
  allow.session = {0x0f, 0xa0};
  allow.request_id = 8;
  hub_.answer([&](FakeHubApi::Answers& a) { a.unlock = allow; });
  Reply allowed = post("/v1/doors/front/unlock", "{\"request\":\"" + kUnlockHex + "\"}");
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(allowed.body, R"({"decision":"allow","door":"front","session":"0fa0","request_id":8})");

  hub_.answer([](FakeHubApi::Answers& a) { a.challenge = ApiError{ApiErrorKind::kNotFound, "no door 'back'", Rule::kNone}; });
  Reply missing = post("/v1/doors/back/challenge", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"error":"no door 'back'"})");
  hub_.answer([](FakeHubApi::Answers& a) { a.doors = ApiError{ApiErrorKind::kUnavailable, "storage failed", Rule::U3}; });
  Reply failed = get("/v1/doors");
  EXPECT_EQ(failed.status, 503);
  EXPECT_EQ(failed.body, R"({"error":"storage failed","rule":"U3"})");
  hub_.answer([](FakeHubApi::Answers& a) {
    a.test_door_action = ApiError{ApiErrorKind::kConflict, "the lock refused: LK_ERR_BUSY", Rule::kNone};
    a.test_camera_fault = ApiError{ApiErrorKind::kBadRequest, "unknown fault", Rule::kNone};
  });
  expect_error(post("/v1/test/doors/front/action", R"({"action":"open"})"), 409, "the lock refused");
  expect_error(post("/v1/test/cameras/porch/fault", R"({"fault":"clear"})"), 400, "unknown fault");
}

TEST_F(ApiServerTest, Hub_NonAsciiInAnError_ComesBackIntact) {
  // UTF-8 goes out as UTF-8, not byte by byte as \u00XX escapes.
  const std::string message = "unknown door 'Haustür \xE5\x89\x8D\xE9\x97\xA8' \xF0\x9F\x9A\xAA";
  hub_.answer([&](FakeHubApi::Answers& a) { a.challenge = ApiError{ApiErrorKind::kNotFound, message, Rule::kNone}; });
  Reply reply = post("/v1/doors/front/challenge", "");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body, "{\"error\":\"" + message + "\"}");
  // What the HTTP layer itself echoes from a request keeps its characters too.
  expect_error(get("/v1/alarms?%C3%A9t%C3%A9=1"), 400, "unknown query parameter '\xC3\xA9t\xC3\xA9'");
}

TEST_F(ApiServerTest, Hub_TextThatIsNotUtf8_ReplacedSoTheBodyStaysJson) {
  hub_.answer([](FakeHubApi::Answers& a) {
    a.challenge = ApiError{ApiErrorKind::kNotFound, std::string("bad \xFF\xC3 byte \"q\"\n"), Rule::kNone};
  });
  Reply reply = post("/v1/doors/front/challenge", "");
  EXPECT_EQ(reply.body, "{\"error\":\"bad \xEF\xBF\xBD\xEF\xBF\xBD byte \\\"q\\\"\\n\"}");
  expect_error(get("/v1/alarms?%FF=1"), 400, "unknown query parameter '\xEF\xBF\xBD'");
}

TEST_F(ApiServerTest, Plugins_RoutedToTheHubAndShownOnTheStatusPage) {
  PluginStatus plugin;
  plugin.name = "camera";
  plugin.driver = "sim-camera";
  plugin.version = "1.0";
  plugin.mode = PluginMode::kIsolated;
  plugin.state = PluginState::kQuarantined;
  plugin.failures = 3;
  plugin.last_fault = "crashed";
  hub_.answer([&](FakeHubApi::Answers& a) { a.plugins = std::vector<PluginStatus>{plugin}; });
  Reply reply = get("/v1/plugins");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body,
            R"({"plugins":[{"name":"camera","driver":"sim-camera","version":"1.0","mode":"isolated",)"
            R"("state":"quarantined","pid":0,"failures":3,"recent_failures":0,"restarts":0,"last_fault":"crashed",)"
            R"("restart_in_ms":0}]})");
  EXPECT_EQ(get("/v1/plugins?x=1").status, 400);
  auto calls = hub_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].method, "plugins");
  // The status page asks for the same list and follows "plugin" events.
  const Reply page = get("/", {.token = std::nullopt});
  EXPECT_NE(page.body.find("/v1/plugins"), std::string::npos);
  EXPECT_NE(page.body.find("quarantined"), std::string::npos);
}

// ---- lifecycle ------------------------------------------------------------------------

TEST(ApiServerLifecycle, Start_RefusesBadOptions) {
  FakeHubApi hub;
  EXPECT_THROW(ApiServer(hub, {.address = "127.0.0.1:0"}).start(), std::invalid_argument);
  EXPECT_THROW(ApiServer(hub, {.address = "not an address", .token = "t"}).start(), std::invalid_argument);
  EXPECT_THROW(ApiServer(hub, {.address = "127.0.0.1:0", .token = "t", .max_threads = 4, .max_event_streams = 4}).start(),
               std::invalid_argument);
}

TEST(ApiServerLifecycle, Start_EphemeralPortThenStopAndRestart) {
  FakeHubApi hub;
  ApiServer server(hub, {.address = "127.0.0.1:0", .token = kToken});
  EXPECT_EQ(server.port(), 0);
  server.start();
  ASSERT_NE(server.port(), 0);
  EXPECT_THROW(server.start(), std::runtime_error);
  EXPECT_EQ(call(server.port(), "GET", "/v1/health").status, 200);
  server.stop();
  server.stop();
  EXPECT_EQ(server.port(), 0);
  server.start();
  EXPECT_EQ(call(server.port(), "GET", "/v1/health").status, 200);
}

TEST(ApiServerLifecycle, Start_PortInUse_Throws) {
  FakeHubApi hub;
  ApiServer first(hub, {.address = "127.0.0.1:0", .token = kToken});
  first.start();
  ApiServer second(hub, {.address = "127.0.0.1:" + std::to_string(first.port()), .token = kToken});
  EXPECT_THROW(second.start(), std::runtime_error);
}

}  // namespace
}  // namespace latchkey::hub::testing
