// lk-fleet-sim: many hubs on one fleet broker (issue 17 point 6,
// docs/fleet.md "The fleet simulator"). Each hub is a real latchkeyd with
// simulated devices in a light configuration (one door, one camera, plugins
// in-process), each with its own broker user on one real Mosquitto that
// carries the shipped tools/broker/fleet.acl, and one real lk-witness.
#ifndef LATCHKEY_BENCH_FLEET_SIM_HPP
#define LATCHKEY_BENCH_FLEET_SIM_HPP

#include <latchkey/crypto/crypto.hpp>
#include <latchkey/demo/child_process.hpp>
#include <latchkey/demo/sim_hub.hpp>
#include <latchkey/mqtt/mqtt_link.hpp>

#include <mosquitto_broker.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <condition_variable>
#include <string>
#include <vector>

namespace latchkey::fleetsim {

struct SimOptions {
  std::filesystem::path dir;    // everything lives here (a real disk: the hubs fsync)
  std::filesystem::path latchkeyd, plugin_dir, witness;
  std::filesystem::path fleet_acl;
  int hubs = 100;
  bool fleet = true;            // false: the same hubs without [fleet] (the cost figure's floor)
  bool bridge = false;          // [fleet] via = bridge: each hub its own Mosquitto, bridged to the fleet broker
  std::string name = "fleet";   // sub-folder of dir for this set of hubs
};

// Unix time in milliseconds, as the hubs stamp their messages.
int64_t wall_ms();
// Seconds since an arbitrary start, for latencies measured in this process.
double mono_s();

std::string hub_name(int index);  // "hub-0001"

// The fleet broker alone: every hub's user, the witness, the issuer and the
// fleet's subscriber, with the fleet ACL, and "floor" (below). One per run.
std::unique_ptr<testing::MosquittoBroker> start_fleet_broker(const SimOptions& options, int hubs);

// A set of hubs on the broker, and the witness when options.fleet.
class Fleet {
 public:
  Fleet(SimOptions options, testing::MosquittoBroker& broker);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Starts every hub (returns the seconds it took), then the witness.
  double start_hubs();
  void start_witness();
  // Polls GET /v1/audit/verify at every hub until each says "confirmed";
  // returns the seconds from the call until the last did. Throws on timeout.
  double wait_all_confirmed(std::chrono::seconds timeout);

  std::vector<std::unique_ptr<demo::SimHub>>& hubs() { return hubs_; }
  bool bridged() const { return options_.bridge; }
  // Bridge mode: hub i's own broker, its bridge made by latchkeyd --print-fleet-bridge.
  testing::MosquittoBroker& hub_broker(std::size_t i) { return *hub_brokers_.at(i); }
  demo::ChildProcess& witness() { return witness_; }
  const crypto::KeyPair& witness_key() const { return witness_key_; }

  // CPU seconds (user + system) and proportional set size (kB) of every hub
  // process, summed; the witness separately.
  struct Usage {
    double cpu_s = 0;
    double pss_kb = 0;
  };
  Usage hub_usage() const;  // bridge mode: each hub's broker included
  Usage witness_usage() const;

 private:
  SimOptions options_;
  testing::MosquittoBroker& broker_;
  std::array<uint8_t, 32> witness_seed_{};
  crypto::KeyPair witness_key_;
  std::vector<std::unique_ptr<testing::MosquittoBroker>> hub_brokers_;
  std::vector<std::unique_ptr<demo::SimHub>> hubs_;
  demo::ChildProcess witness_;
};

// A subscriber on the fleet broker that timestamps every message as it
// arrives (its own MQTT connection and thread).
class Listener {
 public:
  struct Received {
    std::string topic;
    std::string payload;
    int64_t wall_ms;
    double mono_s;
  };
  // Connects as `user` with the password the broker fixture made for it.
  Listener(const testing::MosquittoBroker& broker, const std::string& user, std::vector<std::string> topics);
  ~Listener();
  // Waits until `done` holds for what arrived so far, or the timeout.
  bool wait(const std::function<bool(const std::vector<Received>&)>& done, std::chrono::milliseconds timeout);
  std::vector<Received> received();
  mqtt::MqttLink& link() { return *link_; }
  bool wait_connected(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Received> received_;
  std::unique_ptr<mqtt::MqttLink> link_;
};

// A connection that publishes (and, with on_message, listens) as `user`;
// returns once connected. Throws when it does not connect within 5 s.
std::unique_ptr<mqtt::MqttLink> connect_as(
    const testing::MosquittoBroker& broker, const std::string& user,
    std::vector<mqtt::LinkConfig::Subscription> subscriptions = {},
    std::function<void(std::string_view, const uint8_t*, std::size_t)> on_message = {});

// One process's CPU seconds (user + system) and PSS (kB) from /proc.
double process_cpu_s(pid_t pid);
double process_pss_kb(pid_t pid);

double percentile(std::vector<double> values, double p);

}  // namespace latchkey::fleetsim

#endif  // LATCHKEY_BENCH_FLEET_SIM_HPP
