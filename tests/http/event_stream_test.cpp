// GET /v1/events: server-sent events from HubApi::subscribe, resumption with
// Last-Event-ID, heartbeats, slow clients dropped, and a prompt stop().
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "event_stream.hpp"
#include "fake_hub_api.hpp"
#include "http_test_support.hpp"
#include "latchkey/hub/api_server.hpp"

namespace latchkey::hub::testing {
namespace {

using Clock = std::chrono::steady_clock;

// One open event stream read block by block (blank-line separated).
class StreamClient {
 public:
  StreamClient(uint16_t port, const std::string& last_event_id = "") : session_("127.0.0.1", port) {
    session_.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest request("GET", "/v1/events", Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + kToken);
    if (!last_event_id.empty()) request.set("Last-Event-ID", last_event_id);
    session_.sendRequest(request);
    in_ = &session_.receiveResponse(response_);
  }
  int status() const { return static_cast<int>(response_.getStatus()); }
  const Poco::Net::HTTPResponse& response() const { return response_; }

  // The next block, or "" at the end of the stream.
  std::string next_block() {
    std::string block;
    std::string line;
    while (std::getline(*in_, line)) {
      if (line.empty()) {
        if (!block.empty()) return block;
        continue;
      }
      block += line + "\n";
    }
    return block;
  }
  // Skips blocks without an id (comments, the retry hint).
  std::string next_event() {
    for (;;) {
      std::string block = next_block();
      if (block.empty() || block.rfind("id:", 0) == 0) return block;
    }
  }
  std::string rest() {
    std::string all;
    for (std::string block = next_block(); !block.empty(); block = next_block()) all += block + "\n";
    return all;
  }
  void close() { session_.reset(); }

