#include "mqtt_peer.hpp"

#include "netns_link.hpp"

#include <mosquitto.h>

#include <memory>

namespace latchkey::attack {

namespace {
struct LibInit {
  LibInit() { mosquitto_lib_init(); }
};
}  // namespace

MqttPeer::MqttPeer(MqttPeerOptions options, OnMessage on_message)
    : options_(std::move(options)), on_message_(std::move(on_message)) {
  static LibInit init;
  client_ = mosquitto_new(options_.client_id.c_str(), true, this);
  if (!client_) throw MqttError("mosquitto_new failed");
  mosquitto_username_pw_set(client_, options_.user.c_str(), options_.password.c_str());
  mosquitto_connect_callback_set(client_, [](mosquitto*, void* self, int rc) {
    auto* p = static_cast<MqttPeer*>(self);
    std::lock_guard lock(p->mutex_);
    p->connack_ = rc;
    p->connected_ = rc == 0;
    p->changed_.notify_all();
  });
  mosquitto_disconnect_callback_set(client_, [](mosquitto*, void* self, int) {
    auto* p = static_cast<MqttPeer*>(self);
    std::lock_guard lock(p->mutex_);
    p->connected_ = false;
    p->changed_.notify_all();
  });
  mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int mid, int, const int*) {
    auto* p = static_cast<MqttPeer*>(self);
    std::lock_guard lock(p->mutex_);
    p->last_subscribed_mid_ = mid;
    p->changed_.notify_all();
  });
  mosquitto_message_callback_set(client_, [](mosquitto*, void* self, const mosquitto_message* m) {
    auto* p = static_cast<MqttPeer*>(self);
    if (p->on_message_ && m && m->topic)
      p->on_message_(m->topic, std::string(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen)));
  });
  {
    // The socket, and the network thread that may reconnect, are made in
    // the namespace.
    std::unique_ptr<testing::NetnsScope> scope;
    if (!options_.netns.empty()) scope = std::make_unique<testing::NetnsScope>(options_.netns);
    int rc = mosquitto_connect(client_, options_.host.c_str(), options_.port, 5);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_start(client_);
    if (rc != MOSQ_ERR_SUCCESS) {
      mosquitto_destroy(client_);
      client_ = nullptr;
      throw MqttError("connecting to " + options_.host + ":" + std::to_string(options_.port) + " as " +
                      options_.user + ": " + mosquitto_strerror(rc));
    }
  }
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, options_.timeout, [this] { return connack_ >= 0; }) || connack_ != 0) {
    const int connack = connack_;
    lock.unlock();
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, true);
    mosquitto_destroy(client_);
    client_ = nullptr;
    throw MqttError("the broker did not accept " + options_.user + ": " +
                    (connack < 0 ? std::string("no CONNACK") : mosquitto_connack_string(connack)));
  }
}

MqttPeer::~MqttPeer() {
  if (!client_) return;
  mosquitto_disconnect(client_);
  mosquitto_loop_stop(client_, true);
  mosquitto_destroy(client_);
}

void MqttPeer::subscribe(const std::string& topic, int qos) {
  int mid = 0;
  const int rc = mosquitto_subscribe(client_, &mid, topic.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS) throw MqttError("subscribe " + topic + ": " + mosquitto_strerror(rc));
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, options_.timeout, [&] { return last_subscribed_mid_ == mid; }))
    throw MqttError("no SUBACK for " + topic);
}

bool MqttPeer::publish(const std::string& topic, const std::string& payload, int qos) {
  return mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos,
                           false) == MOSQ_ERR_SUCCESS;
}

bool MqttPeer::connected() const {
  std::lock_guard lock(mutex_);
  return connected_;
}

}  // namespace latchkey::attack
