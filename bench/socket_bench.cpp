// The isolated call's round trip against its floor, in one run: a trivial
// call (the sim lock's lock_state) through an lk-plugin-host, the same call
// through the same device interface in-process, and the floor: a 64-byte
// request and a 64-byte answer between two processes over a Unix stream
// socket, the transport lk-plugin-host uses.
#include "common/bench_report.hpp"

#include <latchkey/isolation/plugin_runner.hpp>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>

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

const std::filesystem::path kLock = std::filesystem::path(LATCHKEY_PLUGIN_DIR) / "lk_sim_lock.so";

void lock_state_loop(benchmark::State& state, latchkey::isolation::PluginRunner& runner) {
  std::unique_ptr<latchkey::host::LockDevice> lock;
  if (runner.open_lock("sim://lock/bench", {}, &lock) != LK_OK) {
    state.SkipWithError("open failed");
    return;
  }
  for (auto _ : state) {
    lk_lock_state s = LK_LOCK_STATE_UNKNOWN;
    if (lock->lock_state(&s) != LK_OK) {
      state.SkipWithError("lock_state failed");
      break;
    }
    benchmark::DoNotOptimize(s);
  }
}

void BM_LockState_Isolated(benchmark::State& state) {
  latchkey::isolation::SupervisionConfig config;
  config.host_program = latchkey::isolation::default_host_program();
  config.work_dir = std::filesystem::temp_directory_path() / ("lk-bench-host-" + std::to_string(::getpid()));
  auto runner = latchkey::isolation::run_isolated("bench", kLock, config);
  lock_state_loop(state, *runner);
  runner.reset();
  std::filesystem::remove_all(config.work_dir);
}

void BM_LockState_InProcess(benchmark::State& state) {
  auto runner = latchkey::isolation::run_in_process("bench", kLock);
  lock_state_loop(state, *runner);
}

BENCHMARK(BM_LockState_Isolated)->Repetitions(3)->ReportAggregatesOnly(true)->MinTime(1.0)->UseRealTime();
BENCHMARK(BM_LockState_InProcess)->Repetitions(3)->ReportAggregatesOnly(true)->MinTime(0.5)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  namespace b = latchkey::bench;
  b::KeepingReporter reporter;
  if (!b::run_benchmarks(argc, argv, reporter)) return 1;
  auto figure = [&](const std::string& name) -> const b::KeepingReporter::Figure* {
    for (const std::string& key : {name + "_median", name + "/real_time_median", name + "/real_time", name})
      if (reporter.has(key)) return &reporter.at(key);
    return nullptr;
  };
  const auto* floor = figure("BM_UnixSocketPingPong");
  const auto* isolated = figure("BM_LockState_Isolated");
  const auto* in_process = figure("BM_LockState_InProcess");
  if (floor == nullptr || isolated == nullptr) return 0;
  const double floor_us = floor->real_ns / 1000.0;
  const double isolated_us = isolated->real_ns / 1000.0;
  const double ratio = isolated_us / floor_us;
  b::print_row("Isolated call round trip (lk-plugin-host, lock_state)", b::format("%.1f us", isolated_us),
               b::format("%.1f us", floor_us), b::format("%.2f", ratio), "<= 2.0", ratio <= 2.0 ? "MET" : "MISSED",
               "floor: 64 B Unix socket ping-pong between two processes; the same call in-process: " +
                   (in_process ? b::format("%.3f us", in_process->real_ns / 1000.0) : std::string("-")));
  return 0;
}
