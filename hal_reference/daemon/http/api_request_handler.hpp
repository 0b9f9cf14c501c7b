// ApiRequestHandler: one request, from routing to the answer. Authenticates,
// routes (404, 405 with Allow), validates ids, query and body, then calls the
// HubApi and sends its answer, rendered. Internal to latchkey_http.
#ifndef LATCHKEY_HTTP_API_REQUEST_HANDLER_HPP
#define LATCHKEY_HTTP_API_REQUEST_HANDLER_HPP

#include <memory>
#include <string_view>

#include "poco_includes.hpp"
#include "server_core.hpp"

namespace latchkey::hub::http {

// Compares a presented token with the expected one in time that depends only
// on the expected token's length.
bool token_matches(std::string_view presented, std::string_view expected);

class ApiRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit ApiRequestHandler(std::shared_ptr<ServerCore> core) : core_(std::move(core)) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

 private:
  void route(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
  std::shared_ptr<ServerCore> core_;
};

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_API_REQUEST_HANDLER_HPP
