// Device URIs of the simulated drivers (header-only, C++17):
//
//   sim://<kind>/<name>[?<key>=<value>[&<key>=<value>]...]
//
// <kind> is fixed per driver ("lock", "camera"); <name> is 1-63 characters of
// [A-Za-z0-9._-]; keys are the ones the driver declares, each at most once;
// values are plain ASCII without '%', '&', '=' or '#'. Anything else is
// refused by throwing plugin::Error(LK_ERR_INVALID_ARGUMENT) with a message
// naming the URI and the offending key; the plugin wrapper logs it.
#ifndef LATCHKEY_SIM_DEVICE_URI_HPP
#define LATCHKEY_SIM_DEVICE_URI_HPP

#include <latchkey/cpp/plugin.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::sim {

class DeviceUri {
 public:
  static constexpr std::size_t kMaxNameSize = 63;

  // Parses uri, which must be of kind and use only known_keys.
  static DeviceUri parse(std::string_view uri, std::string_view kind, std::initializer_list<std::string_view> known_keys) {
    DeviceUri out;
    out.uri_ = std::string(uri);
    constexpr std::string_view scheme = "sim://";
    if (uri.substr(0, scheme.size()) != scheme) out.refuse("must start with 'sim://'");
    std::string_view rest = uri.substr(scheme.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos || rest.substr(0, slash) != kind)
      out.refuse("must be sim://" + std::string(kind) + "/<name>");
    rest = rest.substr(slash + 1);
    const std::size_t question = rest.find('?');
    const std::string_view name = rest.substr(0, question);
    if (name.empty() || name.size() > kMaxNameSize) out.refuse("device name must be 1 to 63 characters");
    for (char c : name)
      if (!name_char(c)) out.refuse("device name may hold only letters, digits, '.', '_' and '-'");
    out.name_ = std::string(name);
    if (question == std::string_view::npos) return out;

    std::string_view query = rest.substr(question + 1);
    if (query.empty()) out.refuse("empty query after '?'");
    while (true) {
      const std::size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0) out.refuse("malformed parameter '" + std::string(pair) + "'");
      const std::string key(pair.substr(0, eq));
      const std::string_view value = pair.substr(eq + 1);
      bool known = false;
      for (std::string_view k : known_keys) known = known || k == key;
      if (!known) out.refuse("unknown key '" + key + "'");
      if (out.find(key)) out.refuse("key '" + key + "' given twice");
      if (value.empty()) out.refuse("key '" + key + "' has no value");
      for (char c : value)
        if (c <= 0x20 || c >= 0x7f || c == '%' || c == '=' || c == '#' || c == '?' || c == '/')
          out.refuse("key '" + key + "' has a malformed value");
      out.params_.emplace_back(key, std::string(value));
      if (amp == std::string_view::npos) break;
      query = query.substr(amp + 1);
    }
    return out;
  }

  const std::string& uri() const noexcept { return uri_; }
  const std::string& name() const noexcept { return name_; }

  // The decimal value of key within [min, max], or fallback when absent.
  uint64_t get_uint(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max) const {
    const std::string* text = find(key);
    if (text == nullptr) return fallback;
    uint64_t value = 0;
    for (char c : *text) {
      if (c < '0' || c > '9') refuse("key '" + std::string(key) + "' must be a decimal number");
      const uint64_t digit = static_cast<uint64_t>(c - '0');
      if (value > (UINT64_MAX - digit) / 10) refuse(range_message(key, min, max));
      value = value * 10 + digit;
      if (value > max) refuse(range_message(key, min, max));
    }
    if (value < min) refuse(range_message(key, min, max));
    return value;
  }

  // The bytes of key given as exactly size*2 hex digits, or nothing when absent.
  std::optional<std::vector<uint8_t>> get_hex(std::string_view key, std::size_t size) const {
    const std::string* text = find(key);
    if (text == nullptr) return std::nullopt;
    if (text->size() != size * 2)
      refuse("key '" + std::string(key) + "' must be " + std::to_string(size * 2) + " hex digits");
    std::vector<uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i) {
      const int high = hex_digit((*text)[2 * i]);
      const int low = hex_digit((*text)[2 * i + 1]);
      if (high < 0 || low < 0) refuse("key '" + std::string(key) + "' must be hex digits");
      bytes[i] = static_cast<uint8_t>(high * 16 + low);
    }
    return bytes;
  }

  // Refuses the URI with a message that names it.
  [[noreturn]] void refuse(const std::string& problem) const {
    throw plugin::Error(LK_ERR_INVALID_ARGUMENT, "device URI '" + uri_ + "': " + problem);
  }

 private:
  static bool name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  }
  static int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  static std::string range_message(std::string_view key, uint64_t min, uint64_t max) {
    return "key '" + std::string(key) + "' must be between " + std::to_string(min) + " and " + std::to_string(max);
  }
  const std::string* find(std::string_view key) const noexcept {
    for (const auto& [k, v] : params_)
      if (k == key) return &v;
    return nullptr;
  }

  std::string uri_;
  std::string name_;
  std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace latchkey::sim

#endif  // LATCHKEY_SIM_DEVICE_URI_HPP
