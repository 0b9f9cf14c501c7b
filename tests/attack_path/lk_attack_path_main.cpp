// lk-attack-path: the soak of the attack on a real path (docs/attack-path.md).
// N trials of each fault, alternating door closed / open; prints each trial
// and, per fault, p50, p99 and max of the detection delay (the relock or
// alarm after the last accepted attestation, on the hub's clock) and the
// misses (not detected, or later than live_timeout + 50 ms).
//
//   lk-attack-path [--trials N] [--faults link_down,loss,delay,replay,frozen,looped] [--quiet]
//                  [--latchkeyd PATH] [--plugin-dir DIR] [--agent PATH]
//
// The last three default to this build's (a soak may run a copy, so that a
// rebuild of the tree meanwhile does not change what it runs).
//
// Exit status: 0 no miss, 1 misses, 2 setup failed, 77 no rights to make
// network namespaces (the reason is printed).
#include "attack_world.hpp"
#include "netns_link.hpp"

#include <latchkey/common/cli_options.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>

using namespace latchkey::attack;

namespace {

const latchkey::cli::Program& program() {
  static const latchkey::cli::Program p{
      "lk-attack-path",
      {"[--trials N] [--faults F,F,...] [--quiet] [--latchkeyd PATH] [--plugin-dir DIR] [--agent PATH]"},
      "The soak of the 2017 attack on a real network path (docs/attack-path.md): N trials of each fault, "
      "alternating door closed and open; prints each trial and, per fault, p50, p99 and max of the detection "
      "delay and the misses.",
      {{0, "no miss"}, {1, "misses"}, {2, "usage error, or the setup failed"},
       {77, "no rights to make network namespaces (the reason is printed)"}},
      "Faults: link_down loss delay replay frozen looped (default: all)."};
  return p;
}

int usage(const std::string& why) { return latchkey::cli::report_usage_error(program(), why); }

}  // namespace

int main(int argc, char** argv) {
  namespace po = latchkey::cli::po;
  int trials = 100;
  std::string fault_list;
  std::vector<Fault> faults(std::begin(kAllFaults), std::end(kAllFaults));
  WorldOptions options = default_world_options();
  std::string latchkeyd, plugin_dir, agent;
  po::options_description described;
  described.add_options()
      ("trials", po::value(&trials)->value_name("N"), "trials of each fault (default 100)")
      ("faults", po::value(&fault_list)->value_name("F,F,..."), "the faults to run, comma-separated")
      ("quiet", "print only misses and the summary")
      ("latchkeyd", po::value(&latchkeyd)->value_name("PATH"), "the latchkeyd to run (default: this build's)")
      ("plugin-dir", po::value(&plugin_dir)->value_name("DIR"), "its plugins (default: this build's)")
      ("agent", po::value(&agent)->value_name("PATH"), "the lk-camera-agent to run (default: this build's)");
  const latchkey::cli::Parsed parsed = latchkey::cli::parse(program(), described, argc, argv);
  if (parsed.exit_status) return *parsed.exit_status;
  if (trials < 1) return usage("--trials must be at least 1");
  if (parsed.values.count("faults")) {
    faults.clear();
    std::stringstream list(fault_list);
    std::string name;
    while (std::getline(list, name, ',')) {
      const auto f = parse_fault(name);
      if (!f) return usage("--faults: unknown fault " + name);
      faults.push_back(*f);
    }
  }
  if (!latchkeyd.empty()) options.latchkeyd = latchkeyd;
  if (!plugin_dir.empty()) options.plugin_dir = plugin_dir;
  if (!agent.empty()) options.agent = agent;
  const bool quiet = parsed.values.count("quiet") != 0;
  if (const auto why = latchkey::testing::netns_unavailable_reason()) {
    std::fprintf(stderr, "lk-attack-path: cannot make network namespaces: %s\n", why->c_str());
    return 77;
  }
  if (!quiet) options.log = [](const std::string& line) { std::fprintf(stderr, "  %s\n", line.c_str()); };
  std::map<Fault, std::vector<TrialResult>> results;
  const auto started = std::chrono::steady_clock::now();
  int64_t target_ms = 0;
  try {
    AttackWorld world(options);
    target_ms = world.target_us() / 1000;
    std::printf("setup: %s\n", world.describe_setup().c_str());
    std::fflush(stdout);
    for (Fault fault : faults) {
      for (int t = 0; t < trials; ++t) {
        const TrialResult r = world.run(fault, t % 2 == 1);
        results[fault].push_back(r);
        const bool miss = r.valid && (!r.detected || !r.within_target || !r.failure.empty());
        if (!quiet || miss || !r.valid) std::printf("%s #%d: %s\n", fault_name(fault), t, r.describe().c_str());
        if (miss) std::fprintf(stderr, "%s", world.diagnostics().c_str());
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lk-attack-path: %s\n", e.what());
    return 2;
  }
  const auto minutes =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count() / 60.0;
  std::printf("\ndetection delay: relock (door closed) or alarm (door open) after the last accepted attestation,\n"
              "hub monotonic clock; target live_timeout + 50 ms = %lld ms; %.1f min\n",
              static_cast<long long>(target_ms), minutes);
  std::printf("%-10s %7s %8s %7s %10s %10s %10s\n", "fault", "trials", "invalid", "misses", "p50 ms", "p99 ms",
              "max ms");
  int misses = 0;
  for (Fault fault : faults) {
    const FaultStats s = summarize(results[fault]);
    misses += s.misses;
    std::printf("%-10s %7d %8d %7d %10.1f %10.1f %10.1f\n", fault_name(fault), s.trials, s.invalid, s.misses,
                s.p50_ms, s.p99_ms, s.max_ms);
  }
  return misses == 0 ? 0 : 1;
}
