// The broker's side of the contract (tools/broker/latchkey.acl, shipped and
// used here as is, with the guard plugin): no anonymous clients, a camera
// publishes only its own hello, state and attestations and reads only its own
// nonces and commands, oversized messages go nowhere, and each refusal is
// reported to the hub. Each "nothing arrived" is checked after
// a later message that did arrive, so it is not just "not yet".
#include "net_camera_fixture.hpp"

#include <latchkey/camera_link.pb.h>

#include <algorithm>
#include <tuple>

namespace latchkey::testing {
namespace {

constexpr int kNotAuthorized = 0x87;  // MQTT v5 reason code

class Acl : public NetCameraTest {
 protected:
  void SetUp() override {
    start_broker();
    start_porch();
    monitor_ = client_as("hub");
    ASSERT_EQ(monitor_->connect(), 0);
    ASSERT_LT(monitor_->subscribe("latchkey/camera/+/attestation", 0), 0x80);
  }

  std::unique_ptr<MqttTestClient> client_as(const std::string& user) {
    ClientOptions o;
    o.port = broker_->port();
    o.user = user;
    o.password = broker_->password(user);
    return std::make_unique<MqttTestClient>(o);
  }

  std::unique_ptr<MqttTestClient> monitor_;  // the hub's user, reading every camera's attestations
};

TEST_F(Acl, AnonymousAndWrongPasswordsAreRefused) {
  ClientOptions anonymous;
  anonymous.port = broker_->port();
  MqttTestClient a(anonymous);
  const int code = a.connect();
  EXPECT_NE(code, 0);
  EXPECT_NE(code, -1) << "the broker answers with a refusal";

  ClientOptions wrong = anonymous;
  wrong.user = "porch";
  wrong.password = "guess";
  MqttTestClient w(wrong);
  EXPECT_NE(w.connect(), 0);
}

TEST_F(Acl, ACameraCannotPublishOnAnotherCamerasAttestationTopic) {
  TestCamera garden(*broker_, "garden", 2);
  garden.start(kPeriodMs);
  const Bytes forged = garden.attest();
  EXPECT_EQ(garden.client().publish(porch_->topic("attestation"), forged, 1), kNotAuthorized);
  const Bytes own = garden.attest();
  EXPECT_EQ(garden.client().publish(garden.topic("attestation"), own, 1), 0);
  ASSERT_TRUE(monitor_->wait_received(garden.topic("attestation"), 1));
  EXPECT_TRUE(monitor_->received(porch_->topic("attestation")).empty()) << "the broker forwarded a forged attestation";
  // The porch plugin, which saw no attestation at all, still relays the porch's own.
  porch_->publish_attestation(porch_->attest());
  ASSERT_TRUE(wait_attestations(1));
  EXPECT_EQ(attestations().size(), 1u);
}

TEST_F(Acl, ACameraCannotSendNoncesOrCommandsNorReadAnotherCamerasNonces) {
  const Bytes fake(16, 0xEE);
  EXPECT_EQ(porch_->client().publish(porch_->topic("nonce"), fake, 1), kNotAuthorized);
  EXPECT_EQ(porch_->client().publish(porch_->topic("command"), fake, 1), kNotAuthorized);
  TestCamera garden(*broker_, "garden", 2);
  garden.start(kPeriodMs);
  EXPECT_EQ(garden.client().publish(porch_->topic("nonce"), fake, 1), kNotAuthorized);
  // Mosquitto 2.0 grants the subscription and checks "read" on every delivery.
  garden.client().subscribe(porch_->topic("nonce"), 0);
  auto intruder = client_as("intruder");
  ASSERT_EQ(intruder->connect(), 0);
  intruder->subscribe("latchkey/camera/+/nonce", 0);
  // The hub's own nonce arrives, and only it.
  const Bytes real(16, 0x11);
  ASSERT_EQ(camera_->deliver_nonce(real.data(), real.size()), LK_OK);
  ASSERT_TRUE(porch_->client().wait_received(porch_->topic("nonce"), 1));
  const auto nonces = porch_->client().received(porch_->topic("nonce"));
  ASSERT_EQ(nonces.size(), 1u);
  EXPECT_EQ(nonces[0].payload, real);
  EXPECT_TRUE(porch_->client().received(porch_->topic("command")).empty());
  EXPECT_TRUE(garden.client().received(porch_->topic("nonce")).empty()) << "garden read porch's nonce";
  EXPECT_TRUE(intruder->received(porch_->topic("nonce")).empty()) << "a user the ACL does not name read a nonce";
}

TEST_F(Acl, AUserTheAclDoesNotNameCanPublishOnNoCamerasTopic) {
  auto intruder = client_as("intruder");
  ASSERT_EQ(intruder->connect(), 0);
  EXPECT_EQ(intruder->publish(porch_->topic("attestation"), Bytes(10, 1), 1), kNotAuthorized);
  EXPECT_EQ(intruder->publish(porch_->topic("hello"), Bytes(10, 1), 1), kNotAuthorized);
  EXPECT_EQ(intruder->publish(porch_->topic("state"), Bytes(7, 'x'), 1), kNotAuthorized);
  porch_->publish_attestation(porch_->attest());  // the barrier: this one arrives
  ASSERT_TRUE(wait_attestations(1));
  EXPECT_EQ(attestations().size(), 1u);
  ASSERT_TRUE(monitor_->wait_received(porch_->topic("attestation"), 1));
  EXPECT_EQ(monitor_->received(porch_->topic("attestation")).size(), 1u);
}

// Refused, and told: the broker's guard (hal_reference/broker_guard) reports
// each refusal to the hub's plugin, which hands it to the hub to audit.
TEST_F(Acl, C1_AForeignPublishIsRefusedByTheBrokerAndReportedToTheHub) {
  TestCamera garden(*broker_, "garden", 2);
  garden.start(kPeriodMs);
  EXPECT_EQ(garden.client().publish(porch_->topic("attestation"), garden.attest(), 1), kNotAuthorized);
  const auto refused = wait_refusal(LK_CAMERA_REFUSED_FOREIGN);
  ASSERT_TRUE(refused) << logs();
  EXPECT_NE(refused->text.find("the broker refused: user 'garden' published"), std::string::npos) << refused->text;
  EXPECT_NE(refused->text.find("on latchkey/camera/porch/attestation"), std::string::npos) << refused->text;
  // A camera posing as the hub (a nonce for itself) is foreign too.
  const std::size_t mark = recorder_.events().size();
  EXPECT_EQ(porch_->client().publish(porch_->topic("nonce"), Bytes(16, 0xEE), 1), kNotAuthorized);
  const auto posing = wait_refusal(LK_CAMERA_REFUSED_FOREIGN, mark, Millis(3000));
  ASSERT_TRUE(posing) << logs();
  EXPECT_NE(posing->text.find("user 'porch' published 16 bytes on latchkey/camera/porch/nonce"), std::string::npos)
      << posing->text;
}

TEST_F(Acl, AnOversizedAttestationIsRefusedByTheBrokerAndReportedAndTheCameraStaysConnected) {
  EXPECT_EQ(porch_->client().publish(porch_->topic("attestation"), Bytes(2000, 0xAB), 1), kNotAuthorized);
  const auto refused = wait_refusal(LK_CAMERA_REFUSED_OVERSIZED);
  ASSERT_TRUE(refused) << logs();
  EXPECT_NE(refused->text.find("2000 bytes on latchkey/camera/porch/attestation (at most 1024)"), std::string::npos)
      << refused->text;
  // The largest allowed passes, on the same connection.
  const Bytes largest(1024, 0xCD);
  porch_->publish_attestation(largest);
  ASSERT_TRUE(wait_attestations(1)) << logs();
  EXPECT_EQ(attestations(), std::vector<Bytes>{largest});
  ASSERT_TRUE(monitor_->wait_received(porch_->topic("attestation"), 1));
  EXPECT_EQ(monitor_->received(porch_->topic("attestation")).size(), 1u) << "the broker forwarded 2000 bytes";
}

TEST_F(Acl, APacketOverTheBrokersLimitDisconnectsItsSender) {
  // An MQTT 3.1.1 client, to whom the broker announces no limit: it sends
  // the packet, and the broker drops it and disconnects it.
  ClientOptions o;
  o.port = broker_->port();
  o.user = "garden";
  o.password = broker_->password("garden");
  o.protocol = MQTT_PROTOCOL_V311;
  o.will = Received{"latchkey/camera/garden/state", Bytes{'o', 'f', 'f', 'l', 'i', 'n', 'e'}, true};
  MqttTestClient garden(o);
  ASSERT_EQ(garden.connect(), 0);
  ASSERT_LT(monitor_->subscribe("latchkey/camera/garden/state", 1), 0x80);
  garden.publish("latchkey/camera/garden/attestation", Bytes(10000, 0xAB), 0);
  EXPECT_TRUE(monitor_->wait_received("latchkey/camera/garden/state", 1)) << "no will: still connected?";
  porch_->publish_attestation(porch_->attest());
  ASSERT_TRUE(monitor_->wait_received(porch_->topic("attestation"), 1));
  EXPECT_TRUE(monitor_->received("latchkey/camera/garden/attestation").empty()) << "the broker forwarded 10000 bytes";
}

TEST_F(Acl, AFloodOfRefusalsCostsOneReportASecondAndEveryOneIsCounted) {
  TestCamera garden(*broker_, "garden", 2);
  garden.start(kPeriodMs);
  constexpr int kFlood = 200;
  const Bytes forged = garden.attest();
  for (int i = 0; i < kFlood; ++i) garden.client().publish(porch_->topic("attestation"), forged, 0);
  // The counts of the reports add up to the flood, within a few seconds.
  uint64_t counted = 0;
  std::size_t reports = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  while (counted < kFlood && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(50));
    std::tie(counted, reports) = counted_refusals();
  }
  for (const RefusalEvent& r : refusals()) EXPECT_EQ(r.kind, LK_CAMERA_REFUSED_FOREIGN);
  EXPECT_EQ(counted, static_cast<uint64_t>(kFlood)) << logs();
  EXPECT_LE(reports, 8u) << "at most about one report a second";
  EXPECT_GE(reports, 1u);
}

// Inventing camera ids does not lift the pacing of a real camera's reports:
// a busy pacing slot is never taken over (300 invented topics between each
// refused publish on the porch's).
TEST_F(Acl, InventedCameraIdsDoNotLiftThePacingOfARealCamerasReports) {
  TestCamera garden(*broker_, "garden", 2);
  garden.start(kPeriodMs);
  const Bytes forged = garden.attest();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 300; ++i)
      garden.client().publish("latchkey/camera/invented-" + std::to_string(round) + "-" + std::to_string(i) +
                                  "/attestation",
                              forged, 0);
    garden.client().publish(porch_->topic("attestation"), forged, 0);
  }
  // Every refusal on the porch's topic is counted, in fewer reports than refusals.
  uint64_t counted = 0;
  std::size_t reports = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (counted < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(50));
    std::tie(counted, reports) = counted_refusals();
  }
  EXPECT_EQ(counted, 3u) << logs();
  EXPECT_LT(reports, 3u) << "each refusal on the porch's topic was reported at once: its pacing was reset";
}

