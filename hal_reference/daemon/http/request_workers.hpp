// RequestWorkers: the threads that run the handlers (ApiRequestHandler) on
// complete requests from the connection front end and hand each answer back
// to it. An event stream holds its worker for the stream's life, which is why
// max_event_streams stays below the number of workers. Internal to
// latchkey_http.
#ifndef LATCHKEY_HTTP_REQUEST_WORKERS_HPP
#define LATCHKEY_HTTP_REQUEST_WORKERS_HPP

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "connection_front_end.hpp"
#include "server_core.hpp"

namespace latchkey::hub::http {

class RequestWorkers {
 public:
  RequestWorkers(std::shared_ptr<ServerCore> core, int threads, int write_timeout_ms);
  // Calls stop().
  ~RequestWorkers();
  RequestWorkers(const RequestWorkers&) = delete;
  RequestWorkers& operator=(const RequestWorkers&) = delete;

  // Where answers go; set before the first post().
  void answer_to(ConnectionFrontEnd* front_end) { front_end_ = front_end; }
  // Queues a request; never blocks (runs on the front end's thread).
  void post(ReadyRequest request);
  // Serves what is queued, then ends and joins the threads.
  void stop();

 private:
  void run();
  void serve(ReadyRequest request);

  std::shared_ptr<ServerCore> core_;
  int write_timeout_ms_;
  ConnectionFrontEnd* front_end_ = nullptr;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<ReadyRequest> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_REQUEST_WORKERS_HPP
