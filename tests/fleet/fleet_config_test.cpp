// latchkeyd's [fleet] section (docs/latchkeyd.md, docs/fleet.md): off by
// default, every key checked, the problems named.
#include <latchkey/hub/daemon_config.hpp>

#include <gtest/gtest.h>

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

const std::string kWitnessKey = std::string(62, '0') + "ab";

hub::DaemonConfig parse(const std::string& section) {
  return hub::DaemonConfig::parse(kBase + section, "/etc/latchkey");
}

std::string problems(const std::string& section) {
  try {
    parse(section);
  } catch (const hub::DaemonConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(FleetConfig, OffByDefault) {
  EXPECT_FALSE(parse("").fleet.enabled);
  const hub::DaemonConfig c = parse("[fleet]\nhost = fleet.example\n");
  EXPECT_FALSE(c.fleet.enabled);
  EXPECT_EQ(c.fleet.hub_id, "hub-1");
}

TEST(FleetConfig, EveryKey) {
  const hub::DaemonConfig c = parse("[fleet]\nenabled = true\nhost = fleet.example\ntls = true\nuser = hub-1\n"
                                    "password_file = fleet-password\ntls_ca_file = ca.pem\nhub_id = home-42\n"
                                    "witness_key = " + kWitnessKey + "\nwitness_timeout_ms = 2000\nkeepalive_s = 60\n");
  EXPECT_TRUE(c.fleet.enabled);
  EXPECT_EQ(c.fleet.port, 8883) << "TLS's port unless one is given";
  EXPECT_EQ(c.fleet.password_file, "/etc/latchkey/fleet-password");
  EXPECT_EQ(c.fleet.tls_ca_file, "/etc/latchkey/ca.pem");
  EXPECT_EQ(c.fleet.hub_id, "home-42");
  EXPECT_EQ(c.fleet.witness_key[31], 0xab);
  EXPECT_EQ(c.fleet.witness_timeout_ms, 2000);
  EXPECT_EQ(c.fleet.keepalive_s, 60);
  EXPECT_EQ(c.fleet.client_id, "lkf-home-42");
}

TEST(FleetConfig, ProblemsNamed) {
  EXPECT_NE(problems("[fleet]\nenabled = true\nwitness_key = " + kWitnessKey + "\n").find("[fleet] enabled = true needs 'host'"),
            std::string::npos);
  EXPECT_NE(problems("[fleet]\nenabled = true\nhost = h\n").find("needs 'witness_key'"), std::string::npos);
  EXPECT_NE(problems("[fleet]\nhost = h\nwitness_key = abc\n").find("witness_key"), std::string::npos);
  EXPECT_NE(problems("[fleet]\nhost = h\nhub_id = a/b\n").find("hub_id = 'a/b'"), std::string::npos);
  EXPECT_NE(problems("[fleet]\nhost = h\npassword = secret\n").find("never written in the configuration"),
            std::string::npos);
  EXPECT_NE(problems("[fleet]\nhost = h\nwitness_timeout_ms = 5\n").find("witness_timeout_ms"), std::string::npos);
  EXPECT_NE(problems("[fleet]\nhost = h\nwitnes_key = " + kWitnessKey + "\n").find("unknown key 'witnes_key'"),
            std::string::npos);
  EXPECT_NE(problems("[fleet]\nhost = h\npassword_file = p\n").find("needs 'user'"), std::string::npos);
}

// The outbox's bound (docs/fleet.md "Alarms and sessions up: the outbox").
TEST(FleetConfig, OutboxBound) {
  EXPECT_EQ(parse("[fleet]\nhost = h\n").fleet.outbox_max_rows, 100000);
  EXPECT_EQ(parse("[fleet]\nhost = h\noutbox_max_rows = 500\n").fleet.outbox_max_rows, 500);
  EXPECT_NE(problems("[fleet]\nhost = h\noutbox_max_rows = 5\n").find("outbox_max_rows"), std::string::npos);
  EXPECT_NE(problems("[fleet]\nhost = h\noutbox_max_rows = lots\n").find("outbox_max_rows"), std::string::npos);
}

}  // namespace
}  // namespace latchkey
