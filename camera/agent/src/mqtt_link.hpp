// The agent's end of the camera link (docs/camera-link.md) over libmosquitto:
// user name = camera id, a password, optional TLS, last will "offline"
// (retained) on .../state, and on every connect "online" and the CameraHello,
// both retained, and subscriptions to .../nonce and .../command.
//
// Reconnects: the link runs its own network thread around mosquitto_loop()
// rather than mosquitto_loop_start(), because libmosquitto's own loop gives
// up for good after some errors (a name that does not resolve yet, a TLS or
// authorisation failure), and a camera must keep trying. It retries every
// failure with a backoff from 1 s doubling to 30 s, and gives a connection
// attempt that gets no answer 10 s.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace latchkey::camera {

struct LinkSettings {
  std::string camera_id;
  std::string host;
  uint16_t port = 1883;
  std::string password;      // empty: none
  bool tls = false;
  std::string tls_ca_file;   // with tls: the CA file, or empty for the system's CAs
  std::vector<uint8_t> hello;  // the serialized CameraHello
  int keepalive_s = 5;  // a dead link is noticed within two of these
};

struct LinkHandlers {
  std::function<void()> on_connected;  // after online and hello were queued
  std::function<void(const uint8_t* data, std::size_t size)> on_nonce;
  std::function<void(const uint8_t* data, std::size_t size)> on_command;
};

// latchkey/camera/<id>/<leaf>
std::string camera_topic(const std::string& camera_id, const char* leaf);

class MqttLink {
 public:
  // Sets up the client (throws std::runtime_error, e.g. for an unreadable CA
  // file) and starts connecting in the background.
  MqttLink(LinkSettings settings, LinkHandlers handlers);
  ~MqttLink();  // shutdown() if not done
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  bool connected() const { return connected_.load(); }

  // QoS 0, not retained; dropped (false) while not connected: a late
  // attestation is worth nothing (C2).
  bool publish_attestation(const std::vector<uint8_t>& signed_attestation);

  // The reference view's file (C8, the PGM of --reference-file), published
  // retained on .../reference now if connected and at every connect, so the
  // hub can show a person what the camera compares its view with.
  void set_reference(std::vector<uint8_t> pgm);

  // Publishes "offline" (retained) and waits up to timeout for the broker to
  // take it, then disconnects cleanly (so the will is not sent) and stops.
  void shutdown(std::chrono::milliseconds timeout);

 private:
  void run();
  bool wait_backoff();
  void on_connect(int rc);
  void on_disconnect(int rc);
  void on_message(const mosquitto_message& message);
  void on_publish(int mid);

  LinkSettings settings_;
  LinkHandlers handlers_;
  std::string attestation_topic_, state_topic_, hello_topic_, nonce_topic_, command_topic_, reference_topic_;
  std::mutex reference_mutex_;
  std::vector<uint8_t> reference_;  // guarded by reference_mutex_; empty: none yet
  mosquitto* client_ = nullptr;
  std::thread thread_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> attempt_connected_{false};  // the current attempt got as far as a CONNACK
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> backoff_ms_{1000};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool awaiting_ = false;     // shutdown() waits for an acknowledgement (guarded by mutex_)
  std::set<int> published_;  // message ids acknowledged while awaiting_ (guarded by mutex_)
  bool shut_down_ = false;
};

}  // namespace latchkey::camera
