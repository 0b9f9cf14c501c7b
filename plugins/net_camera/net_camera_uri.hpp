// The device URI of the net camera (README.md, "Device URI"):
//
//   mqtt://HOST[:PORT]/CAMERA_ID?password_file=PATH[&KEY=VALUE]...
//   mqtts://HOST[:PORT]/CAMERA_ID?password_file=PATH[&tls_ca_file=PATH][&KEY=VALUE]...
//
// Parsing only: nothing is opened or read here. A malformed URI throws
// plugin::Error(LK_ERR_INVALID_ARGUMENT) with a message naming the URI and
// the problem; the plugin wrapper writes it to the host's log.
#ifndef LATCHKEY_NET_CAMERA_URI_HPP
#define LATCHKEY_NET_CAMERA_URI_HPP

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::net_camera {

struct NetCameraUri {
  static constexpr uint16_t kDefaultPort = 1883;
  static constexpr uint16_t kDefaultTlsPort = 8883;
  static constexpr uint32_t kDefaultHelloTimeoutMs = 1500;

  std::string uri;                   // as given, for messages
  bool tls = false;                  // mqtts://
  std::string host;                  // without brackets for IPv6
  uint16_t port = kDefaultPort;
  std::string camera_id;             // 1-63 of [A-Za-z0-9._-]; also the camera's broker user
  std::string user = "hub";          // the hub's broker user
  std::string password_file;         // the hub user's password, one line
  std::string tls_ca_file;           // mqtts only; empty: the system's CAs
  std::optional<uint32_t> period_ms; // the attestation period the hub expects (10-10000)
  std::optional<std::array<uint8_t, 32>> key;  // the pinned Ed25519 public key
  uint32_t hello_timeout_ms = kDefaultHelloTimeoutMs;  // how long open waits for the hello (0-5000)

  static NetCameraUri parse(std::string_view uri);
};

}  // namespace latchkey::net_camera

#endif  // LATCHKEY_NET_CAMERA_URI_HPP
