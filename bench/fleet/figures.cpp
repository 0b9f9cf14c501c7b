#include "figures.hpp"

#include <cstdio>
#include <thread>

namespace latchkey::fleetsim {

using namespace std::chrono_literals;

void print_row(const std::string& figure, const std::string& measured, const std::string& floor,
               const std::string& ratio, const std::string& target, const std::string& verdict,
               const std::string& note) {
  std::printf("ROW\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", figure.c_str(), measured.c_str(), floor.c_str(), ratio.c_str(),
              target.c_str(), verdict.c_str(), note.c_str());
  std::fflush(stdout);
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

void report_start(int hubs, double started_s, double confirmed_s) {
  const std::string n = std::to_string(hubs);
  print_row("fleet: start " + n + " hubs", fixed(started_s, 1) + " s", "-", "-", "-", "-",
            "each latchkeyd until its API listens, one after another");
  print_row("fleet: witness confirms " + n + " hubs", fixed(confirmed_s, 2) + " s", "-", "-", "-", "-",
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
  print_row("fleet: hub CPU with the fleet link", fixed(with.cpu_s * 100, 3) + " %",
            fixed(without.cpu_s * 100, 3) + " %", fixed(with.cpu_s / without.cpu_s, 2), "-", "-",
            "per hub, of one core, over " + std::to_string(seconds) + " s; floor: the same hubs without [fleet]; " + n +
                " hubs");
  print_row("fleet: hub memory (PSS) with the fleet link", fixed(with.pss_kb / 1024, 2) + " MiB",
            fixed(without.pss_kb / 1024, 2) + " MiB", fixed(with.pss_kb / without.pss_kb, 2), "-", "-",
            "per hub; floor: the same hubs without [fleet]; added " + fixed((with.pss_kb - without.pss_kb) / 1024, 2) +
                " MiB");
  const Fleet::Usage witness = fleet.witness_usage();
  print_row("fleet: lk-witness memory (PSS)", fixed(witness.pss_kb / 1024, 2) + " MiB", "-", "-", "-", "-",
            "for " + n + " hubs");
}


}  // namespace latchkey::fleetsim
