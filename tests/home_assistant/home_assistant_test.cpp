// latchkeyd in Home Assistant over a real Mosquitto broker
// (docs/home-assistant.md): every discovery config carries the fields Home
// Assistant's MQTT lock, binary_sensor, sensor and event schemas require;
// UNLOCK on the lock's command topic unlocks nothing and is audited (G1);
// LOCK locks a closed door and never breaks a rule (U8); bad payloads are
// refused with a log line; states follow the hub; the last will says
// "offline" when latchkeyd dies.
#include "ha_fixture.hpp"
#include "latchkeyd_command.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <arpa/inet.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace latchkey::tests {
namespace {

using Poco::JSON::Object;

Object::Ptr parse_json(const std::string& text) {
  try {
    return Poco::JSON::Parser().parse(text).extract<Object::Ptr>();
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::string str(const Object::Ptr& o, const std::string& key) {
  return o && o->has(key) && o->get(key).isString() ? o->getValue<std::string>(key) : std::string();
}

// The fields Home Assistant's MQTT integration requires or this hub relies
// on, per component (home-assistant.io/integrations/<component>.mqtt):
// lock needs command_topic, event needs state_topic and event_types,
// binary_sensor and sensor need state_topic; discovered entities need a
// unique_id to be tied to a device, and the device block identifiers.
void check_config(const std::string& topic, const Object::Ptr& c, const std::string& component,
                  std::set<std::string>& unique_ids) {
  SCOPED_TRACE(topic);
  ASSERT_TRUE(c) << "not a JSON object";
  EXPECT_FALSE(str(c, "name").empty());
  const std::string unique_id = str(c, "unique_id");
  EXPECT_FALSE(unique_id.empty());
  EXPECT_TRUE(unique_ids.insert(unique_id).second) << "unique_id used twice: " << unique_id;
  EXPECT_EQ(str(c, "availability_topic"), "latchkey/hub-1/availability");
  EXPECT_EQ(str(c, "payload_available"), "online");
  EXPECT_EQ(str(c, "payload_not_available"), "offline");
  const Object::Ptr device = c->getObject("device");
  ASSERT_TRUE(device) << "no device block";
  const auto ids = device->getArray("identifiers");
  ASSERT_TRUE(ids && ids->size() > 0) << "device without identifiers";
  EXPECT_FALSE(str(device, "name").empty());
  EXPECT_FALSE(str(c, "state_topic").empty());  // every component here has one
  if (component == "lock") {
    EXPECT_FALSE(str(c, "command_topic").empty());
    EXPECT_EQ(str(c, "payload_lock"), "LOCK");
    EXPECT_EQ(str(c, "payload_unlock"), "UNLOCK");
    EXPECT_EQ(str(c, "state_locked"), "LOCKED");
    EXPECT_EQ(str(c, "state_unlocked"), "UNLOCKED");
    EXPECT_EQ(str(c, "state_jammed"), "JAMMED");
    EXPECT_TRUE(c->has("retain") && !c->getValue<bool>("retain")) << "commands must not be retained";
    EXPECT_TRUE(c->has("optimistic") && !c->getValue<bool>("optimistic")) << "the state comes from the hub";
  } else if (component == "binary_sensor") {
    EXPECT_EQ(str(c, "payload_on"), "ON");
    EXPECT_EQ(str(c, "payload_off"), "OFF");
  } else if (component == "event") {
    const auto types = c->getArray("event_types");
    ASSERT_TRUE(types && types->size() > 0) << "event without event_types";
    std::set<std::string> t;
    for (std::size_t i = 0; i < types->size(); ++i) t.insert(types->getElement<std::string>(i));
    for (const char* rule : {"U5", "C6", "G4", "F1", "U8"}) EXPECT_TRUE(t.count(rule)) << rule;
  } else if (component == "sensor") {
    EXPECT_FALSE(str(c, "value_template").empty());
  } else {
    ADD_FAILURE() << "unexpected component " << component;
  }
}

}  // namespace

TEST_F(HomeAssistantTest, EveryDiscoveryConfigCarriesWhatHomeAssistantRequires) {
  start_hub_with_mqtt();
  // 2 doors (lock + session each), 2 cameras, the alarm event and the last alarm sensor.
  constexpr std::size_t kEntities = 8;
  std::map<std::string, testing::Received> configs;
  ASSERT_TRUE(demo::wait_until(
      [&] {
        for (const auto& m : home_assistant_->all())
          if (m.topic.rfind("homeassistant/", 0) == 0) configs[m.topic] = m;
        return configs.size() >= kEntities;
      },
      5s))
      << configs.size() << " configs";
  EXPECT_EQ(configs.size(), kEntities);
  std::set<std::string> unique_ids;
  std::map<std::string, int> components;
  std::set<std::string> state_topics;
  for (const auto& [topic, m] : configs) {
    // homeassistant/<component>/<node_id>/<object_id>/config
    const auto first = topic.find('/') + 1;
    const std::string component = topic.substr(first, topic.find('/', first) - first);
    ++components[component];
    EXPECT_EQ(topic.substr(topic.size() - 7), "/config");
    const Object::Ptr c = parse_json(payload_text(m));
    check_config(topic, c, component, unique_ids);
    if (c) state_topics.insert(str(c, "state_topic"));
  }
  EXPECT_EQ(components["lock"], 2);
  EXPECT_EQ(components["binary_sensor"], 2);
  EXPECT_EQ(components["sensor"], 3);
  EXPECT_EQ(components["event"], 1);

  EXPECT_TRUE(wait_payload("latchkey/hub-1/door/front/lock", "LOCKED"));
  EXPECT_TRUE(wait_payload("latchkey/hub-1/camera/porch/live", "ON"));

  // Configs and states are retained: a Home Assistant that starts later (or
  // restarts) gets every one from the broker's store, marked retained.
  connect_home_assistant();
  std::set<std::string> wanted = state_topics;
  for (const auto& [topic, m] : configs) wanted.insert(topic);
  wanted.insert("latchkey/hub-1/availability");
  wanted.erase("latchkey/hub-1/alarm/event");  // events are not retained
  wanted.erase("latchkey/hub-1/alarm/last");   // none raised yet
  std::set<std::string> retained;
  EXPECT_TRUE(demo::wait_until(
      [&] {
        for (const auto& m : home_assistant_->all())
          if (m.retained) retained.insert(m.topic);
        return std::includes(retained.begin(), retained.end(), wanted.begin(), wanted.end());
      },
      5s));
  for (const std::string& t : wanted) EXPECT_TRUE(retained.count(t)) << t << " is not retained";
  EXPECT_EQ(payload_text(home_assistant_->received("latchkey/hub-1/availability").back()), "online");
}

TEST_F(HomeAssistantTest, G1_UnlockOnTheCommandTopicUnlocksNothingAndIsAudited) {
  start_hub_with_mqtt();
  const std::size_t from = events_->size();
  ASSERT_EQ(command("latchkey/hub-1/door/front/set", "UNLOCK"), 0);
  ASSERT_EQ(command("latchkey/hub-1/door/front/set", "OPEN"), 0);
  auto refusals = [&] {
    return records("decision", "G1", [](const JsonObject& r) { return text(r, "subject") == "home_assistant"; });
  };
  ASSERT_TRUE(demo::wait_until([&] { return refusals().size() == 2; }, 5s)) << refusals().size() << " records";
  EXPECT_NE(text(refusals().front(), "detail").find("remote unlock from home_assistant refused"), std::string::npos);
  // No command reached the lock's plugin, and the door stays locked.
  EXPECT_FALSE(wait_event("door", [](const JsonObject& e) { return text(e, "command") == "unlock"; }, 500ms, from));
  EXPECT_FALSE(wait_event("door", [](const JsonObject& e) { return text(e, "command") == "lock"; }, 10ms, from));
  EXPECT_EQ(text(demo::door(*api_, "front"), "lock_state"), "locked");
  EXPECT_EQ(log_lines("unlock for door 'front' from Home Assistant refused (G1)"), 1);
  // A courier's delivery is not locked out by it (G4 does not count these).
  unlock("front");
}

TEST_F(HomeAssistantTest, LockOnTheCommandTopicLocksAClosedDoor) {
  start_hub_with_mqtt();
  act("front", "manual_unlock");
  ASSERT_TRUE(wait_door("front", "unlocked", "closed"));
  ASSERT_TRUE(wait_payload("latchkey/hub-1/door/front/lock", "UNLOCKED"));
  ASSERT_EQ(command("latchkey/hub-1/door/front/set", "LOCK"), 0);
  EXPECT_TRUE(wait_door("front", "locked", "closed"));
  EXPECT_TRUE(wait_payload("latchkey/hub-1/door/front/lock", "LOCKED"));
  EXPECT_EQ(records("decision", "", [](const JsonObject& r) {
              return text(r, "subject") == "home_assistant" &&
                     text(r, "detail").find("remote lock from home_assistant: accepted") != std::string::npos;
            }).size(),
            1u);
}

TEST_F(HomeAssistantTest, U8_LockIsRefusedWhileASessionIsOpen) {
  start_hub_with_mqtt();
  unlock("front");
  ASSERT_EQ(command("latchkey/hub-1/door/front/set", "LOCK"), 0);
  ASSERT_TRUE(demo::wait_until(
      [&] {
        return !records("decision", "U8", [](const JsonObject& r) { return text(r, "subject") == "home_assistant"; })
                    .empty();
      },
      5s));
  EXPECT_EQ(text(demo::door(*api_, "front"), "lock_state"), "unlocked");  // the courier is not locked out mid-delivery
  // The session ends as ever: door cycle, verified relock.
  act("front", "open");
  act("front", "close");
  EXPECT_TRUE(wait_door("front", "locked", "closed"));
}

TEST_F(HomeAssistantTest, BadCommandsAreRefusedWithALogLineAndChangeNothing) {
  start_hub_with_mqtt();
  const std::size_t from = events_->size();
  const std::size_t decisions = records("decision").size();
  const std::vector<std::string> bad = {"{\"state\":\"UNLOCK\"}", "unlock", std::string("UN\0LOCK", 7),
                                        std::string(6000, 'U'), ""};
  for (const std::string& payload : bad) ASSERT_EQ(command("latchkey/hub-1/door/front/set", payload), 0);
  // Unknown door: the hub answers not found, and nothing is recorded.
  ASSERT_EQ(command("latchkey/hub-1/door/cellar/set", "UNLOCK"), 0);
  ASSERT_TRUE(demo::wait_until([&] { return log_lines("[mqtt] refused the command on latchkey/hub-1/door/front/set") == 5; }, 5s))
      << log_lines("[mqtt] refused the command");
  EXPECT_EQ(log_lines("unknown payload '{\"state\":\"UNLOCK\"}'"), 1);
  EXPECT_EQ(log_lines("payload of 6000 bytes is longer than 64"), 1);
  EXPECT_EQ(log_lines("payload is not printable text"), 1);
  EXPECT_EQ(log_lines("empty payload"), 1);
  EXPECT_TRUE(demo::wait_until([&] { return log_lines("unknown door 'cellar'") == 1; }, 5s));
  EXPECT_EQ(records("decision").size(), decisions);
  EXPECT_FALSE(wait_event("door", [](const JsonObject& e) { return text(e, "door") == "front"; }, 300ms, from));
  EXPECT_EQ(text(demo::door(*api_, "front"), "lock_state"), "locked");
  EXPECT_TRUE(hub_->running());
}

TEST_F(HomeAssistantTest, StatesFollowLivenessAlarmsAndSessions) {
  start_hub_with_mqtt();
  const std::string live = "latchkey/hub-1/camera/yard/live";
  ASSERT_TRUE(wait_payload(live, "ON"));
  fault("yard", "offline");
  EXPECT_TRUE(wait_payload(live, "OFF"));
  // C6 after health_timeout (3 s here): an event and the retained last alarm.
  EXPECT_TRUE(wait_payload("latchkey/hub-1/alarm/event", [](const std::string& p) {
    const auto o = parse_json(p);
    return str(o, "event_type") == "C6" && str(o, "camera") == "yard" && !str(o, "message").empty();
  }, 8s));
  ASSERT_TRUE(wait_payload("latchkey/hub-1/alarm/last", [](const std::string& p) { return str(parse_json(p), "rule") == "C6"; }));
  // Retained: a client that subscribes now gets the last alarm, not the event.
  connect_home_assistant();
  EXPECT_TRUE(wait_payload("latchkey/hub-1/alarm/last", [](const std::string& p) { return str(parse_json(p), "rule") == "C6"; }));
  EXPECT_TRUE(home_assistant_->received("latchkey/hub-1/alarm/last").back().retained);
  EXPECT_TRUE(home_assistant_->received("latchkey/hub-1/alarm/event").empty());
  fault("yard", "clear");
  EXPECT_TRUE(wait_payload(live, "ON"));

  const std::string session = "latchkey/hub-1/door/front/session";
  ASSERT_TRUE(wait_payload(session, [](const std::string& p) { return str(parse_json(p), "state") == "none"; }));
  const auto answer = unlock("front");
  EXPECT_TRUE(wait_payload(session, [&](const std::string& p) {
    const auto o = parse_json(p);
    return str(o, "state") == "open" && str(o, "courier") == "courier-1" && str(o, "session") == answer.session &&
           !str(o, "since").empty();
  }));
  act("front", "open");
  act("front", "close");
  EXPECT_TRUE(wait_payload(session, [](const std::string& p) { return str(parse_json(p), "state") == "none"; }));
  EXPECT_TRUE(wait_payload("latchkey/hub-1/door/front/lock", "LOCKED"));
}

TEST_F(HomeAssistantTest, KillingTheHubMakesTheBrokerPublishOffline) {
  start_hub_with_mqtt();
  hub_->kill();  // SIGKILL: no goodbye, the broker publishes the last will
  EXPECT_TRUE(wait_payload("latchkey/hub-1/availability", "offline", 10s));
  connect_home_assistant();  // retained: a Home Assistant starting now sees it too
  EXPECT_TRUE(wait_payload("latchkey/hub-1/availability", "offline"));
  EXPECT_TRUE(home_assistant_->received("latchkey/hub-1/availability").back().retained);
}

TEST_F(HomeAssistantTest, AStoppedHubSaysOfflineAndARestartedOneOnlineAgain) {
  start_hub_with_mqtt();
  ASSERT_EQ(hub_->stop(), 0);
  EXPECT_TRUE(wait_payload("latchkey/hub-1/availability", "offline"));
  hub_->start();
  reconnect();
  EXPECT_TRUE(wait_payload("latchkey/hub-1/availability", "online"));
}

// A broker that accepts the TCP connection and never answers, and one that
// is not there at all: the hub's own work goes on as ever.
TEST_F(HomeAssistantTest, AnUnreachableOrSilentBrokerDelaysNothingLocal) {
  const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(silent, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ASSERT_EQ(::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr), 1);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(silent, 16), 0);  // the kernel completes handshakes; nobody ever reads
  socklen_t len = sizeof addr;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len);
  for (uint16_t port : {ntohs(addr.sin_port), uint16_t{1}}) {
    SCOPED_TRACE(port);
    demo::SimHubOptions options = daemon_test_options();
    options.extra_config = mqtt_section(port);
    start_hub(options);
    unlock("front");
    act("front", "open");
    act("front", "close");
    EXPECT_TRUE(wait_door("front", "locked", "closed"));
    EXPECT_EQ(records("session", "U8").size(), 1u);
    EXPECT_TRUE(home_assistant_->received("latchkey/hub-1/availability").empty());
    ASSERT_EQ(hub_->stop(), 0) << "a clean stop must not hang on the broker";
    events_.reset();
    hub_.reset();
  }
  ::close(silent);
}

