#include "mqtt_link.hpp"

#include "event_log.hpp"
#include "pacer.hpp"
#include "tcp_probe.hpp"

#include <mosquitto.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace latchkey::camera {

namespace {

constexpr uint64_t kMaxBackoffMs = 30'000;
constexpr uint64_t kConnectTimeoutNs = 10'000'000'000;
constexpr char kOnline[] = "online";
constexpr char kOffline[] = "offline";
constexpr char kSystemCas[] = "/etc/ssl/certs";

std::string mosquitto_reason(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  if (rc == MOSQ_ERR_KEEPALIVE) return "the broker did not answer within the keepalive";  // "Unknown error" in 2.0.11
  return mosquitto_strerror(rc);
}

}  // namespace

std::string camera_topic(const std::string& camera_id, const char* leaf) {
  return "latchkey/camera/" + camera_id + "/" + leaf;
}

MqttLink::MqttLink(LinkSettings settings, LinkHandlers handlers)
    : settings_(std::move(settings)),
      handlers_(std::move(handlers)),
      attestation_topic_(camera_topic(settings_.camera_id, "attestation")),
      state_topic_(camera_topic(settings_.camera_id, "state")),
      hello_topic_(camera_topic(settings_.camera_id, "hello")),
      nonce_topic_(camera_topic(settings_.camera_id, "nonce")),
      command_topic_(camera_topic(settings_.camera_id, "command")),
      reference_topic_(camera_topic(settings_.camera_id, "reference")) {
  static const int initialised = mosquitto_lib_init();
  (void)initialised;
  // Clean session: nothing queued for the camera survives a disconnect, so
  // no stale nonce or command is replayed to it after a reconnect.
  client_ = mosquitto_new(("lk-camera-" + settings_.camera_id).c_str(), true, this);
  if (client_ == nullptr) throw std::runtime_error("cannot create an MQTT client: " + std::string(std::strerror(errno)));
  auto fail = [this](const std::string& what, int rc) {
    mosquitto_destroy(client_);
    client_ = nullptr;
    throw std::runtime_error(what + ": " + mosquitto_reason(rc));
  };
  mosquitto_threaded_set(client_, true);  // other threads publish; run() drives the network
  // Attestations are small and a late one is worthless (C2): no Nagle delay.
  mosquitto_int_option(client_, MOSQ_OPT_TCP_NODELAY, 1);
  int rc = mosquitto_username_pw_set(client_, settings_.camera_id.c_str(),
                                     settings_.password.empty() ? nullptr : settings_.password.c_str());
  if (rc != MOSQ_ERR_SUCCESS) fail("cannot set the broker user name", rc);
  rc = mosquitto_will_set(client_, state_topic_.c_str(), static_cast<int>(sizeof kOffline - 1), kOffline, 1, true);
  if (rc != MOSQ_ERR_SUCCESS) fail("cannot set the last will", rc);
  if (settings_.tls) {
    // The broker's certificate must name the host connected to (libmosquitto
    // checks it unless told to be insecure, which the agent never does).
    const bool own_ca = !settings_.tls_ca_file.empty();
    rc = mosquitto_tls_set(client_, own_ca ? settings_.tls_ca_file.c_str() : nullptr, own_ca ? nullptr : kSystemCas,
                           nullptr, nullptr, nullptr);
    if (rc != MOSQ_ERR_SUCCESS)
      fail(own_ca ? "--tls-ca-file " + settings_.tls_ca_file + " cannot be used" : std::string("no system CAs"), rc);
  }
  mosquitto_connect_callback_set(client_, [](mosquitto*, void* self, int rc) {
    static_cast<MqttLink*>(self)->on_connect(rc);
  });
  mosquitto_disconnect_callback_set(client_, [](mosquitto*, void* self, int rc) {
    static_cast<MqttLink*>(self)->on_disconnect(rc);
  });
  mosquitto_message_callback_set(client_, [](mosquitto*, void* self, const mosquitto_message* m) {
    static_cast<MqttLink*>(self)->on_message(*m);
  });
  mosquitto_publish_callback_set(client_, [](mosquitto*, void* self, int mid) {
    static_cast<MqttLink*>(self)->on_publish(mid);
  });
  thread_ = std::thread([this] { run(); });
}

MqttLink::~MqttLink() {
  shutdown(std::chrono::milliseconds(0));
  if (client_ != nullptr) mosquitto_destroy(client_);
}

bool MqttLink::wait_backoff() {
  const uint64_t delay = backoff_ms_.load();
  backoff_ms_ = std::min(delay * 2, kMaxBackoffMs);
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, std::chrono::milliseconds(delay), [this] { return stopping_.load(); });
  return !stopping_.load();
}

