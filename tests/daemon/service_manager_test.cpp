// latchkeyd under systemd (docs/latchkeyd.md "Running under systemd"): the
// daemon run with a fake notify socket in NOTIFY_SOCKET, as systemd would
// start a Type=notify service, says READY=1 once its API accepts
// connections, beats WATCHDOG=1 at half of WATCHDOG_USEC from its loop and
// says STOPPING=1 on SIGTERM; and its log lines carry levels, RFC 3339 times
// in milliseconds and, on the journal, sd-daemon priorities.
#include "daemon_fixture.hpp"
#include "latchkeyd_command.hpp"

#include <latchkey/hub/log.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace latchkey::tests {
namespace {

// An AF_UNIX datagram socket standing in for systemd's notify socket.
class FakeNotifySocket {
 public:
  explicit FakeNotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind " + path.string());
  }
  ~FakeNotifySocket() {
    ::close(fd_);
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  // The next message, or "" after the timeout.
  std::string next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// latchkeyd started with `env` added to the environment, stderr to `err_file`.
pid_t spawn_latchkeyd(const std::vector<std::string>& args, const std::vector<std::string>& env,
                      const std::filesystem::path& err_file) {
  std::vector<std::string> argv_text = {LATCHKEY_TEST_LATCHKEYD};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::dup2(err, STDERR_FILENO);
  const int null = ::open("/dev/null", O_WRONLY);
  ::dup2(null, STDOUT_FILENO);
  for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
  // JOURNAL_STREAM names stderr as systemd would: "<device>:<inode>".
  if (std::find(env.begin(), env.end(), "LK_TEST_STDERR_IS_JOURNAL=1") != env.end()) {
    struct stat st {};
    ::fstat(STDERR_FILENO, &st);
    static std::string stream;
    stream = "JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    ::putenv(stream.data());
  }
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

bool accepts(const std::string& listening) {
  // "listening on http://127.0.0.1:PORT"
  const auto colon = listening.rfind(':');
  const int port = std::stoi(listening.substr(colon + 1));
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

// The value of `key` in a notify message ("READY=1\nSTATUS=...").
std::string field(const std::string& message, const std::string& key) {
  std::istringstream lines(message);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  return "";
}

TEST(ServiceManager, ReadyOnceTheApiListensWatchdogFromTheLoopStoppingOnSigterm) {
  demo::SimHub hub(daemon_test_options());
  FakeNotifySocket notify(hub.data_dir().parent_path() / ("notify-" + std::to_string(::getpid())));
  const std::filesystem::path err = hub.data_dir() / "stderr.txt";
  // WatchdogSec=0.2s: beats every 100 ms.
  const pid_t pid = spawn_latchkeyd({"--config", hub.config_file().string()},
                                    {"NOTIFY_SOCKET=" + notify.path().string(), "WATCHDOG_USEC=200000"}, err);
  std::string ready;
  for (auto deadline = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < deadline;) {
    const std::string m = notify.next(1s);
    if (field(m, "READY") == "1") {
      ready = m;
      break;
    }
  }
  ASSERT_FALSE(ready.empty()) << "no READY=1 within 20 s\n" << read_file(err);
  const std::string status = field(ready, "STATUS");
  ASSERT_NE(status.find("listening on http://"), std::string::npos) << ready;
  EXPECT_TRUE(accepts(status)) << "READY=1 came before the API accepted connections: " << status;

  int beats = 0;
  for (auto until = std::chrono::steady_clock::now() + 2s; std::chrono::steady_clock::now() < until;)
    if (notify.next(300ms) == "WATCHDOG=1") ++beats;
  // 2 s at a 100 ms period is 20 beats; a loaded machine may lose some, none is a failure.
  EXPECT_GE(beats, 5) << "watchdog beats in 2 s with WATCHDOG_USEC=200000";

  ::kill(pid, SIGTERM);
  bool stopping = false;
  for (auto deadline = std::chrono::steady_clock::now() + 15s; !stopping && std::chrono::steady_clock::now() < deadline;) {
    const std::string m = notify.next(1s);
    stopping = field(m, "STOPPING") == "1";
  }
  EXPECT_TRUE(stopping) << "no STOPPING=1 after SIGTERM";
  EXPECT_EQ(wait_exit(pid), 0) << read_file(err);
}

TEST(ServiceManager, NoWatchdogBeatsUnlessTheServiceManagerAsksForThem) {
  demo::SimHub hub(daemon_test_options());
  FakeNotifySocket notify(hub.data_dir().parent_path() / ("notify-nowd-" + std::to_string(::getpid())));
  const std::filesystem::path err = hub.data_dir() / "stderr.txt";
  const pid_t pid = spawn_latchkeyd({"--config", hub.config_file().string()},
                                    {"NOTIFY_SOCKET=" + notify.path().string()}, err);
  bool ready = false;
  for (auto deadline = std::chrono::steady_clock::now() + 20s; !ready && std::chrono::steady_clock::now() < deadline;)
    ready = field(notify.next(1s), "READY") == "1";
  ASSERT_TRUE(ready) << read_file(err);
  int beats = 0;
  for (auto until = std::chrono::steady_clock::now() + 1s; std::chrono::steady_clock::now() < until;)
    if (notify.next(200ms) == "WATCHDOG=1") ++beats;
  EXPECT_EQ(beats, 0);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid), 0) << read_file(err);
}

// Runs latchkeyd to its listening line and stops it; returns its stderr.
std::string log_of_one_run(const demo::SimHub& hub, const std::vector<std::string>& args,
                           const std::vector<std::string>& env = {}) {
  FakeNotifySocket notify(hub.data_dir().parent_path() / ("notify-log-" + std::to_string(::getpid())));
  std::vector<std::string> all_env = env;
  all_env.push_back("NOTIFY_SOCKET=" + notify.path().string());
  const std::filesystem::path err = hub.data_dir() / "stderr.txt";
  std::vector<std::string> all_args = {"--config", hub.config_file().string()};
  all_args.insert(all_args.end(), args.begin(), args.end());
  std::filesystem::remove(hub.log_file());
  const pid_t pid = spawn_latchkeyd(all_args, all_env, err);
  bool ready = false;
  for (auto deadline = std::chrono::steady_clock::now() + 20s; !ready && std::chrono::steady_clock::now() < deadline;)
    ready = field(notify.next(1s), "READY") == "1";
  ::kill(pid, SIGTERM);
  const int status = wait_exit(pid);
  // SimHub's hub.ini sets log_file; without it the log is stderr.
  const std::string log = read_file(err) + read_file(hub.log_file());
  EXPECT_TRUE(ready) << log;
  EXPECT_EQ(status, 0) << log;
  return log;
}

TEST(ServiceManager, LogLinesHaveLevelsAndMillisecondTimesAndTheStartLine) {
  demo::SimHub hub(daemon_test_options());
  const std::string log = log_of_one_run(hub, {});
  const std::regex start(R"((^|\n)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z latchkeyd info: latchkeyd \S+ listening on http://127\.0\.0\.1:\d+ \(hub )");
  EXPECT_TRUE(std::regex_search(log, start)) << log;
  const std::regex any_line(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z latchkeyd [a-z-]+: )");
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);)
    EXPECT_TRUE(std::regex_search(line, any_line)) << "not a log line: " << line;
}

