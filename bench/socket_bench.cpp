// The isolation floor: a 64-byte request and a 64-byte answer between two
// processes over a Unix stream socket, the transport lk-plugin-host will use.
// The isolated call itself is pending until lk-plugin-host exists; the row
// carries the floor so the figure can be filled in against it.
#include "common/bench_report.hpp"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace {

constexpr std::size_t kMessage = 64;

bool read_full(int fd, uint8_t* buffer, std::size_t size) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, buffer + got, size - got);
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

bool write_full(int fd, const uint8_t* buffer, std::size_t size) {
  std::size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::write(fd, buffer + sent, size - sent);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

void BM_UnixSocketPingPong(benchmark::State& state) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    state.SkipWithError("socketpair failed");
    return;
  }
  const pid_t child = ::fork();
  if (child == 0) {
    // The echoing process: answers every message until the socket closes.
    ::close(fds[0]);
    uint8_t buffer[kMessage];
    while (read_full(fds[1], buffer, kMessage) && write_full(fds[1], buffer, kMessage)) {
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  uint8_t buffer[kMessage];
  std::memset(buffer, 0x42, sizeof buffer);
  for (auto _ : state) {
    if (!write_full(fds[0], buffer, kMessage) || !read_full(fds[0], buffer, kMessage)) {
      state.SkipWithError("ping-pong failed");
      break;
    }
  }
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
}

BENCHMARK(BM_UnixSocketPingPong)->Repetitions(3)->ReportAggregatesOnly(true)->MinTime(1.0)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  namespace b = latchkey::bench;
  b::KeepingReporter reporter;
  if (!b::run_benchmarks(argc, argv, reporter)) return 1;
  if (!reporter.has("BM_UnixSocketPingPong/real_time") && !reporter.has("BM_UnixSocketPingPong")) return 0;
  const auto& f = reporter.has("BM_UnixSocketPingPong/real_time") ? reporter.at("BM_UnixSocketPingPong/real_time")
                                                                   : reporter.at("BM_UnixSocketPingPong");
  const double floor_us = f.real_ns / 1000.0;
  b::print_row("Isolated call round trip (lk-plugin-host)", "pending", b::format("%.1f us", floor_us), "-", "<= 2.0",
               "PENDING", "floor: 64 B Unix socket ping-pong, two processes; lk-plugin-host does not exist yet");
  return 0;
}
