#include "tcp_probe.hpp"

#include "pacer.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace latchkey::camera {

namespace {

// "" when the connection to address was accepted before deadline_ns.
std::string try_address(const addrinfo& address, uint64_t deadline_ns, const std::atomic<bool>& stop) {
  const int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, address.ai_protocol);
  if (fd < 0) return std::strerror(errno);
  std::string why;
  if (::connect(fd, address.ai_addr, address.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      why = std::strerror(errno);
    } else {
      why = "no answer";
      while (!stop.load() && monotonic_ns() < deadline_ns) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int error = 0;
        socklen_t size = sizeof error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
        why = error == 0 ? "" : std::strerror(error);
        break;
      }
    }
  }
  ::close(fd);
  return why;
}

}  // namespace

std::string probe_tcp(const std::string& host, uint16_t port, int timeout_ms, const std::atomic<bool>& stop) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  if (const int r = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &addresses); r != 0)
    return std::string("cannot resolve ") + host + ": " + ::gai_strerror(r);
  const uint64_t deadline = monotonic_ns() + static_cast<uint64_t>(timeout_ms) * 1'000'000;
  std::string why = "no address";
  for (const addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    why = try_address(*a, deadline, stop);
    if (why.empty() || stop.load()) break;
  }
  ::freeaddrinfo(addresses);
  return why;
}

}  // namespace latchkey::camera
