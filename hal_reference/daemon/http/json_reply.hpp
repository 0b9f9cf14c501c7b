// Writing answers: the headers every response carries, JSON bodies and the
// error bodies of docs/api.md (rendered by api_json). Internal to
// latchkey_http.
#ifndef LATCHKEY_HTTP_JSON_REPLY_HPP
#define LATCHKEY_HTTP_JSON_REPLY_HPP

#include <string>
#include <string_view>

#include "latchkey/http/api_json.hpp"

namespace Poco::Net {
class HTTPServerResponse;
}

namespace latchkey::hub::http {

// Cache-Control: no-store and X-Content-Type-Options: nosniff.
void set_common_headers(Poco::Net::HTTPServerResponse& response);

// Sends status and body as application/json with a Content-Length.
void send_json(Poco::Net::HTTPServerResponse& response, int status, const std::string& body);

// Sends a rendered hub answer.
void send_answer(Poco::Net::HTTPServerResponse& response, const RenderedAnswer& answer);

// Sends {"error": error} with status; closes the connection when close is set
// (after a body that was not read, so it is not taken for the next request).
void send_error(Poco::Net::HTTPServerResponse& response, int status, std::string_view error,
                bool close = false);

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_JSON_REPLY_HPP
