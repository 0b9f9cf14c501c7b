#include "z2m_uri.hpp"

#include <latchkey/cpp/plugin.hpp>
#include <latchkey/mqtt/device_uri.hpp>

#include <vector>

namespace latchkey::z2m {
namespace {

constexpr std::size_t kMaxNameBytes = 128;

using Refuser = mqtt::UriRefuser;
using mqtt::hex_value;
using mqtt::plain_char;

uint32_t parse_number(const Refuser& refuse, const std::string& key, std::string_view text, uint32_t min,
                      uint32_t max) {
  return static_cast<uint32_t>(mqtt::parse_whole_number(refuse, key, text, min, max));
}

// A percent-decoded MQTT topic level (or, with slashes, a base topic): no
// wildcard, no control byte, no NUL, nothing empty.
std::string decode_name(const Refuser& refuse, const std::string& what, std::string_view text, bool slashes) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      const int high = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (high < 0 || low < 0) refuse(what + ": '%' must be followed by two hex digits");
      c = static_cast<char>(high * 16 + low);
      i += 2;
    } else if (!plain_char(c) && !(slashes && c == '/')) {
      refuse(what + ": percent-encode every character but letters, digits, '.', '_' and '-'");
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) refuse(what + " holds a control character");
    if (c == '+' || c == '#') refuse(what + " holds an MQTT wildcard ('+' or '#')");
    if (c == '/' && !slashes)
      refuse(what + " holds a '/' (rename the device in Zigbee2MQTT: a '/' makes nested topics)");
    out.push_back(c);
  }
  if (out.empty() || out.size() > kMaxNameBytes)
    refuse(what + " must be 1 to " + std::to_string(kMaxNameBytes) + " bytes");
  if (slashes && (out.front() == '/' || out.back() == '/' || out.find("//") != std::string::npos))
    refuse(what + " has an empty topic level");
  return out;
}

}  // namespace

Z2mUri Z2mUri::parse(std::string_view uri) {
  const Refuser refuse(uri);
  Z2mUri out;
  out.uri = std::string(uri);
  std::string_view rest = mqtt::parse_broker_prefix(refuse, uri, "mqtt://HOST[:PORT]/LOCK_NAME?contact_sensor=NAME&...",
                                                     " (a space in a name is %20)", out.host, out.port, out.tls,
                                                     kDefaultTlsPort);

  const std::size_t question = rest.find('?');
  out.lock_name = decode_name(refuse, "the lock's friendly name", rest.substr(0, question), false);

  std::vector<std::string> seen;
  if (question != std::string_view::npos) {
    std::string_view query = rest.substr(question + 1);
    if (query.empty()) refuse("empty query after '?'");
    while (true) {
      const std::size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) refuse("malformed parameter '" + std::string(pair) + "'");
      const std::string key(pair.substr(0, eq));
      const std::string_view value = pair.substr(eq + 1);
      for (const std::string& k : seen)
        if (k == key) refuse("'" + key + "' given twice");
      seen.push_back(key);
      if (value.empty()) refuse("'" + key + "' has no value");
      if (key == "contact_sensor") {
        out.sensor_name = decode_name(refuse, "'contact_sensor'", value, false);
      } else if (key == "base_topic") {
        out.base_topic = decode_name(refuse, "'base_topic'", value, true);
      } else if (key == "user") {
        for (char c : value)
          if (!plain_char(c)) refuse("'user' may hold only letters, digits, '.', '_' and '-'");
        out.user = std::string(value);
      } else if (key == "password_file" || key == "tls_ca_file") {
        for (char c : value)
          if (c == '=' || c == '#' || c == '%' || c == '?') refuse("'" + key + "' has a malformed value");
        (key == "password_file" ? out.password_file : out.tls_ca_file) = std::string(value);
      } else if (key == "actuation_ms") {
        out.actuation_ms = parse_number(refuse, key, value, 100, 60000);
      } else if (key == "get_timeout_ms") {
        out.get_timeout_ms = parse_number(refuse, key, value, 0, 5000);
      } else if (key == "sensor_timeout_s") {
        out.sensor_timeout_s = parse_number(refuse, key, value, 0, 7 * 24 * 3600);
      } else if (key == "max_relock_s") {
        out.max_relock_s = parse_number(refuse, key, value, 1, 86400);
      } else {
        refuse("unknown key '" + key +
               "' (known: contact_sensor, password_file, user, tls_ca_file, base_topic, actuation_ms, "
               "get_timeout_ms, sensor_timeout_s, max_relock_s)");
      }
      if (amp == std::string_view::npos) break;
      query = query.substr(amp + 1);
      if (query.empty()) refuse("empty parameter after '&'");
    }
  }
  if (out.sensor_name.empty()) refuse("'contact_sensor' is required (the door's Zigbee2MQTT contact sensor)");
  if (out.sensor_name == out.lock_name) refuse("the lock and the contact sensor must be different devices");
  if (out.password_file.empty()) refuse("'password_file' is required (no anonymous broker clients)");
  if (!out.tls && !out.tls_ca_file.empty()) refuse("'tls_ca_file' needs mqtts:// (TLS); mqtt:// is plain TCP");
  return out;
}

}  // namespace latchkey::z2m
