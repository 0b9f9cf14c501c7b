// Zigbee2MQTT's state payloads as z2m_lock reads them (z2m_reports.hpp).
#include "z2m_reports.hpp"

#include <gtest/gtest.h>

#include <string>

namespace latchkey::z2m {
namespace {

std::optional<LockReport> lock(const std::string& json, std::string* error = nullptr) {
  std::string ignored;
  return parse_lock_report(reinterpret_cast<const uint8_t*>(json.data()), json.size(), error ? error : &ignored);
}

std::optional<SensorReport> sensor(const std::string& json, std::string* error = nullptr) {
  std::string ignored;
  return parse_sensor_report(reinterpret_cast<const uint8_t*>(json.data()), json.size(), error ? error : &ignored);
}

TEST(Z2mReports, ALockStateMessageAsZigbee2MqttPublishesIt) {
  const auto r = lock(R"({"action":"unlock","action_source_name":"keypad","action_user":3,"auto_relock_time":30,)"
                      R"("battery":91,"linkquality":120,"lock_state":"unlocked","state":"UNLOCK"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lock_state, LK_LOCK_STATE_UNLOCKED);
  EXPECT_EQ(r->state_locked, false);
  EXPECT_EQ(r->source, LK_SOURCE_KEYPAD);
  EXPECT_EQ(r->auto_relock_time_s, 30u);
  EXPECT_FALSE(r->jammed);
}

TEST(Z2mReports, SourcesFromTheActionOrItsSourceName) {
  EXPECT_EQ(lock(R"({"action":"manual_unlock","lock_state":"unlocked"})")->source, LK_SOURCE_MANUAL);
  EXPECT_EQ(lock(R"({"action":"auto_lock","lock_state":"locked"})")->source, LK_SOURCE_AUTO);
  EXPECT_EQ(lock(R"({"action":"lock","action_source_name":"rf","lock_state":"locked"})")->source, LK_SOURCE_REMOTE);
  EXPECT_EQ(lock(R"({"action":"lock","action_source_name":"martian","lock_state":"locked"})")->source,
            LK_SOURCE_UNSPECIFIED);
  EXPECT_FALSE(lock(R"({"lock_state":"locked"})")->source);
}

TEST(Z2mReports, JamFromLockStateActionOrDoorState) {
  EXPECT_EQ(lock(R"({"lock_state":"not_fully_locked"})")->lock_state, LK_LOCK_STATE_NOT_FULLY_LOCKED);
  EXPECT_TRUE(lock(R"({"action":"error_jammed"})")->jammed);
  EXPECT_TRUE(lock(R"({"door_state":"error_jammed","lock_state":"locked"})")->jammed);
  EXPECT_FALSE(lock(R"({"door_state":"closed","lock_state":"locked"})")->jammed);
}

TEST(Z2mReports, NullsAndUnknownFieldsAreAbsentNotErrors) {
  const auto r = lock(R"({"lock_state":null,"state":null,"action":null,"auto_relock_time":null,"new_field":[1]})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->lock_state);
  EXPECT_FALSE(r->auto_relock_time_s);
  EXPECT_TRUE(lock(R"({"action":"pin_code_added","lock_state":"locked"})"));
}

TEST(Z2mReports, RefusedWithTheReason) {
  std::string error;
  EXPECT_FALSE(lock("{", &error));
  EXPECT_NE(error.find("not JSON"), std::string::npos);
  EXPECT_FALSE(lock(R"({"lock_state":"half"})", &error));
  EXPECT_NE(error.find("unknown lock_state 'half'"), std::string::npos);
  EXPECT_FALSE(lock(R"({"lock_state":true})", &error));
  EXPECT_NE(error.find("'lock_state' is not a string"), std::string::npos);
  EXPECT_FALSE(lock(std::string(kMaxPayloadBytes + 1, ' '), &error));
  EXPECT_NE(error.find("at most 4096"), std::string::npos);
  EXPECT_FALSE(lock(R"({"auto_relock_time":99999999})", &error));
  EXPECT_NE(error.find("out of range"), std::string::npos);
  EXPECT_FALSE(lock(R"({"lock_state":"unlocked\u0000"})", &error));
}

TEST(Z2mReports, ContactIsTrueWhenClosed) {
  EXPECT_EQ(sensor(R"({"battery":100,"contact":true,"voltage":3005})")->contact, true);
  EXPECT_EQ(sensor(R"({"contact":false})")->contact, false);
  EXPECT_FALSE(sensor(R"({"battery":100})")->contact);
  std::string error;
  EXPECT_FALSE(sensor(R"({"contact":"true"})", &error));
  EXPECT_NE(error.find("'contact' is not true or false"), std::string::npos);
  EXPECT_FALSE(sensor("[]", &error));
}

}  // namespace
}  // namespace latchkey::z2m
