// The broker's side of the contract (tools/broker/latchkey.acl, shipped and
// used here as is): no anonymous clients, a camera publishes only its own
// hello, state and attestations and reads only its own nonces and commands,
// and oversized messages go nowhere. Each "nothing arrived" is checked after
// a later message that did arrive, so it is not just "not yet".
#include "net_camera_fixture.hpp"

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

TEST_F(Acl, AnOversizedAttestationIsDroppedByTheBrokerAndItsSenderDisconnected) {
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
  garden.publish("latchkey/camera/garden/attestation", Bytes(2000, 0xAB), 0);
  EXPECT_TRUE(monitor_->wait_received("latchkey/camera/garden/state", 1)) << "no will: still connected?";
  // The porch's attestations, up to the largest allowed, pass.
  const Bytes fine = porch_->attest();
  porch_->publish_attestation(fine);
  ASSERT_TRUE(wait_attestations(1)) << logs();
  EXPECT_EQ(attestations(), std::vector<Bytes>{fine});
  ASSERT_TRUE(monitor_->wait_received(porch_->topic("attestation"), 1));
  EXPECT_TRUE(monitor_->received("latchkey/camera/garden/attestation").empty()) << "the broker forwarded 2000 bytes";
  const Bytes largest(1024, 0xCD);
  porch_->publish_attestation(largest);
  ASSERT_TRUE(wait_attestations(2)) << logs();
  EXPECT_EQ(attestations().back(), largest);
}

// With a broker that lets big messages through, the plugin still drops them.
class PermissiveBroker : public NetCameraTest {
 protected:
  void SetUp() override {
    BrokerOptions o = default_broker();
    o.max_packet_size = 0;
    start_broker(o);
    start_porch();
  }
};

TEST_F(PermissiveBroker, AnOversizedAttestationIsDroppedAndLoggedByThePlugin) {
  porch_->client().publish(porch_->topic("attestation"), Bytes(1025, 0xAB), 1);
  const Bytes largest(1024, 0xCD);
  porch_->client().publish(porch_->topic("attestation"), largest, 1);
  ASSERT_TRUE(wait_attestations(1)) << logs();
  EXPECT_EQ(attestations(), std::vector<Bytes>{largest});
  EXPECT_TRUE(recorder_.logged("attestation of 1025 bytes dropped")) << logs();
}

}  // namespace
}  // namespace latchkey::testing
