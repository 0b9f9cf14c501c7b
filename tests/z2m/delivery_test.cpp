// Deliveries through the real latchkeyd at a door whose lock is z2m_lock,
// against the real broker and the Zigbee2MQTT emulator: the full delivery,
// and each fault's outcome at the hub (deny, alarm, compromised session).
#include "../daemon/daemon_fixture.hpp"
#include "mosquitto_broker.hpp"
#include "z2m_emulator.hpp"

#include <thread>

namespace latchkey::tests {
namespace {

using testing::MosquittoBroker;
using testing::Z2mEmulator;
using testing::Z2mEmulatorOptions;
using testing::Z2mFaults;

constexpr const char* kDoor = "side";

class Z2mDelivery : public DaemonTest {
 protected:
  void start(const std::string& uri_extra = "", Z2mEmulatorOptions o = {}) {
    testing::BrokerOptions b;
    b.extra_users = {"zigbee2mqtt"};
    b.acl_file = LATCHKEY_Z2M_ACL_FILE;
    broker_ = std::make_unique<MosquittoBroker>(b);
    o.port = broker_->port();
    o.password = broker_->password("zigbee2mqtt");
    o.lock_name = "side_lock";
    o.sensor_name = "side_contact";
    o.actuation_ms = 80;
    emulator_ = std::make_unique<Z2mEmulator>(o);
    demo::SimHubOptions options = daemon_test_options();
    const std::string uri = "mqtt://127.0.0.1:" + std::to_string(broker_->port()) +
                            "/side_lock?contact_sensor=side_contact&password_file=" +
                            broker_->password_file("hub").string() + "&actuation_ms=800" + uri_extra;
    options.doors = {{kDoor, {"path"}, {}, uri}};
    ASSERT_NO_FATAL_FAILURE(start_hub(options));
    ASSERT_TRUE(wait_door(kDoor, "locked", "closed")) << "the hub never saw the z2m door locked and closed";
  }
  void TearDown() override {
    DaemonTest::TearDown();  // the hub first: it is the emulator's and the broker's client
    emulator_.reset();
    broker_.reset();
  }

  std::unique_ptr<MosquittoBroker> broker_;
  std::unique_ptr<Z2mEmulator> emulator_;
};

TEST_F(Z2mDelivery, U8_DeliveryOnAZigbee2MqttDoor_CompletesWithVerifiedRelock) {
  ASSERT_NO_FATAL_FAILURE(start());
  const client::UnlockAnswer answer = present(kDoor, grant(kDoor));
  ASSERT_TRUE(answer.allowed) << answer.rule << ": " << answer.error;
  ASSERT_TRUE(wait_door(kDoor, "unlocked", "closed"));
  EXPECT_FALSE(emulator_->locked()) << "the hub says unlocked, the bolt is not";
  emulator_->open_door();
  ASSERT_TRUE(wait_door(kDoor, "unlocked", "open"));
  emulator_->close_door();
  EXPECT_TRUE(wait_door(kDoor, "locked", "closed")) << "no relock after the door closed (U8)";
  EXPECT_TRUE(emulator_->locked());
  const JsonObject session = demo::wait_session_end(*api_, answer.session, "completed", 5s);
  ASSERT_TRUE(session) << "session not listed as completed";
  EXPECT_EQ(text(session, "rule"), "U8");
  // The lock relocks by itself too: the hub's U4 deadline became auto_relock_time.
  EXPECT_GT(emulator_->auto_relock_time_s(), 0u);
}

TEST_F(Z2mDelivery, F1_JammedLock_DeniesTheUnlock) {
  ASSERT_NO_FATAL_FAILURE(start());
  emulator_->publish_raw("side_lock", R"({"action":"error_jammed","lock_state":"not_fully_locked","state":"LOCK"})");
  ASSERT_TRUE(demo::wait_until([&] { return text(demo::door(*api_, kDoor), "lock_state") != "locked"; }, 5s));
  const client::UnlockAnswer answer = present(kDoor, grant(kDoor));
  EXPECT_FALSE(answer.allowed);
  EXPECT_EQ(answer.rule, "F1") << answer.error;
  EXPECT_EQ(emulator_->commands(), 0u) << "an unlock command reached a jammed lock";
}

TEST_F(Z2mDelivery, F1_SilentSensor_DoorUnknown_DeniesTheUnlock) {
  ASSERT_NO_FATAL_FAILURE(start("&sensor_timeout_s=1"));
  emulator_->set_faults({0, false, false, true});
  ASSERT_TRUE(wait_door(kDoor, "locked", "unknown", 4s)) << "the silent sensor's door never became unknown";
  const client::UnlockAnswer answer = present(kDoor, grant(kDoor));
  EXPECT_FALSE(answer.allowed);
  EXPECT_EQ(answer.rule, "F1") << answer.error;
  EXPECT_EQ(emulator_->commands(), 0u);
}

TEST_F(Z2mDelivery, F1_NoReportAfterTheUnlock_LockUnknownAndTheSessionCompromised) {
  ASSERT_NO_FATAL_FAILURE(start());
  const int64_t alarms_before = demo::last_alarm_id(*api_);
  emulator_->set_faults({0, true, false, false});
  const client::UnlockAnswer answer = present(kDoor, grant(kDoor));
  if (answer.allowed) {
    EXPECT_TRUE(wait_door(kDoor, "unknown", "closed")) << "the lock did not become unknown";
    EXPECT_TRUE(demo::wait_session_end(*api_, answer.session, "compromised", 8s)) << "the session was not compromised";
  } else {
    EXPECT_EQ(answer.rule, "F1") << answer.error;
  }
  EXPECT_TRUE(demo::wait_alarm(*api_, alarms_before, "F1", kDoor, "", 5s)) << "no F1 alarm";
}

TEST_F(Z2mDelivery, U8_LockedWhileTheContactIsOpen_RaisesTheInconsistencyAlarm) {
  ASSERT_NO_FATAL_FAILURE(start());
  const client::UnlockAnswer answer = present(kDoor, grant(kDoor));
  ASSERT_TRUE(answer.allowed) << answer.rule << ": " << answer.error;
  ASSERT_TRUE(wait_door(kDoor, "unlocked", "closed"));
  const int64_t alarms_before = demo::last_alarm_id(*api_);
  emulator_->lock_while_open();
  EXPECT_TRUE(demo::wait_alarm(*api_, alarms_before, "U8", kDoor, "", 5s)) << "no U8 inconsistency alarm";
  EXPECT_FALSE(demo::wait_session_end(*api_, answer.session, "completed", 500ms))
      << "Locked with the door open completed the session";
}

}  // namespace
}  // namespace latchkey::tests
