// The two namespaces, the veth pair, the tap relay and the link faults of the
// attack path in one place: each part is small and they share the fd and
// capability helpers (hence the length).
#include "netns_link.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace fs = std::filesystem;

namespace latchkey::testing {

namespace {

constexpr const char* kPrefix = "lkn";          // every name this harness makes starts so
constexpr const char* kNetnsDir = "/run/netns";
constexpr const char* kSubnetPrefix = "10.231."; // 10.231.S.0/24, S chosen free

std::string base36(uint64_t v) {
  static const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s;
  do {
    s.insert(s.begin(), digits[v % 36]);
    v /= 36;
  } while (v != 0);
  return s;
}

std::optional<uint64_t> parse_base36(const std::string& s) {
  if (s.empty() || s.size() > 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 10;
    else return std::nullopt;
    v = v * 36 + static_cast<uint64_t>(d);
  }
  return v;
}

// The pid in a name this harness made ("lkn<pid36>-..."), if it is one.
std::optional<pid_t> owner_pid(const std::string& name) {
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  const auto dash = name.find('-', 3);
  if (dash == std::string::npos) return std::nullopt;
  const auto pid = parse_base36(name.substr(3, dash - 3));
  if (!pid || *pid == 0 || *pid > 4'194'304) return std::nullopt;
  return static_cast<pid_t>(*pid);
}

bool process_alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = ::getenv("PATH") ? ::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

int64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Effective capabilities of this process (/proc/self/status CapEff).
uint64_t effective_capabilities() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

constexpr int kCapNetAdmin = 12;
constexpr int kCapSysAdmin = 21;

int open_netns(const std::string& netns) {
  const std::string path = std::string(kNetnsDir) + "/" + netns;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw NetnsError("cannot open network namespace " + path + ": " + std::strerror(errno));
  return fd;
}

// Serialises the choice of subnets and names between processes.
class FileLock {
 public:
  FileLock() {
    for (const char* path : {"/run/lock/latchkey-netns.lock", "/tmp/latchkey-netns.lock"}) {
      fd_ = ::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd_ >= 0) break;
    }
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

// Removes namespaces and root-namespace links left by runs whose process is gone.
void remove_stale() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kNetnsDir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto pid = owner_pid(name);
    if (pid && !process_alive(*pid)) run_command({"ip", "netns", "delete", name});
  }
  const CommandResult links = run_command({"ip", "-o", "link", "show"});
  std::stringstream lines(links.output);
  std::string line;
  while (std::getline(lines, line)) {
    // "12: lkn1x-0c@if11: <BROADCAST,..."
    const auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    std::string name = line.substr(colon + 2);
    name = name.substr(0, name.find_first_of(":@ "));
    const auto pid = owner_pid(name);
    if (pid && !process_alive(*pid)) run_command({"ip", "link", "delete", name});
  }
}

std::string random_mac() {
  std::random_device rd;
  char mac[18];
  // Locally administered, unicast.
  std::snprintf(mac, sizeof mac, "02:%02x:%02x:%02x:%02x:%02x", rd() & 0xff, rd() & 0xff, rd() & 0xff, rd() & 0xff,
                rd() & 0xff);
  return mac;
}

std::atomic<unsigned> g_next_index{0};

}  // namespace

// ---------------------------------------------------------------------------

