// The hub broker's bridge to the fleet broker (docs/fleet.md, "The bridge").
#include <latchkey/hub/fleet_bridge.hpp>

#include <latchkey/fleet/protocol.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace latchkey::hub {
namespace {

// Mosquitto reads a configuration value to the end of its line and drops
// blanks around it: a password survives only without line breaks, control
// characters or surrounding blanks.
std::string password_problem(const std::string& password) {
  if (password.empty()) return "is empty";
  for (char ch : password)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) return "holds a control character";
  if (password.front() == ' ' || password.back() == ' ')
    return "begins or ends with a blank, which Mosquitto's configuration would drop";
  return "";
}

}  // namespace

std::string read_fleet_bridge_password(const FleetConfig& f) {
  if (f.password_file.empty()) return "";
  const std::string name = "[fleet] password_file " + f.password_file.string();
  const int fd = ::open(f.password_file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) throw FleetBridgeError(name + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FleetBridgeError(name + ": not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    throw FleetBridgeError(name + ": readable or writable by group or others; run chmod 600 on it");
  }
  char buffer[512];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || text.size() > 4096) {
      ::close(fd);
      throw FleetBridgeError(name + (n < 0 ? ": cannot read: " + std::string(std::strerror(errno)) : ": too long"));
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.find('\n') != std::string::npos) throw FleetBridgeError(name + " must hold one line");
  if (const std::string problem = password_problem(text); !problem.empty())
    throw FleetBridgeError(name + ": the password " + problem);
  return text;
}

std::string fleet_bridge_config(const FleetConfig& f, const std::string& remote_password) {
  if (!f.enabled) throw FleetBridgeError("[fleet] enabled = true is needed for a bridge to the fleet broker");
  if (f.via != FleetConfig::Via::kBridge)
    throw FleetBridgeError("[fleet] via = bridge is needed: with via = direct latchkeyd dials the fleet broker itself");
  if (f.host.empty() || f.host.find(':') != std::string::npos)
    throw FleetBridgeError("[fleet] host '" + f.host + "' is not a host name or IPv4 address");
  if (const std::string problem = fleet::hub_id_problem(f.hub_id); !problem.empty())
    throw FleetBridgeError("[fleet] hub_id '" + f.hub_id + "' " + problem);
  if (!remote_password.empty())
    if (const std::string problem = password_problem(remote_password); !problem.empty())
      throw FleetBridgeError("[fleet] password_file: the password " + problem);
  const std::string user = f.user.empty() ? f.hub_id : f.user;
  const std::string prefix = "latchkey/fleet/v1/" + f.hub_id + "/";
  std::ostringstream o;
  o << "# The hub broker's bridge to the fleet broker (docs/fleet.md, \"The bridge\").\n"
    << "# Written by latchkeyd --print-fleet-bridge from [fleet] of the hub's\n"
    << "# configuration; write it again after changing [fleet]. It holds the hub's\n"
    << "# fleet password: mode 0640, owner root, group mosquitto.\n"
    << "connection latchkey-fleet\n"
    << "address " << f.host << ":" << f.port << "\n"
    << "bridge_protocol_version mqttv311\n"
    // Not Mosquitto-only: no bridge flag in CONNECT (other brokers refuse it).
    << "try_private false\n"
    << "start_type automatic\n"
    << "restart_timeout 2 30\n"
    << "keepalive_interval " << f.keepalive_s << "\n"
    // Sessions kept on both sides: while the fleet broker is away the hub's
    // broker queues up/ and queries (QoS 1) for the bridge; while the bridge
    // is away the fleet broker queues answers and down/ messages for it.
    << "cleansession false\n"
    << "local_cleansession false\n"
    << "remote_clientid " << f.client_id << "\n"
    << "local_clientid " << "local." << f.client_id << "\n"
    << "remote_username " << user << "\n";
  if (!remote_password.empty()) o << "remote_password " << remote_password << "\n";
  if (f.tls) {
    if (!f.tls_ca_file.empty()) o << "bridge_cafile " << f.tls_ca_file.string() << "\n";
    else o << "bridge_capath /etc/ssl/certs\n";
    o << "bridge_insecure false\n"
      << "bridge_tls_version tlsv1.2\n";
  }
  // Whether the bridge is up, on the hub's broker only (latchkeyd reads it).
  o << "notifications true\n"
    << "notifications_local_only true\n"
    << "notification_topic " << kFleetBridgeStateTopic << "\n"
    << "topic " << prefix << "up/# out 1\n"
    << "topic " << prefix << "witness/query out 1\n"
    << "topic " << prefix << "witness/answer in 1\n"
    << "topic " << prefix << "down/# in 1\n";
  return o.str();
}

}  // namespace latchkey::hub
