#include "complete_request.hpp"

#include <poll.h>
#include <sys/socket.h>

namespace latchkey::hub::http {
namespace {

Poco::Net::SocketAddress address_of(int fd, bool peer) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  auto* address = reinterpret_cast<sockaddr*>(&storage);
  const int result = peer ? ::getpeername(fd, address, &length) : ::getsockname(fd, address, &length);
  if (result != 0 || (storage.ss_family != AF_INET && storage.ss_family != AF_INET6)) return {};
  return Poco::Net::SocketAddress(address, length);
}

}  // namespace

CompleteRequest::CompleteRequest(RequestHead head, std::string body, Poco::Net::HTTPServerResponse& response,
                                 int socket_fd, bool more_input)
    : body_(std::move(body)),
      response_(response),
      socket_fd_(socket_fd),
      more_input_(more_input),
      client_(address_of(socket_fd, true)),
      server_(address_of(socket_fd, false)),
      params_(new Poco::Net::HTTPServerParams) {
  setMethod(head.method);
  setURI(head.target);
  setVersion(head.version);
  for (auto& [name, value] : head.fields) add(name, value);
}

bool CompleteRequest::client_gone() const {
  if (more_input_) return true;
  pollfd p{socket_fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

}  // namespace latchkey::hub::http
