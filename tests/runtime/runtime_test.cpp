// The runtime without HTTP: latchkeyd's loop, the reference plugins loaded
// for real, the gate engine and the audit log, driven through HubApi.
#include <latchkey/audit/verify.hpp>
#include <latchkey/crypto/grants.hpp>
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>
#include <latchkey/hub/runtime.hpp>

#include "hub_test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;
namespace crypto = latchkey::crypto;
using latchkey::hub::ApiResult;
using latchkey::hub::UnlockOutcome;
using latchkey::hub::DaemonConfig;
using latchkey::hub::Runtime;
using namespace std::chrono_literals;

namespace {

const std::string kCameraSeed(64, '7');

using latchkey::testing::allowed;
using latchkey::testing::denied;
using latchkey::testing::describe;

std::string camera_key() { return latchkey::testing::sim_camera_key(LATCHKEY_PLUGIN_DIR, kCameraSeed); }

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("latchkey-runtime-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    issuer = crypto::KeyPair::generate();
    courier = crypto::KeyPair::generate();
  }
  void TearDown() override {
    stop();
    fs::remove_all(dir);
  }

  std::string config_text() const {
    return "[hub]\nid = hub-1\ndata_dir = " + (dir / "data").string() + "\nplugin_dir = " LATCHKEY_PLUGIN_DIR
           "\ntest_control = true\nclock_synced = trust\n"
           "[gate]\nhealth_timeout_ms = 2000\n"
           "[plugin.lock]\nfile = lk_sim_lock.so\n[plugin.camera]\nfile = lk_sim_camera.so\n"
           "[plugin.authz]\nfile = lk_ref_authz.so\n"
           "[lock.front]\nplugin = lock\nuri = sim://lock/front?actuation_ms=50\n"
           "[camera.porch]\nplugin = camera\nuri = sim://camera/porch?rate_hz=10&seed=" + kCameraSeed +
           "\nkey = " + camera_key() + "\n[door.front]\nlock = front\ncameras = porch\n"
           "[authz]\nplugin = authz\nconfig = issuer iss-1 " + crypto::to_hex(issuer.public_key) +
           "\n[issuer.iss-1]\nkey = " + crypto::to_hex(issuer.public_key) + "\n";
  }

  void start() {
    runtime = std::make_unique<Runtime>(DaemonConfig::parse(config_text(), dir));
    loop = std::thread([this] { runtime->run(); });
  }
  void stop() {
    if (!runtime) return;
    runtime->stop();
    if (loop.joinable()) loop.join();
    runtime->shutdown();
    runtime.reset();
  }

  bool wait_live(std::chrono::milliseconds timeout = 5s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      const auto doors = runtime->doors();
      if (doors.ok() && doors->at(0).cameras.at(0).live) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  crypto::Bytes grant(const std::string& door = "front") {
    return latchkey::testing::mint_grant(issuer, courier, door);
  }

  ApiResult<UnlockOutcome> unlock_with(const crypto::Bytes& signed_grant) {
    const crypto::Bytes challenge = runtime->challenge("front").value().challenge;
    return runtime->unlock("front", crypto::make_unlock_request(signed_grant, "front", challenge, courier.secret_key));
  }

  std::string session_end() {
    return latchkey::testing::first_session_end(runtime->sessions().value());
  }

  fs::path dir;
  crypto::KeyPair issuer, courier;
  std::unique_ptr<Runtime> runtime;
  std::thread loop;
};

}  // namespace

