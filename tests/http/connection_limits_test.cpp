// Idle and slow clients must not starve the API (issue 13): the connection
// front end keeps answering while many connections sit idle or dribble, cuts
// off a request that does not complete within its header or body deadline
// (whole-request deadlines, not per read), closes idle keep-alive connections
// and, at the connection cap, drops the connection idle the longest first.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "fake_hub_api.hpp"
#include "http_test_support.hpp"
#include "latchkey/hub/api_server.hpp"

namespace latchkey::hub::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Raises the soft descriptor limit to the hard one; false when that is still
// below needed.
bool raise_fd_limit(rlim_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) return false;
  limit.rlim_cur = limit.rlim_max;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

// A plain blocking TCP connection to the server; -1 when it fails.
int connect_to(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class Sockets {
 public:
  ~Sockets() {
    for (int fd : fds) ::close(fd);
  }
  std::vector<int> fds;
};

void send_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

// Reads until the server closes or timeout passes; timed_out tells which.
RawResult read_until_closed(int fd, std::chrono::milliseconds timeout) {
  RawResult result;
  const auto deadline = Clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      result.timed_out = true;
      return result;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return result;
    result.data.append(buffer, static_cast<std::size_t>(n));
  }
}

// The server has not closed fd (nothing to read, no end of stream).
bool still_open(int fd) {
  char byte = 0;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

TEST(ConnectionLimits, Api_AnswersWithin100msWhile1000IdleConnectionsAreOpen) {
  constexpr int kSilent = 500;      // connect and send nothing
  constexpr int kDribbling = 500;   // a header byte now and then, never the end of the head
  // Both ends of every connection live in this process.
  if (!raise_fd_limit(2 * (kSilent + kDribbling) + 256)) {
    GTEST_SKIP() << "the hard RLIMIT_NOFILE is below " << 2 * (kSilent + kDribbling) + 256
                 << " descriptors; this test needs them for 1000 connections";
  }
  FakeHubApi hub;
  ApiServer server(hub, {.address = "127.0.0.1:0", .token = kToken});
  server.start();
  const uint16_t port = server.port();

  Sockets idle;
  for (int i = 0; i < kSilent + kDribbling; ++i) {
    const int fd = connect_to(port);
    ASSERT_GE(fd, 0) << "connection " << i << " failed: " << std::strerror(errno);
    idle.fds.push_back(fd);
  }
  const std::string slow_head = "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a');
  std::atomic<bool> done{false};
  std::thread dribbler([&] {
    for (std::size_t at = 0; !done && at < slow_head.size(); ++at) {
      for (int i = kSilent; i < kSilent + kDribbling; ++i) send_all(idle.fds[static_cast<std::size_t>(i)], slow_head.substr(at, 1));
      std::this_thread::sleep_for(50ms);   // the pace of the attack, not synchronisation
    }
  });

  // Several legitimate requests, each on its own new connection.
  for (int round = 0; round < 10; ++round) {
    const auto begin = Clock::now();
    Reply reply;
    try {
      reply = call(port, "GET", "/v1/health", "", {.token = std::nullopt});
    } catch (const Poco::Exception& e) {
      ADD_FAILURE() << "round " << round << ": no answer (" << e.displayText() << ")";
      break;
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin);
    EXPECT_EQ(reply.status, 200) << "round " << round;
    EXPECT_LT(took.count(), 100) << "round " << round << " took " << took.count() << " ms";
    std::this_thread::sleep_for(100ms);
  }
  done = true;
  dribbler.join();

  // The server kept them all: it answered the others without dropping these.
  int open = 0;
  for (int fd : idle.fds) open += still_open(fd) ? 1 : 0;
  EXPECT_EQ(open, kSilent + kDribbling);
  EXPECT_EQ(hub.call_count(), 10u);
}

TEST(ConnectionLimits, HeaderDeadline_CutsOffAClientDribblingTheHead) {
  FakeHubApi hub;
  ApiServer server(hub, {.address = "127.0.0.1:0", .token = kToken, .header_timeout_ms = 300});
  server.start();
  Sockets s;
  s.fds.push_back(connect_to(server.port()));
  ASSERT_GE(s.fds[0], 0);
  const std::string head = "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(100, 'a');
  // A byte every 50 ms: no read ever waits long, the head as a whole does.
  const auto begin = Clock::now();
  std::atomic<bool> stop{false};
  std::thread dribbler([&] {
    for (std::size_t at = 0; !stop && at < head.size(); ++at) {
      send_all(s.fds[0], head.substr(at, 1));
      std::this_thread::sleep_for(50ms);
    }
  });
  RawResult result = read_until_closed(s.fds[0], 3000ms);
  const auto took = Clock::now() - begin;
  stop = true;
  dribbler.join();
  EXPECT_FALSE(result.timed_out) << "still open after 3 s";
  EXPECT_EQ(result.status(), 408) << result.data;
  EXPECT_NE(result.data.find("request head not complete within 300 ms"), std::string::npos) << result.data;
  EXPECT_GE(took, 250ms);
  EXPECT_EQ(hub.call_count(), 0u);
}

TEST(ConnectionLimits, BodyDeadline_CutsOffAClientDribblingTheBody) {
  FakeHubApi hub;
  ApiServer server(hub, {.address = "127.0.0.1:0", .token = kToken, .body_timeout_ms = 300});
  server.start();
  Sockets s;
  s.fds.push_back(connect_to(server.port()));
  ASSERT_GE(s.fds[0], 0);
  send_all(s.fds[0], "POST /v1/doors/front/unlock HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
                         "\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n");
  std::atomic<bool> stop{false};
  std::thread dribbler([&] {
    for (int i = 0; !stop && i < 100; ++i) {
      send_all(s.fds[0], " ");
      std::this_thread::sleep_for(50ms);
    }
  });
  RawResult result = read_until_closed(s.fds[0], 3000ms);
  stop = true;
  dribbler.join();
  EXPECT_FALSE(result.timed_out) << "still open after 3 s";
  EXPECT_EQ(result.status(), 408) << result.data;
  EXPECT_NE(result.data.find("request body not complete within 300 ms"), std::string::npos) << result.data;
  EXPECT_EQ(hub.call_count(), 0u);
}

TEST(ConnectionLimits, KeepAliveTimeout_ClosesAnIdleKeptAliveConnection) {
  FakeHubApi hub;
  ApiServer server(hub, {.address = "127.0.0.1:0", .token = kToken, .keep_alive_timeout_ms = 200});
  server.start();
  Sockets s;
  s.fds.push_back(connect_to(server.port()));
  ASSERT_GE(s.fds[0], 0);
  send_all(s.fds[0], raw_request("GET", "/v1/doors"));
  RawResult result = read_until_closed(s.fds[0], 3000ms);
  EXPECT_FALSE(result.timed_out) << "kept open past the keep-alive timeout";
  EXPECT_EQ(result.status(), 200) << result.data;
  EXPECT_NE(result.data.find("{\"doors\":[]}"), std::string::npos);
}

TEST(ConnectionLimits, ConnectionCap_DropsTheOldestIdleConnectionFirst) {
  FakeHubApi hub;
  ApiServer server(hub, {.address = "127.0.0.1:0", .token = kToken, .max_connections = 4});
  server.start();
  Sockets idle;
  for (int i = 0; i < 4; ++i) {
    idle.fds.push_back(connect_to(server.port()));
    ASSERT_GE(idle.fds.back(), 0);
    // Each must be accepted before the next, so their age is their order.
    send_all(idle.fds.back(), "G");
    std::this_thread::sleep_for(20ms);
  }
  // A fifth connection at the cap: the oldest idle one makes room.
  EXPECT_EQ(call(server.port(), "GET", "/v1/health", "", {.token = std::nullopt}).status, 200);
  RawResult oldest = read_until_closed(idle.fds[0], 3000ms);
  EXPECT_FALSE(oldest.timed_out) << "the oldest idle connection was not dropped";
  for (std::size_t i = 1; i < 4; ++i) EXPECT_TRUE(still_open(idle.fds[i])) << "connection " << i << " was dropped";
}

TEST(ConnectionLimits, Start_RefusesLimitsThatAreNotPositive) {
  FakeHubApi hub;
  EXPECT_THROW(ApiServer(hub, {.address = "127.0.0.1:0", .token = "t", .max_connections = 0}).start(),
               std::invalid_argument);
  EXPECT_THROW(ApiServer(hub, {.address = "127.0.0.1:0", .token = "t", .header_timeout_ms = 0}).start(),
               std::invalid_argument);
  EXPECT_THROW(ApiServer(hub, {.address = "127.0.0.1:0", .token = "t", .write_timeout_ms = -1}).start(),
               std::invalid_argument);
}

}  // namespace
}  // namespace latchkey::hub::testing