void MqttLink::run() {
  const std::string where = settings_.host + ":" + std::to_string(settings_.port);
  while (!stopping_.load()) {
    if (const std::string why = probe_tcp(settings_.host, settings_.port, 5000, stopping_); !why.empty()) {
      if (stopping_.load()) break;
      log_event(logging::LogLevel::kWarning, "no connection to the broker at " + where + " (" + why + "); retrying in " +
                std::to_string(backoff_ms_.load() / 1000) + " s");
      if (!wait_backoff()) break;
      continue;
    }
    int rc = mosquitto_connect_async(client_, settings_.host.c_str(), settings_.port, settings_.keepalive_s);
    if (rc != MOSQ_ERR_SUCCESS) {
      log_event(logging::LogLevel::kWarning, "cannot connect to the broker at " + where + ": " + mosquitto_reason(rc) + "; retrying in " +
                std::to_string(backoff_ms_.load() / 1000) + " s");
      if (!wait_backoff()) break;
      continue;
    }
    const uint64_t started = monotonic_ns();
    attempt_connected_ = false;
    while (!stopping_.load()) {
      rc = mosquitto_loop(client_, 100, 1);
      if (rc != MOSQ_ERR_SUCCESS) break;
      if (!attempt_connected_.load()) {
        if (monotonic_ns() - started > kConnectTimeoutNs) {
          rc = MOSQ_ERR_CONN_LOST;
          log_event(logging::LogLevel::kWarning, "the broker at " + where + " did not answer within 10 s");
          break;
        }
        // Until the CONNACK: never spin, whatever the TLS handshake does.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    if (stopping_.load()) break;
    const bool had_connected = connected_.exchange(false) || attempt_connected_.load();
    log_event(logging::LogLevel::kWarning, (had_connected ? "lost the connection to the broker at " : "no connection to the broker at ") + where +
              " (" + mosquitto_reason(rc) + "); " + (had_connected ? "reconnecting" : "retrying") + " in " +
              std::to_string(backoff_ms_.load() / 1000) + " s");
    if (!wait_backoff()) break;
  }
  // Let the DISCONNECT that shutdown() queued go out.
  for (int i = 0; i < 10 && mosquitto_loop(client_, 50, 1) == MOSQ_ERR_SUCCESS; ++i) {
  }
}

void MqttLink::on_connect(int rc) {
  if (rc != 0) {
    log_event(logging::LogLevel::kError, "the broker refused the connection: " + std::string(mosquitto_connack_string(rc)));
    return;
  }
  backoff_ms_ = 1000;
  mosquitto_subscribe(client_, nullptr, nonce_topic_.c_str(), 0);
  mosquitto_subscribe(client_, nullptr, command_topic_.c_str(), 1);
  mosquitto_publish(client_, nullptr, state_topic_.c_str(), static_cast<int>(sizeof kOnline - 1), kOnline, 1, true);
  mosquitto_publish(client_, nullptr, hello_topic_.c_str(), static_cast<int>(settings_.hello.size()),
                    settings_.hello.data(), 1, true);
  {
    // connected_ is set under the lock, so a set_reference racing with this
    // connect either sees it set and publishes, or is published here.
    const std::lock_guard lock(reference_mutex_);
    connected_ = true;
    if (!reference_.empty())
      mosquitto_publish(client_, nullptr, reference_topic_.c_str(), static_cast<int>(reference_.size()),
                        reference_.data(), 1, true);
  }
  attempt_connected_ = true;
  log_event("connected to the broker at " + settings_.host + ":" + std::to_string(settings_.port) +
            (settings_.tls ? " (TLS)" : "") + "; published online and hello");
  if (handlers_.on_connected) handlers_.on_connected();
}

void MqttLink::set_reference(std::vector<uint8_t> pgm) {
  const std::lock_guard lock(reference_mutex_);
  reference_ = std::move(pgm);
  if (connected_ && !reference_.empty())
    mosquitto_publish(client_, nullptr, reference_topic_.c_str(), static_cast<int>(reference_.size()),
                      reference_.data(), 1, true);
}

// run() says why and when it tries again; a clean disconnect is shutdown()'s.
void MqttLink::on_disconnect(int) { connected_ = false; }

void MqttLink::on_message(const mosquitto_message& message) {
  const auto* data = static_cast<const uint8_t*>(message.payload);
  const auto size = static_cast<std::size_t>(message.payloadlen);
  if (nonce_topic_ == message.topic) {
    if (handlers_.on_nonce) handlers_.on_nonce(data, size);
  } else if (command_topic_ == message.topic) {
    if (handlers_.on_command) handlers_.on_command(data, size);
  }
}

void MqttLink::on_publish(int mid) {
  {
    const std::lock_guard lock(mutex_);
    if (!awaiting_) return;  // libmosquitto reports every publish, attestations too
    published_.insert(mid);
  }
  wake_.notify_all();
}

bool MqttLink::publish_attestation(const std::vector<uint8_t>& signed_attestation) {
  if (!connected_.load()) return false;
  return mosquitto_publish(client_, nullptr, attestation_topic_.c_str(), static_cast<int>(signed_attestation.size()),
                           signed_attestation.data(), 0, false) == MOSQ_ERR_SUCCESS;
}

void MqttLink::shutdown(std::chrono::milliseconds timeout) {
  if (shut_down_ || client_ == nullptr) return;
  shut_down_ = true;
  const bool was_connected = connected_.load();
  if (was_connected && timeout.count() > 0) {
    {
      const std::lock_guard lock(mutex_);
      awaiting_ = true;  // before publishing: the acknowledgement may come at once
    }
    int mid = 0;
    if (mosquitto_publish(client_, &mid, state_topic_.c_str(), static_cast<int>(sizeof kOffline - 1), kOffline, 1,
                          true) == MOSQ_ERR_SUCCESS) {
      std::unique_lock lock(mutex_);
      const bool acknowledged = wake_.wait_for(lock, timeout, [&] { return published_.count(mid) != 0; });
      log_event(acknowledged ? "published offline" : "offline was not acknowledged by the broker in time");
    }
  }
  stopping_ = true;
  connected_ = false;
  mosquitto_disconnect(client_);  // a clean DISCONNECT: the broker drops the will
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (was_connected) log_event("disconnected from the broker");
}

}  // namespace latchkey::camera
