#include "pending_calls.hpp"

#include <algorithm>

namespace latchkey::isolation {

using loop::DeadlineTimer;

void PendingCalls::open(uv_loop_t* loop, Expired on_expired) {
  on_expired_ = std::move(on_expired);
  timer_.open(loop, [this] { on_deadline(); });
}

void PendingCalls::add(uint64_t id, std::string what, uint64_t deadline_ns, ReplyHandler done) {
  pending_[id] = Pending{std::move(what), deadline_ns, DeadlineTimer::now_ns(), std::move(done)};
  deadlines_.insert({deadline_ns, id});
  arm();
}

void PendingCalls::remove_start() {
  auto start = pending_.find(kStart);
  if (start == pending_.end()) return;
  deadlines_.erase({start->second.deadline_ns, kStart});
  pending_.erase(start);
}

void PendingCalls::set_deadline(std::map<uint64_t, Pending>::iterator it, uint64_t deadline_ns) {
  deadlines_.erase({it->second.deadline_ns, it->first});
  it->second.deadline_ns = deadline_ns;
  deadlines_.insert({deadline_ns, it->first});
}

bool PendingCalls::answer(const plugin_host::v1::Reply& reply, std::string* violation) {
  // The reply must be to the oldest call (a host cannot hide a stuck call
  // behind fresh answers), and the next call's wait starts now.
  auto it = pending_.upper_bound(kStart);
  if (reply.call_id() == 0 || it == pending_.end() || it->first != reply.call_id()) {
    *violation = "a reply to call " + std::to_string(reply.call_id()) +
                 (it == pending_.end() ? ", none being outstanding"
                                       : ", while call " + std::to_string(it->first) + " is the oldest outstanding");
    return false;
  }
  Pending p = std::move(it->second);
  deadlines_.erase({p.deadline_ns, it->first});
  pending_.erase(it);
  const uint64_t now = DeadlineTimer::now_ns();
  *last_progress_ns_ = now;
  auto next = pending_.upper_bound(kStart);
  if (next != pending_.end()) {
    const uint64_t fresh = now + call_deadline_ns_;
    if (fresh > next->second.deadline_ns) set_deadline(next, fresh);
  }
  p.done(&reply, LK_OK);
  arm();
  return true;
}

void PendingCalls::fail_all(uint64_t culprit) {
  auto pending = std::move(pending_);
  pending_.clear();
  deadlines_.clear();
  timer_.stop();
  for (auto& [id, p] : pending) p.done(nullptr, id == culprit ? LK_ERR_TIMEOUT : LK_ERR_CLOSED);
}

void PendingCalls::arm() {
  if (deadlines_.empty()) return timer_.stop();
  timer_.arm_at(deadlines_.begin()->first);
}

void PendingCalls::on_deadline() {
  if (deadlines_.empty()) return;
  const auto [deadline, id] = *deadlines_.begin();
  if (deadline > DeadlineTimer::now_ns()) return arm();
  auto it = pending_.find(id);
  const std::string what = it != pending_.end() ? it->second.what : "a call";
  // A query on the call socket answered meanwhile shows the host at work: the
  // call waited behind it. Its own full deadline then counts from that answer,
  // up to twice the deadline in all.
  if (it != pending_.end() && id != kStart) {
    const uint64_t extended =
        std::min(last_progress_ns_->load() + call_deadline_ns_, it->second.sent_ns + 2 * call_deadline_ns_);
    if (extended > DeadlineTimer::now_ns()) {
      set_deadline(it, extended);
      return arm();
    }
  }
  on_expired_(id, what);
}

}  // namespace latchkey::isolation
