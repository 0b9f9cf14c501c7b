#include "test_camera.hpp"

#include <latchkey/camera_link.pb.h>

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

namespace latchkey::testing {
namespace {

lk_attest_key* key_from(uint8_t seed_byte) {
  uint8_t seed[LK_ATTEST_SEED_SIZE];
  std::fill(std::begin(seed), std::end(seed), seed_byte);
  lk_attest_key* key = nullptr;
  if (lk_attest_key_from_seed(seed, &key) != LK_ATTEST_OK) throw std::runtime_error("lk_attest_key_from_seed failed");
  return key;
}

}  // namespace

Key other_key(uint8_t seed_byte) {
  lk_attest_key* key = key_from(seed_byte);
  Key out{};
  lk_attest_key_public_key(key, out.data());
  lk_attest_key_free(key);
  return out;
}

TestCamera::TestCamera(const MosquittoBroker& broker, std::string id, uint8_t seed_byte, bool tls) : id_(std::move(id)) {
  lk_attest_key* key = key_from(seed_byte);
  lk_attest_key_public_key(key, public_key_.data());
  const lk_attest_result made = lk_attest_context_create(key, id_.c_str(), &context_);
  lk_attest_key_free(key);
  if (made != LK_ATTEST_OK) throw std::runtime_error("lk_attest_context_create failed");
  ClientOptions options;
  options.host = broker.address();
  options.port = tls ? broker.tls_port() : broker.port();
  if (tls) options.ca_file = broker.ca_file().string();
  options.user = id_;
  options.password = broker.password(id_);
  options.will = Received{topic("state"), Bytes{'o', 'f', 'f', 'l', 'i', 'n', 'e'}, true};
  client_ = std::make_unique<MqttTestClient>(options);
}

TestCamera::~TestCamera() {
  client_.reset();
  lk_attest_context_free(context_);
}

void TestCamera::start(uint32_t period_ms) {
  ASSERT_EQ(client_->connect(), 0) << "the broker refused camera " << id_;
  ASSERT_LT(client_->subscribe(topic("nonce"), 0), 0x80);
  ASSERT_LT(client_->subscribe(topic("command"), 1), 0x80);
  publish_hello(public_key_, period_ms);
  ASSERT_EQ(client_->publish(topic("state"), Bytes{'o', 'n', 'l', 'i', 'n', 'e'}, 1, true), 0);
}

void TestCamera::publish_hello(const Key& key, uint32_t period_ms) {
  v1::CameraHello hello;
  hello.set_camera_id(id_);
  hello.set_public_key(key.data(), key.size());
  uint8_t boot_id[LK_ATTEST_BOOT_ID_SIZE];
  lk_attest_boot_id(context_, boot_id);
  hello.set_boot_id(boot_id, sizeof boot_id);
  hello.set_attestation_period_ms(period_ms);
  hello.set_agent("net_camera_test");
  const std::string bytes = hello.SerializeAsString();
  ASSERT_EQ(client_->publish(topic("hello"), Bytes(bytes.begin(), bytes.end()), 1, true), 0);
}

Bytes TestCamera::attest() {
  const auto nonces = client_->received(topic("nonce"));
  if (!nonces.empty()) {
    const Bytes& n = nonces.back().payload;
    lk_attest_set_nonce(context_, n.data(), n.size());
  }
  static std::mt19937 random(42);
  uint8_t digest[LK_ATTEST_DIGEST_SIZE];
  for (uint8_t& b : digest) b = static_cast<uint8_t>(random());
  Bytes out(LK_ATTEST_SIGNED_MAX);
  std::size_t size = out.size();
  if (lk_attest_sign(context_, lk_attest_monotonic_ns(), digest, out.data(), &size) != LK_ATTEST_OK)
    throw std::runtime_error("lk_attest_sign failed");
  out.resize(size);
  return out;
}

void TestCamera::publish_attestation(const Bytes& bytes) { client_->publish(topic("attestation"), bytes, 0); }

}  // namespace latchkey::testing