 private:
  Poco::Net::HTTPClientSession session_;
  Poco::Net::HTTPResponse response_;
  std::istream* in_ = nullptr;
};

template <typename Predicate>
bool eventually(Predicate predicate, int timeout_ms = 3000) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return predicate();
}

class EventStreamTest : public ::testing::Test {
 protected:
  void start(ApiServer::Options options = {}) {
    options.address = "127.0.0.1:0";
    options.token = kToken;
    server_ = std::make_unique<ApiServer>(hub_, options);
    server_->start();
    port_ = server_->port();
  }
  FakeHubApi hub_;
  std::unique_ptr<ApiServer> server_;
  uint16_t port_ = 0;
};

TEST_F(EventStreamTest, Events_DeliveredWithIdNameAndData) {
  start();
  StreamClient client(port_);
  ASSERT_EQ(client.status(), 200);
  EXPECT_EQ(client.response().getContentType(), "text/event-stream");
  EXPECT_EQ(client.response().get("Cache-Control"), "no-store");
  ASSERT_TRUE(eventually([&] { return hub_.subscriber_count() == 1; }));
  EXPECT_EQ(hub_.last_since_id(), 0u);

  hub_.emit(Alarm{1, 1764324000000, Rule::U5, "front", "porch", "camera lost\nduring session", 95123456789});
  hub_.emit(DoorStateChanged{"front", DoorState::kOpen});
  EXPECT_EQ(client.next_event(),
            "id: 1\nevent: alarm\ndata: {\"id\":1,\"time_ms\":1764324000000,\"time\":\"2025-11-28T10:00:00.000Z\","
            "\"rule\":\"U5\",\"door\":\"front\","
            "\"camera\":\"porch\",\"message\":\"camera lost\\nduring session\",\"mono_us\":95123456789}\n");
  // Events without a time of their own carry the hub's time of publishing.
  EXPECT_EQ(client.next_event(), "id: 2\nevent: door\ndata: {\"door\":\"front\",\"door_state\":\"open\",\"time_ms\":1764324000123,\"time\":\"2025-11-28T10:00:00.123Z\"}\n");
}

TEST_F(EventStreamTest, LastEventId_ResumesFromHistory) {
  start();
  for (uint64_t i = 1; i <= 5; ++i) hub_.emit(AuditAppended{i, "alarm", Rule::U5, "front", "porch", "lost"});
  StreamClient client(port_, "3");
  ASSERT_EQ(client.status(), 200);
  EXPECT_EQ(hub_.last_since_id(), 3u);
  const std::string rest = R"(,"type":"alarm","rule":"U5","door":"front","subject":"porch","detail":"lost")"
                           R"(,"time_ms":1764324000123,"time":"2025-11-28T10:00:00.123Z"})";
  EXPECT_EQ(client.next_event(), "id: 4\nevent: audit\ndata: {\"seq\":4" + rest + "\n");
  EXPECT_EQ(client.next_event(), "id: 5\nevent: audit\ndata: {\"seq\":5" + rest + "\n");
  hub_.emit(SessionChange{"9f2c", "front", Rule::U8, "completed", SessionEnd::kCompleted});
  EXPECT_EQ(client.next_event(), "id: 6\nevent: session\ndata: "
                                 R"({"session":"9f2c","door":"front","rule":"U8","detail":"completed","end":"completed")"
                                 R"(,"time_ms":1764324000123,"time":"2025-11-28T10:00:00.123Z"})"
                                 "\n");
}

TEST_F(EventStreamTest, LastEventId_NotANumber_400) {
  start();
  Reply reply = call(port_, "GET", "/v1/events", "", {.headers = {{"Last-Event-ID", "abc"}}});
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(hub_.subscriber_count(), 0u);
}

TEST_F(EventStreamTest, Events_NeedToken) {
  start();
  EXPECT_EQ(call(port_, "GET", "/v1/events", "", {.token = std::nullopt}).status, 401);
  EXPECT_EQ(hub_.subscriber_count(), 0u);
}

TEST_F(EventStreamTest, Heartbeat_CommentOnIdleStream) {
  start({.heartbeat_ms = 100});
  StreamClient client(port_);
  ASSERT_EQ(client.status(), 200);
  EXPECT_EQ(client.next_block(), "retry: 2000\n: stream open\n");
  auto begin = Clock::now();
  EXPECT_EQ(client.next_block(), ": heartbeat\n");
  EXPECT_LT(Clock::now() - begin, std::chrono::seconds(2));
}

TEST_F(EventStreamTest, ClientGone_Unsubscribes) {
  start();
  {
    StreamClient client(port_);
    ASSERT_EQ(client.status(), 200);
    ASSERT_TRUE(eventually([&] { return hub_.subscriber_count() == 1; }));
    client.close();
  }
  EXPECT_TRUE(eventually([&] { return hub_.subscriber_count() == 0 && hub_.unsubscribes() == 1; }));
}

TEST_F(EventStreamTest, ClientGone_WhileEventsFlow_StreamEndsQuietly) {
  // Writing to a connection the client reset must end the stream, not the process.
  start();
  {
    StreamClient client(port_);
    ASSERT_EQ(client.status(), 200);
    ASSERT_TRUE(eventually([&] { return hub_.subscriber_count() == 1; }));
    client.close();
  }
  for (int i = 0; i < 200 && hub_.subscriber_count() > 0; ++i) {
    hub_.emit(CameraRefused{"porch", std::string(2000, ' ')});
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(eventually([&] { return hub_.subscriber_count() == 0; }));
  EXPECT_EQ(call(port_, "GET", "/v1/health").status, 200);
}

TEST_F(EventStreamTest, SlowClient_OverflowDropsStream) {
  start({.event_queue_limit = 4});
  for (int i = 0; i < 10; ++i) hub_.emit(CameraStatusReported{"porch", 1});
  StreamClient client(port_, "0");
  ASSERT_EQ(client.status(), 200);
  std::string rest = client.rest();
  EXPECT_NE(rest.find(": dropped, too far behind"), std::string::npos) << rest;
  EXPECT_EQ(rest.find("id:"), std::string::npos) << rest;
  EXPECT_TRUE(eventually([&] { return hub_.subscriber_count() == 0 && hub_.unsubscribes() == 1; }));
}

TEST_F(EventStreamTest, TooManyStreams_503) {
  start({.max_threads = 4, .max_event_streams = 1});
  StreamClient first(port_);
  ASSERT_EQ(first.status(), 200);
  Reply second = call(port_, "GET", "/v1/events");
  EXPECT_EQ(second.status, 503);
  EXPECT_EQ(second.header("Retry-After"), "5");
  EXPECT_EQ(call(port_, "GET", "/v1/doors").status, 200);   // other requests still served
}

TEST_F(EventStreamTest, Stop_WithClientsConnected_IsPromptAndUnsubscribes) {
  start({.heartbeat_ms = 60000});
  StreamClient first(port_);
  StreamClient second(port_, "0");
  ASSERT_EQ(first.status(), 200);
  ASSERT_EQ(second.status(), 200);
  ASSERT_TRUE(eventually([&] { return hub_.subscriber_count() == 2; }));
  // An idle keep-alive connection must not hold stop() either.
  Poco::Net::HTTPClientSession idle("127.0.0.1", port_);
  Poco::Net::HTTPRequest request("GET", "/v1/health", Poco::Net::HTTPMessage::HTTP_1_1);
  idle.sendRequest(request);
  Poco::Net::HTTPResponse response;
  idle.receiveResponse(response).ignore(1 << 20);
  ASSERT_EQ(response.getStatus(), Poco::Net::HTTPResponse::HTTP_OK);

  auto begin = Clock::now();
  server_->stop();
  auto took = Clock::now() - begin;
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  EXPECT_EQ(hub_.subscriber_count(), 0u);
  EXPECT_EQ(hub_.unsubscribes(), 2);
  first.rest();   // ends instead of blocking
  second.rest();
}

TEST(EventFormat, DataSplitIntoLinesAndNameCleaned) {
  // A name with a newline must not inject a field; data with line breaks
  // becomes one data line per line.
  EXPECT_EQ(http::format_event(1, "alarm\nid: 99", "{\"a\":1}\r\n{\"b\":2}"),
            "id: 1\nevent: alarmid99\ndata: {\"a\":1}\ndata: {\"b\":2}\n\n");
}

TEST(EventFormat, EveryEventIsOneLineOfJsonUnderItsName) {
  CameraLiveness lost{"porch", false, 95123456789, 95122455998};
  EXPECT_EQ(http::format_event(HubEvent{3, lost, 1764324000123}),
            "id: 3\nevent: camera\ndata: "
            R"({"camera":"porch","live":false,"mono_us":95123456789,"last_accepted_mono_us":95122455998)"
            R"(,"time_ms":1764324000123,"time":"2025-11-28T10:00:00.123Z"})"
            "\n\n");
  DoorCommand relock{"front", false, 7, Rule::U5, "LK_OK", 95123456950};
  EXPECT_EQ(http::format_event(HubEvent{4, relock, 1764324000123}),
            "id: 4\nevent: door\ndata: "
            R"({"door":"front","command":"lock","operation":7,"rule":"U5","result":"LK_OK","mono_us":95123456950)"
            R"(,"time_ms":1764324000123,"time":"2025-11-28T10:00:00.123Z"})"
            "\n\n");
  const ApiResult<UnlockOutcome> unrecorded = ApiError{ApiErrorKind::kUnavailable, "not recorded", Rule::U3};
  EXPECT_EQ(http::format_event(HubEvent{5, DecisionEvent{unrecorded}, 1764324000123}),
            "id: 5\nevent: decision\ndata: {\"error\":\"not recorded\",\"rule\":\"U3\",\"time_ms\":1764324000123,\"time\":\"2025-11-28T10:00:00.123Z\"}\n\n");
  EXPECT_EQ(http::format_event(HubEvent{6, PluginChanged{"cam", PluginState::kRestarting, "crashed"}, 1764324000123}),
            "id: 6\nevent: plugin\ndata: {\"plugin\":\"cam\",\"state\":\"restarting\",\"reason\":\"crashed\",\"time_ms\":1764324000123,\"time\":\"2025-11-28T10:00:00.123Z\"}\n\n");
}

}  // namespace
}  // namespace latchkey::hub::testing
