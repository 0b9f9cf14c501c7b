#include "child_case.hpp"

#include "guarded_buffer.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <vector>

namespace latchkey::certify {
namespace {

// Shared between the parent and the child (MAP_SHARED): what the child was
// doing and, when it faulted in a guard page, which buffer it hit. Written by
// the child alone; the parent reads it after the child is gone.
struct SharedNotes {
  char step[256];
  char fault[512];
};
SharedNotes* g_notes = nullptr;  // set in the child only

// The records the child sends: one kind byte, a 32-bit length, the text.
enum Kind : char { kFailure = 'F', kSkip = 'S', kMeasured = 'M', kEnd = 'E' };

bool write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void send_record(int fd, Kind kind, const std::string& text) {
  const uint32_t size = static_cast<uint32_t>(text.size());
  write_all(fd, &kind, 1);
  write_all(fd, &size, sizeof size);
  write_all(fd, text.data(), text.size());
}

void copy_note(char* to, std::size_t size, const char* from) {
  std::size_t i = 0;
  for (; from[i] != '\0' && i + 1 < size; ++i) to[i] = from[i];
  to[i] = '\0';
}

// SIGSEGV/SIGBUS in the child: note the buffer when the address is in a guard
// page, then die of the signal as if no handler had been there.
void on_fault(int signo, siginfo_t* info, void*) {
  if (g_notes != nullptr && info != nullptr) {
    char text[sizeof g_notes->fault];
    if (describe_guard_fault(info->si_addr, text, sizeof text)) copy_note(g_notes->fault, sizeof g_notes->fault, text);
  }
  signal(signo, SIG_DFL);  // the faulting instruction runs again and kills the child
}

[[noreturn]] void run_child(const std::function<void()>& body, int fd) {
  struct sigaction sa {};
  sa.sa_sigaction = &on_fault;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);
  signal(SIGPIPE, SIG_DFL);
  try {
    body();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the case stopped on an exception: " << e.what();
  } catch (...) {
    ADD_FAILURE() << "the case stopped on a non-standard exception";
  }
  const ::testing::TestResult& result = *::testing::UnitTest::GetInstance()->current_test_info()->result();
  for (int i = 0; i < result.total_part_count(); ++i) {
    const ::testing::TestPartResult& part = result.GetTestPartResult(i);
    if (part.skipped()) send_record(fd, kSkip, part.message());
    else if (part.failed()) send_record(fd, kFailure, part.message());
  }
  for (int i = 0; i < result.test_property_count(); ++i)
    if (std::string(result.GetTestProperty(i).key()) == "measured")
      send_record(fd, kMeasured, result.GetTestProperty(i).value());
  send_record(fd, kEnd, "");
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  _exit(0);
}

std::string signal_text(int signo) {
  const char* name = sigabbrev_np(signo);
  return name ? std::string("SIG") + name : "signal " + std::to_string(signo);
}

}  // namespace

void note_case_step(const std::string& step) {
  if (g_notes != nullptr) copy_note(g_notes->step, sizeof g_notes->step, step.c_str());
}

void run_case_in_child(const std::function<void()>& body, std::chrono::seconds timeout) {
  // The suite's own tests shorten the time allowed, to see a hang without waiting a minute.
  if (const char* env = std::getenv("LK_CERTIFY_CASE_TIMEOUT_S"); env != nullptr && std::atoi(env) > 0)
    timeout = std::chrono::seconds(std::atoi(env));
  void* shared = mmap(nullptr, sizeof(SharedNotes), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int fds[2];
  if (shared == MAP_FAILED || pipe2(fds, O_CLOEXEC) != 0) {
    if (shared != MAP_FAILED) munmap(shared, sizeof(SharedNotes));
    GTEST_SKIP() << "could not start the case's child process: " << std::strerror(errno);
  }
  auto* notes = static_cast<SharedNotes*>(shared);
  notes->step[0] = notes->fault[0] = '\0';
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    munmap(shared, sizeof(SharedNotes));
    GTEST_SKIP() << "could not start the case's child process: fork failed";
  }
  if (pid == 0) {
    close(fds[0]);
    g_notes = notes;
    run_child(body, fds[1]);
  }
  close(fds[1]);

  // Read everything the child sends until it closes the pipe or the time is up.
  std::string bytes;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes.append(chunk, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  if (timed_out) kill(pid, SIGKILL);
  // The pipe closes when the child exits; a plugin thread could still hold it, so the wait is bounded too.
  for (int i = 0;; ++i) {
    const pid_t r = waitpid(pid, &status, timed_out || i > 50 ? 0 : WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) break;
    if (r == 0) {
      if (i == 50) kill(pid, SIGKILL);
      usleep(20000);
    }
  }
  const std::string step = notes->step;
  const std::string fault = notes->fault;
  munmap(shared, sizeof(SharedNotes));

  std::vector<std::pair<char, std::string>> records;
  bool ended = false;
  for (std::size_t at = 0; at + 5 <= bytes.size();) {
    uint32_t size = 0;
    std::memcpy(&size, bytes.data() + at + 1, sizeof size);
    if (at + 5 + size > bytes.size()) break;
    const char kind = bytes[at];
    if (kind == kEnd) ended = true;
    else records.emplace_back(kind, bytes.substr(at + 5, size));
    at += 5 + size;
  }
  std::string skip;
  for (const auto& [kind, text] : records) {
    // The child's message as it was (ADD_FAILURE would prefix another "Failed").
    if (kind == kFailure) GTEST_MESSAGE_AT_(__FILE__, __LINE__, text.c_str(), ::testing::TestPartResult::kNonFatalFailure);
    else if (kind == kMeasured) ::testing::Test::RecordProperty("measured", text);
    else if (kind == kSkip) skip = text;
  }
  const std::string where = step.empty() ? "before its first call into the plugin" : "in " + step;
  const std::string contract = "every call returns to the host: no crash, no exit, within its budget (abi.md 3)";
  if (timed_out) {
    fail_case("the plugin hung the case " + where + "; its process was killed", contract,
              "no result within " + std::to_string(timeout.count()) + " s");
  } else if (WIFSIGNALED(status)) {
    const int signo = WTERMSIG(status);
    if (!fault.empty()) {
      fail_case("the plugin reached past a buffer the host lent it (" + signal_text(signo) + ") " + where,
                "reads and writes stay inside the size the host declared (abi.md 3 Ownership)",
                fault + " (" + signal_text(signo) + ")");
    } else {
      fail_case("the plugin crashed the case with " + signal_text(signo) + " " + where + (ended ? ", after the case's checks" : ""),
                contract, signal_text(signo) + " (" + strsignal(signo) + ")");
    }
  } else if (!ended) {
    fail_case("the case's process ended " + where + " before the case finished (the plugin called exit?)", contract,
              WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status)) : "no result");
  }
  if (!skip.empty() && !::testing::Test::HasFailure()) GTEST_SKIP() << skip;
}

}  // namespace latchkey::certify
