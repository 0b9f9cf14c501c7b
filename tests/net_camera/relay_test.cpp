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

TEST_F(Relay, Describe_GivesHelloIdKeyPeriodAndTheReferenceViewAsSnapshot) {
  const lk_camera_description d = describe();
  EXPECT_STREQ(d.camera_id, "porch");
  EXPECT_EQ(key_of(d), porch_->public_key());
  EXPECT_EQ(d.attestation_period_ms, kPeriodMs);
  EXPECT_EQ(d.flags, LK_CAMERA_CAP_RECORDING | LK_CAMERA_CAP_SNAPSHOT);
  EXPECT_EQ(d.max_snapshot_bytes, 15u + 320u * 180u * 3u);
  EXPECT_TRUE(camera_->supports_snapshot());
  EXPECT_EQ(plugin_->identity().driver_id, "org.latchkey.net-camera");
}

// C8: the reference view the agent publishes (retained, the PGM of its
// --reference-file) is the camera's snapshot, each cell 10 x 10 pixels.
TEST_F(Relay, C8_TheReferenceViewIsTheSnapshot) {
  std::vector<uint8_t> frame;
  lk_snapshot_info info{};
  info.struct_size = sizeof info;
  EXPECT_EQ(camera_->snapshot(&frame, &info), LK_ERR_NOT_FOUND) << "none published yet";
  std::string cells(576, '\0');
  for (std::size_t i = 0; i < cells.size(); ++i) cells[i] = static_cast<char>(i % 251);
  const std::string pgm = "P5\n# latchkey-reference-v1 blake2b-256 " + std::string(64, 'a') + "\n32 18\n255\n" + cells;
  ASSERT_EQ(pgm.size(), 690u);
  porch_->client().publish(porch_->topic("reference"), Bytes(pgm.begin(), pgm.end()), 1, true);
  ASSERT_TRUE(wait_logged("reference view (C8) arrived")) << logs();
  ASSERT_EQ(camera_->snapshot(&frame, &info), LK_OK);
  EXPECT_EQ(info.format, LK_SNAPSHOT_FORMAT_PPM);
  EXPECT_EQ(info.width, 320u);
  EXPECT_EQ(info.height, 180u);
  const std::string header = "P6\n320 180\n255\n";
  ASSERT_EQ(frame.size(), header.size() + 320u * 180u * 3u);
  EXPECT_TRUE(std::equal(header.begin(), header.end(), frame.begin()));
  auto pixel = [&](uint32_t x, uint32_t y) { return frame[header.size() + (y * 320 + x) * 3]; };
  EXPECT_EQ(pixel(0, 0), static_cast<uint8_t>(cells[0]));
  EXPECT_EQ(pixel(319, 179), static_cast<uint8_t>(cells[575]));
  EXPECT_EQ(pixel(15, 25), static_cast<uint8_t>(cells[2 * 32 + 1]));

  // A malformed one is refused and reported; the one held stays.
  const std::size_t mark = recorder_.events().size();
  porch_->client().publish(porch_->topic("reference"), Bytes(pgm.begin(), pgm.begin() + 600), 1, true);
  const auto refused = wait_refusal(LK_CAMERA_REFUSED_MALFORMED, mark);
  ASSERT_TRUE(refused) << logs();
  EXPECT_EQ(refused->text, "a reference view of 600 bytes (a reference file is 690) refused");
  std::vector<uint8_t> again;
  ASSERT_EQ(camera_->snapshot(&again, &info), LK_OK);
  EXPECT_EQ(again, frame);
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
