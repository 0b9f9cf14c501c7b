#include "figures.hpp"

#include "hub/stats.hpp"

#include <cstdio>
#include <thread>

namespace latchkey::fleetsim {

using namespace std::chrono_literals;

void report_start(int hubs, double started_s, double confirmed_s) {
  const std::string n = std::to_string(hubs);
  bench::print_row("fleet: start " + n + " hubs", bench::fmt("%.1f", started_s) + " s", "-", "-", "-", "-",
            "each latchkeyd until its API listens, one after another");
  bench::print_row("fleet: witness confirms " + n + " hubs", bench::fmt("%.2f", confirmed_s) + " s", "-", "-", "-", "-",
            "from lk-witness's start until every hub's GET /v1/audit/verify says confirmed");
}

namespace {

// Usage over `seconds`, per hub, once the hubs have settled.
Fleet::Usage sample(Fleet& fleet, int seconds) {
  std::this_thread::sleep_for(3s);  // past start-up work (enrolment, first checkpoint)
  const Fleet::Usage before = fleet.hub_usage();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const Fleet::Usage after = fleet.hub_usage();
  const double n = static_cast<double>(fleet.hubs().size());
  return {(after.cpu_s - before.cpu_s) / seconds / n, after.pss_kb / n};
}

}  // namespace

Fleet::Usage measure_cost_without_fleet(SimOptions options, testing::MosquittoBroker& broker, int seconds) {
  options.name = "no-fleet";
  options.fleet = false;
  Fleet fleet(options, broker);
  fleet.start_hubs();
  return sample(fleet, seconds);
}

void report_cost(Fleet& fleet, const Fleet::Usage& without, int seconds) {
  const Fleet::Usage with = sample(fleet, seconds);
  const std::string n = std::to_string(fleet.hubs().size());
  bench::print_row("fleet: hub CPU with the fleet link", bench::fmt("%.3f", with.cpu_s * 100) + " %",
            bench::fmt("%.3f", without.cpu_s * 100) + " %", bench::fmt("%.2f", with.cpu_s / without.cpu_s), "-", "-",
            "per hub, of one core, over " + std::to_string(seconds) + " s; floor: the same hubs without [fleet]; " + n +
                " hubs");
  bench::print_row("fleet: hub memory (PSS) with the fleet link", bench::fmt("%.2f", with.pss_kb / 1024) + " MiB",
            bench::fmt("%.2f", without.pss_kb / 1024) + " MiB", bench::fmt("%.2f", with.pss_kb / without.pss_kb), "-", "-",
            "per hub; floor: the same hubs without [fleet]; added " + bench::fmt("%.2f", (with.pss_kb - without.pss_kb) / 1024) +
                " MiB");
  const Fleet::Usage witness = fleet.witness_usage();
  bench::print_row("fleet: lk-witness memory (PSS)", bench::fmt("%.2f", witness.pss_kb / 1024) + " MiB", "-", "-", "-", "-",
            "for " + n + " hubs");
}


}  // namespace latchkey::fleetsim
