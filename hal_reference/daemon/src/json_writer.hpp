// A small writer for the flat JSON objects the hub answers with. Strings are
// escaped per RFC 8259; numbers and booleans written as they are.
#ifndef LATCHKEY_HUB_JSON_WRITER_HPP
#define LATCHKEY_HUB_JSON_WRITER_HPP

#include <cstdint>
#include <string>
#include <vector>

namespace latchkey::hub {

class JsonWriter {
 public:
  JsonWriter& field(const std::string& key, const std::string& value) { return raw(key, quote(value)); }
  JsonWriter& field(const std::string& key, const char* value) { return raw(key, quote(value)); }
  JsonWriter& field(const std::string& key, bool value) { return raw(key, value ? "true" : "false"); }
  JsonWriter& field(const std::string& key, int value) { return raw(key, std::to_string(value)); }
  JsonWriter& field(const std::string& key, int64_t value) { return raw(key, std::to_string(value)); }
  JsonWriter& field(const std::string& key, uint64_t value) { return raw(key, std::to_string(value)); }
  JsonWriter& field(const std::string& key, uint32_t value) { return raw(key, std::to_string(value)); }
  // value is already JSON.
  JsonWriter& raw(const std::string& key, const std::string& value) {
    out_ += out_.size() > 1 ? "," : "";
    out_ += quote(key) + ":" + value;
    return *this;
  }
  JsonWriter& raw_array(const std::string& key, const std::vector<std::string>& items) {
    std::string a = "[";
    for (std::size_t i = 0; i < items.size(); ++i) a += (i ? "," : "") + items[i];
    return raw(key, a + "]");
  }
  JsonWriter& string_array(const std::string& key, const std::vector<std::string>& items) {
    std::vector<std::string> quoted;
    for (const auto& s : items) quoted.push_back(quote(s));
    return raw_array(key, quoted);
  }
  std::string done() const { return out_ + "}"; }

  static std::string quote(const std::string& s) {
    std::string q = "\"";
    for (unsigned char c : s) {
      switch (c) {
        case '"': q += "\\\""; break;
        case '\\': q += "\\\\"; break;
        case '\n': q += "\\n"; break;
        case '\r': q += "\\r"; break;
        case '\t': q += "\\t"; break;
        default:
          if (c < 0x20) {
            static const char* digits = "0123456789abcdef";
            q += "\\u00";
            q += digits[c >> 4];
            q += digits[c & 0xF];
          } else {
            q += static_cast<char>(c);
          }
      }
    }
    return q + "\"";
  }

 private:
  std::string out_ = "{";
};

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_JSON_WRITER_HPP
