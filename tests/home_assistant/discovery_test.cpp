// The pieces of latchkeyd's Home Assistant link that need no broker: the
// [mqtt] configuration, the payloads, the command parser and the
// drop-and-resync queue (docs/home-assistant.md).
#include <latchkey/home_assistant/discovery.hpp>
#include <latchkey/home_assistant/event_queue.hpp>
#include <latchkey/home_assistant/publisher.hpp>
#include <latchkey/hub/daemon_config.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace ha = latchkey::home_assistant;
namespace hub = latchkey::hub;

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

hub::DaemonConfig parse(const std::string& mqtt) { return hub::DaemonConfig::parse(kBase + mqtt, "/etc/latchkey"); }

// The problems parse() names for this [mqtt] section, one string.
std::string problems(const std::string& mqtt) {
  try {
    parse(mqtt);
  } catch (const hub::DaemonConfigError& e) {
    return e.what();
  }
  return "";
}

Poco::JSON::Object::Ptr json(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

ha::ParsedCommand command(const std::string& text) {
  return ha::parse_command(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

}  // namespace

TEST(MqttConfig, OffByDefaultEvenWithTheSection) {
  EXPECT_FALSE(parse("").mqtt.enabled);
  const hub::DaemonConfig c = parse("[mqtt]\nhost = broker.lan\n");
  EXPECT_FALSE(c.mqtt.enabled);
  EXPECT_EQ(c.mqtt.discovery_prefix, "homeassistant");
  EXPECT_EQ(c.mqtt.topic_prefix, "latchkey/hub-1");
  EXPECT_EQ(c.mqtt.client_id, "latchkey-hub-1");
  EXPECT_EQ(c.mqtt.port, 1883);
}

TEST(MqttConfig, ReadsEveryKey) {
  const hub::DaemonConfig c = parse(
      "[mqtt]\nenabled = true\nhost = 192.168.1.5\nport = 8883\nuser = latchkey\npassword_file = mqtt-password\n"
      "tls = true\ntls_ca_file = /etc/ssl/ha-ca.pem\ndiscovery_prefix = ha\ntopic_prefix = home/latchkey\n"
      "client_id = hub-front\nkeepalive_s = 15\n");
  EXPECT_TRUE(c.mqtt.enabled);
  EXPECT_EQ(c.mqtt.host, "192.168.1.5");
  EXPECT_EQ(c.mqtt.port, 8883);
  EXPECT_EQ(c.mqtt.user, "latchkey");
  EXPECT_EQ(c.mqtt.password_file, "/etc/latchkey/mqtt-password");
  EXPECT_TRUE(c.mqtt.tls);
  EXPECT_EQ(c.mqtt.tls_ca_file, "/etc/ssl/ha-ca.pem");
  EXPECT_EQ(c.mqtt.discovery_prefix, "ha");
  EXPECT_EQ(c.mqtt.topic_prefix, "home/latchkey");
  EXPECT_EQ(c.mqtt.client_id, "hub-front");
  EXPECT_EQ(c.mqtt.keepalive_s, 15);
}

TEST(MqttConfig, BadValuesNameTheirKey) {
  EXPECT_NE(problems("[mqtt]\nenabled = true\n").find("[mqtt] enabled = true needs 'host'"), std::string::npos);
  EXPECT_NE(problems("[mqtt]\nenabled = maybe\nhost = h\n").find("[mqtt] enabled = 'maybe'"), std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = h\nport = 0\n").find("[mqtt] port = 0 is out of bounds"), std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = h\nport = 70000\n").find("[mqtt] port"), std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = bad host!\n").find("[mqtt] host = 'bad host!'"), std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = h\nuser = u\npassword = hunter2\n").find("[mqtt] password: a password is never"),
            std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = h\npassword_file = p\n").find("password_file needs 'user'"), std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = h\ntls_ca_file = ca.pem\n").find("tls_ca_file is used only with tls = true"),
            std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = h\ntopic_prefix = latchkey/#\n").find("[mqtt] topic_prefix = 'latchkey/#'"),
            std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = h\ndiscovery_prefix = /ha\n").find("[mqtt] discovery_prefix = '/ha'"),
            std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = h\ntopic_prefix = a//b\n").find("empty level"), std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = h\ntopic_prefix = homeassistant/x\n").find("must not lie under discovery_prefix"),
            std::string::npos);
  EXPECT_NE(problems("[mqtt]\nenabled = true\nhost = h\ntopic_prefix = latchkey/camera\n").find("camera link"),
            std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = h\nkeepalive_s = 1\n").find("[mqtt] keepalive_s = 1 is out of bounds"),
            std::string::npos);
  EXPECT_NE(problems("[mqtt]\nhost = h\nretain = true\n").find("unknown key 'retain' in [mqtt]"), std::string::npos);
  // One run names every problem.
  const std::string all = problems("[mqtt]\nport = x\ntls = perhaps\ndiscovery_prefix = a+b\n");
  EXPECT_NE(all.find("port"), std::string::npos);
  EXPECT_NE(all.find("tls"), std::string::npos);
  EXPECT_NE(all.find("discovery_prefix"), std::string::npos);
}

TEST(Discovery, EscapedIdsDoNotCollide) {
  EXPECT_EQ(ha::escape_id("front-door"), "front-door");
  std::set<std::string> seen;
  for (const char* id : {"a.b", "a_b", "a_2eb", "a__b", "a-b", "ab"}) EXPECT_TRUE(seen.insert(ha::escape_id(id)).second) << id;
  for (const std::string& e : seen)
    for (char ch : e) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-') << e;
}

