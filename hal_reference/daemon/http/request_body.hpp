// Reading and checking a POST body: media type (415), size (413, from
// Content-Length and while reading, chunked bodies too), JSON shape (400) and
// hex fields (400). Internal to latchkey_http.
#ifndef LATCHKEY_HTTP_REQUEST_BODY_HPP
#define LATCHKEY_HTTP_REQUEST_BODY_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "poco_includes.hpp"

namespace latchkey::hub::http {

// A refusal: the status and the error text for the body.
struct BodyError {
  int status = 0;          // 0: no error
  std::string error;
  bool close = false;      // the body was not read to its end: close the connection
};

// True when the request says it carries a body (chunked, or a Content-Length
// other than 0; an unreadable Content-Length counts as a body).
bool request_has_body(const Poco::Net::HTTPServerRequest& request);

// Reads the whole body of request into body. Checks the Content-Type first.
BodyError read_json_body(Poco::Net::HTTPServerRequest& request, std::size_t max_body,
                         std::string& body);

// Parses body as a JSON object (nesting at most 8 deep) whose member names are
// all in allowed. Returns null and sets error otherwise.
Poco::JSON::Object::Ptr parse_json_object(const std::string& body,
                                          const std::vector<std::string_view>& allowed,
                                          std::string& error);

// A required string member. Returns false and sets error naming the field.
bool get_string_field(const Poco::JSON::Object& object, const std::string& name, std::string& out,
                      std::string& error);

// An optional integer member (default kept when absent).
bool get_int_field(const Poco::JSON::Object& object, const std::string& name, int64_t& out,
                   std::string& error);

// Decodes hex digits (either case) into min_bytes..max_bytes bytes.
bool decode_hex_field(std::string_view name, std::string_view hex, std::size_t min_bytes,
                      std::size_t max_bytes, std::vector<uint8_t>& out, std::string& error);

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_REQUEST_BODY_HPP
