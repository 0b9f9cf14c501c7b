#include "call_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace latchkey::isolation {

void CallSocket::replace(int fd, uint64_t generation) {
  std::lock_guard lock(mutex_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  reader_ = FrameReader();
  dead_ = false;
  generation_ = generation;
}

void CallSocket::shut_down() {
  const int fd = fd_.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

void CallSocket::close() {
  std::lock_guard lock(mutex_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// A blocking write, then poll() for the reply until the deadline. Nothing
// else reads this socket, so a query costs one round trip between two
// processes; the supervisor's loop hears only of failures.
lk_result CallSocket::call(plugin_host::v1::HubToHost request, uint64_t deadline_ns, plugin_host::v1::Reply* reply,
                           std::optional<Failure>* failure) {
  std::lock_guard lock(mutex_);
  const int fd = fd_;
  if (fd < 0 || dead_ || !running_->load()) return LK_ERR_CLOSED;
  request.set_call_id(++next_call_);
  std::string bytes;
  append_frame(request.SerializeAsString(), &bytes);
  auto failed = [&](std::string why, lk_result result, bool closed_by_host = false) {
    // This host is done for: no other caller may wait on it meanwhile.
    dead_ = true;
    ::shutdown(fd, SHUT_RDWR);
    *failure = Failure{generation_, std::move(why), closed_by_host};
    return result;
  };
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return failed(std::string("the call socket refused the request: ") + std::strerror(errno), LK_ERR_CLOSED);
    sent += static_cast<std::size_t>(n);
  }
  const uint64_t sent_ns = uv_hrtime();
  uint64_t deadline = sent_ns + deadline_ns;
  char buffer[16 * 1024];
  for (;;) {
    std::optional<std::string> message = reader_.next();
    if (reader_.failed()) return failed("protocol violation: " + reader_.error(), LK_ERR_CLOSED);
    if (message) {
      plugin_host::v1::HostToHub answer;
      if (!answer.ParseFromString(*message) || !answer.has_reply() || answer.reply().call_id() != next_call_)
        return failed("protocol violation: the call socket carried something other than this call's reply",
                      LK_ERR_CLOSED);
      *last_progress_ns_ = uv_hrtime();
      const auto result = static_cast<lk_result>(answer.reply().result());
      if (reply != nullptr) *reply = std::move(*answer.mutable_reply());
      return result;
    }
    uint64_t now = uv_hrtime();
    if (now >= deadline) {
      // Answers on the other socket meanwhile show the host at work and this
      // query queued behind them: its deadline counts from the latest, up to
      // twice the deadline in all.
      deadline = std::max(deadline, std::min(last_progress_ns_->load() + deadline_ns, sent_ns + 2 * deadline_ns));
      if (now >= deadline) return failed("", LK_ERR_TIMEOUT);
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>((deadline - now + 999'999) / 1'000'000));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) continue;  // the loop re-checks the deadline
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return failed("the host closed its call socket", LK_ERR_CLOSED, true);
    reader_.feed(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace latchkey::isolation
