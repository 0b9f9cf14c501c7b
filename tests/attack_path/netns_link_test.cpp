// The network-namespace harness (hal_reference/demo/netns/netns_link.hpp): the camera
// and the attacker reach the hub side, each fault does what it says on the
// camera's link only, clear_faults() mends it, and nothing is left behind.
#include "netns_link.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace latchkey::testing {
namespace {

using namespace std::chrono_literals;
using Side = NetnsLink::Side;

#define SKIP_WITHOUT_NETNS()                                                                  \
  do {                                                                                        \
    if (const auto why = netns_unavailable_reason())                                          \
      GTEST_SKIP() << "needs network namespaces (run as root): " << *why;                     \
  } while (0)

// A listening TCP socket on the hub side (this thread's namespace).
class Listener {
 public:
  explicit Listener(const std::string& address) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

struct Attempt {
  bool connected = false;
  std::chrono::milliseconds took{0};
};

// A TCP connect to address:port from inside `side`'s namespace, given up after `timeout`.
Attempt connect_from(const NetnsLink& link, Side side, const std::string& address, uint16_t port,
                     std::chrono::milliseconds timeout) {
  Attempt attempt;
  link.run_in(side, [&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    const auto start = std::chrono::steady_clock::now();
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
        rc = error == 0 ? 0 : -1;
      }
    }
    attempt.connected = rc == 0;
    attempt.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    ::close(fd);
  });
  return attempt;
}

bool netns_exists(const std::string& name) { return std::filesystem::exists("/run/netns/" + name); }
bool link_exists(const std::string& name) { return run_command({"ip", "link", "show", "dev", name}).exit_code == 0; }

TEST(NetnsLink, CameraAndAttackerReachTheHubSide) {
  SKIP_WITHOUT_NETNS();
  NetnsLink link;
  Listener hub(link.hub_address());
  EXPECT_TRUE(connect_from(link, Side::kCamera, link.hub_address(), hub.port(), 2s).connected);
  EXPECT_TRUE(connect_from(link, Side::kAttacker, link.hub_address(), hub.port(), 2s).connected);
  EXPECT_NE(link.camera_address(), link.attacker_address());
}

TEST(NetnsLink, SpawnedProcessRunsInTheCameraNamespace) {
  SKIP_WITHOUT_NETNS();
  NetnsLink link;
  const auto log = std::filesystem::temp_directory_path() / ("netns-spawn-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(log);
  auto process = link.spawn(Side::kCamera, {"ip", "-o", "-4", "addr", "show"}, log);
  EXPECT_EQ(process->wait(10s), 0) << process->log_tail();
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(std::string(NetnsLink::kCameraInterface) + "    inet " + link.camera_address()), std::string::npos)
      << text;
  EXPECT_EQ(text.find(link.hub_address()), std::string::npos) << "the bridge is not in the camera's namespace:\n"
                                                              << text;
  std::filesystem::remove(log);
}

TEST(NetnsLink, LinkDownCutsTheCameraOnly) {
  SKIP_WITHOUT_NETNS();
  NetnsLink link;
  Listener hub(link.hub_address());
  link.link_down();
  EXPECT_FALSE(connect_from(link, Side::kCamera, link.hub_address(), hub.port(), 500ms).connected);
  EXPECT_TRUE(connect_from(link, Side::kAttacker, link.hub_address(), hub.port(), 2s).connected);
  link.clear_faults();
  EXPECT_TRUE(connect_from(link, Side::kCamera, link.hub_address(), hub.port(), 3s).connected);
}

TEST(NetnsLink, LossOf100PercentDropsEverything) {
  SKIP_WITHOUT_NETNS();
  NetnsLink link;
  Listener hub(link.hub_address());
  std::cerr << "  mechanism: " << link.mechanism() << "\n";
  link.loss(100);
  EXPECT_FALSE(connect_from(link, Side::kCamera, link.hub_address(), hub.port(), 700ms).connected);
  EXPECT_TRUE(connect_from(link, Side::kAttacker, link.hub_address(), hub.port(), 2s).connected);
  link.clear_faults();
  EXPECT_TRUE(connect_from(link, Side::kCamera, link.hub_address(), hub.port(), 3s).connected);
}

TEST(NetnsLink, DelayHoldsTheCamerasPackets) {
  SKIP_WITHOUT_NETNS();
  NetnsLink link;
  Listener hub(link.hub_address());
  EXPECT_TRUE(connect_from(link, Side::kCamera, link.hub_address(), hub.port(), 2s).connected);  // ARP resolved
  link.delay(300ms);
  const Attempt slow = connect_from(link, Side::kCamera, link.hub_address(), hub.port(), 3s);
  EXPECT_TRUE(slow.connected);
  EXPECT_GE(slow.took, 300ms) << "the SYN crossed without the delay";
  const Attempt attacker = connect_from(link, Side::kAttacker, link.hub_address(), hub.port(), 2s);
  EXPECT_TRUE(attacker.connected);
  EXPECT_LT(attacker.took, 300ms) << "the attacker's link was delayed too";
  link.clear_faults();
  const Attempt fast = connect_from(link, Side::kCamera, link.hub_address(), hub.port(), 2s);
  EXPECT_TRUE(fast.connected);
  EXPECT_LT(fast.took, 300ms);
}

TEST(NetnsLink, NothingIsLeftBehind) {
  SKIP_WITHOUT_NETNS();
  std::string camera, attacker, bridge, port;
  {
    NetnsLink link;
    link.delay(100ms);  // a delay line too
    camera = link.camera_netns();
    attacker = link.attacker_netns();
    bridge = link.bridge();
    port = link.camera_port();
    EXPECT_TRUE(netns_exists(camera));
    EXPECT_TRUE(link_exists(bridge));
  }
  EXPECT_FALSE(netns_exists(camera));
  EXPECT_FALSE(netns_exists(attacker));
  EXPECT_FALSE(link_exists(bridge));
  EXPECT_FALSE(link_exists(port));
}

TEST(NetnsLink, RemovesWhatACrashedRunLeft) {
  SKIP_WITHOUT_NETNS();
  // A pid that is surely gone: a child that has exited and been reaped.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  std::string pid36;
  for (auto v = static_cast<uint64_t>(child); v != 0; v /= 36) pid36.insert(pid36.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36]);
  const std::string stale_netns = "lkn" + pid36 + "-0-cam";
  const std::string stale_bridge = "lkn" + pid36 + "-0b";
  ASSERT_EQ(run_command({"ip", "netns", "add", stale_netns}).exit_code, 0);
  ASSERT_EQ(run_command({"ip", "link", "add", "name", stale_bridge, "type", "bridge"}).exit_code, 0);
  {
    NetnsLink link;
    EXPECT_FALSE(netns_exists(stale_netns));
    EXPECT_FALSE(link_exists(stale_bridge));
  }
  run_command({"ip", "netns", "delete", stale_netns});
  run_command({"ip", "link", "delete", stale_bridge});
}

}  // namespace
}  // namespace latchkey::testing