TEST(ServiceManager, LogLevelOptionLeavesOutWhatIsBelowIt) {
  demo::SimHub hub(daemon_test_options());
  const std::string quiet = log_of_one_run(hub, {"--log-level=warning"});
  EXPECT_EQ(quiet.find(" info: "), std::string::npos) << quiet;
  const std::string normal = log_of_one_run(hub, {"--log-level", "info"});
  EXPECT_NE(normal.find(" info: latchkeyd "), std::string::npos) << normal;
  const LatchkeydRun bad = run_latchkeyd({"--config", hub.config_file().string(), "--log-level=loud"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--log-level: 'loud' is not debug, info, warning or error"), std::string::npos) << bad.err;
}

TEST(ServiceManager, OnTheJournalLinesCarrySdDaemonPrioritiesAndNoTime) {
  demo::SimHub hub(daemon_test_options());
  // On the journal: no log_file, stderr is the log.
  std::string ini = read_file(hub.config_file());
  ini = std::regex_replace(ini, std::regex("\nlog_file = [^\n]*"), "");
  std::ofstream(hub.config_file()) << ini;
  const std::string log = log_of_one_run(hub, {}, {"LK_TEST_STDERR_IS_JOURNAL=1"});
  EXPECT_NE(log.find("<6>info: latchkeyd "), std::string::npos) << log;
  EXPECT_EQ(log.find("latchkeyd info:"), std::string::npos) << "plain lines on the journal:\n" << log;
}

TEST(ServiceManager, LogLineFormat) {
  using hub::LogLevel;
  const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'796'672'712'345));
  EXPECT_EQ(hub::rfc3339_utc_ms(at), "2026-12-07T19:45:12.345Z");
  // The log is every program's (common/): each names itself, as latchkeyd does at start.
  hub::set_log_program("lk-camera-agent[porch]");
  EXPECT_EQ(hub::format_log_line(at, LogLevel::kInfo, "x", "", false),
            "2026-12-07T19:45:12.345Z lk-camera-agent[porch] info: x");
  hub::set_log_program("latchkeyd");
  EXPECT_EQ(hub::format_log_line(at, LogLevel::kWarning, "two\nlines", "alarm", false),
            "2026-12-07T19:45:12.345Z latchkeyd alarm: two | lines");
  EXPECT_EQ(hub::format_log_line(at, LogLevel::kError, "x", "", true), "<3>error: x");
  EXPECT_EQ(hub::format_log_line(at, LogLevel::kDebug, "x", "plugin", true), "<7>plugin: x");
  EXPECT_EQ(hub::parse_log_level("warning"), LogLevel::kWarning);
  EXPECT_FALSE(hub::parse_log_level("WARN"));
}