CommandResult run_command(const std::vector<std::string>& argv) {
  CommandResult result;
  if (argv.empty()) return result;
  const std::string program = find_program(argv[0]);
  if (program.empty()) {
    result.output = argv[0] + ": not found";
    return result;
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.output = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    result.output = program + ": " + std::strerror(rc);
    return result;
  }
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) result.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::optional<std::string> netns_unavailable_reason() {
  static std::once_flag once;
  static std::optional<std::string> reason;
  std::call_once(once, [] {
    const uint64_t caps = effective_capabilities();
    const std::string who = "uid " + std::to_string(::geteuid());
    if ((caps & (uint64_t{1} << kCapNetAdmin)) == 0) {
      reason = "no CAP_NET_ADMIN (" + who + "): network namespaces need root";
      return;
    }
    if ((caps & (uint64_t{1} << kCapSysAdmin)) == 0) {
      reason = "no CAP_SYS_ADMIN (" + who + "): `ip netns add` needs it to mount the namespace";
      return;
    }
    for (const char* tool : {"ip", "tc"}) {
      if (find_program(tool).empty()) {
        reason = std::string("`") + tool + "` (iproute2) not found";
        return;
      }
    }
    // Try for real: a namespace and a veth pair.
    const std::string probe = std::string(kPrefix) + base36(static_cast<uint64_t>(::getpid())) + "-probe";
    const CommandResult add = run_command({"ip", "netns", "add", probe});
    if (add.exit_code != 0) {
      reason = "`ip netns add` failed: " + add.output;
      return;
    }
    run_command({"ip", "netns", "delete", probe});
    const std::string veth = std::string(kPrefix) + base36(static_cast<uint64_t>(::getpid())) + "-pv";
    const CommandResult link =
        run_command({"ip", "link", "add", veth + "a", "type", "veth", "peer", "name", veth + "b"});
    if (link.exit_code != 0) {
      reason = "`ip link add ... type veth` failed: " + link.output;
      return;
    }
    run_command({"ip", "link", "delete", veth + "a"});
  });
  return reason;
}

// ---- NetnsProcess ---------------------------------------------------------

NetnsProcess::NetnsProcess(const std::string& netns, const std::vector<std::string>& argv, const fs::path& log_file)
    : log_file_(log_file) {
  if (argv.empty()) throw NetnsError("NetnsProcess: empty command");
  const std::string program = find_program(argv[0]);
  if (program.empty()) throw NetnsError(argv[0] + ": not found");
  const int ns_fd = open_netns(netns);
  const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    ::close(ns_fd);
    throw NetnsError("cannot open " + log_file.string() + ": " + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string exec_failed = "NetnsProcess: exec " + program + " failed\n";
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(ns_fd);
    ::close(log_fd);
    throw NetnsError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::setns(ns_fd, CLONE_NEWNET) != 0) {
      const char msg[] = "NetnsProcess: setns failed\n";
      (void)!::write(log_fd, msg, sizeof msg - 1);
      ::_exit(127);
    }
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(program.c_str(), args.data(), environ);
    (void)!::write(log_fd, exec_failed.data(), exec_failed.size());
    ::_exit(127);
  }
  ::close(ns_fd);
  ::close(log_fd);
  pid_ = pid;
}

NetnsProcess::~NetnsProcess() { kill(); }

bool NetnsProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = status;
    pid_ = -1;
    return false;
  }
  return true;
}

int NetnsProcess::reap(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      status_ = r == pid_ ? status : -1;
      pid_ = -1;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (status_ < 0) return -1;
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

int NetnsProcess::wait(std::chrono::milliseconds timeout) { return reap(timeout); }

int NetnsProcess::stop(std::chrono::milliseconds timeout) {
  if (pid_ > 0) ::kill(pid_, SIGTERM);
  int code = reap(timeout);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    code = reap(std::chrono::seconds(10));
  }
  return code;
}

void NetnsProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(std::chrono::seconds(10));
}

std::string NetnsProcess::log_tail(std::size_t lines) const {
  std::ifstream in(log_file_);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string text;
  for (const auto& l : tail) text += "  " + l + "\n";
  return text.empty() ? "  (empty)\n" : text;
}

// ---- NetnsScope -----------------------------------------------------------

NetnsScope::NetnsScope(const std::string& netns) {
  original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ < 0) throw NetnsError(std::string("cannot open /proc/thread-self/ns/net: ") + std::strerror(errno));
  const int target = open_netns(netns);
  const int rc = ::setns(target, CLONE_NEWNET);
  const int error = errno;
  ::close(target);
  if (rc != 0) {
    ::close(original_);
    throw NetnsError("setns into " + netns + " failed: " + std::strerror(error));
  }
}

