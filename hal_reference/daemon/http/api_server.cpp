#include "latchkey/hub/api_server.hpp"

#include <stdexcept>

#include "api_request_handler.hpp"
#include "poco_includes.hpp"
#include "server_core.hpp"

namespace latchkey::hub {

struct ApiServer::Running {
  std::shared_ptr<http::ServerCore> core;
  // Declared before the server: destroyed after it, joined in stop().
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  uint16_t port = 0;
};

ApiServer::ApiServer(HubApi& api, Options options) : api_(api), options_(std::move(options)) {}

ApiServer::~ApiServer() {
  try {
    stop();
  } catch (...) {
    // A destructor cannot report; stop() only fails on Poco internals.
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

  Poco::Net::SocketAddress address;
  try {
    address = Poco::Net::SocketAddress(options_.address);
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument("ApiServer: address '" + options_.address + "' is not host:port (" +
                                e.displayText() + ")");
  }

  auto running = std::make_unique<Running>();
  running->core = std::make_shared<http::ServerCore>(api_, options_);
  Poco::Net::ServerSocket socket;
  try {
    socket.bind(address, true, false);   // SO_REUSEADDR, never SO_REUSEPORT: one listener per port
    socket.listen(64);
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("ApiServer: cannot listen on " + options_.address + ": " + e.displayText());
  }
  running->port = socket.address().port();

  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(options_.max_threads);
  params->setMaxQueued(64);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(100);
  params->setKeepAliveTimeout(Poco::Timespan(5, 0));
  // Read and write timeout per socket operation: a silent peer frees its thread.
  params->setTimeout(Poco::Timespan(10, 0));
  params->setServerName("latchkeyd");

  running->pool = std::make_unique<Poco::ThreadPool>(2, options_.max_threads, 30);
  running->server = std::make_unique<Poco::Net::HTTPServer>(
      new http::ApiRequestHandlerFactory(running->core), *running->pool, socket, params);
  running->server->start();
  running_ = std::move(running);
}

uint16_t ApiServer::port() const { return running_ ? running_->port : 0; }

void ApiServer::stop() {
  if (!running_) return;
  // Order: refuse new work and end the streams, stop accepting and shut down
  // every connection's socket, then wait for each connection thread.
  running_->core->begin_stop();
  running_->server->stopAll(true);
  running_->pool->joinAll();
  running_->server.reset();
  running_->pool.reset();
  running_.reset();
}

}  // namespace latchkey::hub
