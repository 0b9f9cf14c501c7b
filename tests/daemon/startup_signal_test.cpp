// A SIGTERM that comes as latchkeyd announces itself ends it cleanly (A2,
// issue 13): exit status 0 and an audit log whose last record is the final
// signed checkpoint, however early after the "listening" line it comes, and
// also while the daemon is still writing that line.
#include "daemon_fixture.hpp"
#include "latchkeyd_command.hpp"

#include <latchkey/audit/verify.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace latchkey::tests {
namespace {

void expect_final_checkpoint(const demo::SimHub& hub, const std::string& when) {
  const audit::VerifyReport report = audit::verify_log(hub.audit_db(), hub.hub_public_key());
  EXPECT_TRUE(report.ok) << when << ": " << report.message;
  ASSERT_TRUE(report.last_checkpoint) << when << ": no checkpoint at all";
  EXPECT_EQ(report.last_checkpoint->size + 1, report.record_count)
      << when << ": the last record is not the final checkpoint";
}

TEST(StartupSignal, F2_SigtermRightAfterListeningEndsWithFinalCheckpoint) {
  demo::SimHub hub(daemon_test_options());
  for (int round = 1; round <= 20; ++round) {
    // run_latchkeyd sends SIGTERM the moment it reads the listening line.
    const LatchkeydRun run = run_latchkeyd({"--config", hub.config_file().string()});
    ASSERT_TRUE(run.listened) << "round " << round << ":\n" << run.err << hub.log_tail();
    ASSERT_EQ(run.exit_code, 0) << "round " << round << ": ended by signal " << run.signal << "\n" << hub.log_tail();
    expect_final_checkpoint(hub, "round " + std::to_string(round));
  }
}

// A loopback port nobody listens on now.
uint16_t free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof a;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), size);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &size);
  ::close(s);
  return ntohs(a.sin_port);
}

bool accepts_connections(uint16_t port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

// Deterministic: the daemon's stdout is a pipe filled to the brim, so it
// blocks writing its listening line; SIGTERM comes once the API accepts
// connections (the server starts just before the line), then the pipe is
// drained. Without the signals blocked from the start, the default action
// ends the daemon there.
TEST(StartupSignal, A2_SigtermWhileAnnouncingListeningEndsWithFinalCheckpoint) {
  demo::SimHub hub(daemon_test_options());
  const uint16_t port = free_port();
  set_hub_key(hub.config_file(), "api_address", "127.0.0.1:" + std::to_string(port));
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
  const std::string filler(4096, '\n');
  while (::write(out[1], filler.data(), filler.size()) > 0) {
  }
  while (::write(out[1], "\n", 1) > 0) {
  }
  const std::string latchkeyd = daemon_test_options().latchkeyd.string();
  const std::string config = hub.config_file().string();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(out[1], STDOUT_FILENO);
    ::fcntl(STDOUT_FILENO, F_SETFL, 0);  // the daemon writes as to any blocking pipe
    ::execl(latchkeyd.c_str(), latchkeyd.c_str(), "--config", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  bool up = false;
  while (!(up = accepts_connections(port)) && std::chrono::steady_clock::now() < deadline &&
         ::waitpid(pid, nullptr, WNOHANG) == 0)
    std::this_thread::sleep_for(5ms);  // polling a condition, not a guess at timing
  ASSERT_TRUE(up) << "the API never came up:\n" << hub.log_tail();
  ::kill(pid, SIGTERM);
  // Drain: the listening line goes out, then the handlers take the signal.
  std::string printed;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n > 0) printed.append(buffer, static_cast<std::size_t>(n));
    else if (n == 0) break;
    else if (errno == EAGAIN && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    else break;
  }
  ::close(out[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status) << "\n" << hub.log_tail();
  EXPECT_EQ(WEXITSTATUS(status), 0) << hub.log_tail();
  EXPECT_NE(printed.find("latchkeyd: listening on"), std::string::npos);
  expect_final_checkpoint(hub, "SIGTERM while announcing");
}

}  // namespace
}  // namespace latchkey::tests
