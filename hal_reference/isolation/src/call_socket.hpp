// The hub's end of the current host's call socket: queries from callers'
// threads, one at a time, each a blocking round trip on the caller's own
// thread (docs/isolation.md, "Two sockets"). The supervisor's loop replaces
// the socket at each spawn and shuts it down when the host fails.
#ifndef LATCHKEY_ISOLATION_CALL_SOCKET_HPP
#define LATCHKEY_ISOLATION_CALL_SOCKET_HPP

#include <latchkey/isolation/frame.hpp>
#include <latchkey/lk_base.h>

#include "latchkey/plugin_host.pb.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace latchkey::isolation {

class CallSocket {
 public:
  // Why a query failed; from then on this host's socket fails every query at once.
  struct Failure {
    uint64_t generation = 0;  // the host it happened on
    std::string why;
    bool closed_by_host = false;  // the host closed the socket (a crash, most likely)
  };

  // running: whether the supervisor is in service; last_progress_ns: the
  // host's latest answer on either socket (updated here, read for deadlines).
  CallSocket(const std::atomic<bool>* running, std::atomic<uint64_t>* last_progress_ns)
      : running_(running), last_progress_ns_(last_progress_ns) {}
  ~CallSocket() { close(); }
  CallSocket(const CallSocket&) = delete;
  CallSocket& operator=(const CallSocket&) = delete;

  // Loop thread: the new host's socket (-1: none), taking ownership; the old
  // one is closed (a caller still on it was woken by shut_down()).
  void replace(int fd, uint64_t generation);
  // Loop thread: wakes a caller waiting for a reply; the socket is done for.
  void shut_down();
  // Closes the socket (after the loop has stopped).
  void close();

  // Any thread but the loop's: sends the request (its call id is set here)
  // and waits for its reply until the deadline, which answers on the other
  // socket meanwhile extend (up to twice). When the query fails on this
  // host's socket, *failure says why (not when the socket was down already).
  lk_result call(plugin_host::v1::HubToHost request, uint64_t deadline_ns, plugin_host::v1::Reply* reply, std::optional<Failure>* failure);

 private:
  const std::atomic<bool>* running_;
  std::atomic<uint64_t>* last_progress_ns_;

  std::mutex mutex_;  // callers take turns
  std::atomic<int> fd_{-1};  // written under mutex_ on the loop thread; read by shut_down() without it
  bool dead_ = false;  // a query failed on this host: the rest fail fast
  uint64_t generation_ = 0;
  uint64_t next_call_ = 0;
  FrameReader reader_;
};

}  // namespace latchkey::isolation

#endif  // LATCHKEY_ISOLATION_CALL_SOCKET_HPP
