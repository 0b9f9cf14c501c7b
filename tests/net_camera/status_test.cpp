// Camera status for people (docs/camera-link.md): OFFLINE on the agent's
// last will, on silence longer than three periods and when the broker goes;
// ONLINE only when attestations arrive again.
#include "net_camera_fixture.hpp"

namespace latchkey::testing {
namespace {

class Status : public NetCameraTest {
 protected:
  void SetUp() override {
    start_broker();
    start_porch();
  }

  // Publishes n attestations one period apart and waits for them.
  void attest(int n) {
    const std::size_t from = recorder_.event_count();
    for (int i = 0; i < n; ++i) {
      porch_->publish_attestation(porch_->attest());
      std::this_thread::sleep_for(Millis(kPeriodMs / 2));
    }
    ASSERT_TRUE(wait_attestations(static_cast<std::size_t>(n), from)) << logs();
  }
};

TEST_F(Status, OfflineOnTheLastWillThenOnlineWhenAttestationsResume) {
  attest(2);
  ASSERT_GE(wait_status(LK_CAMERA_STATUS_ONLINE, 0), 0);
  const std::size_t before = recorder_.event_count();
  porch_->client().drop_connection();  // no DISCONNECT: the broker publishes the will
  const long offline = wait_status(LK_CAMERA_STATUS_OFFLINE, before, Millis(2000));
  ASSERT_GE(offline, 0) << logs();
  EXPECT_TRUE(recorder_.logged("last will")) << logs();

  porch_ = std::make_unique<TestCamera>(*broker_, "porch", 1);  // the agent restarts
  porch_->start(kPeriodMs);
  const std::size_t after = recorder_.event_count();
  attest(2);
  EXPECT_GE(wait_status(LK_CAMERA_STATUS_ONLINE, after), 0) << logs();
}

TEST_F(Status, OfflineOnSilenceLongerThanThreePeriodsThenOnlineAgain) {
  attest(2);
  ASSERT_GE(wait_status(LK_CAMERA_STATUS_ONLINE, 0), 0);
  const std::size_t before = recorder_.event_count();
  // Silence starts at the last attestation's arrival, which is after this.
  const auto sent_last = std::chrono::steady_clock::now();
  porch_->publish_attestation(porch_->attest());
  const long offline = wait_status(LK_CAMERA_STATUS_OFFLINE, before, Millis(3000));
  const auto took = std::chrono::steady_clock::now() - sent_last;
  ASSERT_GE(offline, 0) << logs();
  EXPECT_FALSE(attestations(before).empty()) << "the last attestation was relayed before the silence";
  EXPECT_GE(took, Millis(3 * kPeriodMs)) << "not before three periods of silence";
  EXPECT_TRUE(recorder_.logged("no attestation for")) << logs();
  const std::size_t after = recorder_.event_count();
  attest(1);
  EXPECT_GE(wait_status(LK_CAMERA_STATUS_ONLINE, after), 0) << logs();
}

TEST_F(Status, AnOnlineStateMessageAloneIsNotOnline) {
  const std::size_t before = recorder_.event_count();
  ASSERT_EQ(porch_->client().publish(porch_->topic("state"), Bytes{'o', 'n', 'l', 'i', 'n', 'e'}, 1, true), 0);
  EXPECT_LT(wait_status(LK_CAMERA_STATUS_ONLINE, before, Millis(500)), 0) << "only attestations make ONLINE";
}

TEST_F(Status, OfflineWhenTheBrokerDiesThenOnlineWhenItReturns) {
  attest(2);
  ASSERT_GE(wait_status(LK_CAMERA_STATUS_ONLINE, 0), 0);
  const std::size_t before = recorder_.event_count();
  broker_->kill();
  ASSERT_GE(wait_status(LK_CAMERA_STATUS_OFFLINE, before, Millis(2000)), 0) << logs();
  EXPECT_TRUE(recorder_.logged("not reachable")) << logs();

  broker_->start();  // no persistence: the retained hello is gone until the agent says it again
  porch_ = std::make_unique<TestCamera>(*broker_, "porch", 1);
  porch_->start(kPeriodMs);
  ASSERT_TRUE(wait_logged("connected to the broker again", Millis(5000))) << logs();
  const std::size_t after = recorder_.event_count();
  attest(2);
  EXPECT_GE(wait_status(LK_CAMERA_STATUS_ONLINE, after), 0) << logs();
  EXPECT_EQ(std::memcmp(describe().public_key, porch_->public_key().data(), 32), 0);
}

}  // namespace
}  // namespace latchkey::testing
