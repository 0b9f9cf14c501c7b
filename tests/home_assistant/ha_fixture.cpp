#include "ha_fixture.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

namespace latchkey::tests {

std::string payload_text(const testing::Received& r) { return std::string(r.payload.begin(), r.payload.end()); }

void HomeAssistantTest::SetUp() {
  testing::BrokerOptions options;
  options.extra_users = {"homeassistant"};
  broker_ = std::make_unique<testing::MosquittoBroker>(options);
  connect_home_assistant();
}

void HomeAssistantTest::TearDown() {
  if (HasFailure() && broker_) std::cerr << "broker log:\n" << broker_->log();
  DaemonTest::TearDown();
  home_assistant_.reset();
  broker_.reset();
}

void HomeAssistantTest::connect_home_assistant() {
  testing::ClientOptions c;
  c.port = broker_->port();
  c.user = "homeassistant";
  c.password = broker_->password("homeassistant");
  c.protocol = MQTT_PROTOCOL_V311;
  home_assistant_ = std::make_unique<testing::MqttTestClient>(c);
  ASSERT_EQ(home_assistant_->connect(), 0);
  ASSERT_LT(home_assistant_->subscribe("homeassistant/#", 1), 0x80);
  ASSERT_LT(home_assistant_->subscribe(std::string(kBase) + "/#", 1), 0x80);
}

std::string HomeAssistantTest::mqtt_section(std::optional<uint16_t> port) const {
  std::ostringstream s;
  s << "[mqtt]\nenabled = true\nhost = 127.0.0.1\nport = " << (port ? *port : broker_->port()) << "\n"
    << "user = " << testing::MosquittoBroker::kHubUser << "\n"
    << "password_file = " << broker_->password_file(testing::MosquittoBroker::kHubUser).string() << "\n"
    << "keepalive_s = 5\n";
  return s.str();
}

void HomeAssistantTest::start_hub_with_mqtt() {
  demo::SimHubOptions options = daemon_test_options();
  options.extra_config = mqtt_section();
  start_hub(options);
  ASSERT_TRUE(wait_payload(std::string(kBase) + "/availability", "online")) << "the hub never said online";
}

bool HomeAssistantTest::wait_payload(const std::string& topic, const std::function<bool(const std::string&)>& match,
                                     std::chrono::milliseconds timeout) {
  return demo::wait_until(
      [&] {
        const auto got = home_assistant_->received(topic);
        return !got.empty() && match(payload_text(got.back()));
      },
      timeout);
}

int HomeAssistantTest::command(const std::string& topic, const std::string& payload) {
  return home_assistant_->publish(topic, testing::Bytes(payload.begin(), payload.end()), 1);
}

int HomeAssistantTest::log_lines(const std::string& text) const {
  std::ifstream in(hub_->log_file());
  int n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find(text) != std::string::npos) ++n;
  return n;
}

}  // namespace latchkey::tests
