// Writing answers: the headers every response carries and the error bodies
// of docs/api.md. Internal to latchkey_http.
#ifndef LATCHKEY_HTTP_JSON_REPLY_HPP
#define LATCHKEY_HTTP_JSON_REPLY_HPP

#include <string>
#include <string_view>

namespace Poco::Net {
class HTTPServerResponse;
}

namespace latchkey::hub::http {

// s as a JSON string literal, quotes included. Bytes outside printable ASCII
// are escaped, so text echoed from a request cannot break the body.
std::string json_quote(std::string_view s);

// {"error":"<error>"}; error is cut to a readable length.
std::string error_body(std::string_view error);

// Cache-Control: no-store and X-Content-Type-Options: nosniff.
void set_common_headers(Poco::Net::HTTPServerResponse& response);

// Sends status and body as application/json with a Content-Length.
void send_json(Poco::Net::HTTPServerResponse& response, int status, const std::string& body);

// Sends {"error": error} with status; closes the connection when close is set
// (after a body that was not read, so it is not taken for the next request).
void send_error(Poco::Net::HTTPServerResponse& response, int status, std::string_view error,
                bool close = false);

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_JSON_REPLY_HPP
