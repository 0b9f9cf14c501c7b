#include <latchkey/mqtt/mqtt_link.hpp>

#include <mosquitto.h>

#include <algorithm>
#include <mutex>
#include <utility>

namespace latchkey::mqtt {
namespace {

constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
constexpr int kLoopTimeoutMs = 100;  // how long a stop may wait for the loop
constexpr const char* kSystemCaPath = "/etc/ssl/certs";

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

std::string describe_error(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return mosquitto_strerror(rc) + std::string(" (errno ") + std::to_string(errno) + ")";
  return mosquitto_strerror(rc);
}

}  // namespace

MqttLink::MqttLink(LinkConfig config, LinkCallbacks callbacks)
    : config_(std::move(config)), callbacks_(std::move(callbacks)) {
  init_library();
  mosq_ = mosquitto_new(config_.client_id.c_str(), true, this);
  if (mosq_ == nullptr) throw LinkError("mosquitto_new failed");
  auto fail = [this](const std::string& what, int rc) {
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
    throw LinkError(what + ": " + describe_error(rc));
  };
  int rc = mosquitto_threaded_set(mosq_, true);  // publish() is called from the host's threads
  if (rc != MOSQ_ERR_SUCCESS) fail("mosquitto_threaded_set", rc);
  rc = mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  if (rc != MOSQ_ERR_SUCCESS) fail("protocol version", rc);
  // Nonces are small and late ones are worthless (C2): no Nagle delay.
  rc = mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  if (rc != MOSQ_ERR_SUCCESS) fail("TCP_NODELAY", rc);
  rc = mosquitto_username_pw_set(mosq_, config_.user.c_str(), config_.password.c_str());
  if (rc != MOSQ_ERR_SUCCESS) fail("user name and password", rc);
  if (config_.tls) {
    const bool own_ca = !config_.tls_ca_file.empty();
    rc = mosquitto_tls_set(mosq_, own_ca ? config_.tls_ca_file.c_str() : nullptr, own_ca ? nullptr : kSystemCaPath,
                           nullptr, nullptr, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) fail("TLS set-up with CA " + (own_ca ? config_.tls_ca_file : kSystemCaPath), rc);
  }
  if (config_.will) {
    const LastWill& w = *config_.will;
    rc = mosquitto_will_set(mosq_, w.topic.c_str(), static_cast<int>(w.payload.size()), w.payload.data(), w.qos,
                            w.retain);
    if (rc != MOSQ_ERR_SUCCESS) fail("last will on " + w.topic, rc);
  }
  mosquitto_connect_callback_set(mosq_, &MqttLink::on_connect);
  mosquitto_disconnect_callback_set(mosq_, &MqttLink::on_disconnect);
  mosquitto_message_callback_set(mosq_, &MqttLink::on_message);
  mosquitto_publish_callback_set(mosq_, &MqttLink::on_publish);
  try {
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    mosquitto_destroy(mosq_);
    throw;
  }
}

MqttLink::~MqttLink() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  mosquitto_destroy(mosq_);
}

std::optional<int> MqttLink::publish(const std::string& topic, const uint8_t* data, std::size_t size, int qos,
                                     std::string* error, bool retain) {
  if (!connected_) {
    if (error != nullptr) *error = "not connected to the broker";
    return std::nullopt;
  }
  int mid = 0;
  const int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(size), data, qos, retain);
  if (rc != MOSQ_ERR_SUCCESS) {
    if (error != nullptr) *error = "publishing on " + topic + " failed: " + describe_error(rc);
    return std::nullopt;
  }
  return mid;
}

void MqttLink::on_publish(mosquitto*, void* self, int mid) {
  auto* link = static_cast<MqttLink*>(self);
  if (link->callbacks_.published) link->callbacks_.published(mid);
}

void MqttLink::on_connect(mosquitto* mosq, void* self, int rc) {
  auto* link = static_cast<MqttLink*>(self);
  if (rc != 0) {
    if (link->callbacks_.refused) link->callbacks_.refused(rc, mosquitto_connack_string(rc));
    return;
  }
  for (const auto& s : link->config_.subscriptions) {
    const int sub = mosquitto_subscribe(mosq, nullptr, s.topic.c_str(), s.qos);
    if (sub != MOSQ_ERR_SUCCESS) {
      if (link->callbacks_.error_log)
        link->callbacks_.error_log(link->config_.log_prefix + ": subscribing to " + s.topic + " failed: " +
                                   describe_error(sub));
      mosquitto_disconnect(mosq);  // the loop reconnects and tries again
      return;
    }
  }
  link->connected_ = true;
  if (link->callbacks_.connected) link->callbacks_.connected();
}

void MqttLink::on_disconnect(mosquitto*, void* self, int) {
  // run() reports the loss once mosquitto_loop has returned its error.
  static_cast<MqttLink*>(self)->connected_ = false;
}

void MqttLink::on_message(mosquitto*, void* self, const mosquitto_message* message) {
  auto* link = static_cast<MqttLink*>(self);
  if (message == nullptr || message->topic == nullptr) return;
  const auto* data = static_cast<const uint8_t*>(message->payload);
  const std::size_t size = message->payloadlen > 0 ? static_cast<std::size_t>(message->payloadlen) : 0;
  if (link->callbacks_.message_retained)
    link->callbacks_.message_retained(message->topic, data, size, message->retain);
  else if (link->callbacks_.message)
    link->callbacks_.message(message->topic, data, size);
}

bool MqttLink::sleep_for(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !wake_.wait_for(lock, wait, [this] { return stopping_.load(); });
}

void MqttLink::run() {
  std::chrono::milliseconds backoff = kMinBackoff;
  while (!stopping_) {
    int rc = mosquitto_connect_async(mosq_, config_.host.c_str(), config_.port, config_.keepalive_s);
    if (rc == MOSQ_ERR_SUCCESS) {
      while (!stopping_) {
        rc = mosquitto_loop(mosq_, kLoopTimeoutMs, 1);
        if (rc != MOSQ_ERR_SUCCESS) break;
        if (connected_) backoff = kMinBackoff;
      }
    }
    if (stopping_) break;
    connected_ = false;
    // Every failed attempt and every loss, also while already down: the
    // receiver reports changes only.
    if (callbacks_.lost) callbacks_.lost(describe_error(rc));
    if (!sleep_for(backoff)) break;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  if (connected_.exchange(false)) {
    mosquitto_disconnect(mosq_);
    mosquitto_loop(mosq_, 10, 1);  // sends the DISCONNECT, so the broker sees a clean goodbye
  }
}

}  // namespace latchkey::mqtt
