#include "request_body.hpp"

#include <algorithm>
#include <istream>
#include <limits>

namespace latchkey::hub::http {
namespace {

constexpr std::size_t kMaxJsonDepth = 8;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_json_media_type(const std::string& content_type) {
  try {
    Poco::Net::MediaType type(content_type);
    return Poco::icompare(type.getType(), "application") == 0 &&
           Poco::icompare(type.getSubType(), "json") == 0;
  } catch (const Poco::Exception&) {
    return false;
  }
}

std::string quoted_name(std::string_view name) {
  constexpr std::size_t kMax = 40;
  std::string shown(name.substr(0, kMax));
  for (char& c : shown) {
    if (c < ' ' || c > '~') c = '?';
  }
  return "'" + shown + "'";
}

}  // namespace

bool request_has_body(const Poco::Net::HTTPServerRequest& request) {
  if (request.getChunkedTransferEncoding()) return true;
  try {
    return request.hasContentLength() && request.getContentLength64() != 0;
  } catch (const Poco::Exception&) {
    return true;
  }
}

BodyError read_json_body(Poco::Net::HTTPServerRequest& request, std::size_t max_body,
                         std::string& body) {
  if (!request.has("Content-Type") || !is_json_media_type(request.getContentType())) {
    return {415, "Content-Type must be application/json", true};
  }
  const bool chunked = request.getChunkedTransferEncoding();
  if (!chunked) {
    if (!request.hasContentLength()) return {411, "Content-Length or a chunked body is required", true};
    Poco::Int64 declared = 0;
    try {
      declared = request.getContentLength64();
    } catch (const Poco::Exception&) {
      return {400, "Content-Length is not a number", true};
    }
    if (declared < 0) return {400, "Content-Length is negative", true};
    if (static_cast<Poco::UInt64>(declared) > max_body) {
      return {413, "body larger than " + std::to_string(max_body) + " bytes", true};
    }
  }

  body.clear();
  std::istream& in = request.stream();
  char buffer[4096];
  try {
    while (in) {
      in.read(buffer, sizeof buffer);
      auto got = static_cast<std::size_t>(in.gcount());
      if (body.size() + got > max_body) {
        return {413, "body larger than " + std::to_string(max_body) + " bytes", true};
      }
      body.append(buffer, got);
    }
  } catch (const Poco::Exception&) {
    return {400, "body could not be read", true};
  }
  if (in.bad()) return {400, "body could not be read", true};
  if (!chunked && static_cast<Poco::Int64>(body.size()) != request.getContentLength64()) {
    return {400, "body shorter than Content-Length", true};
  }
  return {};
}

Poco::JSON::Object::Ptr parse_json_object(const std::string& body,
                                          const std::vector<std::string_view>& allowed,
                                          std::string& error) {
  // Bound the nesting before Poco builds (and later destroys) it recursively.
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) {
        error = "body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
        return nullptr;
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }

  Poco::Dynamic::Var parsed;
  try {
    Poco::JSON::Parser parser;
    parser.setDepth(kMaxJsonDepth + 1);
    parsed = parser.parse(body);
  } catch (const std::exception&) {
    // Poco refuses a bare scalar as a document: name the real problem.
    auto first = body.find_first_not_of(" \t\r\n");
    const bool scalar = first != std::string::npos &&
                        std::string_view("\"-0123456789tfn").find(body[first]) != std::string_view::npos;
    error = scalar ? "body must be a JSON object" : "body is not valid JSON";
    return nullptr;
  }
  if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
    error = "body must be a JSON object";
    return nullptr;
  }
  auto object = parsed.extract<Poco::JSON::Object::Ptr>();
  if (object.isNull()) {
    error = "body must be a JSON object";
    return nullptr;
  }
  for (const auto& member : *object) {
    if (std::find(allowed.begin(), allowed.end(), member.first) == allowed.end()) {
      error = "unknown field " + quoted_name(member.first);
      return nullptr;
    }
  }
  return object;
}

bool get_string_field(const Poco::JSON::Object& object, const std::string& name, std::string& out,
                      std::string& error) {
  if (!object.has(name)) {
    error = "field " + quoted_name(name) + " is missing";
    return false;
  }
  Poco::Dynamic::Var value = object.get(name);
  if (!value.isString()) {
    error = "field " + quoted_name(name) + " must be a string";
    return false;
  }
  out = value.extract<std::string>();
  return true;
}

bool get_int_field(const Poco::JSON::Object& object, const std::string& name, int64_t& out,
                   std::string& error) {
  if (!object.has(name)) return true;
  Poco::Dynamic::Var value = object.get(name);
  if (!value.isInteger() || value.isBoolean()) {
    error = "field " + quoted_name(name) + " must be an integer";
    return false;
  }
  try {
    out = value.convert<Poco::Int64>();
  } catch (const Poco::Exception&) {
    error = "field " + quoted_name(name) + " is out of range";
    return false;
  }
  return true;
}

bool decode_hex_field(std::string_view name, std::string_view hex, std::size_t min_bytes,
                      std::size_t max_bytes, std::vector<uint8_t>& out, std::string& error) {
  if (hex.size() % 2 != 0) {
    error = "field " + quoted_name(name) + " must have an even number of hex digits";
    return false;
  }
  const std::size_t bytes = hex.size() / 2;
  if (bytes < min_bytes || bytes > max_bytes) {
    error = "field " + quoted_name(name) + " must hold " + std::to_string(min_bytes) + " to " +
            std::to_string(max_bytes) + " bytes";
    return false;
  }
  out.clear();
  out.reserve(bytes);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_digit(hex[i]);
    int lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      error = "field " + quoted_name(name) + " is not hex";
      return false;
    }
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return true;
}

}  // namespace latchkey::hub::http