TEST_F(RuntimeTest, Delivery_UnlocksAfterCommitAndCompletesWithVerifiedRelock) {
  start();
  ASSERT_TRUE(wait_live());
  const auto r = unlock_with(grant());
  ASSERT_TRUE(allowed(r)) << describe(r);
  std::this_thread::sleep_for(150ms);
  ASSERT_TRUE(runtime->test_door_action("front", "open").ok());
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(runtime->test_door_action("front", "close").ok());
  for (int i = 0; i < 40 && session_end() != "completed"; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(session_end(), "completed");
  EXPECT_TRUE(runtime->audit_verify().value().ok);
}

TEST_F(RuntimeTest, G3_ReplayedGrantIsDeniedAndStaysConsumedAcrossRestart) {
  start();
  ASSERT_TRUE(wait_live());
  const auto g = grant();
  ASSERT_TRUE(allowed(unlock_with(g)));
  std::this_thread::sleep_for(150ms);
  runtime->test_door_action("front", "open");
  runtime->test_door_action("front", "close");
  std::this_thread::sleep_for(300ms);
  const auto again = unlock_with(g);
  ASSERT_TRUE(denied(again)) << describe(again);
  EXPECT_EQ(again->rule, latchkey::Rule::G3);
  stop();
  start();
  ASSERT_TRUE(wait_live());
  const auto after = unlock_with(g);
  ASSERT_TRUE(denied(after)) << describe(after);
  EXPECT_EQ(after->rule, latchkey::Rule::G3);
}

TEST_F(RuntimeTest, U5_FrozenCameraWithDoorOpenAlarmsAndRelocksOnClose) {
  start();
  ASSERT_TRUE(wait_live());
  ASSERT_TRUE(allowed(unlock_with(grant())));
  std::this_thread::sleep_for(150ms);
  runtime->test_door_action("front", "open");
  ASSERT_TRUE(runtime->test_camera_fault("porch", "freeze", 0).ok());
  bool alarmed = false;
  for (int i = 0; i < 100 && !alarmed; ++i) {
    std::this_thread::sleep_for(50ms);
    for (const auto& alarm : runtime->alarms(0).value()) alarmed |= alarm.rule == latchkey::Rule::U5;
  }
  EXPECT_TRUE(alarmed);
  runtime->test_door_action("front", "close");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(runtime->doors().value().at(0).lock_state, latchkey::hub::LockState::kLocked);
}

TEST_F(RuntimeTest, F2_RestartAfterAnOpenSessionRelocksAndAlarms) {
  start();
  ASSERT_TRUE(wait_live());
  ASSERT_TRUE(allowed(unlock_with(grant())));
  std::this_thread::sleep_for(150ms);
  // Stop without the session ending: as far as the log knows, it is open.
  stop();
  start();
  bool f2 = false;
  for (const auto& alarm : runtime->alarms(0).value()) f2 |= alarm.rule == latchkey::Rule::F2;
  EXPECT_TRUE(f2);
}

TEST_F(RuntimeTest, BadConfigurationIsRefusedNamingTheKey) {
  try {
    DaemonConfig::parse("[hub]\nid = hub-1\ndata_dir = /tmp/x\n[gate]\nlive_timeout_ms = 10\n", dir);
    FAIL() << "accepted";
  } catch (const latchkey::hub::DaemonConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("live_timeout_ms"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("line 5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(DaemonConfig::parse("[hub]\nid = hub-1\ndata_dir = x\ncolour = blue\n", dir),
               latchkey::hub::DaemonConfigError);
  EXPECT_THROW(DaemonConfig::parse("[hub]\nid = hub-1\ndata_dir = x\n[door.front]\nlock = nope\ncameras = c\n", dir),
               latchkey::hub::DaemonConfigError);
}

TEST_F(RuntimeTest, G1_HubRefusesARevokedGrantWhateverThePluginSays) {
  const auto g = grant();
  latchkey::v1::SignedGrant sg;
  sg.ParseFromArray(g.data(), static_cast<int>(g.size()));
  latchkey::v1::Grant body;
  body.ParseFromString(sg.grant());
  const std::string revoked = "[revoked]\ngrants = " + crypto::to_hex(crypto::view(body.grant_id())) + "\n";
  runtime = std::make_unique<Runtime>(DaemonConfig::parse(config_text() + revoked, dir));
  loop = std::thread([this] { runtime->run(); });
  ASSERT_TRUE(wait_live());
  const auto r = unlock_with(g);
  ASSERT_TRUE(denied(r)) << describe(r);
  EXPECT_EQ(r->rule, latchkey::Rule::G1);
}

TEST_F(RuntimeTest, ACameraServesOneDoor) {
  const std::string second_door =
      "[lock.back]\nplugin = lock\nuri = sim://lock/back\n[door.back]\nlock = back\ncameras = porch\n";
  try {
    DaemonConfig::parse(config_text() + second_door, dir);
    FAIL() << "a camera bound to two doors was accepted";
  } catch (const latchkey::hub::DaemonConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("porch"), std::string::npos) << e.what();
  }
}
