#include <latchkey/client/api_endpoint.hpp>

#include <charconv>
#include <stdexcept>

namespace latchkey::client {

ApiEndpoint ApiEndpoint::parse(std::string_view url) {
  const auto fail = [&](const std::string& why) {
    return std::invalid_argument("API URL '" + std::string(url) + "': " + why);
  };
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) throw fail("must start with http://");
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) throw fail("no path expected after the host and port");
  ApiEndpoint endpoint;
  const std::size_t colon = rest.rfind(':');
  std::string_view host = rest;
  if (colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    const std::string_view port = rest.substr(colon + 1);
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      throw fail("port must be a number from 1 to 65535");
    }
    endpoint.port = static_cast<uint16_t>(value);
  }
  if (host.empty()) throw fail("no host");
  endpoint.host = std::string(host);
  return endpoint;
}

std::string ApiEndpoint::url() const { return "http://" + host + ":" + std::to_string(port); }

}  // namespace latchkey::client
