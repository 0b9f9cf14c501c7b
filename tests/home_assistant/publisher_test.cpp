// The publisher alone, against a real broker and a stand-in hub whose views
// the test controls: the hub's thread never waits for it (a full queue
// drops and resyncs from the views), and what a reconnect republishes.
#include "mqtt_test_client.hpp"
#include "mosquitto_broker.hpp"

#include <latchkey/home_assistant/publisher.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace latchkey::tests {
namespace {

using namespace std::chrono_literals;
using hub::ApiError;
using hub::ApiErrorKind;
using hub::ApiResult;

// A hub with one door ("front", camera "porch") whose doors() can be held.
class StandInHub : public hub::HubApi {
 public:
  ApiResult<hub::Health> health() override { return none(); }
  ApiResult<hub::Challenge> challenge(const std::string&) override { return none(); }
  ApiResult<hub::UnlockOutcome> unlock(const std::string&, const std::vector<uint8_t>&) override { return none(); }
  ApiResult<std::vector<hub::DoorStatus>> doors() override {
    std::unique_lock lock(mutex_);
    ++doors_calls_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return !held_; });
    hub::DoorStatus d;
    d.id = "front";
    d.lock_state = hub::LockState::kLocked;
    d.door_state = hub::DoorState::kClosed;
    hub::CameraStatus c;
    c.id = "porch";
    c.live = camera_live_;
    d.cameras.push_back(c);
    return std::vector<hub::DoorStatus>{d};
  }
  ApiResult<hub::Sessions> sessions() override { return hub::Sessions{}; }
  ApiResult<std::vector<hub::Alarm>> alarms(uint64_t) override { return std::vector<hub::Alarm>{}; }
  ApiResult<std::vector<hub::AuditRecord>> audit(uint64_t, std::size_t) override { return none(); }
  ApiResult<hub::AuditVerification> audit_verify() override { return none(); }
  ApiResult<std::vector<hub::PluginStatus>> plugins() override { return none(); }
  ApiResult<hub::TestControlDone> test_door_action(const std::string&, const std::string&) override { return none(); }
  ApiResult<hub::TestControlDone> test_camera_fault(const std::string&, const std::string&, int64_t) override {
    return none();
  }
  uint64_t subscribe(uint64_t, std::function<void(const hub::HubEvent&)> on_event) override {
    std::lock_guard lock(mutex_);
    subscriber_ = std::move(on_event);
    return 1;
  }
  void unsubscribe(uint64_t) override {
    std::lock_guard lock(mutex_);
    subscriber_ = nullptr;
  }

  // What the hub's loop thread does: hand an event over.
  void emit(hub::EventData data) {
    std::function<void(const hub::HubEvent&)> fn;
    {
      std::lock_guard lock(mutex_);
      fn = subscriber_;
    }
    if (fn) fn(hub::HubEvent{++next_id_, std::move(data)});
  }
  void hold(bool held) {
    std::lock_guard lock(mutex_);
    held_ = held;
    changed_.notify_all();
  }
  void set_live(bool live) {
    std::lock_guard lock(mutex_);
    camera_live_ = live;
  }
  bool wait_doors_calls(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return doors_calls_ >= n; });
  }
  int doors_calls() {
    std::lock_guard lock(mutex_);
    return doors_calls_;
  }

 private:
  static ApiError none() { return ApiError{ApiErrorKind::kUnavailable, "not in this test", Rule::kNone}; }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void(const hub::HubEvent&)> subscriber_;
  uint64_t next_id_ = 0;
  bool held_ = false;
  bool camera_live_ = false;
  int doors_calls_ = 0;
};

class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::BrokerOptions options;
    options.extra_users = {"homeassistant"};
    broker_ = std::make_unique<testing::MosquittoBroker>(options);
    connect_client();
  }

  void connect_client() {
    testing::ClientOptions c;
    c.port = broker_->port();
    c.user = "homeassistant";
    c.password = broker_->password("homeassistant");
    c.protocol = MQTT_PROTOCOL_V311;
    ha_ = std::make_unique<testing::MqttTestClient>(c);
    ASSERT_EQ(ha_->connect(), 0);
    ASSERT_LT(ha_->subscribe("latchkey/hub-1/#", 1), 0x80);
  }

  home_assistant::PublisherOptions options(std::size_t queue_limit) const {
    home_assistant::PublisherOptions o;
    o.mqtt.enabled = true;
    o.mqtt.host = "127.0.0.1";
    o.mqtt.port = broker_->port();
    o.mqtt.user = testing::MosquittoBroker::kHubUser;
    o.mqtt.topic_prefix = "latchkey/hub-1";
    o.mqtt.client_id = "latchkey-test";
    o.hub_id = "hub-1";
    o.version = "test";
    o.password = broker_->password(testing::MosquittoBroker::kHubUser);
    o.queue_limit = queue_limit;
    o.log = [](const std::string&, const std::string&) {};
    return o;
  }

  std::string last(const std::string& topic) {
    const auto got = ha_->received(topic);
    return got.empty() ? std::string() : std::string(got.back().payload.begin(), got.back().payload.end());
  }
  bool wait_last(const std::string& topic, const std::string& payload) {
    for (int i = 0; i < 500; ++i) {
      if (last(topic) == payload) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::unique_ptr<testing::MosquittoBroker> broker_;
  std::unique_ptr<testing::MqttTestClient> ha_;
};

TEST_F(PublisherTest, AFullQueueNeverHoldsTheHubAndEndsInAResyncFromTheViews) {
  StandInHub stand_in;
  home_assistant::Publisher publisher(stand_in, options(8));
  ASSERT_TRUE(wait_last("latchkey/hub-1/availability", "online"));
  ASSERT_TRUE(wait_last("latchkey/hub-1/camera/porch/live", "OFF"));
  const uint64_t resyncs = publisher.resyncs();

  // The publisher's thread is stuck reading the views...
  stand_in.hold(true);
  const int calls = stand_in.doors_calls();
  stand_in.emit(hub::LockStateChanged{"front", hub::LockState::kLocked});
  ASSERT_TRUE(stand_in.wait_doors_calls(calls + 1));
  // ...while the hub's thread hands over far more than the queue holds:
  // every hand-over returns (this loop would hang otherwise).
  for (int i = 0; i < 1000; ++i) stand_in.emit(hub::CameraLiveness{"porch", false, i, std::nullopt});
  EXPECT_GT(publisher.dropped_events(), 900u);

  // The truth is in the views: once the publisher runs again it resyncs
  // from them, not from the dropped stream.
  stand_in.set_live(true);
  stand_in.hold(false);
  EXPECT_TRUE(wait_last("latchkey/hub-1/camera/porch/live", "ON"));
  EXPECT_GT(publisher.resyncs(), resyncs);
}

TEST_F(PublisherTest, AReconnectRepublishesConfigsAndStates) {
  StandInHub stand_in;
  home_assistant::Publisher publisher(stand_in, options(64));
  ASSERT_TRUE(wait_last("latchkey/hub-1/availability", "online"));
  const uint64_t resyncs = publisher.resyncs();
  broker_->kill();
  broker_->start();  // no persistence: the retained store is empty again
  ha_.reset();
  connect_client();
  EXPECT_TRUE(wait_last("latchkey/hub-1/availability", "online"));
  EXPECT_TRUE(wait_last("latchkey/hub-1/door/front/lock", "LOCKED"));
  EXPECT_TRUE(wait_last("latchkey/hub-1/camera/porch/live", "OFF"));
  EXPECT_GT(publisher.resyncs(), resyncs);
}

}  // namespace
}  // namespace latchkey::tests