TEST(Discovery, CommandTopicsNameTheirDoor) {
  ha::Topics t{"homeassistant", "latchkey/hub-1"};
  EXPECT_EQ(t.door_of_command("latchkey/hub-1/door/front/set").value_or(""), "front");
  EXPECT_FALSE(t.door_of_command("latchkey/hub-1/door/front/lock"));
  EXPECT_FALSE(t.door_of_command("latchkey/hub-1/door//set"));
  EXPECT_FALSE(t.door_of_command("latchkey/hub-1/door/a/b/set"));
  EXPECT_FALSE(t.door_of_command("latchkey/hub-2/door/front/set"));
}

TEST(Discovery, LockStateFollowsTheDoorView) {
  hub::DoorStatus d;
  d.lock_state = hub::LockState::kLocked;
  EXPECT_EQ(ha::lock_payload(d), "LOCKED");
  d.lock_state = hub::LockState::kUnlocked;
  EXPECT_EQ(ha::lock_payload(d), "UNLOCKED");
  d.lock_state = hub::LockState::kNotFullyLocked;  // a jam (the engine's view of LK_ALARM_LOCK_JAMMED)
  EXPECT_EQ(ha::lock_payload(d), "JAMMED");
  d.lock_state = hub::LockState::kUnknown;
  EXPECT_EQ(ha::lock_payload(d), "None");
  d.lock_state = hub::LockState::kLocked;
  d.lock_faulted = true;  // F1: what the lock says is not known
  EXPECT_EQ(ha::lock_payload(d), "None");
}

TEST(Discovery, SessionAndAlarmPayloadsAreJson) {
  hub::OpenSession s;
  s.session = {0xab, 0xcd};
  s.courier = "courier-\"1\"";
  s.unlocked = true;
  auto o = json(ha::session_payload("front", s, 1'800'000'000'000));
  EXPECT_EQ(o->getValue<std::string>("state"), "open");
  EXPECT_EQ(o->getValue<std::string>("session"), "abcd");
  EXPECT_EQ(o->getValue<std::string>("courier"), "courier-\"1\"");
  EXPECT_EQ(o->getValue<std::string>("since"), "2027-01-15T08:00:00Z");
  EXPECT_EQ(json(ha::session_payload("front", std::nullopt, 0))->getValue<std::string>("state"), "none");

  hub::Alarm a;
  a.rule = latchkey::Rule::U5;
  a.message = "camera lost";
  a.door = "front";
  auto alarm = json(ha::alarm_payload(a));
  EXPECT_EQ(alarm->getValue<std::string>("event_type"), "U5");
  EXPECT_EQ(alarm->getValue<std::string>("message"), "camera lost");
  const auto types = ha::alarm_event_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "U5"), types.end());
  EXPECT_NE(std::find(types.begin(), types.end(), "none"), types.end());
}

TEST(Discovery, CommandsAreLockUnlockOrOpenAndNothingElse) {
  EXPECT_EQ(command("LOCK").command, ha::Command::kLock);
  EXPECT_EQ(command("UNLOCK").command, ha::Command::kUnlock);
  EXPECT_EQ(command("OPEN").command, ha::Command::kOpen);
  for (const std::string& bad : std::vector<std::string>{"lock", "LOCK ", "{\"state\":\"LOCK\"}", "", "UNLOCKED", std::string("LO\0CK", 5),
                                std::string("\xff\xfe", 2), std::string(65, 'A'), std::string(100'000, 'L')}) {
    const ha::ParsedCommand p = command(bad);
    EXPECT_FALSE(p.command) << bad.substr(0, 20);
    EXPECT_FALSE(p.problem.empty());
  }
  EXPECT_NE(command(std::string(100'000, 'L')).problem.find("100000 bytes"), std::string::npos);
}

TEST(EventQueue, AFullQueueDropsEverythingAndAsksForAResync) {
  ha::DropAndResyncQueue<int> q(4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(q.push(i));
  EXPECT_FALSE(q.push(4));  // full: dropped, never waits for the consumer
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.dropped(), 5u);
  EXPECT_TRUE(q.push(5));
  auto batch = q.take(std::chrono::milliseconds(0));
  EXPECT_TRUE(batch.resync);
  ASSERT_EQ(batch.items.size(), 1u);
  EXPECT_EQ(batch.items.front(), 5);
  EXPECT_FALSE(q.take(std::chrono::milliseconds(0)).resync);
}

// The broker password is a secret like the hub key: a file of mode 0600, one line.
TEST(MqttConfig, ThePasswordFileIsTrustedOnlyAsASecret) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("lk-ha-pw-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text, mode_t mode) {
    const std::filesystem::path p = dir / name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p;
  };
  auto problem = [](const std::filesystem::path& p) {
    try {
      ha::read_password_file(p);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(ha::read_password_file(write("good", "s3cret\n", 0600)), "s3cret");
  EXPECT_NE(problem(write("open", "s3cret\n", 0644)).find("[mqtt] password_file"), std::string::npos);
  EXPECT_NE(problem(write("open", "s3cret\n", 0644)).find("chmod 600"), std::string::npos);
  EXPECT_NE(problem(dir / "missing").find("does not exist"), std::string::npos);
  EXPECT_NE(problem(write("empty", "\n", 0600)).find("is empty"), std::string::npos);
  EXPECT_NE(problem(write("two", "a\nb\n", 0600)).find("more than one line"), std::string::npos);
  EXPECT_NE(problem(write("nul", std::string("a\0b", 3), 0600)).find("NUL"), std::string::npos);
  std::filesystem::create_symlink(dir / "good", dir / "link");
  EXPECT_NE(problem(dir / "link").find("[mqtt] password_file"), std::string::npos);
  std::filesystem::remove_all(dir);
}
