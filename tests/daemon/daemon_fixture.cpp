#include "daemon_fixture.hpp"

#include <iostream>

namespace latchkey::tests {

demo::SimHubOptions daemon_test_options() {
  demo::SimHubOptions options;
  options.latchkeyd = LATCHKEY_TEST_LATCHKEYD;
  options.plugin_dir = LATCHKEY_TEST_PLUGIN_DIR;
  options.temp_prefix = "latchkey-daemon-test";
  options.camera_rate_hz = 10;
  options.lock_actuation_ms = 50;
  return options;
}

std::string text(const JsonObject& object, const std::string& key) { return client::json_text(object, key); }

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

void DaemonTest::TearDown() {
  events_.reset();
  if (hub_ && HasFailure()) {
    std::cerr << "latchkeyd log (" << hub_->log_file().string() << "), last lines:\n" << hub_->log_tail(40);
  }
  hub_.reset();  // kills a daemon still running, removes its data directory
}

void DaemonTest::start_hub(demo::SimHubOptions options) {
  hub_ = std::make_unique<demo::SimHub>(std::move(options));
  hub_->start();
  reconnect();
  ASSERT_TRUE(demo::wait_cameras_live(*api_, 10s)) << "cameras never became LIVE";
}

void DaemonTest::reconnect() {
  events_.reset();
  api_ = hub_->client();
  events_ = std::make_unique<client::EventCollector>(hub_->endpoint(), hub_->token());
  ASSERT_TRUE(events_->wait_connected(5s)) << "GET /v1/events: " << events_->failure();
}

std::optional<client::SseEvent> DaemonTest::wait_event(const std::string& name,
                                                       const std::function<bool(const JsonObject&)>& match,
                                                       std::chrono::milliseconds timeout, std::size_t from) {
  return events_->wait_for(
      [&](const client::SseEvent& event) {
        if (event.name != name) return false;
        const JsonObject json = event.json();
        return json && (!match || match(json));
      },
      timeout, from);
}

std::vector<JsonObject> DaemonTest::records(const std::string& type, const std::string& rule,
                                            const std::function<bool(const JsonObject&)>& match) {
  std::vector<JsonObject> found;
  for (const JsonObject& record : demo::audit_records(*api_)) {
    if (text(record, "type") != type) continue;
    if (!rule.empty() && text(record, "rule") != rule) continue;
    if (match && !match(record)) continue;
    found.push_back(record);
  }
  return found;
}

client::MintedGrant DaemonTest::grant(const std::string& door, demo::GrantWindow window) {
  return demo::mint_grant_for(*hub_, door, courier_, window);
}

client::UnlockAnswer DaemonTest::present(const std::string& door, const client::MintedGrant& minted) {
  return demo::present_grant(*api_, door, minted.signed_grant, courier_);
}

client::UnlockAnswer DaemonTest::unlock(const std::string& door) {
  const client::UnlockAnswer answer = present(door, grant(door));
  EXPECT_TRUE(answer.allowed) << "HTTP " << answer.status << " " << answer.rule << ": " << answer.error;
  EXPECT_EQ(answer.session.size(), 32u) << "session id should be 16 bytes in hex";
  EXPECT_TRUE(wait_door(door, "unlocked", "closed")) << "the lock never reported unlocked";
  return answer;
}

void DaemonTest::act(const std::string& door, const std::string& action) {
  const client::ApiResponse response = api_->door_action(door, action);
  EXPECT_EQ(response.status, 200) << "POST /v1/test/doors/" << door << "/action " << action << ": " << response.body;
}

void DaemonTest::fault(const std::string& camera, const std::string& fault) {
  const client::ApiResponse response = api_->camera_fault(camera, fault);
  EXPECT_EQ(response.status, 200) << "POST /v1/test/cameras/" << camera << "/fault " << fault << ": "
                                  << response.body;
}

bool DaemonTest::wait_door(const std::string& door, const std::string& lock_state, const std::string& door_state,
                           std::chrono::milliseconds timeout) {
  return demo::wait_until(
      [&] {
        const JsonObject json = demo::door(*api_, door);
        return json && (lock_state.empty() || text(json, "lock_state") == lock_state) &&
               (door_state.empty() || text(json, "door_state") == door_state);
      },
      timeout);
}

}  // namespace latchkey::tests
