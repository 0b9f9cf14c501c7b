// Opening the net camera: URIs, credentials, waiting for the hello, a
// pinned key, a broker that is down, and close/unload.
#include "net_camera_fixture.hpp"

#include <latchkey/client/camera_enrolment.hpp>

#include <fstream>

namespace latchkey::testing {
namespace {

class Open : public NetCameraTest {
 protected:
  void SetUp() override { start_broker(); }
};

TEST_F(Open, MalformedUrisAreRefusedWithALogLine) {
  const std::string pw = broker_->password_file("hub").string();
  const std::string port = std::to_string(broker_->port());
  const std::vector<std::string> bad = {
      "",
      "sim://camera/porch",
      "mqtt://127.0.0.1:" + port + "/porch",                                     // no password_file
      "mqtt://127.0.0.1:" + port + "?password_file=" + pw,                       // no camera id
      "mqtt://127.0.0.1:" + port + "/?password_file=" + pw,                      // empty camera id
      "mqtt://127.0.0.1:" + port + "/por/ch?password_file=" + pw,                // '/' in the id
      "mqtt://127.0.0.1:" + port + "/porch+?password_file=" + pw,                // wildcard in the id
      "mqtt://127.0.0.1:99999/porch?password_file=" + pw,                        // port out of range
      "mqtt://127.0.0.1:/porch?password_file=" + pw,                             // empty port
      "mqtt://:" + port + "/porch?password_file=" + pw,                          // no host
      "mqtt://127.0.0.1:" + port + "/porch?password_file=" + pw + "&colour=red", // unknown key
      "mqtt://127.0.0.1:" + port + "/porch?password_file=" + pw + "&password_file=" + pw,
      "mqtt://127.0.0.1:" + port + "/porch?password_file=" + pw + "&period_ms=0",
      "mqtt://127.0.0.1:" + port + "/porch?password_file=" + pw + "&period_ms=abc",
      "mqtt://127.0.0.1:" + port + "/porch?password_file=" + pw + "&key=00",
      "mqtt://127.0.0.1:" + port + "/porch?password_file=" + pw + "&hello_timeout_ms=99999",
      "mqtt://127.0.0.1:" + port + "/porch?password_file=" + pw + "&tls_ca_file=/etc/ssl/x.pem",  // TLS needs mqtts
      "mqtt://127.0.0.1:" + port + "/porch?password_file=" + pw + "&user=a b",
      "mqtt://127.0.0.1:" + port + "/porch?password_file=",
      "mqtt://127.0.0.1:" + port + "/porch?password_file=/nonexistent/hub.password",
  };
  for (const std::string& u : bad) {
    const std::size_t lines = recorder_.logs().size();
    EXPECT_EQ(open(u), LK_ERR_INVALID_ARGUMENT) << u;
    EXPECT_GT(recorder_.logs().size(), lines) << "no log line for " << u;
  }
  EXPECT_TRUE(recorder_.logged("device URI")) << logs();
  EXPECT_TRUE(recorder_.logged("password_file /nonexistent/hub.password: cannot open")) << logs();
}

TEST_F(Open, AWrongPasswordFailsOpenAndSaysWhy) {
  const auto wrong = broker_->dir() / "wrong.password";
  std::ofstream(wrong) << "not-the-password\n";
  const std::string u = "mqtt://127.0.0.1:" + std::to_string(broker_->port()) + "/porch?password_file=" + wrong.string();
  EXPECT_EQ(open(u), LK_ERR_IO);
  EXPECT_TRUE(recorder_.logged("refused user 'hub'")) << logs();
}

TEST_F(Open, WithoutAHelloOpenTimesOutUnlessTheUriPinsAKey) {
  EXPECT_EQ(open(uri("garden", "&hello_timeout_ms=300")), LK_ERR_TIMEOUT);
  EXPECT_TRUE(recorder_.logged("no hello from camera garden")) << logs();

  const Key pinned = other_key(4);
  ASSERT_EQ(open(uri("garden", "&hello_timeout_ms=300&key=" + hex(pinned))), LK_OK) << logs();
  lk_camera_description d = describe();
  EXPECT_EQ(std::memcmp(d.public_key, pinned.data(), pinned.size()), 0);
  EXPECT_STREQ(d.camera_id, "garden");

  // An agent with another key is refused; the pinned one stays.
  TestCamera garden(*broker_, "garden", 5);
  garden.start(kPeriodMs);
  EXPECT_TRUE(wait_logged("another public key")) << logs();
  d = describe();
  EXPECT_EQ(std::memcmp(d.public_key, pinned.data(), pinned.size()), 0);
}

TEST_F(Open, ABrokerDownAtOpenIsOfflineWithAPinnedKeyAndRecovers) {
  broker_->stop();  // its folder, users and port stay for start()
  const Key porch_key = other_key(1);  // the porch agent's key (seed byte 1)
  ASSERT_EQ(open(uri("porch", "&hello_timeout_ms=0&key=" + hex(porch_key))), LK_OK) << logs();
  EXPECT_GE(wait_status(LK_CAMERA_STATUS_OFFLINE, 0), 0) << "the broker is down";
  EXPECT_TRUE(recorder_.logged("not reachable")) << logs();
  broker_->start();
  porch_ = std::make_unique<TestCamera>(*broker_, "porch", 1);
  porch_->start(kPeriodMs);
  EXPECT_TRUE(wait_logged("connected to the broker again", Millis(5000))) << logs();
  const std::size_t from = recorder_.event_count();
  for (int i = 0; i < 3; ++i) porch_->publish_attestation(porch_->attest());
  EXPECT_TRUE(wait_attestations(3, from)) << logs();
  EXPECT_GE(wait_status(LK_CAMERA_STATUS_ONLINE, from), 0);
}

TEST_F(Open, CloseStopsEveryEventAndThePluginUnloads) {
  porch_ = std::make_unique<TestCamera>(*broker_, "porch", 1);
  porch_->start(kPeriodMs);
  plugin_ = load();
  std::weak_ptr<host::Plugin> weak = plugin_;
  {
    EventRecorder events;
    for (int round = 0; round < 5; ++round) {
      std::unique_ptr<host::CameraHandle> cam;
      ASSERT_EQ(host::CameraHandle::open(plugin_, uri(), events.handler(), &cam), LK_OK) << logs();
      porch_->publish_attestation(porch_->attest());
      if (round % 2 == 0) std::this_thread::sleep_for(Millis(50));
      cam->close();
      EXPECT_EQ(cam->violations().events_after_close, 0u);
    }
    plugin_.reset();
  }  // the lent attestations held the library too
  EXPECT_TRUE(weak.expired()) << "the library is still held";
  ASSERT_EQ(open(uri()), LK_OK) << logs();  // loads again and works after the unload
  EXPECT_STREQ(describe().camera_id, "porch");
}

// `lkctl enrol` as it is (hal_reference/cli/src/camera_enrolment.cpp, compiled
// into this test): it shows the key the agent announced, for a person to compare.
TEST_F(Open, LkctlEnrolShowsTheAnnouncedKey) {
  porch_ = std::make_unique<TestCamera>(*broker_, "porch", 1);
  porch_->start(kPeriodMs);
  const client::CameraEnrolment e = client::enrol_camera(LATCHKEY_NET_CAMERA_PATH, uri());
  EXPECT_EQ(e.camera_id, "porch");
  EXPECT_EQ(std::memcmp(e.public_key.data(), porch_->public_key().data(), 32), 0);
  EXPECT_EQ(e.attestation_period_ms, kPeriodMs);
  EXPECT_NE(e.driver.find("org.latchkey.net-camera"), std::string::npos) << e.driver;
  try {
    client::enrol_camera(LATCHKEY_NET_CAMERA_PATH, uri("garden", "&hello_timeout_ms=200"));
    ADD_FAILURE() << "enrolled a camera that never said hello";
  } catch (const client::EnrolmentError& error) {
    EXPECT_NE(std::string(error.what()).find("LK_ERR_TIMEOUT"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace latchkey::testing
