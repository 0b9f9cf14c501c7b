#include "json_reply.hpp"

#include "poco_includes.hpp"

namespace latchkey::hub::http {

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

void send_answer(Poco::Net::HTTPServerResponse& response, const RenderedAnswer& answer) {
  send_json(response, answer.status, answer.body);
}

void send_error(Poco::Net::HTTPServerResponse& response, int status, std::string_view error,
                bool close) {
  if (close) response.setKeepAlive(false);
  send_json(response, status, error_body(error));
}

}  // namespace latchkey::hub::http
