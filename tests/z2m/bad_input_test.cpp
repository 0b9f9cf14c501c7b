// Bad input on every topic z2m_lock subscribes to (the lock's and the contact
// sensor's state): refused with a log line, never a crash, never an unlock.
// A lock report that does not parse makes the lock Unknown, a sensor report
// the door (F1): the driver no longer knows.
#include "z2m_fixture.hpp"

namespace latchkey::testing {
namespace {

struct BadPayload {
  const char* name;
  std::string payload;
  const char* logged;  // a fragment of the refusal's log line
};

std::string huge_unlocked() {
  // Says "unlocked" in a payload far over the driver's limit.
  return R"({"lock_state":"unlocked","state":"UNLOCK","pad":")" + std::string(100 * 1024, 'a') + "\"}";
}

std::vector<BadPayload> lock_payloads() {
  return {
      {"NotJson", "unlocked", "not JSON"},
      {"TruncatedJson", R"({"lock_state":"unlock)", "not JSON"},
      {"Array", R"(["lock_state","unlocked"])", "not a JSON object"},
      {"BareString", R"("UNLOCK")", "not JSON"},  // Poco 1.11 parses only objects and arrays
      {"Empty", "", "empty payload"},
      {"BinaryGarbage", std::string("\x00\xff\x7b\x22", 4), "not JSON"},
      {"LockStateNumber", R"({"lock_state":2})", "'lock_state' is not a string"},
      {"LockStateUnknownValue", R"({"lock_state":"open_sesame"})", "unknown lock_state"},
      {"LockStateWrongCase", R"({"lock_state":"UNLOCKED"})", "unknown lock_state"},
      {"StateUnknownValue", R"({"lock_state":"unlocked","state":"OPEN"})", "unknown state"},
      {"StateBoolean", R"({"lock_state":"unlocked","state":true})", "'state' is not a string"},
      {"ActionNumber", R"({"lock_state":"unlocked","action":7})", "'action' is not a string"},
      {"DoorStateUnknown", R"({"lock_state":"unlocked","door_state":"ajar-ish"})", "unknown door_state"},
      {"RelockTimeString", R"({"lock_state":"unlocked","auto_relock_time":"10"})", "auto_relock_time"},
      {"RelockTimeNegative", R"({"lock_state":"unlocked","auto_relock_time":-5})", "out of range"},
      {"RelockTimeFraction", R"({"lock_state":"unlocked","auto_relock_time":1.5})", "auto_relock_time"},
      {"Huge", huge_unlocked(), "bytes (at most 4096)"},
  };
}

std::vector<BadPayload> sensor_payloads() {
  return {
      {"NotJson", "open", "not JSON"},
      {"ContactString", R"({"contact":"false"})", "'contact' is not true or false"},
      {"ContactNumber", R"({"contact":0})", "'contact' is not true or false"},
      {"Array", R"([false])", "not a JSON object"},
      {"Huge", R"({"contact":false,"pad":")" + std::string(100 * 1024, 'b') + "\"}", "bytes (at most 4096)"},
  };
}

class Z2mBadLockInput : public Z2mTest, public ::testing::WithParamInterface<BadPayload> {};
class Z2mBadSensorInput : public Z2mTest, public ::testing::WithParamInterface<BadPayload> {};

TEST_P(Z2mBadLockInput, IsRefusedWithALogLineAndNeverUnlocks) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  ASSERT_EQ(state(), LK_LOCK_STATE_LOCKED);
  const std::size_t from = recorder_.event_count();
  emulator_->publish_raw("front_lock", GetParam().payload);
  EXPECT_TRUE(wait_logged("message on zigbee2mqtt/front_lock refused")) << logs();
  EXPECT_TRUE(recorder_.logged(GetParam().logged)) << logs();
  EXPECT_EQ(state(), LK_LOCK_STATE_UNKNOWN);
  EXPECT_FALSE(unlocked_event_since(from));
  // Alive, and a good report is taken again.
  emulator_->manual_lock();
  EXPECT_TRUE(wait_state(LK_LOCK_STATE_LOCKED)) << logs();
  EXPECT_FALSE(unlocked_event_since(from));
}

TEST_P(Z2mBadSensorInput, IsRefusedWithALogLineAndTheDoorIsUnknown) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  ASSERT_EQ(door(), LK_DOOR_STATE_CLOSED);
  const std::size_t from = recorder_.event_count();
  emulator_->publish_raw("front_contact", GetParam().payload);
  EXPECT_TRUE(wait_logged("message on zigbee2mqtt/front_contact refused")) << logs();
  EXPECT_TRUE(recorder_.logged(GetParam().logged)) << logs();
  EXPECT_EQ(door(), LK_DOOR_STATE_UNKNOWN);
  EXPECT_EQ(state(), LK_LOCK_STATE_LOCKED) << "a bad sensor report changed the lock";
  EXPECT_FALSE(unlocked_event_since(from));
  emulator_->close_door();
  EXPECT_TRUE(wait_door(LK_DOOR_STATE_CLOSED));
}

std::string name_of(const ::testing::TestParamInfo<BadPayload>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Payloads, Z2mBadLockInput, ::testing::ValuesIn(lock_payloads()), name_of);
INSTANTIATE_TEST_SUITE_P(Payloads, Z2mBadSensorInput, ::testing::ValuesIn(sensor_payloads()), name_of);

TEST_F(Z2mTest, AFloodOfBadReportsIsLoggedAtAPace) {
  start_emulator();
  ASSERT_EQ(open(uri()), LK_OK) << logs();
  for (int i = 0; i < 200; ++i) emulator_->publish_raw("front_lock", "garbage");
  EXPECT_TRUE(wait_logged("message on zigbee2mqtt/front_lock refused"));
  std::this_thread::sleep_for(Millis(300));
  std::size_t lines = 0;
  for (const std::string& line : recorder_.logs()) lines += line.find("front_lock refused") != std::string::npos;
  EXPECT_LE(lines, 3u) << "every bad message got its own log line";
  EXPECT_EQ(state(), LK_LOCK_STATE_UNKNOWN);
}

}  // namespace
}  // namespace latchkey::testing
