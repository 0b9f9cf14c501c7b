// ApiEndpoint: where a latchkeyd API listens, parsed from a URL such as
// "http://127.0.0.1:7380" (docs/api.md). Only plain http; the API is served
// on loopback.
#ifndef LATCHKEY_CLIENT_API_ENDPOINT_HPP
#define LATCHKEY_CLIENT_API_ENDPOINT_HPP

#include <cstdint>
#include <string>
#include <string_view>

namespace latchkey::client {

inline constexpr std::string_view kDefaultApiUrl = "http://127.0.0.1:7380";

struct ApiEndpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 7380;

  // Parses "http://HOST[:PORT][/]". Throws std::invalid_argument naming the
  // URL and what is wrong with it.
  static ApiEndpoint parse(std::string_view url);
  std::string url() const;
};

}  // namespace latchkey::client

#endif  // LATCHKEY_CLIENT_API_ENDPOINT_HPP