NetnsScope::~NetnsScope() {
  ::setns(original_, CLONE_NEWNET);
  ::close(original_);
}

// ---- DelayLine: netem's delay (and loss) in user space --------------------
//
// hub port ingress --tc mirred--> TAP (this thread reads: hold N ms, maybe
// drop) --write--> TAP receives --tc mirred ingress--> bridge --> hub stack.
// The TAP carries the bridge's MAC address so the frames it hands on are
// addressed to the host (PACKET_HOST), as they were on the port.
class DelayLine {
 public:
  DelayLine(std::string tap, std::string port, const std::string& bridge, const std::string& bridge_mac,
            std::chrono::milliseconds delay, int loss_percent)
      : tap_(std::move(tap)), port_(std::move(port)), delay_ns_(delay.count() * 1'000'000),
        loss_percent_(loss_percent) {
    fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) throw NetnsError(std::string("cannot open /dev/net/tun for the delay line: ") + std::strerror(errno));
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, tap_.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd_, TUNSETIFF, &ifr) != 0) {
      const int e = errno;
      ::close(fd_);
      throw NetnsError("TUNSETIFF " + tap_ + ": " + std::strerror(e));
    }
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    try {
      must({"ip", "link", "set", "dev", tap_, "address", bridge_mac, "up"});
      must({"tc", "qdisc", "add", "dev", tap_, "handle", "ffff:", "ingress"});
      must({"tc", "filter", "add", "dev", tap_, "parent", "ffff:", "protocol", "all", "u32", "match", "u32", "0", "0",
            "action", "mirred", "ingress", "redirect", "dev", bridge});
      thread_ = std::thread([this] { run(); });
      must({"tc", "qdisc", "add", "dev", port_, "handle", "ffff:", "ingress"});
      must({"tc", "filter", "add", "dev", port_, "parent", "ffff:", "protocol", "all", "u32", "match", "u32", "0",
            "0", "action", "mirred", "egress", "redirect", "dev", tap_});
    } catch (...) {
      stop();
      throw;
    }
  }
  ~DelayLine() { stop(); }
  DelayLine(const DelayLine&) = delete;
  DelayLine& operator=(const DelayLine&) = delete;

 private:
  static void must(const std::vector<std::string>& argv) {
    const CommandResult r = run_command(argv);
    if (r.exit_code != 0) throw NetnsError("`" + joined(argv) + "` failed: " + r.output);
  }

  void stop() noexcept {
    // The port first, so that nothing more enters; what is still held is
    // dropped, as netem drops its queue when it is removed.
    run_command({"tc", "qdisc", "del", "dev", port_, "ingress"});
    stopping_ = true;
    if (wake_ >= 0) {
      const uint64_t one = 1;
      (void)!::write(wake_, &one, sizeof one);
    }
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);  // the TAP and its qdisc go with it
    if (wake_ >= 0) ::close(wake_);
    fd_ = wake_ = -1;
  }

  void run() {
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> percent(0, 99);
    std::deque<std::pair<int64_t, std::string>> held;
    std::string frame(65536, '\0');
    while (!stopping_) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_, POLLIN, 0}};
      timespec timeout{};
      timespec* wait = nullptr;
      if (!held.empty()) {
        const int64_t left = std::max<int64_t>(0, held.front().first - mono_ns());
        timeout.tv_sec = left / 1'000'000'000;
        timeout.tv_nsec = left % 1'000'000'000;
        wait = &timeout;
      }
      if (::ppoll(fds, 2, wait, nullptr) < 0 && errno != EINTR) break;
      if (stopping_) break;
      while (true) {
        const ssize_t n = ::read(fd_, frame.data(), frame.size());
        if (n <= 0) break;
        if (loss_percent_ > 0 && percent(random) < loss_percent_) continue;
        held.emplace_back(mono_ns() + delay_ns_, frame.substr(0, static_cast<std::size_t>(n)));
      }
      const int64_t now = mono_ns();
      while (!held.empty() && held.front().first <= now) {
        (void)!::write(fd_, held.front().second.data(), held.front().second.size());
        held.pop_front();
      }
    }
  }

  std::string tap_, port_;
  int64_t delay_ns_;
  int loss_percent_;
  int fd_ = -1;
  int wake_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// ---- NetnsLink ------------------------------------------------------------

