// [fleet] via = bridge (docs/fleet.md, "The bridge"): the keys, their
// refusals, and the Mosquitto bridge file made from them, line by line.
#include <latchkey/hub/daemon_config.hpp>
#include <latchkey/hub/fleet_bridge.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace latchkey {
namespace {

const char* kBase = R"(
[hub]
id = hub-1
data_dir = /var/lib/latchkey
[plugin.sim]
file = lk_sim_lock.so
[lock.front]
plugin = sim
uri = sim://lock/front
[camera.porch]
plugin = sim
uri = sim://camera/porch
key = 0000000000000000000000000000000000000000000000000000000000000000
[door.front]
lock = front
cameras = porch
)";

const std::string kFleet = "[fleet]\nenabled = true\nhost = fleet.example\nwitness_key = " + std::string(64, '0') + "\n";

hub::DaemonConfig parse(const std::string& section) { return hub::DaemonConfig::parse(kBase + section, "/etc/latchkey"); }

std::string problems(const std::string& section) {
  try {
    parse(section);
  } catch (const hub::DaemonConfigError& e) {
    return e.what();
  }
  return "";
}

std::set<std::string> lines(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') out.insert(line);
  return out;
}

TEST(FleetBridgeConfig, DirectByDefault) {
  const hub::DaemonConfig c = parse(kFleet);
  EXPECT_EQ(c.fleet.via, hub::FleetConfig::Via::kDirect);
  EXPECT_EQ(c.fleet.local_host, "127.0.0.1");
  EXPECT_EQ(c.fleet.local_port, 1883);
}

TEST(FleetBridgeConfig, BridgeKeys) {
  const hub::DaemonConfig c = parse(kFleet + "via = bridge\nlocal_host = localhost\nlocal_port = 1884\n"
                                             "local_user = hub\nlocal_password_file = broker.password\n");
  EXPECT_EQ(c.fleet.via, hub::FleetConfig::Via::kBridge);
  EXPECT_EQ(c.fleet.local_host, "localhost");
  EXPECT_EQ(c.fleet.local_port, 1884);
  EXPECT_EQ(c.fleet.local_user, "hub");
  EXPECT_EQ(c.fleet.local_password_file, "/etc/latchkey/broker.password");
}

TEST(FleetBridgeConfig, ProblemsNamed) {
  EXPECT_NE(problems(kFleet + "via = carrier-pigeon\n").find("via = 'carrier-pigeon' must be 'direct' or 'bridge'"),
            std::string::npos);
  const std::string direct = problems(kFleet + "local_port = 1884\nlocal_user = hub\n");
  EXPECT_NE(direct.find("[fleet] local_port is used only with via = bridge"), std::string::npos) << direct;
  EXPECT_NE(direct.find("[fleet] local_user is used only with via = bridge"), std::string::npos) << direct;
  EXPECT_NE(problems(kFleet + "via = bridge\nlocal_password_file = p\n").find("needs 'local_user'"), std::string::npos);
  EXPECT_NE(problems(kFleet + "via = bridge\nlocal_port = 0\n").find("local_port = 0 is out of bounds"),
            std::string::npos);
  EXPECT_NE(problems(kFleet + "via = bridge\nlocal_host = a b\n").find("local_host = 'a b'"), std::string::npos);
  const std::string v6 = problems("[fleet]\nenabled = true\nhost = fd00::1\nvia = bridge\nwitness_key = " +
                                  std::string(64, '0') + "\n");
  EXPECT_NE(v6.find("cannot hold an IPv6 literal"), std::string::npos) << v6;
}

TEST(FleetBridgeConfig, TheBridgeFileCarriesOnlyThisHubsTopicsEachWay) {
  const hub::DaemonConfig c =
      parse(kFleet + "via = bridge\nport = 8883\ntls = true\ntls_ca_file = fleet-ca.pem\nhub_id = home-42\n"
                     "keepalive_s = 45\n");
  const std::set<std::string> got = lines(hub::fleet_bridge_config(c.fleet, "s3cret pass"));
  for (const char* line : {
           "connection latchkey-fleet",
           "address fleet.example:8883",
           "bridge_protocol_version mqttv311",
           "try_private false",
           "cleansession false",
           "local_cleansession false",
           "keepalive_interval 45",
           "remote_clientid lkf-home-42",
           "remote_username home-42",
           "remote_password s3cret pass",
           "bridge_cafile /etc/latchkey/fleet-ca.pem",
           "notifications true",
           "notifications_local_only true",
           "notification_topic latchkey/fleet/bridge/state",
           "topic latchkey/fleet/v1/home-42/up/# out 1",
           "topic latchkey/fleet/v1/home-42/witness/query out 1",
           "topic latchkey/fleet/v1/home-42/witness/answer in 1",
           "topic latchkey/fleet/v1/home-42/down/# in 1",
       })
    EXPECT_EQ(got.count(line), 1u) << "missing: " << line;
  std::size_t topics = 0;
  for (const std::string& line : got) topics += line.rfind("topic ", 0) == 0;
  EXPECT_EQ(topics, 4u) << "no topic beyond the hub's own, in one direction each";
  // Without a CA file: the system's CAs.
  const hub::DaemonConfig system_ca = parse(kFleet + "via = bridge\ntls = true\n");
  EXPECT_EQ(lines(hub::fleet_bridge_config(system_ca.fleet, "")).count("bridge_capath /etc/ssl/certs"), 1u);
  EXPECT_EQ(lines(hub::fleet_bridge_config(system_ca.fleet, "")).count("remote_username hub-1"), 1u)
      << "the hub id is the user unless [fleet] user says otherwise";
}

TEST(FleetBridgeConfig, RefusesWhatIsNoBridge) {
  auto refusal = [](const hub::FleetConfig& f, const std::string& password) -> std::string {
    try {
      hub::fleet_bridge_config(f, password);
    } catch (const hub::FleetBridgeError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(refusal(parse("").fleet, "").find("[fleet] enabled = true is needed"), std::string::npos);
  EXPECT_NE(refusal(parse(kFleet).fleet, "").find("[fleet] via = bridge is needed"), std::string::npos);
  const hub::FleetConfig bridge = parse(kFleet + "via = bridge\n").fleet;
  EXPECT_NE(refusal(bridge, "two\nlines").find("control character"), std::string::npos);
  EXPECT_NE(refusal(bridge, " padded").find("blank"), std::string::npos);
  EXPECT_EQ(refusal(bridge, "fine"), "");
}

TEST(FleetBridgeConfig, ThePasswordFileIsOneLineNobodyElseReads) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "lk-fleet-bridge-config-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  hub::FleetConfig f = parse(kFleet + "via = bridge\n").fleet;
  f.password_file = dir / "password";
  auto refusal = [&]() -> std::string {
    try {
      hub::read_fleet_bridge_password(f);
    } catch (const hub::FleetBridgeError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(refusal().find("cannot open"), std::string::npos);
  std::ofstream(f.password_file) << "secret\n";
  ::chmod(f.password_file.c_str(), 0644);
  EXPECT_NE(refusal().find("chmod 600"), std::string::npos) << refusal();
  ::chmod(f.password_file.c_str(), 0600);
  EXPECT_EQ(hub::read_fleet_bridge_password(f), "secret");
  std::ofstream(f.password_file) << "one\ntwo\n";
  EXPECT_NE(refusal().find("must hold one line"), std::string::npos);
  f.password_file.clear();
  EXPECT_EQ(hub::read_fleet_bridge_password(f), "");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace latchkey
