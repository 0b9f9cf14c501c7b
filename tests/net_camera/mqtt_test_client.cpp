#include "mqtt_test_client.hpp"

#include <sys/socket.h>

#include <atomic>
#include <stdexcept>

namespace latchkey::testing {
namespace {

std::string next_client_id() {
  static std::atomic<int> n{0};
  return "lk-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

constexpr int kNoMatchingSubscribers = 0x10;  // an MQTT v5 PUBACK reason code meaning success

void check(int rc, const char* what) {
  if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error(std::string(what) + ": " + mosquitto_strerror(rc));
}

}  // namespace

MqttTestClient::MqttTestClient(ClientOptions options) : options_(std::move(options)) {
  static const int init = mosquitto_lib_init();
  (void)init;
  mosq_ = mosquitto_new(next_client_id().c_str(), true, this);
  if (mosq_ == nullptr) throw std::runtime_error("mosquitto_new failed");
  check(mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, options_.protocol), "protocol version");
  if (options_.user) check(mosquitto_username_pw_set(mosq_, options_.user->c_str(), options_.password.c_str()), "user");
  if (!options_.ca_file.empty())
    check(mosquitto_tls_set(mosq_, options_.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr), "tls");
  if (options_.will) {
    const Received& w = *options_.will;
    check(mosquitto_will_set(mosq_, w.topic.c_str(), static_cast<int>(w.payload.size()), w.payload.data(), 1, true),
          "will");
  }
  mosquitto_connect_v5_callback_set(mosq_, &MqttTestClient::on_connect);
  mosquitto_publish_v5_callback_set(mosq_, &MqttTestClient::on_publish);
  mosquitto_subscribe_v5_callback_set(mosq_, &MqttTestClient::on_subscribe);
  mosquitto_message_v5_callback_set(mosq_, &MqttTestClient::on_message);
}

MqttTestClient::~MqttTestClient() {
  disconnect();
  mosquitto_destroy(mosq_);
}

int MqttTestClient::connect(std::chrono::milliseconds wait) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    connack_.reset();
  }
  check(mosquitto_connect_async(mosq_, options_.host.c_str(), options_.port, 10), "connect");
  if (!loop_running_) {
    check(mosquitto_loop_start(mosq_), "loop_start");
    loop_running_ = true;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_for(lock, wait, [this] { return connack_.has_value(); })) return -1;
  return *connack_;
}

int MqttTestClient::subscribe(const std::string& topic, int qos) {
  int mid = 0;
  check(mosquitto_subscribe(mosq_, &mid, topic.c_str(), qos), "subscribe");
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_for(lock, kWait, [&] { return acks_.count(mid) > 0; })) return -1;
  return acks_[mid];
}

int MqttTestClient::publish(const std::string& topic, const Bytes& payload, int qos, bool retain) {
  int mid = 0;
  check(mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, retain),
        "publish");
  if (qos == 0) return 0;
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_for(lock, kWait, [&] { return acks_.count(mid) > 0; })) return -1;
  const int code = acks_[mid];
  return code == kNoMatchingSubscribers ? 0 : code;  // accepted, nobody listening
}

void MqttTestClient::drop_connection() {
  const int fd = mosquitto_socket(mosq_);
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);  // no DISCONNECT packet: the broker sends the will
  if (loop_running_) {
    mosquitto_disconnect(mosq_);  // stops the loop's reconnecting; nothing reaches the broker
    mosquitto_loop_stop(mosq_, false);
    loop_running_ = false;
  }
}

void MqttTestClient::disconnect() {
  if (!loop_running_) return;
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
  loop_running_ = false;
}

std::vector<Received> MqttTestClient::received(const std::string& topic) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Received> out;
  for (const Received& r : messages_)
    if (r.topic == topic) out.push_back(r);
  return out;
}

std::vector<Received> MqttTestClient::all() {
  std::lock_guard<std::mutex> lock(mutex_);
  return messages_;
}

bool MqttTestClient::wait_received(const std::string& topic, std::size_t n, std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, wait, [&] {
    std::size_t count = 0;
    for (const Received& r : messages_) count += r.topic == topic ? 1 : 0;
    return count >= n;
  });
}

void MqttTestClient::on_connect(mosquitto*, void* self, int rc, int, const mosquitto_property*) {
  auto* c = static_cast<MqttTestClient*>(self);
  std::lock_guard<std::mutex> lock(c->mutex_);
  c->connack_ = rc;
  c->changed_.notify_all();
}

void MqttTestClient::on_publish(mosquitto*, void* self, int mid, int rc, const mosquitto_property*) {
  auto* c = static_cast<MqttTestClient*>(self);
  std::lock_guard<std::mutex> lock(c->mutex_);
  c->acks_[mid] = rc;
  c->changed_.notify_all();
}

void MqttTestClient::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted,
                                  const mosquitto_property*) {
  auto* c = static_cast<MqttTestClient*>(self);
  std::lock_guard<std::mutex> lock(c->mutex_);
  c->acks_[mid] = count > 0 ? granted[0] : -1;
  c->changed_.notify_all();
}

void MqttTestClient::on_message(mosquitto*, void* self, const mosquitto_message* m, const mosquitto_property*) {
  auto* c = static_cast<MqttTestClient*>(self);
  Received r;
  r.topic = m->topic;
  const auto* p = static_cast<const uint8_t*>(m->payload);
  r.payload.assign(p, p + m->payloadlen);
  r.retained = m->retain;
  std::lock_guard<std::mutex> lock(c->mutex_);
  c->messages_.push_back(std::move(r));
  c->changed_.notify_all();
}

}  // namespace latchkey::testing
