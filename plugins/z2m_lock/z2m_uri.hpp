// The device URI of a Zigbee2MQTT door (README.md, "Device URI"):
//
//   mqtt://HOST[:PORT]/LOCK_NAME?contact_sensor=NAME&password_file=PATH[&KEY=VALUE]...
//   mqtts://HOST[:PORT]/LOCK_NAME?contact_sensor=NAME&password_file=PATH[&tls_ca_file=PATH][&KEY=VALUE]...
//
// LOCK_NAME and the sensor's name are Zigbee2MQTT friendly names,
// percent-encoded where they hold anything but letters, digits, '.', '_' and
// '-' (a space is %20). Parsing only: nothing is opened or read here. A
// malformed URI throws plugin::Error(LK_ERR_INVALID_ARGUMENT) naming the URI
// and the problem.
#ifndef LATCHKEY_Z2M_LOCK_Z2M_URI_HPP
#define LATCHKEY_Z2M_LOCK_Z2M_URI_HPP

#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::z2m {

struct Z2mUri {
  static constexpr uint16_t kDefaultPort = 1883;
  static constexpr uint16_t kDefaultTlsPort = 8883;
  static constexpr uint32_t kDefaultActuationMs = 5000;
  static constexpr uint32_t kDefaultGetTimeoutMs = 1500;
  static constexpr uint32_t kDefaultSensorTimeoutS = 4500;  // 75 min: a common check-in is about an hour
  static constexpr uint32_t kDefaultMaxRelockS = 300;       // docs/rules.md U4 bound

  std::string uri;                     // as given, for messages
  bool tls = false;                    // mqtts://
  std::string host;                    // without brackets for IPv6
  uint16_t port = kDefaultPort;
  std::string user = "hub";            // the hub's broker user
  std::string password_file;           // that user's password, one line
  std::string tls_ca_file;             // mqtts only; empty: the system's CAs
  std::string base_topic = "zigbee2mqtt";  // Zigbee2MQTT's mqtt.base_topic
  std::string lock_name;               // friendly name of the lock (decoded)
  std::string sensor_name;             // friendly name of the contact sensor (decoded)
  uint32_t actuation_ms = kDefaultActuationMs;      // how long a command may wait for its lock_state report (100-60000)
  uint32_t get_timeout_ms = kDefaultGetTimeoutMs;   // how long open waits for the answers to /get (0-5000)
  uint32_t sensor_timeout_s = kDefaultSensorTimeoutS;  // door Unknown after this long without a sensor report; 0: never
  uint32_t max_relock_s = kDefaultMaxRelockS;       // the longest relock deadline accepted (1-86400)

  static Z2mUri parse(std::string_view uri);

  std::string lock_topic() const { return base_topic + "/" + lock_name; }
  std::string sensor_topic() const { return base_topic + "/" + sensor_name; }
};

}  // namespace latchkey::z2m

#endif  // LATCHKEY_Z2M_LOCK_Z2M_URI_HPP
