// The HTTP connections' epoll loop: accept, read, limits, keep-alive and
// hand-over to the workers, one state machine (hence the length).
#include "connection_front_end.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

#include "buffered_response.hpp"
#include "request_reader.hpp"

namespace latchkey::hub::http {
namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

constexpr std::size_t kReadChunk = 16384;
// After an answer that closes the connection, what the client still sends is
// read and dropped for a while, so closing does not reset the connection
// before the client has read the answer.
constexpr int kLingerMs = 1000;
constexpr std::size_t kLingerBytes = 65536;
// When accept fails for want of descriptors and nothing idle can be dropped.
constexpr int kAcceptPauseMs = 100;
constexpr uint64_t kListenerKey = 0;
constexpr uint64_t kWakeKey = 1;

enum class Phase {
  Waiting,      // kept alive, no byte of the next request yet
  ReadingHead,  // header deadline
  ReadingBody,  // body deadline
  WithWorker,   // not watched: a worker owns the request
  Writing,      // write deadline
  Lingering,    // answer written, closing
};

// Phases in which the connection waits for its client: the ones the cap drops.
bool is_idle(Phase phase) { return phase != Phase::WithWorker && phase != Phase::Writing; }

struct Connection {
  int fd = -1;
  Phase phase = Phase::ReadingHead;
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point idle_since;
  std::string input;
  std::optional<RequestReader> reader;
  std::string output;
  std::size_t written = 0;
  bool close_after_write = false;
  std::size_t lingered = 0;
  int served = 0;
  uint32_t events = 0;   // what epoll watches now; 0: not registered
};

}  // namespace

class ConnectionFrontEnd::Loop {
 public:
  Loop(int listen_fd, FrontEndLimits limits, Dispatch dispatch)
      : listen_fd_(listen_fd), limits_(limits), dispatch_(std::move(dispatch)) {}

  ~Loop() {
    for (auto& [key, connection] : connections_) ::close(connection.fd);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }

  void start() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) throw std::runtime_error(std::string("ApiServer: epoll: ") + std::strerror(errno));
    watch(wake_fd_, kWakeKey, EPOLLIN, EPOLL_CTL_ADD);
    watch(listen_fd_, kListenerKey, EPOLLIN, EPOLL_CTL_ADD);
    thread_ = std::thread([this] { run(); });
  }

  void finished(FinishedRequest request) {
    {
      std::lock_guard lock(mutex_);
      finished_.push_back(std::move(request));
    }
    wake();
  }

  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stop_requested_ = true;
    }
    wake();
    thread_.join();
  }

 private:
  void wake() {
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }

  void watch(int fd, uint64_t key, uint32_t events, int op) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = key;
    ::epoll_ctl(epoll_fd_, op, fd, &event);
  }

  void set_events(uint64_t key, Connection& c, uint32_t events) {
    if (c.events == events) return;
    if (events == 0) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    } else {
      watch(c.fd, key, events, c.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD);
    }
    c.events = events;
  }

  void set_deadline(uint64_t key, Connection& c, Clock::time_point deadline) {
    if (c.deadline != Clock::time_point::max()) deadlines_.erase({c.deadline, key});
    c.deadline = deadline;
    if (deadline != Clock::time_point::max()) deadlines_.insert({deadline, key});
  }

  // Moves a connection to phase, keeping the idle order (oldest idle first,
  // dropped first when the cap is reached) and the epoll interest current.
  void set_phase(uint64_t key, Connection& c, Phase phase, Clock::time_point deadline) {
    if (is_idle(c.phase) && !is_idle(phase)) idle_.erase({c.idle_since, key});
    if (!is_idle(c.phase) && is_idle(phase)) {
      c.idle_since = Clock::now();
      idle_.insert({c.idle_since, key});
    }
    c.phase = phase;
    set_deadline(key, c, deadline);
    const uint32_t events = phase == Phase::WithWorker ? 0u
                            : phase == Phase::Writing  ? static_cast<uint32_t>(EPOLLOUT)
                                                       : static_cast<uint32_t>(EPOLLIN | EPOLLRDHUP);
    set_events(key, c, events);
  }

  void close_connection(uint64_t key) {
    auto it = connections_.find(key);
    if (it == connections_.end()) return;
    Connection& c = it->second;
    if (is_idle(c.phase)) idle_.erase({c.idle_since, key});
    set_deadline(key, c, Clock::time_point::max());
    ::close(c.fd);   // also drops it from the epoll set
    connections_.erase(it);
    if (accept_paused_) resume_accepting();
  }

  void resume_accepting() {
    accept_paused_ = false;
    watch(listen_fd_, kListenerKey, EPOLLIN, EPOLL_CTL_ADD);
  }

  bool drop_oldest_idle() {
    if (idle_.empty()) return false;
    close_connection(idle_.begin()->second);  // the one that has waited longest
    return true;
  }

  void accept_connections() {
    for (int i = 0; i < 64; ++i) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) && !drop_oldest_idle()) {
          // Nothing to make room with: stop listening until a connection closes.
          ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
          accept_paused_ = true;
          accept_resume_at_ = Clock::now() + Ms(kAcceptPauseMs);
        }
        return;
      }
      if (connections_.size() >= limits_.max_connections && !drop_oldest_idle()) {
        // Every connection is being served: refuse this one at once.
        const std::string answer = error_response_bytes(503, "too many connections");
        [[maybe_unused]] auto n = ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
        ::close(fd);
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      const uint64_t key = next_key_++;
      Connection& c = connections_[key];
      c.fd = fd;
      c.phase = Phase::WithWorker;   // so set_phase enters the idle order
      c.reader.emplace(limits_.head, limits_.max_body);
      set_phase(key, c, Phase::ReadingHead, Clock::now() + Ms(limits_.header_timeout_ms));
    }
  }

  // Queues an answer the front end makes itself and closes after it.
  void refuse(uint64_t key, Connection& c, int status, const std::string& error) {
    c.output = error_response_bytes(status, error);
    c.written = 0;
    c.close_after_write = true;
    c.input.clear();
    set_phase(key, c, Phase::Writing, Clock::now() + Ms(limits_.write_timeout_ms));
    write_some(key, c);
  }

  void on_readable(uint64_t key, Connection& c) {
    char buffer[kReadChunk];
    const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) close_connection(key);
      return;
    }
    if (n == 0) {
      // The client closed its side: an unfinished request is answered.
      if ((c.phase == Phase::ReadingHead && !c.input.empty()) || c.phase == Phase::ReadingBody) {
        refuse(key, c, 400, c.reader->truncated_error());
      } else {
        close_connection(key);
      }
      return;
    }
    if (c.phase == Phase::Lingering) {
      c.lingered += static_cast<std::size_t>(n);
      if (c.lingered > kLingerBytes) close_connection(key);
      return;
    }
    c.input.append(buffer, static_cast<std::size_t>(n));
    // The head and body deadlines run from their start, not from the last
    // read: a client dribbling one byte at a time still meets them.
    if (c.phase == Phase::Waiting) {
      set_phase(key, c, Phase::ReadingHead, Clock::now() + Ms(limits_.header_timeout_ms));
    }
    advance(key, c);
  }

  // Takes what input holds for the current request; dispatches it when complete.
  void advance(uint64_t key, Connection& c) {
    const bool had_head = c.reader->head_done();
    const auto state = c.reader->feed(c.input);
    if (state == RequestReader::State::Refused) {
      refuse(key, c, c.reader->status(), c.reader->error());
      return;
    }
    if (c.reader->take_continue()) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      [[maybe_unused]] auto n = ::send(c.fd, kContinue.data(), kContinue.size(), MSG_NOSIGNAL);
    }
    if (state == RequestReader::State::NeedMore) {
      if (!had_head && c.reader->head_done()) {
        set_phase(key, c, Phase::ReadingBody, Clock::now() + Ms(limits_.body_timeout_ms));
      }
      return;
    }
    ReadyRequest ready;
    ready.connection = key;
    ready.fd = c.fd;
    ready.head = c.reader->take_head();
    ready.body = c.reader->take_body();
    ready.more_input = !c.input.empty();
    ready.may_keep_alive = c.served + 1 < limits_.max_requests_per_connection;
    c.reader.reset();
    set_phase(key, c, Phase::WithWorker, Clock::time_point::max());
    ++outstanding_;
    dispatch_(std::move(ready));
  }

  void on_finished(FinishedRequest done) {
    --outstanding_;
    auto it = connections_.find(done.connection);
    if (it == connections_.end()) return;
    Connection& c = it->second;
    if (done.broken) {
      close_connection(done.connection);
      return;
    }
    ++c.served;
    c.output = std::move(done.output);
    c.written = 0;
    c.close_after_write = !done.keep_alive || stopping_;
    set_phase(done.connection, c, Phase::Writing, Clock::now() + Ms(limits_.write_timeout_ms));
    write_some(done.connection, c);
    if (stopping_) close_connection(done.connection);
  }

  void write_some(uint64_t key, Connection& c) {
    while (c.written < c.output.size()) {
      const ssize_t n = ::send(c.fd, c.output.data() + c.written, c.output.size() - c.written, MSG_NOSIGNAL);
      if (n > 0) {
        c.written += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return;   // EPOLLOUT brings us back
      } else {
        close_connection(key);
        return;
      }
    }
    c.output.clear();
    if (c.close_after_write) {
      ::shutdown(c.fd, SHUT_WR);
      set_phase(key, c, Phase::Lingering, Clock::now() + Ms(kLingerMs));
      return;
    }
    // Kept alive: the next request may be in input already (pipelined).
    c.reader.emplace(limits_.head, limits_.max_body);
    if (c.input.empty()) {
      set_phase(key, c, Phase::Waiting, Clock::now() + Ms(limits_.keep_alive_timeout_ms));
    } else {
      set_phase(key, c, Phase::ReadingHead, Clock::now() + Ms(limits_.header_timeout_ms));
      advance(key, c);
    }
  }

  void on_deadline(uint64_t key) {
    Connection& c = connections_.at(key);
    if (c.phase == Phase::ReadingHead) {
      refuse(key, c, 408, "request head not complete within " + std::to_string(limits_.header_timeout_ms) + " ms");
    } else if (c.phase == Phase::ReadingBody) {
      refuse(key, c, 408, "request body not complete within " + std::to_string(limits_.body_timeout_ms) + " ms");
    } else {
      close_connection(key);   // idle keep-alive, a stuck write, lingering done
    }
  }

  int wait_ms() const {
    auto next = deadlines_.empty() ? Clock::time_point::max() : deadlines_.begin()->first;
    if (accept_paused_) next = std::min(next, accept_resume_at_);
    if (next == Clock::time_point::max()) return -1;
    const auto left = std::chrono::duration_cast<Ms>(next - Clock::now()).count() + 1;
    return static_cast<int>(std::clamp<long long>(left, 0, 60000));
  }

  void begin_stopping() {
    stopping_ = true;
    if (!accept_paused_) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    accept_paused_ = false;
    ::close(listen_fd_);
    listen_fd_ = -1;
    std::vector<uint64_t> idle;
    for (const auto& [key, c] : connections_) {
      if (c.phase != Phase::WithWorker) idle.push_back(key);
    }
    for (uint64_t key : idle) close_connection(key);
  }

  void run() {
    epoll_event events[128];
    while (!(stopping_ && outstanding_ == 0)) {
      const int n = ::epoll_wait(epoll_fd_, events, 128, stopping_ ? -1 : wait_ms());
      for (int i = 0; i < n; ++i) {
        const uint64_t key = events[i].data.u64;
        if (key == kWakeKey) {
          uint64_t count = 0;
          [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof count);
          continue;
        }
        if (key == kListenerKey) {
          if (!stopping_) accept_connections();
          continue;
        }
        auto it = connections_.find(key);
        if (it == connections_.end()) continue;   // closed by an earlier event
        if (it->second.phase == Phase::Writing) write_some(key, it->second);
        else if (it->second.phase != Phase::WithWorker) on_readable(key, it->second);
      }
      std::deque<FinishedRequest> finished;
      bool stop = false;
      {
        std::lock_guard lock(mutex_);
        finished.swap(finished_);
        stop = stop_requested_;
      }
      if (stop && !stopping_) begin_stopping();
      for (auto& done : finished) on_finished(std::move(done));
      const auto now = Clock::now();
      while (!deadlines_.empty() && deadlines_.begin()->first <= now) on_deadline(deadlines_.begin()->second);
      if (accept_paused_ && now >= accept_resume_at_) resume_accepting();
    }
  }

  int listen_fd_;
  FrontEndLimits limits_;
  Dispatch dispatch_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;

  // Front end thread only.
  std::unordered_map<uint64_t, Connection> connections_;
  std::set<std::pair<Clock::time_point, uint64_t>> deadlines_;
  std::set<std::pair<Clock::time_point, uint64_t>> idle_;
  uint64_t next_key_ = 2;
  std::size_t outstanding_ = 0;   // dispatched, not finished yet
  bool stopping_ = false;
  bool accept_paused_ = false;
  Clock::time_point accept_resume_at_;

  std::mutex mutex_;
  std::deque<FinishedRequest> finished_;
  bool stop_requested_ = false;
};

ConnectionFrontEnd::ConnectionFrontEnd(int listen_fd, FrontEndLimits limits, Dispatch dispatch)
    : loop_(std::make_unique<Loop>(listen_fd, limits, std::move(dispatch))) {}

ConnectionFrontEnd::~ConnectionFrontEnd() { stop(); }

void ConnectionFrontEnd::start() { loop_->start(); }
void ConnectionFrontEnd::finished(FinishedRequest request) { loop_->finished(std::move(request)); }
void ConnectionFrontEnd::stop() { loop_->stop(); }

}  // namespace latchkey::hub::http
