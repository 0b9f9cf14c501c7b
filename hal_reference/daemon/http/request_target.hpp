// RequestTarget: the request line's target split into percent-decoded path
// segments and query parameters, with the checks docs/api.md asks for on ids
// and numbers. Internal to latchkey_http.
#ifndef LATCHKEY_HTTP_REQUEST_TARGET_HPP
#define LATCHKEY_HTTP_REQUEST_TARGET_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace latchkey::hub::http {

struct RequestTarget {
  std::string path;                                         // raw, as sent
  std::vector<std::string> segments;                        // decoded, between the '/'s
  std::vector<std::pair<std::string, std::string>> query;   // decoded, in order
};

// Splits an origin-form target ("/v1/doors/front?x=1"). Returns nullopt and
// sets error for anything else: no leading '/', a bad percent escape, a NUL.
std::optional<RequestTarget> parse_request_target(std::string_view target, std::string& error);

// A door or camera id: 1-63 printable ASCII characters other than '/' and space.
bool is_valid_device_id(std::string_view id);

// A decimal unsigned 64-bit number without sign, spaces or overflow.
std::optional<uint64_t> parse_decimal_u64(std::string_view text);

// Reads the allowed query parameters; every name must be in allowed and appear
// at most once. On failure returns false and sets error naming the parameter.
bool check_query_names(const RequestTarget& target, const std::vector<std::string_view>& allowed,
                       std::string& error);

// The value of a query parameter, if present.
std::optional<std::string> query_value(const RequestTarget& target, std::string_view name);

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_REQUEST_TARGET_HPP
