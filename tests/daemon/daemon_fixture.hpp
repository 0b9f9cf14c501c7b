// A real latchkeyd per test, over HTTP on loopback: SimHub with short
// timings, an API client and the event stream. The daemon is killed when
// the fixture is torn down, whatever happened in the test (RAII in SimHub);
// a failed test prints the daemon's log tail.
#ifndef LATCHKEY_TESTS_DAEMON_FIXTURE_HPP
#define LATCHKEY_TESTS_DAEMON_FIXTURE_HPP

#include <latchkey/client/api_client.hpp>
#include <latchkey/client/api_json.hpp>
#include <latchkey/client/event_collector.hpp>
#include <latchkey/crypto/crypto.hpp>
#include <latchkey/demo/delivery.hpp>
#include <latchkey/demo/hub_status.hpp>
#include <latchkey/demo/sim_hub.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::tests {

using namespace std::chrono_literals;
using demo::JsonObject;
namespace client = latchkey::client;

// The build's latchkeyd and plugins (compile definitions from CMake).
demo::SimHubOptions daemon_test_options();

class DaemonTest : public ::testing::Test {
 protected:
  void TearDown() override;

  // Starts a hub (doors front/porch and back/yard) and follows its events.
  void start_hub(demo::SimHubOptions options = daemon_test_options());
  // After a restart of the same hub: a new client and event stream.
  void reconnect();

  // The first event named `name` whose JSON satisfies `match`, at index >= from.
  std::optional<client::SseEvent> wait_event(const std::string& name,
                                             const std::function<bool(const JsonObject&)>& match,
                                             std::chrono::milliseconds timeout = 5s, std::size_t from = 0);
  // Every audit record (GET /v1/audit) matching type, rule (when not empty) and `match`.
  std::vector<JsonObject> records(const std::string& type, const std::string& rule = "",
                                  const std::function<bool(const JsonObject&)>& match = {});

  client::MintedGrant grant(const std::string& door, demo::GrantWindow window = {});
  client::UnlockAnswer present(const std::string& door, const client::MintedGrant& grant);
  // An allowed unlock at `door` with the lock reported unlocked.
  client::UnlockAnswer unlock(const std::string& door);
  void act(const std::string& door, const std::string& action);
  void fault(const std::string& camera, const std::string& fault);
  bool wait_door(const std::string& door, const std::string& lock_state, const std::string& door_state,
                 std::chrono::milliseconds timeout = 5s);

  std::unique_ptr<demo::SimHub> hub_;
  std::unique_ptr<client::ApiClient> api_;
  std::unique_ptr<client::EventCollector> events_;
  demo::Courier courier_ = demo::Courier::make("courier-1");
};

std::string text(const JsonObject& object, const std::string& key);
bool starts_with(const std::string& text, const std::string& prefix);

}  // namespace latchkey::tests

#endif  // LATCHKEY_TESTS_DAEMON_FIXTURE_HPP
