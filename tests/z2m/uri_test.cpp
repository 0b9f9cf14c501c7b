// The z2m_lock device URI (plugins/z2m_lock/README.md, "Device URI").
#include "z2m_uri.hpp"

#include <latchkey/cpp/plugin.hpp>

#include <gtest/gtest.h>

namespace latchkey::z2m {
namespace {

const std::string kBase = "mqtt://broker.lan/front_lock?contact_sensor=front_contact&password_file=/etc/latchkey/hub.pw";

std::string refusal(const std::string& uri) {
  try {
    Z2mUri::parse(uri);
  } catch (const plugin::Error& e) {
    EXPECT_EQ(e.code(), LK_ERR_INVALID_ARGUMENT);
    return e.what();
  }
  return "";
}

TEST(Z2mUri, DefaultsFollowZigbee2MqttAndTheHubBroker) {
  const Z2mUri u = Z2mUri::parse(kBase);
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "broker.lan");
  EXPECT_EQ(u.port, 1883);
  EXPECT_EQ(u.user, "hub");
  EXPECT_EQ(u.base_topic, "zigbee2mqtt");
  EXPECT_EQ(u.lock_topic(), "zigbee2mqtt/front_lock");
  EXPECT_EQ(u.sensor_topic(), "zigbee2mqtt/front_contact");
  EXPECT_EQ(u.actuation_ms, Z2mUri::kDefaultActuationMs);
  EXPECT_EQ(u.sensor_timeout_s, Z2mUri::kDefaultSensorTimeoutS);
}

TEST(Z2mUri, EveryKeyAndPercentEncodedNames) {
  const Z2mUri u = Z2mUri::parse(
      "mqtts://[::1]:8884/Front%20door%20lock?contact_sensor=Front%20door%20contact&password_file=/p&user=latchkey"
      "&tls_ca_file=/ca.pem&base_topic=home/z2m&actuation_ms=3000&get_timeout_ms=0&sensor_timeout_s=0&max_relock_s=60");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8884);
  EXPECT_EQ(u.lock_name, "Front door lock");
  EXPECT_EQ(u.sensor_topic(), "home/z2m/Front door contact");
  EXPECT_EQ(u.user, "latchkey");
  EXPECT_EQ(u.tls_ca_file, "/ca.pem");
  EXPECT_EQ(u.actuation_ms, 3000u);
  EXPECT_EQ(u.get_timeout_ms, 0u);
  EXPECT_EQ(u.sensor_timeout_s, 0u);
  EXPECT_EQ(u.max_relock_s, 60u);
}

TEST(Z2mUri, BadUrisAreRefusedNamingTheProblem) {
  EXPECT_NE(refusal("http://broker/lock?contact_sensor=c&password_file=/p").find("mqtt://"), std::string::npos);
  EXPECT_NE(refusal("mqtt://broker/lock?password_file=/p").find("'contact_sensor' is required"), std::string::npos);
  EXPECT_NE(refusal("mqtt://broker/lock?contact_sensor=c").find("'password_file' is required"), std::string::npos);
  EXPECT_NE(refusal("mqtt://broker/lock?contact_sensor=lock&password_file=/p").find("different devices"),
            std::string::npos);
  EXPECT_NE(refusal(kBase + "&password=secret").find("unknown key 'password'"), std::string::npos);
  EXPECT_NE(refusal(kBase + "&actuation_ms=50").find("from 100 to 60000"), std::string::npos);
  EXPECT_NE(refusal(kBase + "&actuation_ms=1e3").find("whole number"), std::string::npos);
  EXPECT_NE(refusal(kBase + "&user=hub&user=x").find("given twice"), std::string::npos);
  EXPECT_NE(refusal(kBase + "&tls_ca_file=/ca.pem").find("needs mqtts://"), std::string::npos);
  EXPECT_NE(refusal("mqtt://broker/a%2Bb?contact_sensor=c&password_file=/p").find("wildcard"), std::string::npos);
  EXPECT_NE(refusal("mqtt://broker/a%23?contact_sensor=c&password_file=/p").find("wildcard"), std::string::npos);
  EXPECT_NE(refusal("mqtt://broker/a%2Fb?contact_sensor=c&password_file=/p").find("'/'"), std::string::npos);
  EXPECT_NE(refusal("mqtt://broker/a%00?contact_sensor=c&password_file=/p").find("control character"),
            std::string::npos);
  EXPECT_NE(refusal("mqtt://broker/a%4?contact_sensor=c&password_file=/p").find("two hex digits"), std::string::npos);
  EXPECT_NE(refusal("mqtt://broker/?contact_sensor=c&password_file=/p").find("1 to 128 bytes"), std::string::npos);
  EXPECT_NE(refusal(kBase + "&base_topic=a//b").find("empty topic level"), std::string::npos);
  EXPECT_NE(refusal("mqtt://broker:0/lock?contact_sensor=c&password_file=/p").find("port"), std::string::npos);
  EXPECT_NE(refusal("mqtt://bro ker/lock?contact_sensor=c&password_file=/p").find("printable ASCII"),
            std::string::npos);
}

}  // namespace
}  // namespace latchkey::z2m