NetnsLink::NetnsLink(NetnsLinkOptions options) : options_(options) {
  if (const auto why = netns_unavailable_reason()) throw NetnsError("network namespaces unavailable: " + *why);
  tag_ = std::string(kPrefix) + base36(static_cast<uint64_t>(::getpid())) + "-" + base36(g_next_index++);
  camera_netns_ = tag_ + "-cam";
  attacker_netns_ = options_.attacker ? tag_ + "-atk" : std::string();
  bridge_ = tag_ + "b";
  camera_port_ = tag_ + "c";
  attacker_port_ = tag_ + "a";
  tap_ = tag_ + "t";
  try {
    build();
  } catch (...) {
    teardown();
    throw;
  }
}

NetnsLink::~NetnsLink() { teardown(); }

void NetnsLink::must(const std::vector<std::string>& argv) {
  const CommandResult r = run_command(argv);
  if (r.exit_code != 0) throw NetnsError("`" + joined(argv) + "` failed: " + r.output);
}

void NetnsLink::build() {
  FileLock lock;  // names and subnets: one process at a time
  remove_stale();

  // A /24 no address or route of the root namespace touches.
  const std::string taken = run_command({"ip", "-4", "-o", "addr", "show"}).output +
                            run_command({"ip", "-4", "route", "show", "table", "all"}).output;
  int subnet = -1;
  for (int s = 0; s < 256 && subnet < 0; ++s) {
    if (taken.find(kSubnetPrefix + std::to_string(s) + ".") == std::string::npos) subnet = s;
  }
  if (subnet < 0) throw NetnsError(std::string("no free subnet ") + kSubnetPrefix + "0-255.0/24");
  const std::string net = kSubnetPrefix + std::to_string(subnet) + ".";
  hub_address_ = net + "1";
  camera_address_ = net + "2";
  attacker_address_ = options_.attacker ? net + "3" : std::string();

  // The hub side: a bridge with the hub's address and a fixed MAC address.
  bridge_mac_ = random_mac();
  must({"ip", "link", "add", "name", bridge_, "type", "bridge", "forward_delay", "0", "stp_state", "0"});
  built_bridge_ = true;
  must({"ip", "link", "set", "dev", bridge_, "address", bridge_mac_});
  must({"ip", "addr", "add", hub_address_ + "/24", "dev", bridge_});
  must({"ip", "link", "set", "dev", bridge_, "up"});

  struct Leg {
    std::string netns, port, inside, address;
  };
  std::vector<Leg> legs = {{camera_netns_, camera_port_, kCameraInterface, camera_address_}};
  if (options_.attacker) legs.push_back({attacker_netns_, attacker_port_, kAttackerInterface, attacker_address_});
  for (const Leg& leg : legs) {
    must({"ip", "netns", "add", leg.netns});
    must({"ip", "-n", leg.netns, "link", "set", "dev", "lo", "up"});
    must({"ip", "link", "add", leg.port, "type", "veth", "peer", "name", leg.inside, "netns", leg.netns});
    must({"ip", "link", "set", "dev", leg.port, "master", bridge_, "up"});
    must({"ip", "-n", leg.netns, "addr", "add", leg.address + "/24", "dev", leg.inside});
    must({"ip", "-n", leg.netns, "link", "set", "dev", leg.inside, "up"});
  }

  // netem, when the kernel has it (a qdisc it does not know is refused).
  const char* no_netem = ::getenv("LATCHKEY_NETNS_NO_NETEM");
  if (options_.prefer_netem && !(no_netem && *no_netem && std::string(no_netem) != "0")) {
    netem_ = run_command({"tc", "qdisc", "add", "dev", camera_port_, "root", "netem", "delay", "0ms"}).exit_code == 0;
    if (netem_) run_command({"tc", "qdisc", "del", "dev", camera_port_, "root"});
  }
}