// With a broker that lets anything through (no guard, no limit), the plugin
// still refuses, and reports, what it can tell is wrong.
class PermissiveBroker : public NetCameraTest {
 protected:
  void SetUp() override {
    BrokerOptions o = default_broker();
    o.max_packet_size = 0;
    o.guard = false;
    start_broker(o);
    start_porch();
  }
};

TEST_F(PermissiveBroker, AnOversizedAttestationIsRefusedAndReportedByThePlugin) {
  porch_->client().publish(porch_->topic("attestation"), Bytes(1025, 0xAB), 1);
  const Bytes largest(1024, 0xCD);
  porch_->client().publish(porch_->topic("attestation"), largest, 1);
  ASSERT_TRUE(wait_attestations(1)) << logs();
  EXPECT_EQ(attestations(), std::vector<Bytes>{largest});
  EXPECT_TRUE(recorder_.logged("attestation of 1025 bytes dropped")) << logs();
  const auto refused = wait_refusal(LK_CAMERA_REFUSED_OVERSIZED);
  ASSERT_TRUE(refused) << logs();
  EXPECT_EQ(refused->text, "attestation of 1025 bytes dropped (1 to 1024 allowed)");
}

TEST_F(PermissiveBroker, AMalformedHelloOrStateIsRefusedAndReported) {
  porch_->client().publish(porch_->topic("hello"), Bytes{0xFF, 0xFF, 0xFF}, 1, true);
  const auto hello = wait_refusal(LK_CAMERA_REFUSED_MALFORMED);
  ASSERT_TRUE(hello) << logs();
  EXPECT_EQ(hello->text, "malformed hello refused");
  std::this_thread::sleep_for(Millis(1100));  // past the pacing interval of the kind
  const std::size_t mark = recorder_.events().size();
  porch_->client().publish(porch_->topic("state"), Bytes{'m', 'a', 'y', 'b', 'e'}, 1);
  const auto state = wait_refusal(LK_CAMERA_REFUSED_MALFORMED, mark);
  ASSERT_TRUE(state) << logs();
  EXPECT_EQ(state->text, "state message of 5 bytes refused (only 'online' or 'offline')");
  // Neither changes what counts: the porch's attestations still pass.
  porch_->publish_attestation(porch_->attest());
  EXPECT_TRUE(wait_attestations(1)) << logs();
}

