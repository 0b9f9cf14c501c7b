// A camera agent for tests, as docs/camera-link.md describes one: connects
// as its own broker user with the last will "offline", publishes its
// retained hello and "online", listens for nonces and commands, and signs
// attestations with the camera-side library (latchkey_attest, lk_attest.h),
// echoing the newest nonce it received.
#ifndef LATCHKEY_TESTS_NET_CAMERA_TEST_CAMERA_HPP
#define LATCHKEY_TESTS_NET_CAMERA_TEST_CAMERA_HPP

#include "mqtt_test_client.hpp"
#include "mosquitto_broker.hpp"

#include <latchkey/lk_attest.h>

#include <array>
#include <memory>
#include <string>

namespace latchkey::testing {

using Key = std::array<uint8_t, 32>;

class TestCamera {
 public:
  // seed_byte fills the Ed25519 seed, so keys are reproducible per test.
  TestCamera(const MosquittoBroker& broker, std::string id, uint8_t seed_byte = 1, bool tls = false);
  ~TestCamera();

  // Connects (asserting the broker accepts), subscribes to its nonce and
  // command topics and publishes its hello (announcing period_ms) and "online".
  void start(uint32_t period_ms = 100);
  // Signs one attestation echoing the newest nonce received (none before the first).
  Bytes attest();
  // Publishes bytes on its attestation topic at QoS 0, as the contract says.
  void publish_attestation(const Bytes& bytes);
  // Publishes a retained hello carrying key.
  void publish_hello(const Key& key, uint32_t period_ms);

  std::string topic(const char* leaf) const { return "latchkey/camera/" + id_ + "/" + leaf; }
  const std::string& id() const noexcept { return id_; }
  const Key& public_key() const noexcept { return public_key_; }
  MqttTestClient& client() { return *client_; }

 private:
  std::string id_;
  Key public_key_{};
  lk_attest_context* context_ = nullptr;
  std::unique_ptr<MqttTestClient> client_;
};

// An Ed25519 public key that is not the camera's.
Key other_key(uint8_t seed_byte);

}  // namespace latchkey::testing

#endif  // LATCHKEY_TESTS_NET_CAMERA_TEST_CAMERA_HPP