void NetnsLink::teardown() noexcept {
  try {
    delay_line_.reset();
    // The veth pairs first, from the hub side: a namespace outlives its
    // deletion while a socket made in it still lingers (a TCP connection
    // closing through a cut link), and its devices with it.
    if (built_bridge_) {
      run_command({"ip", "link", "delete", camera_port_});
      if (options_.attacker) run_command({"ip", "link", "delete", attacker_port_});
    }
    if (!camera_netns_.empty()) run_command({"ip", "netns", "delete", camera_netns_});
    if (!attacker_netns_.empty()) run_command({"ip", "netns", "delete", attacker_netns_});
    if (built_bridge_) run_command({"ip", "link", "delete", bridge_});
    built_bridge_ = false;
  } catch (...) {
  }
}

std::unique_ptr<NetnsProcess> NetnsLink::spawn(Side side, const std::vector<std::string>& argv,
                                               const fs::path& log_file) const {
  return std::make_unique<NetnsProcess>(netns(side), argv, log_file);
}

void NetnsLink::run_in(Side side, const std::function<void()>& fn) const {
  std::exception_ptr failure;
  const std::string name = netns(side);
  std::thread worker([&] {
    try {
      NetnsScope scope(name);
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
}

void NetnsLink::link_down() {
  clear_faults();
  must({"ip", "-n", camera_netns_, "link", "set", "dev", kCameraInterface, "down"});
}

void NetnsLink::loss(int percent) {
  if (percent < 0 || percent > 100) throw NetnsError("loss percent must be 0-100");
  clear_faults();
  const std::string p = std::to_string(percent) + "%";
  if (netem_) {
    must({"tc", "-n", camera_netns_, "qdisc", "add", "dev", kCameraInterface, "root", "netem", "loss", p});
    must({"tc", "qdisc", "add", "dev", camera_port_, "root", "netem", "loss", p});
  } else if (percent == 100) {
    // A token bucket smaller than any frame: tbf drops every packet longer
    // than its bucket, i.e. all of them. Both directions, in the kernel.
    const std::vector<std::string> tbf = {"tbf", "rate", "8bit", "burst", "10", "limit", "10"};
    std::vector<std::string> cam = {"tc", "-n", camera_netns_, "qdisc", "add", "dev", kCameraInterface, "root"};
    std::vector<std::string> hub = {"tc", "qdisc", "add", "dev", camera_port_, "root"};
    cam.insert(cam.end(), tbf.begin(), tbf.end());
    hub.insert(hub.end(), tbf.begin(), tbf.end());
    must(cam);
    must(hub);
  } else {
    // Partial loss: the delay line drops at random (camera -> hub only).
    delay_line_ = std::make_unique<DelayLine>(tap_, camera_port_, bridge_, bridge_mac_, std::chrono::milliseconds(0),
                                              percent);
  }
}

void NetnsLink::delay(std::chrono::milliseconds delay) {
  clear_faults();
  if (netem_) {
    must({"tc", "-n", camera_netns_, "qdisc", "add", "dev", kCameraInterface, "root", "netem", "delay",
          std::to_string(delay.count()) + "ms"});
  } else {
    delay_line_ = std::make_unique<DelayLine>(tap_, camera_port_, bridge_, bridge_mac_, delay, 0);
  }
}

void NetnsLink::clear_faults() noexcept {
  try {
    delay_line_.reset();
    run_command({"tc", "-n", camera_netns_, "qdisc", "del", "dev", kCameraInterface, "root"});
    run_command({"tc", "qdisc", "del", "dev", camera_port_, "root"});
    run_command({"ip", "-n", camera_netns_, "link", "set", "dev", kCameraInterface, "up"});
  } catch (...) {
  }
}

std::string NetnsLink::mechanism() const {
  return netem_ ? "netem"
                : "no sch_netem in this kernel: loss 100% by a tbf qdisc that drops every frame, delay by a "
                  "user-space delay line (tc mirred to a TAP)";
}

}  // namespace latchkey::testing
