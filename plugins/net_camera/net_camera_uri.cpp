#include "net_camera_uri.hpp"

#include <latchkey/cpp/plugin.hpp>
#include <latchkey/mqtt/device_uri.hpp>

#include <initializer_list>
#include <utility>
#include <vector>

namespace latchkey::net_camera {
namespace {

constexpr std::size_t kMaxCameraId = 63;

using Refuser = mqtt::UriRefuser;
using mqtt::hex_value;
using mqtt::parse_whole_number;
using mqtt::plain_char;

std::array<uint8_t, 32> parse_key(const Refuser& refuse, std::string_view text) {
  if (text.size() != 64) refuse("'key' must be the camera's Ed25519 public key as 64 hex digits");
  std::array<uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    const int high = hex_value(text[2 * i]);
    const int low = hex_value(text[2 * i + 1]);
    if (high < 0 || low < 0) refuse("'key' must be 64 hex digits");
    key[i] = static_cast<uint8_t>(high * 16 + low);
  }
  return key;
}

}  // namespace

NetCameraUri NetCameraUri::parse(std::string_view uri) {
  const Refuser refuse(uri);
  NetCameraUri out;
  out.uri = std::string(uri);
  std::string_view rest = mqtt::parse_broker_prefix(refuse, uri, "mqtt://HOST[:PORT]/CAMERA_ID", "", out.host,
                                                     out.port, out.tls, kDefaultTlsPort);

  const std::size_t question = rest.find('?');
  const std::string_view id = rest.substr(0, question);
  if (id.empty() || id.size() > kMaxCameraId) refuse("the camera id must be 1 to 63 characters");
  for (char c : id)
    if (!plain_char(c)) refuse("the camera id may hold only letters, digits, '.', '_' and '-'");
  out.camera_id = std::string(id);

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
      for (char c : value)
        if (c == '=' || c == '#' || c == '%' || c == '?') refuse("'" + key + "' has a malformed value");
      if (key == "user") {
        for (char c : value)
          if (!plain_char(c)) refuse("'user' may hold only letters, digits, '.', '_' and '-'");
        out.user = std::string(value);
      } else if (key == "password_file") {
        out.password_file = std::string(value);
      } else if (key == "tls_ca_file") {
        out.tls_ca_file = std::string(value);
      } else if (key == "period_ms") {
        out.period_ms = static_cast<uint32_t>(parse_whole_number(refuse, key, value, 10, 10000));
      } else if (key == "key") {
        out.key = parse_key(refuse, value);
      } else if (key == "hello_timeout_ms") {
        out.hello_timeout_ms = static_cast<uint32_t>(parse_whole_number(refuse, key, value, 0, 5000));
      } else {
        refuse("unknown key '" + key + "' (known: user, password_file, tls_ca_file, period_ms, key, hello_timeout_ms)");
      }
      if (amp == std::string_view::npos) break;
      query = query.substr(amp + 1);
      if (query.empty()) refuse("empty parameter after '&'");
    }
  }
  if (out.password_file.empty()) refuse("'password_file' is required (the broker refuses anonymous clients)");
  if (!out.tls && !out.tls_ca_file.empty()) refuse("'tls_ca_file' needs mqtts:// (TLS); mqtt:// is plain TCP");
  return out;
}

}  // namespace latchkey::net_camera
