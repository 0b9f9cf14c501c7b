// Resident memory of the hub (the in-process runtime with its plugins):
// idle with the demo devices (one lock, one sim camera, the authorization
// plugin), then with 10 to 2,000 cameras. Each size runs in a fresh child
// process so one size's heap does not inflate the next.
#include "figures.hpp"
#include "hub_fixture.hpp"
#include "stats.hpp"

#include <unistd.h>

#include <cstdio>
#include <map>
#include <thread>

namespace latchkey::bench {
namespace {

using namespace std::chrono_literals;

struct Child {
  double rss_mib = 0;
  long live = 0;
  bool ok = false;
};

Child run_child(const std::string& self_exe, const std::filesystem::path& dir, std::size_t cameras, bool bench) {
  const std::string command = "'" + self_exe + "' memory-one --dir '" + dir.string() + "' --cameras " +
                              std::to_string(cameras) + (bench ? " --bench-cameras" : "");
  Child child;
  FILE* out = ::popen(command.c_str(), "r");
  if (!out) return child;
  char line[256];
  while (std::fgets(line, sizeof line, out)) {
    long long rss = 0;
    long live = 0;
    if (std::sscanf(line, "MEMORY rss=%lld live=%ld", &rss, &live) == 2) {
      child.rss_mib = static_cast<double>(rss) / (1024.0 * 1024.0);
      child.live = live;
      child.ok = true;
    }
  }
  child.ok = ::pclose(out) == 0 && child.ok;
  return child;
}

}  // namespace

int run_memory_one(const std::filesystem::path& dir, std::size_t cameras, bool bench_cameras) {
  HubOptions options;
  options.data_dir = dir / ("memory-hub-" + std::to_string(cameras) + (bench_cameras ? "-bench" : "-sim"));
  std::filesystem::remove_all(options.data_dir);
  options.cameras = cameras;
  options.bench_cameras = bench_cameras;
  HubFixture hub(options);
  hub.start();
  hub.wait_porch_live(8s);
  const auto settle = std::chrono::steady_clock::now() + 8s;
  while (hub.live_cameras() < static_cast<long>(cameras) && std::chrono::steady_clock::now() < settle)
    std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(2s);  // a few nonce rounds and attestations at steady state
  std::printf("MEMORY rss=%lld live=%ld\n", static_cast<long long>(resident_bytes()), hub.live_cameras());
  // Leave without draining the hub: at 1,000+ cameras its loop runs behind
  // and stopping would first work through the queued attestations.
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(0);
}

int run_memory(const std::string& self_exe, const std::filesystem::path& dir, const std::vector<std::size_t>& counts) {
  const Child idle = run_child(self_exe, dir, 1, false);
  if (!idle.ok) {
    std::fprintf(stderr, "memory: the idle hub did not report\n");
    return 1;
  }
  print_row("Memory: RSS idle, demo devices", fmt("%.1f MiB", idle.rss_mib), "-", "-", "-", "info",
            "1 lock, 1 sim camera, authz plugin, runtime + audit log");
  for (bool bench : {true, false}) {
    for (std::size_t n : counts) {
      const Child c = run_child(self_exe, dir, n, bench);
      const double per_camera_kib = (c.rss_mib - idle.rss_mib) * 1024.0 / static_cast<double>(n - 1);
      print_row(std::string("Memory: RSS at ") + std::to_string(n) + (bench ? " bench" : " sim") + " cameras",
                c.ok ? fmt("%.1f MiB", c.rss_mib) : "failed", fmt("%.1f MiB", idle.rss_mib),
                c.ok ? fmt("%.0f KiB/camera", per_camera_kib) : "-", "-", "info",
                std::to_string(c.live) + " LIVE; " +
                    (bench ? "lk_bench_camera: all cameras on one thread" : "lk_sim_camera: one thread per camera"));
    }
  }
  return 0;
}

}  // namespace latchkey::bench
