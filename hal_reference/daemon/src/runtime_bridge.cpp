// [fleet] via = bridge (docs/fleet.md, "The bridge"): latchkeyd's fleet link
// dials the hub's own Mosquitto, whose bridge carries the fleet's topics to
// and from the fleet broker. The hub broker publishes, retained on
// kFleetBridgeStateTopic, "1" while that bridge is up and "0" when it is not;
// the hub asks the witness only while it is up, and a bridge that comes up
// again counts as a reconnect of the direct link: the witness is asked again
// and, once it confirms, the newest checkpoint is sent.
#include "runtime_impl.hpp"

namespace latchkey::hub {

bool Runtime::Impl::fleet_upstream_up() const {
  if (!fleet_link || !fleet_link->connected()) return false;
  return !fleet_bridged() || fleet_bridge_up;
}

void Runtime::Impl::configure_fleet_bridge_link(mqtt::LinkConfig& link) const {
  const FleetConfig& f = config.fleet;
  link.host = f.local_host;
  link.port = f.local_port;
  link.tls = false;  // the hub's own broker, on loopback (docs/broker.md)
  link.tls_ca_file.clear();
  link.user = f.local_user;
  link.subscriptions.push_back({kFleetBridgeStateTopic, 1});
}

void Runtime::Impl::fleet_bridge_connected() {
  // The retained state follows the subscription: until it says "1" the
  // bridge is taken as down (a restarted hub broker starts without it).
  fleet_bridge_up = false;
  log_line("info", "[fleet] connected to the hub's broker; waiting for its bridge to the fleet broker");
}

void Runtime::Impl::fleet_bridge_state(const std::string& payload) {
  if (payload != "1" && payload != "0") {
    log_line("error", "[fleet] " + std::string(kFleetBridgeStateTopic) + ": ignored a state that is neither 1 nor 0 (" +
                          std::to_string(payload.size()) + " bytes)");
    return;
  }
  const bool up = payload == "1";
  if (up == fleet_bridge_up) return;
  fleet_bridge_up = up;
  if (!up) {
    log_line("info", "[fleet] the hub broker's bridge to the fleet broker is down; what the hub sends waits in the "
                     "hub's broker");
    return;
  }
  // Like a reconnect of the direct link: ask again, and on the witness's
  // confirmation send the newest checkpoint.
  log_line("info", "[fleet] the hub broker's bridge to the fleet broker is up; asking the witness");
  fleet_query();
}

WitnessStatus Runtime::Impl::with_fleet_upstream(WitnessStatus status) const {
  if (!config.fleet.enabled) return status;
  status.via = fleet_bridged() ? "bridge" : "direct";
  status.upstream_up = fleet_upstream_up();
  return status;
}

}  // namespace latchkey::hub
