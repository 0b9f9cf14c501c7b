// The rows every benchmark program prints for bench/run.sh's table, and a
// Google Benchmark reporter that keeps the figures it shows.
//
// A row is one tab-separated line:
//   ROW <figure> <measured> <floor> <ratio> <target> <verdict> <note>
// run.sh gathers the rows of every program into one table.
#ifndef LATCHKEY_BENCH_BENCH_REPORT_HPP
#define LATCHKEY_BENCH_BENCH_REPORT_HPP

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace latchkey::bench {

inline std::string format(const char* fmt, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, value);
  return buffer;
}

inline void print_row(const std::string& figure, const std::string& measured, const std::string& floor,
                      const std::string& ratio, const std::string& target, const std::string& verdict,
                      const std::string& note = "") {
  std::printf("ROW\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", figure.c_str(), measured.c_str(), floor.c_str(), ratio.c_str(),
              target.c_str(), verdict.c_str(), note.c_str());
  std::fflush(stdout);
}

inline const char* verdict(bool met) { return met ? "PASS" : "MISS"; }

// The smallest of the repetitions, for benchmark::ComputeStatistics("min", ...).
inline double min_of(const std::vector<double>& v) {
  double m = v.empty() ? 0 : v.front();
  for (double x : v) m = x < m ? x : m;
  return m;
}

// Keeps, per benchmark family, the real and CPU time per iteration (ns) and
// the items per second of the "min" aggregate when the benchmark computes
// one (the least disturbed repetition: other processes only ever add time),
// else of the median, else of the single run; the console shows the usual
// output.
class KeepingReporter : public benchmark::ConsoleReporter {
 public:
  struct Figure {
    double real_ns = 0;
    double cpu_ns = 0;
    double items_per_second = 0;
  };

  // Plain tabular console output: the ROW lines that follow must start a line.
  KeepingReporter() : ConsoleReporter(OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const bool aggregate = run.run_type == Run::RT_Aggregate;
      const int rank = aggregate && run.aggregate_name == "min" ? 3
                       : aggregate && run.aggregate_name == "median" ? 2
                       : !aggregate ? 1 : 0;
      if (rank == 0) continue;
      const std::string name =
          run.run_name.function_name + (run.run_name.args.empty() ? "" : "/" + run.run_name.args);
      if (ranks_.count(name) && ranks_[name] > rank) continue;
      Figure f;
      f.real_ns = run.GetAdjustedRealTime();
      f.cpu_ns = run.GetAdjustedCPUTime();
      if (auto it = run.counters.find("items_per_second"); it != run.counters.end()) f.items_per_second = it->second;
      figures_[name] = f;
      ranks_[name] = rank;
    }
  }

  const Figure& at(const std::string& name) const { return figures_.at(name); }
  bool has(const std::string& name) const { return figures_.count(name) != 0; }

 private:
  std::map<std::string, Figure> figures_;
  std::map<std::string, int> ranks_;
};

// Runs every registered benchmark with `reporter`; returns false on bad flags.
inline bool run_benchmarks(int argc, char** argv, KeepingReporter& reporter) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return false;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return true;
}

}  // namespace latchkey::bench

#endif  // LATCHKEY_BENCH_BENCH_REPORT_HPP
