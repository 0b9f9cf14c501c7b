// A3/I6: a process appending to the log is SIGKILLed at seeded random
// moments; after every kill the chain verifies and every record the process
// acknowledged is there, and the log reopens for writing.
//
// LATCHKEY_AUDIT_CRASH_SEED=<n> reuses a seed (the kill moments still
// depend on timing, so a replay is close, not exact).
#include "audit_test_support.hpp"

#include <latchkey/audit/audit_log.hpp>
#include <latchkey/audit/verify.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <random>

#ifndef LATCHKEY_AUDIT_CRASH_KILLS
#define LATCHKEY_AUDIT_CRASH_KILLS 200
#endif

namespace latchkey::audit {
namespace {

using test::hub_key;
using test::ScratchDir;

using Clock = std::chrono::steady_clock;

struct ChildRun {
  bool opened = false;
  uint64_t max_acknowledged = 0;
  uint64_t acknowledged = 0;
  bool killed = false;
  int exit_code = -1;
};

// Parses "<seq>\n" lines; keeps an incomplete line for the next read.
void take_lines(std::string& pending, ChildRun& run) {
  std::size_t start = 0;
  for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string line = pending.substr(start, nl - start);
    if (line == "open") {
      run.opened = true;
      continue;
    }
    const uint64_t seq = std::stoull(line);
    run.max_acknowledged = std::max(run.max_acknowledged, seq);
    ++run.acknowledged;
  }
  pending.erase(0, start);
}

// Starts the appender and SIGKILLs it `lifetime` after it opened the log,
// or, with `during_open`, `lifetime` after it started.
ChildRun run_child(const std::filesystem::path& db, uint64_t child_seed, std::chrono::microseconds lifetime,
                   bool during_open) {
  ChildRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return run;
  }
  const std::string seed_text = std::to_string(child_seed);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::execl(LK_AUDIT_CRASH_APPENDER, LK_AUDIT_CRASH_APPENDER, db.c_str(), seed_text.c_str(),
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::close(fds[1]);
  std::string pending;
  char buffer[4096];
  auto deadline = Clock::now() + (during_open ? lifetime : std::chrono::seconds(30));
  bool timing_from_open = !during_open;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd pfd{fds[0], POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>((left + 999) / 1000)) <= 0) continue;
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;  // the child died on its own
    pending.append(buffer, static_cast<std::size_t>(n));
    take_lines(pending, run);
    if (timing_from_open && run.opened) {
      deadline = Clock::now() + lifetime;
      timing_from_open = false;
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  // What the child wrote before it died was acknowledged too.
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
    pending.append(buffer, static_cast<std::size_t>(n));
  }
  take_lines(pending, run);
  ::close(fds[0]);
  run.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(AuditCrash, A3_I6_SigkilledAppenderLosesNoAcknowledgedRecord) {
  const uint64_t seed = test::seed_from_env("LATCHKEY_AUDIT_CRASH_SEED", std::random_device{}());
  std::cout << "crash test seed " << seed << " (LATCHKEY_AUDIT_CRASH_SEED=" << seed << "), "
            << LATCHKEY_AUDIT_CRASH_KILLS << " kills\n";
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);

  ScratchDir dir;
  const auto db = dir / "audit.db";
  const auto key = hub_key();
  AuditLog::open(db, key).reset();  // exists before the first kill

  const auto start = Clock::now();
  uint64_t acknowledged_max = 0;
  uint64_t acknowledged_total = 0;
  int kills = 0;
  for (int i = 0; i < LATCHKEY_AUDIT_CRASH_KILLS; ++i) {
    // One kill in five lands anywhere in start-up and open (tail check,
    // head file repair); the rest up to a few dozen commits after open.
    const bool during_open = rng() % 5 == 0;
    const std::chrono::microseconds lifetime(std::uniform_int_distribution<int>(0, during_open ? 15'000 : 20'000)(rng));
    const ChildRun run = run_child(db, rng(), lifetime, during_open);
    ASSERT_TRUE(run.killed) << "iteration " << i << ": appender exited with " << run.exit_code << " (seed " << seed
                            << ")";
    ++kills;
    acknowledged_max = std::max(acknowledged_max, run.max_acknowledged);
    acknowledged_total += run.acknowledged;

    const VerifyReport report = verify_log(db, key.public_key);
    ASSERT_TRUE(report.ok) << "iteration " << i << " (seed " << seed << "): " << report.message;
    // The chain is contiguous from seq 1, so covering the highest
    // acknowledged seq means every acknowledged record is present.
    ASSERT_GE(report.record_count, acknowledged_max) << "iteration " << i << " (seed " << seed << ")";
    if (i % 20 == 19) {
      auto log = AuditLog::open(db, key);  // reopens for writing
      EXPECT_EQ(log->last_seq(), report.record_count);
    }
  }
  auto log = AuditLog::open(db, key);
  const uint64_t total = log->last_seq();
  log->close(0, 0);
  EXPECT_TRUE(verify_log(db, key.public_key).ok);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  std::cout << kills << " kills, " << acknowledged_total << " records acknowledged, " << total
            << " in the log, all verified, in " << ms << " ms\n";
}

}  // namespace
}  // namespace latchkey::audit
