// Small measurement helpers for lk-bench-hub: percentiles, clocks, CPU and
// resident memory of this process.
#ifndef LATCHKEY_BENCH_HUB_STATS_HPP
#define LATCHKEY_BENCH_HUB_STATS_HPP

#include <pthread.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace latchkey::bench {

// CLOCK_MONOTONIC in ns: the clock uv_hrtime() and steady_clock read.
int64_t mono_ns();

// The q-quantile (0..1) of the samples, nearest rank; 0 for no samples.
double percentile(std::vector<double> samples, double q);

// User + system CPU time of this process, ns (getrusage).
int64_t process_cpu_ns();
// CPU time of one thread, ns (its CPU clock).
int64_t thread_cpu_ns(pthread_t thread);
// VmRSS of this process, bytes (/proc/self/status).
int64_t resident_bytes();

// Prints a row (bench_report.hpp format) from the driver.
void print_row(const std::string& figure, const std::string& measured, const std::string& floor,
               const std::string& ratio, const std::string& target, const std::string& verdict,
               const std::string& note = "");
std::string fmt(const char* format, double value);
inline const char* verdict_text(bool met) { return met ? "PASS" : "MISS"; }

}  // namespace latchkey::bench

#endif  // LATCHKEY_BENCH_HUB_STATS_HPP
