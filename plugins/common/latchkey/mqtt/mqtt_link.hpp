// One MQTT client connection (libmosquitto) on a thread of its own, shared
// by the hub-side MQTT users: the net_camera and z2m_lock plugins and
// latchkeyd's Home Assistant publisher.
//
// The thread connects, runs mosquitto_loop, and after every failure or loss
// waits and connects again, doubling the wait from 100 ms up to 2 s. It is
// this class's own thread rather than mosquitto_loop_start's because
// libmosquitto 2.0's mosquitto_loop_forever returns for good on some errors
// (TLS, name resolution), which would leave the camera unwatched until a
// restart; here every error is retried. Callbacks run on that thread. The
// destructor stops and joins it: afterwards no callback runs.
#ifndef LATCHKEY_MQTT_MQTT_LINK_HPP
#define LATCHKEY_MQTT_MQTT_LINK_HPP

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace latchkey::mqtt {

// A set-up the library refuses (bad TLS files, options): thrown by the
// constructor with libmosquitto's reason.
class LinkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A message the broker publishes for this client when the connection ends
// without a clean goodbye (MQTT's last will).
struct LastWill {
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retain = true;
};

struct LinkConfig {
  std::string host;
  uint16_t port = 1883;
  bool tls = false;
  std::string tls_ca_file;   // TLS: empty uses the system's CA folder
  std::string user;
  std::string password;
  std::string client_id;
  int keepalive_s = 5;
  struct Subscription {
    std::string topic;
    int qos = 0;
  };
  std::vector<Subscription> subscriptions;  // (re)made on every connect, in this order
  std::optional<LastWill> will;
  std::string log_prefix = "mqtt";          // names this link in log lines
};

struct LinkCallbacks {
  std::function<void()> connected;                                    // subscribed
  std::function<void(const std::string& why)> lost;                   // an attempt failed or a connection ended
  std::function<void(int connack_code, const std::string& why)> refused;  // the broker said no (e.g. credentials)
  std::function<void(std::string_view topic, const uint8_t* data, std::size_t size)> message;
  // Instead of message when set: also says whether the broker delivered a
  // retained message (one stored before this client subscribed).
  std::function<void(std::string_view topic, const uint8_t* data, std::size_t size, bool retained)> message_retained;
  std::function<void(const std::string& line)> error_log;            // what the link cannot report otherwise
  // The broker acknowledged the message publish() returned `mid` for (QoS 1:
  // its PUBACK; QoS 0: it was written to the socket). A message the
  // connection lost before its acknowledgement is not reported; libmosquitto
  // may send it again after a reconnect under the same mid.
  std::function<void(int mid)> published;
};

// A CONNACK refusal that waiting will not cure: bad user name or password,
// or not authorised (MQTT 3.1.1 codes 4 and 5).
inline bool credentials_refused(int connack_code) { return connack_code == 4 || connack_code == 5; }

class MqttLink {
 public:
  MqttLink(LinkConfig config, LinkCallbacks callbacks);  // starts connecting; throws LinkError
  ~MqttLink();                                           // stops and joins
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  // Queues one message; returns its message id (see LinkCallbacks::published).
  // nullopt (with *error set) when not connected or refused.
  std::optional<int> publish(const std::string& topic, const uint8_t* data, std::size_t size, int qos, std::string* error,
               bool retain = false);
  bool connected() const noexcept { return connected_.load(); }

 private:
  static void on_connect(mosquitto*, void* self, int rc);
  static void on_disconnect(mosquitto*, void* self, int rc);
  static void on_message(mosquitto*, void* self, const mosquitto_message* message);
  static void on_publish(mosquitto*, void* self, int mid);
  void run();
  bool sleep_for(std::chrono::milliseconds wait);  // false when stopping

  const LinkConfig config_;
  const LinkCallbacks callbacks_;
  mosquitto* mosq_ = nullptr;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;  // last: it uses everything above
};

}  // namespace latchkey::mqtt

#endif  // LATCHKEY_MQTT_MQTT_LINK_HPP
