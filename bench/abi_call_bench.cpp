// ABI call overhead: a trivial lock-state read on the simulated lock.
//
//   direct  - a virtual call on SimLock compiled into this program (the floor)
//   table   - through the loaded lk_sim_lock.so's C table (get_lock_state)
//   handle  - through host::LockHandle, which adds the host's per-device
//             serialisation (a mutex) and the closed check
//
// The same SimLock class sits behind all three; only the path differs.
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>

#include "common/bench_report.hpp"
#include "sim_lock.hpp"

#include <filesystem>
#include <memory>

namespace {

namespace host = latchkey::host;
using latchkey::plugin::LockDriver;
using latchkey::sim::SimLock;

const std::filesystem::path kPluginFile = std::filesystem::path(LATCHKEY_PLUGIN_DIR) / "lk_sim_lock.so";
constexpr const char* kUri = "sim://lock/bench";

void ignore_event(void*, const lk_event*) {}

void BM_LockState_DirectVirtual(benchmark::State& state) {
  const lk_event_sink sink{sizeof(lk_event_sink), nullptr, &ignore_event};
  std::unique_ptr<LockDriver> device = SimLock::open(kUri, latchkey::plugin::EventSink(sink));
  LockDriver* base = device.get();
  for (auto _ : state) {
    // Hide the dynamic type (SimLock is final) so the call stays virtual.
    benchmark::DoNotOptimize(base);
    lk_lock_state s = base->lock_state();
    benchmark::DoNotOptimize(s);
  }
}

void BM_LockState_PluginTable(benchmark::State& state) {
  auto plugin = host::Plugin::load(kPluginFile);
  const lk_lock_interface_v1* table = plugin->lock_interface();
  const lk_event_sink sink{sizeof(lk_event_sink), nullptr, &ignore_event};
  lk_lock_device* device = nullptr;
  if (table->open(kUri, &sink, &device) != LK_OK) {
    state.SkipWithError("open failed");
    return;
  }
  for (auto _ : state) {
    lk_lock_state s = LK_LOCK_STATE_UNKNOWN;
    const lk_result r = table->get_lock_state(device, &s);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(s);
  }
  table->close(device);
}

void BM_LockState_LockHandle(benchmark::State& state) {
  auto plugin = host::Plugin::load(kPluginFile);
  std::unique_ptr<host::LockHandle> handle;
  if (host::LockHandle::open(plugin, kUri, [](const host::DeviceEvent&) {}, &handle) != LK_OK) {
    state.SkipWithError("open failed");
    return;
  }
  for (auto _ : state) {
    lk_lock_state s = LK_LOCK_STATE_UNKNOWN;
    const lk_result r = handle->lock_state(&s);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(s);
  }
}

// Several short repetitions; the table uses the least disturbed one (min CPU
// time), since other work on the machine only ever adds to a figure.
#define LATCHKEY_ABI_BENCH(fn)                                                                       \
  BENCHMARK(fn)->Repetitions(9)->MinTime(0.2)->ReportAggregatesOnly(true)->ComputeStatistics( \
      "min", latchkey::bench::min_of)
LATCHKEY_ABI_BENCH(BM_LockState_DirectVirtual);
LATCHKEY_ABI_BENCH(BM_LockState_PluginTable);
LATCHKEY_ABI_BENCH(BM_LockState_LockHandle);

}  // namespace

int main(int argc, char** argv) {
  namespace b = latchkey::bench;
  b::KeepingReporter reporter;
  if (!b::run_benchmarks(argc, argv, reporter)) return 1;
  if (!reporter.has("BM_LockState_DirectVirtual")) return 0;  // filtered run
  const double direct = reporter.at("BM_LockState_DirectVirtual").cpu_ns;
  const auto row = [&](const char* figure, const char* name, double target) {
    if (!reporter.has(name)) return;
    const double t = reporter.at(name).cpu_ns;
    const double ratio = t / direct;
    b::print_row(figure, b::format("%.1f ns", t), b::format("%.1f ns", direct), b::format("%.2f", ratio),
                 target > 0 ? b::format("<= %.1f", target) : "-", target > 0 ? b::verdict(ratio <= target) : "info",
                 "floor: direct virtual call on the same SimLock");
  };
  row("ABI call: lock state via plugin C table", "BM_LockState_PluginTable", 1.2);
  row("ABI call: lock state via host::LockHandle", "BM_LockState_LockHandle", 0);
  return 0;
}
