// Camera-loss detection in real time under load: N bench cameras attesting
// 4 times a second (real Ed25519 signatures, one plugin thread), the door's
// camera "porch" bound to the door. Each trial opens a session (unlock,
// door closed), stops the porch camera (CAMERA_OFFLINE) and measures
//   relock command time - last attestation - live_timeout
// where "last attestation" is when the camera handed its last attestation
// to the hub (its probe pipe). The hub accepts it a little later, so the
// figure is an upper bound of (relock - last accepted - live_timeout).
#include "figures.hpp"
#include "hub_fixture.hpp"
#include "stats.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

namespace latchkey::bench {
namespace {

using namespace std::chrono_literals;
constexpr int64_t kLiveTimeoutNs = 1'000'000'000;  // the default live_timeout_ms

// The figures are printed; an overloaded hub would first drain its backlog
// of queued attestations (minutes at 2,000 cameras), so leave at once. The
// hub's data directory is scratch.
[[noreturn]] void exit_now() {
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(0);
}

// Reads the porch camera's emission times from its probe pipe.
class Probe {
 public:
  Probe() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    ::fcntl(fds_[1], F_SETFL, O_NONBLOCK);  // the camera never blocks on it
    reader_ = std::thread([this] {
      int64_t t = 0;
      while (::read(fds_[0], &t, sizeof t) == static_cast<ssize_t>(sizeof t)) last_.store(t);
    });
  }
  ~Probe() {
    ::close(fds_[1]);
    if (reader_.joinable()) reader_.join();
    ::close(fds_[0]);
  }
  int write_fd() const { return fds_[1]; }
  int64_t last() const { return last_.load(); }

 private:
  int fds_[2] = {-1, -1};
  std::atomic<int64_t> last_{0};
  std::thread reader_;
};

}  // namespace

int run_camera_loss(const std::filesystem::path& dir, std::size_t cameras, std::size_t trials) {
  Probe probe;
  HubOptions options;
  options.data_dir = dir / ("loss-hub-" + std::to_string(cameras));
  std::filesystem::remove_all(options.data_dir);
  options.cameras = cameras;
  options.bench_cameras = true;
  options.probe_fd = probe.write_fd();
  HubFixture hub(options);
  const int64_t start_ns = mono_ns();
  hub.start();
  const std::string label = std::to_string(cameras) + " cameras";
  const int64_t c0 = process_cpu_ns(), lc0 = thread_cpu_ns(hub.loop_thread());
  if (!hub.wait_porch_live(10s)) {
    // The loop cannot keep up: say by how much, and stop before the backlog grows.
    const double wall = static_cast<double>(mono_ns() - start_ns);
    const double cpu = static_cast<double>(process_cpu_ns() - c0) / wall;
    const double loop_cpu = static_cast<double>(thread_cpu_ns(hub.loop_thread()) - lc0) / wall;
    const int64_t q0 = mono_ns();
    hub.runtime().health();
    const double lag_s = static_cast<double>(mono_ns() - q0) / 1e9;
    print_row("Camera-loss detection p99, " + label, "no LIVE camera", "0 ms", "-", "<= 50 ms", "MISS",
              "hub overloaded: door camera not LIVE after 10 s; " + std::to_string(hub.live_cameras()) +
                  " LIVE; a health call waited " + fmt("%.1f s", lag_s) + " on the loop; hub CPU " +
                  fmt("%.0f%%", cpu * 100) + " (loop thread " + fmt("%.0f%%", loop_cpu * 100) + ")");
    exit_now();
  }
  // Let every camera reach LIVE (4 accepted in a row), then measure the steady load.
  const auto settle = std::chrono::steady_clock::now() + 10s;
  while (hub.live_cameras() < static_cast<long>(cameras) && std::chrono::steady_clock::now() < settle)
    std::this_thread::sleep_for(100ms);
  std::fprintf(stderr, "camera loss: %ld of %zu cameras LIVE %.1f s after start\n", hub.live_cameras(), cameras,
               static_cast<double>(mono_ns() - start_ns) / 1e9);
  const int64_t w0 = mono_ns(), p0 = process_cpu_ns(), l0 = thread_cpu_ns(hub.loop_thread());
  std::this_thread::sleep_for(5s);
  const int64_t w1 = mono_ns(), p1 = process_cpu_ns(), l1 = thread_cpu_ns(hub.loop_thread());
  const double process_cpu = static_cast<double>(p1 - p0) / static_cast<double>(w1 - w0);
  const double loop_cpu = static_cast<double>(l1 - l0) / static_cast<double>(w1 - w0);
  const long live_before = hub.live_cameras();

  std::vector<double> delay_ms;
  std::size_t failures = 0;
  for (std::size_t i = 0; i < trials; ++i) {
    if (!hub.wait_porch_live(15s)) {
      ++failures;
      continue;
    }
    const std::size_t from = hub.mark();
    const auto r = hub.runtime().unlock("front", hub.unlock_request(hub.grant()));
    if (!r.ok() || !r->allowed || !hub.wait_for(from, lock_state_is(hub::LockState::kUnlocked), 10s)) {
      std::fprintf(stderr, "camera loss: trial %zu could not open a session: %s\n", i, describe(r).c_str());
      ++failures;
      std::this_thread::sleep_for(1s);
      continue;
    }
    const std::size_t before_fault = hub.mark();
    hub.runtime().test_camera_fault("porch", "offline", 0);
    const auto relock = hub.wait_for(before_fault, lock_command(false, "U5"), 15s);
    if (!relock) {
      ++failures;
    } else {
      delay_ms.push_back(static_cast<double>(relock->at_ns - probe.last() - kLiveTimeoutNs) / 1e6);
    }
    hub.wait_for(before_fault, session_ends(hub::SessionEnd::kCompromised), 10s);
    hub.runtime().test_camera_fault("porch", "clear", 0);
  }

  const double p50 = percentile(delay_ms, 0.5), p99 = percentile(delay_ms, 0.99);
  const double worst = delay_ms.empty() ? 0 : percentile(delay_ms, 1.0);
  const bool met = failures == 0 && !delay_ms.empty() && p99 <= 50.0;
  const std::string note = std::to_string(delay_ms.size()) + " trials (" + std::to_string(failures) +
                           " failed), p50 " + fmt("%.1f ms", p50) + ", max " + fmt("%.1f ms", worst) + "; " +
                           std::to_string(live_before) + " LIVE; hub CPU " + fmt("%.0f%%", process_cpu * 100) +
                           " of one core (loop thread " + fmt("%.0f%%", loop_cpu * 100) + ")";
  print_row("Camera-loss detection p99, " + label, fmt("%.1f ms", p99), "0 ms", "-", "<= 50 ms",
            verdict_text(met), note);
  exit_now();
}

}  // namespace latchkey::bench
