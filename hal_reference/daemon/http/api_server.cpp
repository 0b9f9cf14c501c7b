#include "latchkey/hub/api_server.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

#include "connection_front_end.hpp"
#include "poco_includes.hpp"
#include "request_workers.hpp"
#include "server_core.hpp"

namespace latchkey::hub {

struct ApiServer::Running {
  std::shared_ptr<http::ServerCore> core;
  std::unique_ptr<http::RequestWorkers> workers;
  std::unique_ptr<http::ConnectionFrontEnd> front_end;
  uint16_t port = 0;
};

namespace {

void require_positive(long long value, const char* name) {
  if (value <= 0) throw std::invalid_argument(std::string("ApiServer: ") + name + " must be positive");
}

// Binds and listens with Poco (its address parsing and messages), then keeps
// a non-blocking duplicate of the descriptor for the front end.
int listen_on(const std::string& text, uint16_t& port) {
  Poco::Net::SocketAddress address;
  try {
    address = Poco::Net::SocketAddress(text);
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument("ApiServer: address '" + text + "' is not host:port (" + e.displayText() + ")");
  }
  Poco::Net::ServerSocket socket;
  try {
    socket.bind(address, true, false);   // SO_REUSEADDR, never SO_REUSEPORT: one listener per port
    // A deep backlog: bursts of connections wait in the kernel, not in SYN retries.
    socket.listen(1024);
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("ApiServer: cannot listen on " + text + ": " + e.displayText());
  }
  port = socket.address().port();
  const int fd = ::fcntl(socket.impl()->sockfd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0 || ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("ApiServer: cannot set up the listening socket for " + text);
  }
  return fd;
}

}  // namespace

ApiServer::ApiServer(HubApi& api, Options options) : api_(api), options_(std::move(options)) {}

ApiServer::~ApiServer() {
  try {
    stop();
  } catch (...) {
    // A destructor cannot report; stop() only fails on thread errors.
  }
}

void ApiServer::start() {
  if (running_) throw std::runtime_error("ApiServer: already running");
  if (options_.token.empty()) throw std::invalid_argument("ApiServer: the bearer token is empty");
  if (options_.max_threads < 2) throw std::invalid_argument("ApiServer: max_threads must be at least 2");
  if (options_.max_event_streams < 0 || options_.max_event_streams >= options_.max_threads) {
    throw std::invalid_argument("ApiServer: max_event_streams must be 0 to max_threads - 1");
  }
  if (options_.event_queue_limit == 0) throw std::invalid_argument("ApiServer: event_queue_limit must be positive");
  if (options_.max_body == 0) throw std::invalid_argument("ApiServer: max_body must be positive");
  require_positive(static_cast<long long>(options_.max_connections), "max_connections");
  require_positive(options_.header_timeout_ms, "header_timeout_ms");
  require_positive(options_.body_timeout_ms, "body_timeout_ms");
  require_positive(options_.keep_alive_timeout_ms, "keep_alive_timeout_ms");
  require_positive(options_.write_timeout_ms, "write_timeout_ms");

  auto running = std::make_unique<Running>();
  const int listen_fd = listen_on(options_.address, running->port);
  running->core = std::make_shared<http::ServerCore>(api_, options_);
  http::FrontEndLimits limits;
  limits.max_connections = options_.max_connections;
  limits.header_timeout_ms = options_.header_timeout_ms;
  limits.body_timeout_ms = options_.body_timeout_ms;
  limits.keep_alive_timeout_ms = options_.keep_alive_timeout_ms;
  limits.write_timeout_ms = options_.write_timeout_ms;
  limits.max_body = options_.max_body;
  running->workers =
      std::make_unique<http::RequestWorkers>(running->core, options_.max_threads, options_.write_timeout_ms);
  http::RequestWorkers* workers = running->workers.get();
  running->front_end = std::make_unique<http::ConnectionFrontEnd>(
      listen_fd, limits, [workers](http::ReadyRequest request) { workers->post(std::move(request)); });
  workers->answer_to(running->front_end.get());
  running->front_end->start();
  running_ = std::move(running);
}

uint16_t ApiServer::port() const { return running_ ? running_->port : 0; }

void ApiServer::stop() {
  if (!running_) return;
  // Order: refuse new work and end the streams; stop accepting, close idle
  // connections and wait for every request a worker holds to come back;
  // then end the workers, which have nothing left to do.
  running_->core->begin_stop();
  running_->front_end->stop();
  running_->workers->stop();
  running_.reset();
}

}  // namespace latchkey::hub
