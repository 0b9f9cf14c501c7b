// NetnsLink: a camera's network path in Linux network namespaces, to break
// for real (docs/attack-path.md).
//
//   root namespace (the hub side)                  camera namespace
//   bridge lkn<pid>-<n>b  10.231.S.1/24  --veth--  cam0 10.231.S.2/24   (the camera's link)
//                                        --veth--  atk0 10.231.S.3/24   attacker namespace
//
// The hub side is the root namespace: the broker binds the bridge's address
// and latchkeyd reaches it there. The camera and the attacker each get a
// namespace of their own on the same segment (the bridge), like two radios
// on one Wi-Fi: faults cut or slow the camera's link only, the attacker's
// stays up.
//
// Faults (on the camera's link):
//   link_down()       `ip link set dev cam0 down` in the camera namespace
//   loss(100)         `tc qdisc ... netem loss 100%` on both ends of the
//                     camera's veth; without sch_netem in the kernel, a tbf
//                     qdisc whose bucket is smaller than any frame (drops
//                     every frame, both directions)
//   delay(ms)         `tc qdisc ... netem delay Nms` on the camera's egress
//                     (camera -> hub); without sch_netem, a user-space delay
//                     line: the hub port's ingress is redirected (tc mirred)
//                     to a TAP device this process reads, holds each frame N
//                     ms and writes back, from where tc hands it to the
//                     bridge. Same direction, same effect.
//   clear_faults()    link up, qdiscs and the delay line removed.
// mechanism() says which of the two is in use (netem is preferred; set
// LATCHKEY_NETNS_NO_NETEM=1 to force the fallbacks).
//
// Names carry this process's pid and a per-process index, and the
// addresses' third octet is chosen free under a lock file, so parallel tests
// never collide. The destructor removes everything; the constructor first
// removes what a crashed earlier run left (names whose pid is dead).
//
// Rights: root-equivalent (CAP_NET_ADMIN and CAP_SYS_ADMIN) and the `ip` and
// `tc` programs (iproute2). netns_unavailable_reason() says why not, for a
// test to skip with. No gtest here: lk-demo may link it too.
#ifndef LATCHKEY_DEMO_NETNS_LINK_HPP
#define LATCHKEY_DEMO_NETNS_LINK_HPP

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace latchkey::testing {

class NetnsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Why this process cannot build a NetnsLink (not root, no CAP_NET_ADMIN or
// CAP_SYS_ADMIN, no `ip`/`tc`, `ip netns add` refused), or nullopt when it
// can. The first call tries `ip netns add` once; the answer is cached.
std::optional<std::string> netns_unavailable_reason();

// The result of one command (ip, tc).
struct CommandResult {
  int exit_code = -1;  // -1: did not run or ended by a signal
  std::string output;  // stdout and stderr together
};
// Runs argv[0] (looked up in PATH and the sbin folders) without a shell.
CommandResult run_command(const std::vector<std::string>& argv);

// A child process run inside a network namespace (fork, setns, exec), its
// stdout and stderr appended to a log file. It gets SIGTERM when the thread
// that started it exits (PR_SET_PDEATHSIG). The destructor kills it.
class NetnsProcess {
 public:
  // Throws NetnsError when the namespace cannot be opened or fork fails.
  // An exec failure shows as exit status 127 and a line in the log.
  NetnsProcess(const std::string& netns, const std::vector<std::string>& argv, const std::filesystem::path& log_file);
  ~NetnsProcess();
  NetnsProcess(const NetnsProcess&) = delete;
  NetnsProcess& operator=(const NetnsProcess&) = delete;

  pid_t pid() const { return pid_; }
  // False once it has exited (reaped here).
  bool running();
  // Waits up to `timeout` for it to exit by itself: its exit status, or -1
  // while it still runs.
  int wait(std::chrono::milliseconds timeout);
  // SIGTERM, SIGKILL after `timeout`; the exit status (128 + signal when killed).
  int stop(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  void kill();
  const std::filesystem::path& log_file() const { return log_file_; }
  // The last `lines` lines of the log, each indented.
  std::string log_tail(std::size_t lines = 20) const;

 private:
  int reap(std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  int status_ = -1;
  std::filesystem::path log_file_;
};

// Moves the calling thread into a network namespace until destroyed (setns;
// only this thread moves). Sockets made meanwhile stay in that namespace for
// their whole life, whichever thread uses them later; threads started
// meanwhile start in it too.
class NetnsScope {
 public:
  explicit NetnsScope(const std::string& netns);  // throws NetnsError
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  int original_ = -1;
};

class DelayLine;

struct NetnsLinkOptions {
  bool attacker = true;       // also make the attacker's namespace
  bool prefer_netem = true;   // use sch_netem when the kernel has it
};

class NetnsLink {
 public:
  enum class Side { kCamera, kAttacker };

  explicit NetnsLink(NetnsLinkOptions options = {});  // throws NetnsError
  ~NetnsLink();
  NetnsLink(const NetnsLink&) = delete;
  NetnsLink& operator=(const NetnsLink&) = delete;

  // The hub side's address (on the bridge, root namespace), the camera's and
  // the attacker's; all in one private /24.
  const std::string& hub_address() const { return hub_address_; }
  const std::string& camera_address() const { return camera_address_; }
  const std::string& attacker_address() const { return attacker_address_; }
  // Namespace names (under /run/netns) and interface names.
  const std::string& camera_netns() const { return camera_netns_; }
  const std::string& attacker_netns() const { return attacker_netns_; }
  const std::string& netns(Side side) const { return side == Side::kCamera ? camera_netns_ : attacker_netns_; }
  const std::string& bridge() const { return bridge_; }
  const std::string& camera_port() const { return camera_port_; }  // hub side of the camera's veth
  static constexpr const char* kCameraInterface = "cam0";          // inside the camera namespace
  static constexpr const char* kAttackerInterface = "atk0";        // inside the attacker namespace

  // Runs a program inside the camera's or the attacker's namespace.
  std::unique_ptr<NetnsProcess> spawn(Side side, const std::vector<std::string>& argv,
                                      const std::filesystem::path& log_file) const;
  // Runs fn on a new thread inside the namespace and waits for it; an
  // exception from fn is rethrown here.
  void run_in(Side side, const std::function<void()>& fn) const;

  // ---- Faults on the camera's link (each replaces the one before) ----
  void link_down();
  void loss(int percent = 100);
  void delay(std::chrono::milliseconds delay);
  // Link up, qdiscs removed, delay line stopped. Never throws.
  void clear_faults() noexcept;
  // "netem" or the fallback in use ("tbf drop + user-space delay line").
  std::string mechanism() const;
  bool netem() const { return netem_; }

 private:
  void build();
  void teardown() noexcept;
  void must(const std::vector<std::string>& argv);

  NetnsLinkOptions options_;
  std::string tag_;  // lkn<pid base36>-<index base36>
  std::string camera_netns_, attacker_netns_;
  std::string bridge_, camera_port_, attacker_port_, tap_;
  std::string hub_address_, camera_address_, attacker_address_;
  std::string bridge_mac_;
  bool netem_ = false;
  bool built_bridge_ = false;
  std::unique_ptr<DelayLine> delay_line_;
};

}  // namespace latchkey::testing

#endif  // LATCHKEY_DEMO_NETNS_LINK_HPP
