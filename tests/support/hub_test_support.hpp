// Shared by the tests that drive a Runtime through HubApi (tests/runtime,
// tests/isolation): reading its typed answers, a simulated camera's key and a
// one-use grant for hub-1 from issuer iss-1.
#ifndef LATCHKEY_TESTS_HUB_TEST_SUPPORT_HPP
#define LATCHKEY_TESTS_HUB_TEST_SUPPORT_HPP

#include <latchkey/crypto/grants.hpp>
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>
#include <latchkey/hub/hub_api.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

namespace latchkey::testing {

// An unlock's answer for a failure message.
inline std::string describe(const hub::ApiResult<hub::UnlockOutcome>& r) {
  if (!r.ok()) {
    const std::string rule(name(r.error().rule));
    return "no decision: " + r.error().message + (rule.empty() ? "" : " (" + rule + ")");
  }
  return r->allowed ? "allowed" : "denied by " + std::string(name(r->rule)) + ": " + r->message;
}
inline bool allowed(const hub::ApiResult<hub::UnlockOutcome>& r) { return r.ok() && r->allowed; }
inline bool denied(const hub::ApiResult<hub::UnlockOutcome>& r) { return r.ok() && !r->allowed; }

// How the first session GET /v1/sessions lists ends: "open" (open sessions
// come first), "completed" or "compromised" (the newest ended one), or "".
inline std::string first_session_end(const hub::Sessions& s) {
  if (!s.open.empty()) return "open";
  if (s.ended.empty()) return "";
  return hub::to_string(s.ended.front().end);
}

// The hex public key of sim://camera/porch with this seed, as the camera describes it.
inline std::string sim_camera_key(const std::filesystem::path& plugin_dir, const std::string& seed) {
  auto plugin = host::Plugin::load(plugin_dir / "lk_sim_camera.so");
  std::unique_ptr<host::CameraHandle> cam;
  EXPECT_EQ(host::CameraHandle::open(plugin, "sim://camera/porch?seed=" + seed, [](const host::DeviceEvent&) {}, &cam),
            LK_OK);
  lk_camera_description d{};
  d.struct_size = sizeof d;
  if (cam) cam->describe(&d);
  return crypto::to_hex({d.public_key, 32});
}

// A signed one-use grant for courier-1 at `door` of hub-1, valid for an hour.
inline crypto::Bytes mint_grant(const crypto::KeyPair& issuer, const crypto::KeyPair& courier,
                                const std::string& door) {
  v1::Grant g;
  const auto id = crypto::random_bytes(16);
  g.set_grant_id(id.data(), id.size());
  g.set_issuer_key_id("iss-1");
  g.set_hub_id("hub-1");
  g.set_door_id(door);
  g.set_courier_id("courier-1");
  g.set_courier_public_key(courier.public_key.data(), courier.public_key.size());
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  g.set_not_before_unix_ms(now - 1000);
  g.set_not_after_unix_ms(now + 3'600'000);
  g.set_uses(1);
  return crypto::mint_grant(g, issuer.secret_key);
}

}  // namespace latchkey::testing

#endif  // LATCHKEY_TESTS_HUB_TEST_SUPPORT_HPP