TEST_F(PermissiveBroker, C1_AHelloNamingAnotherCameraOrKeyIsRefusedAsForeign) {
  // Where no ACL stops it, porch's credentials announce another camera...
  v1::CameraHello hello;
  hello.set_camera_id("garden");
  hello.set_public_key(std::string(32, '\x01'));
  std::string bytes = hello.SerializeAsString();
  porch_->client().publish(porch_->topic("hello"), Bytes(bytes.begin(), bytes.end()), 1);
  const auto other_camera = wait_refusal(LK_CAMERA_REFUSED_FOREIGN);
  ASSERT_TRUE(other_camera) << logs();
  EXPECT_EQ(other_camera->text, "hello naming camera 'garden' refused on this camera's topic");
  // ... or another key for porch: both refused, the pinned key stays.
  std::this_thread::sleep_for(Millis(1100));
  const std::size_t mark = recorder_.events().size();
  hello.set_camera_id("porch");
  bytes = hello.SerializeAsString();
  porch_->client().publish(porch_->topic("hello"), Bytes(bytes.begin(), bytes.end()), 1);
  const auto other_key = wait_refusal(LK_CAMERA_REFUSED_FOREIGN, mark);
  ASSERT_TRUE(other_key) << logs();
  EXPECT_NE(other_key->text.find("hello with another public key 0101"), std::string::npos) << other_key->text;
  const lk_camera_description d = describe();
  EXPECT_TRUE(std::equal(porch_->public_key().begin(), porch_->public_key().end(), d.public_key))
      << "the pinned key stayed";
}

}  // namespace
}  // namespace latchkey::testing
