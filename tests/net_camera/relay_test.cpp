// The net camera relays: attestations byte-identical to the host, nonces and
// recording commands to the camera's topics, the hello's key to describe.
#include "net_camera_fixture.hpp"

#include <latchkey/camera_link.pb.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>

namespace latchkey::testing {
namespace {

Key key_of(const lk_camera_description& d) {
  Key k{};
  std::memcpy(k.data(), d.public_key, k.size());
  return k;
}

class Relay : public NetCameraTest {
 protected:
  void SetUp() override {
    start_broker();
    start_porch();
  }
};

TEST_F(Relay, Describe_GivesHelloIdKeyPeriodAndNoSnapshot) {
  const lk_camera_description d = describe();
  EXPECT_STREQ(d.camera_id, "porch");
  EXPECT_EQ(key_of(d), porch_->public_key());
  EXPECT_EQ(d.attestation_period_ms, kPeriodMs);
  EXPECT_EQ(d.flags, LK_CAMERA_CAP_RECORDING) << "no snapshots over the link";
  EXPECT_EQ(d.max_snapshot_bytes, 0u);
  EXPECT_FALSE(camera_->supports_snapshot());
  EXPECT_EQ(plugin_->camera_interface()->snapshot, nullptr);
  EXPECT_EQ(plugin_->identity().driver_id, "org.latchkey.net-camera");
}

TEST_F(Relay, C1_AttestationsReachTheHostByteIdentical) {
  std::vector<Bytes> sent;
  for (int i = 0; i < 5; ++i) {
    sent.push_back(porch_->attest());
    porch_->publish_attestation(sent.back());
  }
  ASSERT_TRUE(wait_attestations(sent.size())) << attestations().size() << " arrived\n" << logs() << broker_->log();
  EXPECT_EQ(attestations(), sent);
  EXPECT_GE(wait_status(LK_CAMERA_STATUS_ONLINE, 0), 0) << "attestations mean ONLINE";
}

TEST_F(Relay, C2_NoncesReachTheCameraRawAndAreEchoed) {
  Bytes nonce(16);
  std::iota(nonce.begin(), nonce.end(), uint8_t{0xA0});
  Bytes longest(LK_NONCE_MAX, 0x5A);
  ASSERT_EQ(camera_->deliver_nonce(nonce.data(), nonce.size()), LK_OK);
  ASSERT_EQ(camera_->deliver_nonce(longest.data(), longest.size()), LK_OK);
  ASSERT_TRUE(porch_->client().wait_received(porch_->topic("nonce"), 2)) << logs();
  const auto got = porch_->client().received(porch_->topic("nonce"));
  EXPECT_EQ(got[0].payload, nonce);
  EXPECT_EQ(got[1].payload, longest);
  EXPECT_FALSE(got[0].retained);
  EXPECT_EQ(camera_->deliver_nonce(nonce.data(), 8), LK_ERR_INVALID_ARGUMENT);
}

TEST_F(Relay, U2_RecordingCommandsReachTheCameraWithIncreasingIds) {
  uint8_t session[LK_SESSION_ID_SIZE];
  for (std::size_t i = 0; i < sizeof session; ++i) session[i] = static_cast<uint8_t>(0x40 + i);
  EXPECT_EQ(camera_->stop_recording(), LK_ERR_STATE) << "not recording yet";
  ASSERT_EQ(camera_->start_recording(session), LK_OK);
  ASSERT_EQ(camera_->stop_recording(), LK_OK);
  ASSERT_EQ(camera_->start_recording(session), LK_OK);
  ASSERT_TRUE(porch_->client().wait_received(porch_->topic("command"), 3)) << logs();
  const auto got = porch_->client().received(porch_->topic("command"));
  std::vector<v1::CameraCommand> commands(got.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(commands[i].ParseFromArray(got[i].payload.data(), static_cast<int>(got[i].payload.size())));
    EXPECT_LE(got[i].payload.size(), 64u);
  }
  ASSERT_TRUE(commands[0].has_start_recording());
  EXPECT_EQ(commands[0].start_recording().session_id(), std::string(reinterpret_cast<char*>(session), sizeof session));
  EXPECT_TRUE(commands[1].has_stop_recording());
  EXPECT_TRUE(commands[2].has_start_recording());
  EXPECT_LT(commands[0].command_id(), commands[1].command_id());
  EXPECT_LT(commands[1].command_id(), commands[2].command_id());
}

TEST_F(Relay, MalformedBytesAreRelayedUnchangedAndThePluginCarriesOn) {
  std::mt19937 random(7);
  std::vector<Bytes> sent;
  for (std::size_t size : {1u, 3u, 100u, 1024u}) {
    Bytes garbage(size);
    for (uint8_t& b : garbage) b = static_cast<uint8_t>(random());
    sent.push_back(garbage);
    porch_->publish_attestation(garbage);
  }
  sent.push_back(porch_->attest());
  porch_->publish_attestation(sent.back());
  ASSERT_TRUE(wait_attestations(sent.size())) << logs();
  EXPECT_EQ(attestations(), sent) << "the hub, not the plugin, judges attestations";
  EXPECT_EQ(describe().camera_id, std::string("porch"));
}

TEST_F(Relay, AHelloWithAnotherKeyIsRefusedAndNotAdopted) {
  porch_->publish_hello(other_key(9), kPeriodMs);
  EXPECT_TRUE(wait_logged("hello with another public key " + hex(other_key(9)) + " refused")) << logs();
  EXPECT_EQ(key_of(describe()), porch_->public_key()) << "the first key stays pinned";
  // The camera's own key again is fine.
  porch_->publish_hello(porch_->public_key(), kPeriodMs);
  EXPECT_EQ(key_of(describe()), porch_->public_key());
}

TEST_F(Relay, AHelloForAnotherCameraIdIsRefused) {
  v1::CameraHello hello;
  hello.set_camera_id("garden");
  const Key key = other_key(3);
  hello.set_public_key(key.data(), key.size());
  const std::string bytes = hello.SerializeAsString();
  ASSERT_EQ(porch_->client().publish(porch_->topic("hello"), Bytes(bytes.begin(), bytes.end()), 1, true), 0);
  EXPECT_TRUE(wait_logged("naming camera 'garden' refused")) << logs();
  EXPECT_EQ(key_of(describe()), porch_->public_key());
}

}  // namespace
}  // namespace latchkey::testing
