// The plugin over the broker's TLS listener (mqtts://, the throwaway CA of
// the fixture), and a refusal when it cannot verify the broker.
#include "net_camera_fixture.hpp"

namespace latchkey::testing {
namespace {

class Tls : public NetCameraTest {
 protected:
  void SetUp() override {
    BrokerOptions o = default_broker();
    o.tls = true;
    start_broker(o);
  }
  std::string tls_uri(const std::string& extra) const {
    return "mqtts://" + broker_->uri_host() + ":" + std::to_string(broker_->tls_port()) +
           "/porch?password_file=" + broker_->password_file("hub").string() + "&period_ms=100" + extra;
  }
};

TEST_F(Tls, ThePluginRelaysOverTls) {
  TestCamera porch(*broker_, "porch", 1, /*tls=*/true);
  porch.start(kPeriodMs);
  ASSERT_EQ(open(tls_uri("&tls_ca_file=" + broker_->ca_file().string())), LK_OK) << logs() << broker_->log();
  EXPECT_EQ(std::memcmp(describe().public_key, porch.public_key().data(), 32), 0);
  const Bytes a = porch.attest();
  porch.publish_attestation(a);
  ASSERT_TRUE(wait_attestations(1)) << logs();
  EXPECT_EQ(attestations(), std::vector<Bytes>{a});
  const Bytes nonce(16, 0x42);
  ASSERT_EQ(camera_->deliver_nonce(nonce.data(), nonce.size()), LK_OK);
  ASSERT_TRUE(porch.client().wait_received(porch.topic("nonce"), 1));
  EXPECT_TRUE(broker_->log().find("New client connected") != std::string::npos);
}

TEST_F(Tls, ABrokerTheCaCannotVouchForIsNeverReached) {
  TestCamera porch(*broker_, "porch", 1, /*tls=*/true);
  porch.start(kPeriodMs);
  // Without tls_ca_file the system's CAs are used, and none signed the throwaway certificate.
  EXPECT_EQ(open(tls_uri("&hello_timeout_ms=500")), LK_ERR_TIMEOUT);
  EXPECT_TRUE(recorder_.logged("no hello from camera porch")) << logs();
  EXPECT_TRUE(recorder_.logged("not connected")) << logs();
}

}  // namespace
}  // namespace latchkey::testing

namespace latchkey::testing {
namespace {

// A broker on another address than 127.0.0.1 (as in a network namespace),
// here IPv6 loopback, with the certificate naming that address.
class OtherAddress : public NetCameraTest {};

TEST_F(OtherAddress, ThePluginReachesABrokerOnIpv6OverTls) {
  BrokerOptions o = default_broker();
  o.address = "::1";
  o.tls = true;
  try {
    start_broker(o);
  } catch (const BrokerError& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  EXPECT_EQ(broker_->uri_host(), "[::1]");
  TestCamera porch(*broker_, "porch", 1, /*tls=*/true);
  porch.start(kPeriodMs);
  const std::string u = "mqtts://[::1]:" + std::to_string(broker_->tls_port()) + "/porch?password_file=" +
                        broker_->password_file("hub").string() + "&tls_ca_file=" + broker_->ca_file().string();
  ASSERT_EQ(open(u), LK_OK) << logs() << broker_->log();
  const Bytes a = porch.attest();
  porch.publish_attestation(a);
  ASSERT_TRUE(wait_attestations(1)) << logs();
  EXPECT_EQ(attestations(), std::vector<Bytes>{a});
}

}  // namespace
}  // namespace latchkey::testing
