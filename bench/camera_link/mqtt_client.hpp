// A plain libmosquitto client for the camera-link figures: the floor's two
// echo clients, the nonce observer and the attestation publisher. Set up as
// the hub's plugin and the agent set up theirs: MQTT 3.1.1, clean session,
// user and password, a network thread of its own (mosquitto_loop_start), so
// a publish from another thread wakes that thread as it does in the plugin.
#ifndef LATCHKEY_BENCH_CAMERA_LINK_MQTT_CLIENT_HPP
#define LATCHKEY_BENCH_CAMERA_LINK_MQTT_CLIENT_HPP

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

struct mosquitto;
struct mosquitto_message;

namespace latchkey::bench {

class MqttClient {
 public:
  // Called on the client's network thread for every message.
  using OnMessage = std::function<void(const std::string& topic, const uint8_t* data, std::size_t size)>;

  MqttClient(const std::string& user, const std::string& password, OnMessage on_message);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Connects and starts the network thread; throws std::runtime_error when
  // the broker does not accept within 5 s.
  void connect(const std::string& host, uint16_t port);
  // Subscribes and waits for the broker's acknowledgement (5 s).
  void subscribe(const std::string& topic, int qos);
  // Thread-safe; false when the client refused the message.
  bool publish(const std::string& topic, const void* data, std::size_t size, int qos = 0, bool retain = false);

 private:
  static void on_connect(mosquitto*, void* self, int rc);
  static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted);
  static void on_message(mosquitto*, void* self, const mosquitto_message* message);

  mosquitto* client_ = nullptr;
  OnMessage on_message_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int connack_ = -1;
  int acknowledged_mid_ = -1;
  bool started_ = false;
};

}  // namespace latchkey::bench

#endif  // LATCHKEY_BENCH_CAMERA_LINK_MQTT_CLIENT_HPP
