// The parts of a broker device URI (mqtt[s]://HOST[:PORT]/...?key=value&...)
// that every MQTT plugin parses the same way: the refusal naming the URI,
// plain characters, hex digits, bounded whole numbers and the broker's
// host and port. net_camera and z2m_lock parse the rest of their URIs
// themselves. Header-only, plugin side: refusals are plugin::Error
// (LK_ERR_INVALID_ARGUMENT).
#ifndef LATCHKEY_MQTT_DEVICE_URI_HPP
#define LATCHKEY_MQTT_DEVICE_URI_HPP

#include <latchkey/cpp/plugin.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::mqtt {

// Throws, naming the URI and the problem.
class UriRefuser {
 public:
  explicit UriRefuser(std::string_view uri) : uri_(uri) {}
  [[noreturn]] void operator()(const std::string& problem) const {
    throw plugin::Error(LK_ERR_INVALID_ARGUMENT, "device URI '" + std::string(uri_) + "': " + problem);
  }

 private:
  std::string_view uri_;
};

// Letters, digits, '.', '_' and '-': what ids, users and host names hold.
inline bool plain_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// 0-15, or -1 for a character that is not a hex digit.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A decimal whole number in [min, max] (max below 10^10), or a refusal
// saying the key and the range.
inline uint64_t parse_whole_number(const UriRefuser& refuse, const std::string& key, std::string_view text,
                                   uint64_t min, uint64_t max) {
  const std::string range = "'" + key + "' must be a whole number from " + std::to_string(min) + " to " +
                            std::to_string(max);
  if (text.empty() || text.size() > 10) refuse(range);
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') refuse(range);
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value < min || value > max) refuse(range);
  return value;
}

// HOST[:PORT] or [IPV6][:PORT]; `port` keeps its value when none is given.
inline void parse_broker_authority(const UriRefuser& refuse, std::string_view authority, std::string& host,
                                   uint16_t& port) {
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) refuse("unclosed '[' in the host");
    host = std::string(authority.substr(1, close - 1));
    for (char c : host)
      if (hex_value(c) < 0 && c != ':' && c != '.') refuse("malformed IPv6 address");
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') refuse("expected ':PORT' after ']'");
      port_text = rest.substr(1);
      if (port_text.empty()) refuse("empty port");
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = std::string(authority.substr(0, colon));
    for (char c : host)
      if (!plain_char(c)) refuse("the host may hold only letters, digits, '.', '_' and '-' (or be [IPv6])");
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) refuse("empty port");
    }
  }
  if (host.empty()) refuse("no broker host");
  if (!port_text.empty()) port = static_cast<uint16_t>(parse_whole_number(refuse, "port", port_text, 1, 65535));
}

// The start every broker device URI shares: printable ASCII without spaces
// (`ascii_hint` is added to that refusal), mqtt:// or mqtts:// (TLS, then
// `tls_port` unless a port is given), HOST[:PORT] and a '/'. Fills host,
// port and tls; returns what follows the '/'. `shape` is the whole URI's
// form, for the refusal of a URI without a path.
inline std::string_view parse_broker_prefix(const UriRefuser& refuse, std::string_view uri, const std::string& shape,
                                            const std::string& ascii_hint, std::string& host, uint16_t& port,
                                            bool& tls, uint16_t tls_port) {
  for (char c : uri)
    if (c <= 0x20 || c >= 0x7f) refuse("only printable ASCII without spaces is allowed" + ascii_hint);
  std::string_view rest;
  if (uri.substr(0, 7) == "mqtt://") {
    rest = uri.substr(7);
  } else if (uri.substr(0, 8) == "mqtts://") {
    tls = true;
    port = tls_port;
    rest = uri.substr(8);
  } else {
    refuse("must start with 'mqtt://' or 'mqtts://'");
  }
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) refuse("must be " + shape);
  parse_broker_authority(refuse, rest.substr(0, slash), host, port);
  return rest.substr(slash + 1);
}

}  // namespace latchkey::mqtt

#endif  // LATCHKEY_MQTT_DEVICE_URI_HPP
