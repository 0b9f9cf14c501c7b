#include "mqtt_client.hpp"

#include <mosquitto.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>

namespace latchkey::bench {
namespace {

constexpr auto kWait = std::chrono::seconds(5);

void init_library() {
  static const int once = [] { return mosquitto_lib_init(); }();
  (void)once;
}

std::string client_id(const std::string& user) {
  static std::atomic<int> next{0};
  return "lk-bench-" + user + "-" + std::to_string(::getpid()) + "-" + std::to_string(next++);
}

}  // namespace

MqttClient::MqttClient(const std::string& user, const std::string& password, OnMessage on_message)
    : on_message_(std::move(on_message)) {
  init_library();
  client_ = mosquitto_new(client_id(user).c_str(), true, this);
  if (client_ == nullptr) throw std::runtime_error("mosquitto_new failed");
  mosquitto_int_option(client_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_username_pw_set(client_, user.c_str(), password.c_str());
  mosquitto_connect_callback_set(client_, &MqttClient::on_connect);
  mosquitto_subscribe_callback_set(client_, &MqttClient::on_subscribe);
  mosquitto_message_callback_set(client_, &MqttClient::on_message);
}

MqttClient::~MqttClient() {
  if (started_) {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, false);
  }
  mosquitto_destroy(client_);
}

void MqttClient::connect(const std::string& host, uint16_t port) {
  if (const int rc = mosquitto_connect(client_, host.c_str(), port, 30); rc != MOSQ_ERR_SUCCESS)
    throw std::runtime_error("MQTT connect to " + host + ":" + std::to_string(port) + ": " + mosquitto_strerror(rc));
  if (const int rc = mosquitto_loop_start(client_); rc != MOSQ_ERR_SUCCESS)
    throw std::runtime_error(std::string("mosquitto_loop_start: ") + mosquitto_strerror(rc));
  started_ = true;
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, kWait, [this] { return connack_ >= 0; }) || connack_ != 0)
    throw std::runtime_error("the broker did not accept the MQTT connection (CONNACK " + std::to_string(connack_) + ")");
}

void MqttClient::subscribe(const std::string& topic, int qos) {
  int mid = 0;
  if (const int rc = mosquitto_subscribe(client_, &mid, topic.c_str(), qos); rc != MOSQ_ERR_SUCCESS)
    throw std::runtime_error("subscribe " + topic + ": " + mosquitto_strerror(rc));
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, kWait, [&] { return acknowledged_mid_ == mid; }))
    throw std::runtime_error("no SUBACK for " + topic);
}

bool MqttClient::publish(const std::string& topic, const void* data, std::size_t size, int qos, bool retain) {
  return mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(size), data, qos, retain) ==
         MOSQ_ERR_SUCCESS;
}

void MqttClient::on_connect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<MqttClient*>(self);
  std::lock_guard lock(c->mutex_);
  c->connack_ = rc;
  c->changed_.notify_all();
}

void MqttClient::on_subscribe(mosquitto*, void* self, int mid, int, const int*) {
  auto* c = static_cast<MqttClient*>(self);
  std::lock_guard lock(c->mutex_);
  c->acknowledged_mid_ = mid;
  c->changed_.notify_all();
}

void MqttClient::on_message(mosquitto*, void* self, const mosquitto_message* message) {
  auto* c = static_cast<MqttClient*>(self);
  if (message == nullptr || message->topic == nullptr || !c->on_message_) return;
  c->on_message_(message->topic, static_cast<const uint8_t*>(message->payload),
                 message->payloadlen > 0 ? static_cast<std::size_t>(message->payloadlen) : 0);
}

}  // namespace latchkey::bench