TEST(ServiceManager, HelpAndVersion) {
  const LatchkeydRun help = run_latchkeyd({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--log-level LEVEL"), std::string::npos) << help.out;
  const LatchkeydRun version = run_latchkeyd({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(starts_with(version.out, "latchkeyd ")) << version.out;
  const LatchkeydRun unknown = run_latchkeyd({"--frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown option '--frobnicate'"), std::string::npos) << unknown.err;
}

// The shipped unit passes systemd's own check and keeps the options the
// daemon's safety relies on.
TEST(ServiceManager, TheUnitFileVerifies) {
  const std::string unit = read_file(LATCHKEY_TEST_SERVICE_UNIT);
  ASSERT_FALSE(unit.empty());
  for (const char* needed : {"Type=notify", "NotifyAccess=main", "WatchdogSec=", "KillMode=mixed",
                             "NoNewPrivileges=yes", "ProtectSystem=strict", "StateDirectory=latchkey"})
    EXPECT_NE(unit.find(needed), std::string::npos) << needed;
  if (::access("/usr/bin/systemd-analyze", X_OK) != 0) GTEST_SKIP() << "systemd-analyze is not installed";
  // systemd-analyze verify wants the ExecStart binary to exist: point it at this build's.
  std::string local = std::regex_replace(unit, std::regex("ExecStart=\\S+"), std::string("ExecStart=") + LATCHKEY_TEST_LATCHKEYD);
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("lk-unit-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "latchkeyd.service") << local; }
  const std::string command = "systemd-analyze verify --man=no " + (dir / "latchkeyd.service").string() + " 2>&1";
  std::string output;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, p)) output += buffer;
    const int status = ::pclose(p);
    // Complaints about the machine's other units are not the unit's: only lines naming it count.
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);)
      EXPECT_EQ(line.find("latchkeyd.service"), std::string::npos) << line;
    (void)status;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace latchkey::tests
