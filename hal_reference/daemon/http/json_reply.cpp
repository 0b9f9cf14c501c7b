#include "json_reply.hpp"

#include "poco_includes.hpp"

namespace latchkey::hub::http {

std::string json_quote(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string error_body(std::string_view error) {
  constexpr std::size_t kMax = 200;
  if (error.size() > kMax) error = error.substr(0, kMax);
  return "{\"error\":" + json_quote(error) + "}";
}

void set_common_headers(Poco::Net::HTTPServerResponse& response) {
  response.set("Cache-Control", "no-store");
  response.set("X-Content-Type-Options", "nosniff");
}

void send_json(Poco::Net::HTTPServerResponse& response, int status, const std::string& body) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  set_common_headers(response);
  response.setContentType("application/json");
  response.sendBuffer(body.data(), body.size());
}

void send_error(Poco::Net::HTTPServerResponse& response, int status, std::string_view error,
                bool close) {
  if (close) response.setKeepAlive(false);
  send_json(response, status, error_body(error));
}

}  // namespace latchkey::hub::http
