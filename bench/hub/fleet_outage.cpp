// Unlock decision latency with the fleet link (docs/fleet.md) off, with its
// broker up, and with its broker stopped while the outbox fills: issue 17's
// "no local delay beyond the benchmark's noise". The floor is the same
// figure with the fleet link off, measured in the same run on a hub of the
// same configuration otherwise. The fleet broker is a real Mosquitto with
// tools/broker/fleet.acl (latchkey_test_broker) and a real lk-witness
// confirms the hub's log, as a hub with [fleet] needs before it grants.
#include "camera_link/child_process.hpp"
#include "figures.hpp"
#include "hub_fixture.hpp"
#include "stats.hpp"

#include <mosquitto_broker.hpp>

#include <cstdio>
#include <fstream>
#include <thread>

namespace latchkey::bench {
namespace {

using namespace std::chrono_literals;

// Request in -> CommandUnlock out, µs, per trial (after a warm-up);
// empty when a trial failed (reported on stderr).
std::vector<double> decisions(HubFixture& hub, std::size_t trials, const char* mode) {
  constexpr std::size_t kWarmup = 5;
  std::vector<double> out;
  for (std::size_t i = 0; i < trials + kWarmup; ++i) {
    const crypto::Bytes grant = hub.grant();
    const auto request = hub.unlock_request(grant);
    const std::size_t from = hub.mark();
    const int64_t t0 = mono_ns();
    const auto r = hub.runtime().unlock("front", request);
    if (!r.ok() || !r->allowed) {
      std::fprintf(stderr, "fleet (%s): trial %zu denied: %s\n", mode, i, describe(r).c_str());
      return {};
    }
    const auto command = hub.wait_for(from, lock_command(true), 5s);
    if (!command || !finish_session(hub, from)) {
      std::fprintf(stderr, "fleet (%s): trial %zu did not complete\n", mode, i);
      return {};
    }
    if (i >= kWarmup) out.push_back(static_cast<double>(command->at_ns - t0) / 1000.0);
  }
  return out;
}

bool witness_confirmed(HubFixture& hub) {
  const auto v = hub.runtime().audit_verify();
  return v.ok() && v->witness && v->witness->state == "confirmed";
}

}  // namespace

int run_fleet_outage(const std::filesystem::path& dir, std::size_t trials) {
  // Floor: the fleet link off.
  std::vector<double> off;
  {
    HubOptions options;
    options.data_dir = dir / "fleet-off-hub";
    std::filesystem::remove_all(options.data_dir);
    HubFixture hub(options);
    hub.start();
    if (!hub.wait_porch_live(10s)) {
      std::fprintf(stderr, "fleet: the camera never became LIVE\n");
      return 1;
    }
    off = decisions(hub, trials, "off");
    hub.stop();
  }
  if (off.empty()) return 1;

  testing::BrokerOptions broker_options;
  broker_options.extra_users = {"hub-bench", "lk-witness"};
  broker_options.guard = false;
  broker_options.acl_file = LATCHKEY_FLEET_ACL;
  testing::MosquittoBroker broker(broker_options);
  const std::filesystem::path work = dir / "fleet-witness";
  std::filesystem::remove_all(work);
  std::filesystem::create_directories(work);
  std::array<uint8_t, 32> seed{};
  seed.fill(0x42);
  const crypto::KeyPair witness_key = crypto::KeyPair::from_seed(seed);
  std::ofstream(work / "witness.key") << crypto::to_hex(seed) << "\n";
  std::filesystem::permissions(work / "witness.key",
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  HubOptions options;
  options.data_dir = dir / "fleet-on-hub";
  std::filesystem::remove_all(options.data_dir);
  options.extra_config = "[fleet]\nenabled = true\nhost = 127.0.0.1\nport = " + std::to_string(broker.port()) +
                         "\nuser = hub-bench\npassword_file = " + broker.password_file("hub-bench").string() +
                         "\nwitness_key = " + crypto::to_hex(witness_key.public_key) + "\nwitness_timeout_ms = 300\n";
  HubFixture hub(options);
  hub.start();
  std::string hub_pub;
  std::getline(std::ifstream(options.data_dir / "hub.pub"), hub_pub);
  std::ofstream(work / "hub-keys") << "hub-bench " << hub_pub << "\n";
  ChildProcess witness({LATCHKEY_WITNESS, "--hub-keys", (work / "hub-keys").string(), "--db",
                        (work / "witness.db").string(), "--key", (work / "witness.key").string(), "--host",
                        "127.0.0.1", "--port", std::to_string(broker.port()), "--user", "lk-witness",
                        "--password-file", broker.password_file("lk-witness").string()},
                       (work / "witness.log").string());
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!witness_confirmed(hub) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  if (!witness_confirmed(hub) || !hub.wait_porch_live(10s)) {
    std::fprintf(stderr, "fleet: the witness never confirmed the log (see %s)\n", (work / "witness.log").c_str());
    return 1;
  }
  const std::vector<double> up = decisions(hub, trials, "broker up");
  broker.stop();  // the outage: every session outcome now waits in the outbox
  const std::vector<double> down = decisions(hub, trials, "broker down");
  hub.stop();
  if (up.empty() || down.empty()) return 1;

  const double f50 = percentile(off, 0.5), f99 = percentile(off, 0.99);
  const std::string note = std::to_string(trials) + " trials each, request in -> CommandUnlock out; floor: fleet off";
  for (const auto& [name, v] : {std::pair<const char*, const std::vector<double>*>{"broker up", &up},
                                {"broker down", &down}}) {
    const double p50 = percentile(*v, 0.5), p99 = percentile(*v, 0.99);
    print_row(std::string("Unlock decision p50, fleet ") + name, fmt("%.0f us", p50), fmt("%.0f us", f50),
              fmt("%.2f", p50 / f50), "<= 1.5", verdict_text(p50 / f50 <= 1.5), note);
    print_row(std::string("Unlock decision p99, fleet ") + name, fmt("%.0f us", p99), fmt("%.0f us", f99),
              fmt("%.2f", p99 / f99), "-", "info", note);
  }
  return 0;
}

}  // namespace latchkey::bench
