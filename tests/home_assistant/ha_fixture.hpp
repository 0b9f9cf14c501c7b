// A real latchkeyd with [mqtt] on, a real Mosquitto broker (the shipped ACL)
// and a client playing Home Assistant: user "homeassistant", subscribed to
// homeassistant/# and the hub's own topics (docs/home-assistant.md).
#ifndef LATCHKEY_TESTS_HOME_ASSISTANT_HA_FIXTURE_HPP
#define LATCHKEY_TESTS_HOME_ASSISTANT_HA_FIXTURE_HPP

#include "daemon_fixture.hpp"
#include "mqtt_test_client.hpp"

#include "mosquitto_broker.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::tests {

class HomeAssistantTest : public DaemonTest {
 protected:
  static constexpr const char* kBase = "latchkey/hub-1";

  void SetUp() override;
  void TearDown() override;

  // The [mqtt] section pointing at `port` (the broker's unless given).
  std::string mqtt_section(std::optional<uint16_t> port = std::nullopt) const;
  // Starts the hub with [mqtt] on and waits for its availability "online".
  void start_hub_with_mqtt();
  // Connects the Home Assistant client and subscribes it.
  void connect_home_assistant();

  // The newest payload retained or not on `topic`, waiting until `match` holds.
  bool wait_payload(const std::string& topic, const std::function<bool(const std::string&)>& match,
                    std::chrono::milliseconds timeout = 5s);
  bool wait_payload(const std::string& topic, const std::string& payload, std::chrono::milliseconds timeout = 5s) {
    return wait_payload(topic, [&](const std::string& p) { return p == payload; }, timeout);
  }
  // Home Assistant presses a button: a QoS 1 publish on `topic`; the broker's answer.
  int command(const std::string& topic, const std::string& payload);
  // Lines of latchkeyd's log containing `text`.
  int log_lines(const std::string& text) const;

  std::unique_ptr<testing::MosquittoBroker> broker_;
  std::unique_ptr<testing::MqttTestClient> home_assistant_;
};

std::string payload_text(const testing::Received& r);

}  // namespace latchkey::tests

#endif  // LATCHKEY_TESTS_HOME_ASSISTANT_HA_FIXTURE_HPP
