// A plain MQTT v5 client for tests (libmosquitto, its own loop thread): it
// plays a camera's agent, the hub's monitor or an intruder. Every wait is
// bounded. QoS 1 publishes and subscriptions wait for the broker's answer,
// so a test can tell "refused" (MQTT reason code) from "not yet".
#ifndef LATCHKEY_TESTS_NET_CAMERA_MQTT_TEST_CLIENT_HPP
#define LATCHKEY_TESTS_NET_CAMERA_MQTT_TEST_CLIENT_HPP

#include <mosquitto.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::testing {

using Bytes = std::vector<uint8_t>;

struct Received {
  std::string topic;
  Bytes payload;
  bool retained = false;
};

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::optional<std::string> user;  // none: anonymous
  std::string password;
  std::string ca_file;              // TLS when set
  std::optional<Received> will;     // published (retained, QoS 1) by the broker if the connection dies
  int protocol = MQTT_PROTOCOL_V5;  // MQTT_PROTOCOL_V311: the broker announces no packet size limit
};

class MqttTestClient {
 public:
  static constexpr std::chrono::milliseconds kWait{3000};

  explicit MqttTestClient(ClientOptions options);
  ~MqttTestClient();  // disconnects cleanly (if still connected) and joins the loop
  MqttTestClient(const MqttTestClient&) = delete;
  MqttTestClient& operator=(const MqttTestClient&) = delete;

  // Connects and waits for the broker's CONNACK: its reason code (0 accepted),
  // or -1 when none came within the wait.
  int connect(std::chrono::milliseconds wait = kWait);
  // Subscribes and waits for the SUBACK: the granted QoS (0-2) or an MQTT
  // reason code >= 0x80 (refused); -1 without an answer.
  int subscribe(const std::string& topic, int qos);
  // QoS 0: sent, returns 0. QoS 1: waits for the PUBACK and returns its
  // reason code (0 success, 0x87 not authorized, ...), -1 without one.
  int publish(const std::string& topic, const Bytes& payload, int qos, bool retain = false);
  // Ends the TCP connection without an MQTT DISCONNECT, as a crash or a
  // pulled cable would: the broker publishes the will.
  void drop_connection();
  void disconnect();

  // Messages received so far on topic.
  std::vector<Received> received(const std::string& topic);
  // Every message received so far, in order of arrival.
  std::vector<Received> all();
  // Waits until at least n messages arrived on topic.
  bool wait_received(const std::string& topic, std::size_t n, std::chrono::milliseconds wait = kWait);

 private:
  static void on_connect(mosquitto*, void* self, int rc, int flags, const mosquitto_property* props);
  static void on_publish(mosquitto*, void* self, int mid, int rc, const mosquitto_property* props);
  static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted,
                           const mosquitto_property* props);
  static void on_message(mosquitto*, void* self, const mosquitto_message* message, const mosquitto_property* props);

  ClientOptions options_;
  mosquitto* mosq_ = nullptr;
  bool loop_running_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<int> connack_;
  std::map<int, int> acks_;  // message id -> reason code (PUBACK) or first granted QoS (SUBACK)
  std::vector<Received> messages_;
};

}  // namespace latchkey::testing

#endif  // LATCHKEY_TESTS_NET_CAMERA_MQTT_TEST_CLIENT_HPP
