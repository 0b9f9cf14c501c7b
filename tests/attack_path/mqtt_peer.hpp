// MqttPeer: a plain MQTT client (libmosquitto) for the attacker, made inside
// a network namespace when one is named: its socket and its network thread
// live there (NetnsScope), so everything it sends comes from that namespace.
#ifndef LATCHKEY_TESTS_ATTACK_PATH_MQTT_PEER_HPP
#define LATCHKEY_TESTS_ATTACK_PATH_MQTT_PEER_HPP

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>

struct mosquitto;

namespace latchkey::attack {

class MqttError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MqttPeerOptions {
  std::string host;
  uint16_t port = 1883;
  std::string user;
  std::string password;
  std::string client_id;
  std::string netns;  // empty: the caller's namespace
  std::chrono::milliseconds timeout{5000};
};

class MqttPeer {
 public:
  using OnMessage = std::function<void(const std::string& topic, const std::string& payload)>;

  // Connects and waits for the broker's CONNACK; throws MqttError.
  explicit MqttPeer(MqttPeerOptions options, OnMessage on_message = {});
  ~MqttPeer();
  MqttPeer(const MqttPeer&) = delete;
  MqttPeer& operator=(const MqttPeer&) = delete;

  // Subscribes and waits for the SUBACK; throws MqttError.
  void subscribe(const std::string& topic, int qos = 0);
  // Queues one message; false when libmosquitto refuses it.
  bool publish(const std::string& topic, const std::string& payload, int qos = 0);
  bool connected() const;

 private:
  MqttPeerOptions options_;
  OnMessage on_message_;
  mosquitto* client_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int connack_ = -1;  // -1: none yet
  bool connected_ = false;
  int last_subscribed_mid_ = -1;
};

}  // namespace latchkey::attack

#endif  // LATCHKEY_TESTS_ATTACK_PATH_MQTT_PEER_HPP
