// lk-fleet-sim: the fleet simulator (issue 17 point 6; docs/fleet.md).
// Starts one fleet broker, N hubs (real latchkeyd processes, simulated
// devices, plugins in-process) and lk-witness, then prints each figure as a
// ROW line (bench/common/bench_report.hpp's form) beside its floor measured
// in the same run.
#include "figures.hpp"
#include "fleet_sim.hpp"

#include <latchkey/common/cli_options.hpp>

#include <cstdio>
#include <iostream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
namespace cli = latchkey::cli;
using namespace latchkey;
using namespace latchkey::fleetsim;

namespace {

const cli::Program& program() {
  static const cli::Program p{
      "lk-fleet-sim",
      {"--dir DIR [--hubs N] [--via direct|bridge] [--figures LIST] [--cost-seconds S]"},
      "The fleet simulator (docs/fleet.md): one Mosquitto as the fleet broker with the fleet ACL, N latchkeyd "
      "hubs with simulated devices (one door, one camera, plugins in-process), each with its own broker user, "
      "and one lk-witness. Prints each figure as a ROW line beside a floor measured in the same run: 'start' "
      "(all hubs confirmed by the witness), 'revocation' (a signed revocation list published to every hub until "
      "every hub has applied it, against a bare MQTT round trip through the same broker), 'alarm' (an alarm at "
      "every hub until the fleet's subscriber has it, against a bare publish through the same broker) and "
      "'cost' (CPU and memory of the hubs with the fleet link against the same hubs without it).",
      {{0, "every figure measured"}, {1, "a figure could not be measured (the reason is printed)"},
       {2, "usage error"}},
      "DIR must be on a real disk (the hubs fsync their audit logs); it keeps every hub's data directory and log, "
      "the broker's and the witness's files until the next run."};
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  cli::po::options_description options("Options");
  std::string dir, via = "direct", figures_text = "start,revocation,alarm,cost";
  int hubs = 100, cost_seconds = 20;
  options.add_options()                                                          //
      ("dir", cli::po::value(&dir)->required(), "where the hubs, broker and witness keep their files")  //
      ("hubs", cli::po::value(&hubs), "number of hubs (1-500; default 100)")                           //
      ("via", cli::po::value(&via), "direct (each hub connects to the fleet broker) or bridge (each hub its own Mosquitto, bridged; default direct)")  //
      ("figures", cli::po::value(&figures_text), "comma-separated: start, revocation, alarm, cost (default all)")  //
      ("cost-seconds", cli::po::value(&cost_seconds), "seconds over which CPU is measured per phase (default 20)");
  const cli::Parsed parsed = cli::parse(program(), options, argc, argv);
  if (parsed.exit_status) return *parsed.exit_status;
  std::set<std::string> figures;
  {
    std::istringstream in(figures_text);
    for (std::string f; std::getline(in, f, ',');) {
      if (f != "start" && f != "revocation" && f != "alarm" && f != "cost")
        return cli::report_usage_error(program(), "--figures: unknown figure '" + f + "'");
      figures.insert(f);
    }
  }
  if (via != "direct" && via != "bridge") return cli::report_usage_error(program(), "--via must be direct or bridge");
  if (hubs < 1 || hubs > 500) return cli::report_usage_error(program(), "--hubs must be 1-500");
  if (cost_seconds < 1 || cost_seconds > 3600) return cli::report_usage_error(program(), "--cost-seconds must be 1-3600");

  try {
    const demo::BuildOutputs outputs = demo::find_build_outputs(demo::executable_dir());
    SimOptions sim;
    sim.dir = fs::absolute(dir);
    sim.latchkeyd = outputs.latchkeyd;
    sim.plugin_dir = outputs.plugin_dir;
    sim.witness = outputs.latchkeyd.parent_path() / "lk-witness";
    sim.fleet_acl = LATCHKEY_FLEET_ACL_FILE;
    sim.hubs = hubs;
    sim.bridge = via == "bridge";
    fs::create_directories(sim.dir);

    auto broker = start_fleet_broker(sim, hubs);
    std::fprintf(stderr, "fleet broker on 127.0.0.1:%u\n", broker->port());

    Fleet::Usage off_per_hub;
    if (figures.count("cost")) off_per_hub = measure_cost_without_fleet(sim, *broker, cost_seconds);

    sim.name = "fleet";
    sim.fleet = true;
    Fleet fleet(sim, *broker);
    const double started = fleet.start_hubs();
    fleet.start_witness();
    const double confirmed = fleet.wait_all_confirmed(std::chrono::seconds(120));
    if (figures.count("start")) report_start(hubs, started, confirmed);
    if (figures.count("cost")) report_cost(fleet, off_per_hub, cost_seconds);
    if (figures.count("revocation")) measure_revocation(fleet, *broker);
    if (figures.count("alarm")) measure_alarm(fleet, *broker);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lk-fleet-sim: %s\n", e.what());
    return 1;
  }
}
