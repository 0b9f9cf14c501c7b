// The hub broker's bridge to the fleet broker ([fleet] via = bridge,
// docs/fleet.md "The bridge"): the Mosquitto `connection` section made from
// hub.ini, so that the bridge and latchkeyd cannot disagree on the hub id,
// the topics or the credentials. `latchkeyd --print-fleet-bridge` prints it.
#ifndef LATCHKEY_HUB_FLEET_BRIDGE_HPP
#define LATCHKEY_HUB_FLEET_BRIDGE_HPP

#include <latchkey/hub/daemon_config.hpp>

#include <stdexcept>
#include <string>

namespace latchkey::hub {

class FleetBridgeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The bridge file for the hub's Mosquitto 2.0 (an include_dir file). `f` is
// a parsed [fleet] with via = bridge; `remote_password` the one line of its
// password_file ("" without one). Throws FleetBridgeError naming what is
// wrong: [fleet] off, via = direct, a password Mosquitto's configuration
// cannot hold.
std::string fleet_bridge_config(const FleetConfig& f, const std::string& remote_password);

// Reads [fleet] password_file as the bridge needs it (one line, no
// surrounding blanks or control characters); "" when none is named.
std::string read_fleet_bridge_password(const FleetConfig& f);

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_FLEET_BRIDGE_HPP
