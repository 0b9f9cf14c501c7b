// The simulator's figures (docs/fleet.md "The fleet simulator"). Each prints
// ROW lines (bench::print_row, bench/hub/stats.hpp): figure, measured,
// floor, ratio, target, verdict, note.
#ifndef LATCHKEY_BENCH_FLEET_FIGURES_HPP
#define LATCHKEY_BENCH_FLEET_FIGURES_HPP

#include "fleet_sim.hpp"

namespace latchkey::fleetsim {


// start: seconds to start every hub; seconds from the witness's start until
// every hub is confirmed.
void report_start(int hubs, double started_s, double confirmed_s);

// cost: the same hubs without [fleet] (started, settled, measured and
// stopped here): CPU share and PSS per hub.
Fleet::Usage measure_cost_without_fleet(SimOptions options, testing::MosquittoBroker& broker, int seconds);
// ... and with it (the running fleet), against the figures without.
void report_cost(Fleet& fleet, const Fleet::Usage& without_per_hub, int seconds);

// revocation: a signed list published to every hub at once until every hub
// has applied it, against a bare MQTT round trip through the same broker
// (and the first hub's bridge in bridge mode).
void measure_revocation(Fleet& fleet, testing::MosquittoBroker& broker);
// alarm: an alarm raised at every hub until the fleet subscriber has it,
// against a bare publish through the same broker (and bridge).
void measure_alarm(Fleet& fleet, testing::MosquittoBroker& broker);

}  // namespace latchkey::fleetsim

#endif  // LATCHKEY_BENCH_FLEET_FIGURES_HPP
