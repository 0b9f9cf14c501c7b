// Unlock decision latency on the in-process runtime: from HubApi::unlock
// with a valid request to the CommandUnlock leaving for the lock (the hub's
// "door" event for the command, stamped on the loop thread). Real plugins
// (sim lock, ref authz, sim camera acknowledging at once), durable audit log.
#include "figures.hpp"
#include "hub_fixture.hpp"
#include "stats.hpp"

#include <cstdio>

namespace latchkey::bench {
namespace {

using namespace std::chrono_literals;

}  // namespace

int run_unlock_latency(const std::filesystem::path& dir, std::size_t trials) {
  constexpr std::size_t kWarmup = 5;
  HubOptions options;
  options.data_dir = dir / "unlock-hub";
  std::filesystem::remove_all(options.data_dir);
  HubFixture hub(options);
  hub.start();
  if (!hub.wait_porch_live(10s)) {
    std::fprintf(stderr, "unlock latency: the camera never became LIVE\n");
    return 1;
  }
  DecisionFloorMeter floor_meter(dir);
  std::vector<double> latency_us;
  std::vector<double> answer_us;
  crypto::Bytes consumed;  // a grant already used, for the deny path
  for (std::size_t i = 0; i < trials + kWarmup; ++i) {
    const crypto::Bytes grant = hub.grant();
    if (consumed.empty()) consumed = grant;
    const auto request = hub.unlock_request(grant);
    const std::size_t from = hub.mark();
    const int64_t t0 = mono_ns();
    const auto r = hub.runtime().unlock("front", request);
    const int64_t answered = mono_ns();
    if (!r.ok() || !r->allowed) {
      std::fprintf(stderr, "unlock latency: trial %zu denied: %s\n", i, describe(r).c_str());
      return 1;
    }
    const auto command = hub.wait_for(from, lock_command(true), 5s);
    if (!command) {
      std::fprintf(stderr, "unlock latency: no unlock command in trial %zu\n", i);
      return 1;
    }
    if (i >= kWarmup) {
      latency_us.push_back(static_cast<double>(command->at_ns - t0) / 1000.0);
      answer_us.push_back(static_cast<double>(answered - t0) / 1000.0);
    }
    if (!finish_session(hub, from)) {
      std::fprintf(stderr, "unlock latency: the session of trial %zu did not complete\n", i);
      return 1;
    }
    if (i >= kWarmup) floor_meter.sample();  // one floor sample per trial, same conditions
  }
  // The deny path (A1/A3): a deny is answered only once its record is
  // durable. A consumed grant is denied (G3; from the fifth, the lockout's
  // G4 deny, recorded the same way); floor: one SQLite FULL commit.
  std::vector<double> deny_us, commit_floor_us;
  {
    DecisionFloorMeter deny_floor(dir);
    for (std::size_t i = 0; i < trials + kWarmup; ++i) {
      const auto request = hub.unlock_request(consumed);
      const int64_t t0 = mono_ns();
      const auto r = hub.runtime().unlock("front", request);
      const int64_t answered = mono_ns();
      if (!r.ok() || r->allowed) {
        std::fprintf(stderr, "deny latency: trial %zu answered: %s\n", i, describe(r).c_str());
        return 1;
      }
      if (i >= kWarmup) {
        deny_us.push_back(static_cast<double>(answered - t0) / 1000.0);
        deny_floor.sample();
      }
    }
    commit_floor_us.assign(1, deny_floor.result().commit_us);
  }
  hub.stop();

  const DecisionFloor floor = floor_meter.result();
  const double p50 = percentile(latency_us, 0.5), p99 = percentile(latency_us, 0.99);
  const double f50 = percentile(floor.samples_us, 0.5), f99 = percentile(floor.samples_us, 0.99);
  const std::string floor_note = "floor: 2 Ed25519 verify (" + fmt("%.0f", floor.verify_us) +
                                 " us each) + 1 SQLite FULL commit (" + fmt("%.0f", floor.commit_us) + " us), one sample after each trial";
  print_row("Unlock decision latency p50", fmt("%.0f us", p50), fmt("%.0f us", f50), fmt("%.2f", p50 / f50), "-",
            "info", floor_note);
  print_row("Unlock decision latency p99", fmt("%.0f us", p99), fmt("%.0f us", f99), fmt("%.2f", p99 / f99),
            "<= 1.5", verdict_text(p99 / f99 <= 1.5),
            "request in -> CommandUnlock out, " + std::to_string(trials) + " trials; API answer p50 " +
                fmt("%.0f us", percentile(answer_us, 0.5)));
  const double d50 = percentile(deny_us, 0.5), d99 = percentile(deny_us, 0.99);
  print_row("Deny answer latency p50 (answered after its record commits)", fmt("%.0f us", d50),
            fmt("%.0f us", commit_floor_us[0]), fmt("%.2f", d50 / commit_floor_us[0]), "-", "info",
            "floor: 1 SQLite FULL commit; p99 " + fmt("%.0f us", d99) + ", " + std::to_string(trials) + " denies");
  return 0;
}

}  // namespace latchkey::bench
