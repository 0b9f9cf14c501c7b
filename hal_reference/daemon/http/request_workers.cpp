#include "request_workers.hpp"

#include "api_request_handler.hpp"
#include "buffered_response.hpp"
#include "complete_request.hpp"
#include "json_reply.hpp"

namespace latchkey::hub::http {

RequestWorkers::RequestWorkers(std::shared_ptr<ServerCore> core, int threads, int write_timeout_ms)
    : core_(std::move(core)), write_timeout_ms_(write_timeout_ms) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

RequestWorkers::~RequestWorkers() { stop(); }

void RequestWorkers::post(ReadyRequest request) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(request));
  }
  ready_.notify_one();
}

void RequestWorkers::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void RequestWorkers::run() {
  for (;;) {
    ReadyRequest request;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      request = std::move(queue_.front());
      queue_.pop_front();
    }
    serve(std::move(request));
  }
}

void RequestWorkers::serve(ReadyRequest ready) {
  FinishedRequest done;
  done.connection = ready.connection;
  try {
    BufferedResponse response(ready.fd, write_timeout_ms_, ready.head.method == "HEAD");
    CompleteRequest request(std::move(ready.head), std::move(ready.body), response, ready.fd, ready.more_input);
    // As Poco's server did: answer in the request's version, keep the
    // connection when both sides allow it.
    response.setVersion(request.getVersion());
    response.setKeepAlive(ready.may_keep_alive && request.getKeepAlive());
    response.set("Server", "latchkeyd");
    ApiRequestHandler handler(core_);
    handler.handleRequest(request, response);
    if (!response.sent()) send_error(response, 500, "internal error: no answer", true);
    response.finish();
    done.broken = response.write_failed();
    done.keep_alive = response.getKeepAlive() && !response.streamed();
    done.output = response.take_output();
  } catch (const std::exception&) {
    done.output = error_response_bytes(500, "internal error");
    done.keep_alive = false;
  }
  front_end_->finished(std::move(done));
}

}  // namespace latchkey::hub::http