// The broker password is a secret: a file others can read stops --check and
// the start, naming the key and the path; the password never appears.
TEST_F(HomeAssistantTest, CheckAndStartRefuseAPasswordFileOthersCanRead) {
  demo::SimHubOptions options = daemon_test_options();
  options.extra_config = mqtt_section();
  auto hub = std::make_unique<demo::SimHub>(options);
  const std::filesystem::path open_file = hub->data_dir() / "mqtt-password";
  std::ofstream(open_file) << broker_->password(testing::MosquittoBroker::kHubUser) << "\n";
  ::chmod(open_file.c_str(), 0644);
  // Point the section at the readable copy.
  std::string config;
  {
    std::ifstream in(hub->config_file());
    config.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string key = "password_file = ";
  const auto at = config.find(key);
  ASSERT_NE(at, std::string::npos);
  config.replace(at + key.size(), config.find('\n', at) - at - key.size(), open_file.string());
  std::ofstream(hub->config_file()) << config;

  const LatchkeydRun check = run_latchkeyd({"--config", hub->config_file().string(), "--check"});
  EXPECT_NE(check.exit_code, 0);
  EXPECT_NE(check.err.find("[mqtt] password_file: " + open_file.string()), std::string::npos) << check.err;
  EXPECT_NE(check.err.find("0600"), std::string::npos) << check.err;
  EXPECT_EQ(check.err.find(broker_->password(testing::MosquittoBroker::kHubUser)), std::string::npos);
  EXPECT_THROW(hub->start(), std::exception);
  EXPECT_TRUE(home_assistant_->received("latchkey/hub-1/availability").empty());
}

}  // namespace latchkey::tests
