// CompleteRequest: the HTTPServerRequest the handlers read, built from a
// request the connection front end has already read in full (head parsed
// strictly, body within its limit and deadline). Internal to latchkey_http.
#ifndef LATCHKEY_HTTP_COMPLETE_REQUEST_HPP
#define LATCHKEY_HTTP_COMPLETE_REQUEST_HPP

#include <sstream>
#include <string>

#include "poco_includes.hpp"
#include "request_head_parser.hpp"

namespace latchkey::hub::http {

class CompleteRequest : public Poco::Net::HTTPServerRequest {
 public:
  // more_input: the client sent bytes after this request already.
  CompleteRequest(RequestHead head, std::string body, Poco::Net::HTTPServerResponse& response,
                  int socket_fd, bool more_input);

  std::istream& stream() override { return body_; }
  const Poco::Net::SocketAddress& clientAddress() const override { return client_; }
  const Poco::Net::SocketAddress& serverAddress() const override { return server_; }
  const Poco::Net::HTTPServerParams& serverParams() const override { return *params_; }
  Poco::Net::HTTPServerResponse& response() const override { return response_; }
  bool secure() const override { return false; }

  // True when the client closed its side or sent anything more since this
  // request: what an event stream watches for (its client has nothing to say).
  bool client_gone() const;

 private:
  std::istringstream body_;
  Poco::Net::HTTPServerResponse& response_;
  int socket_fd_;
  bool more_input_;
  Poco::Net::SocketAddress client_;
  Poco::Net::SocketAddress server_;
  Poco::Net::HTTPServerParams::Ptr params_;
};

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_COMPLETE_REQUEST_HPP
