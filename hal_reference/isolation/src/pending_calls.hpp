// The calls in flight on the loop's socket to the host, each with its
// deadline, and the one timer that watches the earliest. Loop thread only.
//
// The host answers that socket's calls in order, one at a time: a reply must
// be to the oldest call, and the next call's wait starts from it. Entry 0
// stands for the host's start (Ready and every device reopened): it has a
// deadline but takes no reply.
#ifndef LATCHKEY_ISOLATION_PENDING_CALLS_HPP
#define LATCHKEY_ISOLATION_PENDING_CALLS_HPP

#include <latchkey/loop/deadline_timer.hpp>
#include <latchkey/lk_base.h>

#include "latchkey/plugin_host.pb.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

namespace latchkey::isolation {

class PendingCalls {
 public:
  // The reply, or nullptr and the failure (LK_ERR_TIMEOUT for the call that
  // missed its deadline, LK_ERR_CLOSED when the host is down).
  using ReplyHandler = std::function<void(const plugin_host::v1::Reply* reply, lk_result failure)>;
  // A call missed its deadline: id 0 is the start; what says which call.
  using Expired = std::function<void(uint64_t id, const std::string& what)>;

  static constexpr uint64_t kStart = 0;
  static constexpr uint64_t kNoCulprit = UINT64_MAX;

  // last_progress_ns: the host's latest answer on either socket, which this
  // updates on each reply and reads to extend a deadline.
  PendingCalls(uint64_t call_deadline_ns, std::atomic<uint64_t>* last_progress_ns)
      : call_deadline_ns_(call_deadline_ns), last_progress_ns_(last_progress_ns) {}

  void open(uv_loop_t* loop, Expired on_expired);
  void close() { timer_.close(); }

  // Waits for the call (or the start, as kStart) until deadline_ns.
  void add(uint64_t id, std::string what, uint64_t deadline_ns, ReplyHandler done);
  // The start is over: its deadline no longer counts.
  void remove_start();
  // A reply: its handler runs. False, with *violation, when it does not
  // answer the oldest call.
  bool answer(const plugin_host::v1::Reply& reply, std::string* violation);
  // Every call fails: culprit with LK_ERR_TIMEOUT, the rest with
  // LK_ERR_CLOSED. The handlers run after the table is empty.
  void fail_all(uint64_t culprit);

 private:
  struct Pending {
    std::string what;
    uint64_t deadline_ns = 0;
    uint64_t sent_ns = 0;
    ReplyHandler done;
  };
  void set_deadline(std::map<uint64_t, Pending>::iterator it, uint64_t deadline_ns);
  void arm();
  void on_deadline();

  const uint64_t call_deadline_ns_;
  std::atomic<uint64_t>* last_progress_ns_;
  Expired on_expired_;
  std::map<uint64_t, Pending> pending_;
  std::set<std::pair<uint64_t, uint64_t>> deadlines_;  // (deadline ns, call id)
  loop::DeadlineTimer timer_;
};

}  // namespace latchkey::isolation

#endif  // LATCHKEY_ISOLATION_PENDING_CALLS_HPP
