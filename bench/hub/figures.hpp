// The end-to-end figures of lk-bench-hub. Each prints its rows (ROW lines,
// see bench/common/bench_report.hpp) and returns 0, or non-zero when it
// could not measure.
#ifndef LATCHKEY_BENCH_HUB_FIGURES_HPP
#define LATCHKEY_BENCH_HUB_FIGURES_HPP

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace latchkey::bench {

// Floor of an allow decision: two Ed25519 verifications and one SQLite
// insert committed with synchronous=FULL in WAL mode, timed together.
struct DecisionFloor {
  std::vector<double> samples_us;
  double verify_us = 0;  // median of one verification
  double commit_us = 0;  // median of one commit
};
DecisionFloor measure_decision_floor(const std::filesystem::path& dir, std::size_t samples);

// The same floor one sample at a time, to interleave with the figure's own
// trials so both see the same disk and the same neighbours.
class DecisionFloorMeter {
 public:
  explicit DecisionFloorMeter(const std::filesystem::path& dir);
  ~DecisionFloorMeter();
  void sample();
  DecisionFloor result() const;

  struct Impl;

 private:
  Impl* impl_;
};
// Rate of bare SQLite synchronous=FULL single-row commits, per second.
double measure_sqlite_commit_rate(const std::filesystem::path& dir, std::size_t commits);

int run_unlock_latency(const std::filesystem::path& dir, std::size_t trials);
// Unlock decision latency with the fleet link off, its broker up, and its
// broker down (the outbox filling): issue 17's "no local delay".
int run_fleet_outage(const std::filesystem::path& dir, std::size_t trials);
int run_audit_throughput(const std::filesystem::path& dir, std::size_t singles, std::size_t batches);
int run_camera_loss(const std::filesystem::path& dir, std::size_t cameras, std::size_t trials);
// Spawns one child per camera count (self_exe memory-one ...) and reports RSS.
int run_memory(const std::string& self_exe, const std::filesystem::path& dir, const std::vector<std::size_t>& counts);
int run_memory_one(const std::filesystem::path& dir, std::size_t cameras, bool bench_cameras);

}  // namespace latchkey::bench

#endif  // LATCHKEY_BENCH_HUB_FIGURES_HPP
