// A broker set up for Zigbee2MQTT (tools/broker/zigbee2mqtt.acl: the users
// "zigbee2mqtt" and "hub"), the emulator as Zigbee2MQTT, and the z2m_lock
// plugin loaded through the host loader, as the hub loads it.
#ifndef LATCHKEY_TESTS_Z2M_Z2M_FIXTURE_HPP
#define LATCHKEY_TESTS_Z2M_Z2M_FIXTURE_HPP

#include "event_recorder.hpp"
#include "mosquitto_broker.hpp"
#include "z2m_emulator.hpp"

#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

namespace latchkey::testing {

constexpr Millis kWait{3000};
constexpr uint32_t kActuationMs = 100;       // the emulator's bolt
constexpr uint32_t kDeclaredActuationMs = 600;  // what the URI declares (actuation_ms)

inline BrokerOptions z2m_broker_options() {
  BrokerOptions o;
  o.extra_users = {"zigbee2mqtt"};
  o.acl_file = LATCHKEY_Z2M_ACL_FILE;
  o.max_packet_size = 256 * 1024;  // room for the huge-payload tests
  return o;
}

class Z2mTest : public ::testing::Test {
 protected:
  void SetUp() override { broker_ = std::make_unique<MosquittoBroker>(z2m_broker_options()); }
  void TearDown() override {
    lock_.reset();
    emulator_.reset();
  }

  Z2mEmulatorOptions emulator_options() const {
    Z2mEmulatorOptions o;
    o.port = broker_->port();
    o.password = broker_->password("zigbee2mqtt");
    o.actuation_ms = kActuationMs;
    return o;
  }
  void start_emulator(Z2mEmulatorOptions o) { emulator_ = std::make_unique<Z2mEmulator>(std::move(o)); }
  void start_emulator() { start_emulator(emulator_options()); }

  std::string uri(const std::string& extra = "") const {
    return "mqtt://127.0.0.1:" + std::to_string(broker_->port()) + "/front_lock?contact_sensor=front_contact" +
           "&password_file=" + broker_->password_file("hub").string() +
           "&actuation_ms=" + std::to_string(kDeclaredActuationMs) + extra;
  }

  lk_result open(const std::string& device_uri) {
    if (!plugin_) {
      host::LoadOptions options;
      options.log = recorder_.log_handler();
      plugin_ = host::Plugin::load(LATCHKEY_Z2M_LOCK_PATH, options);
    }
    lock_.reset();
    return host::LockHandle::open(plugin_, device_uri, recorder_.handler(), &lock_);
  }

  lk_lock_description describe() {
    lk_lock_description d{};
    d.struct_size = sizeof d;
    EXPECT_EQ(lock_->describe(&d), LK_OK);
    return d;
  }
  lk_lock_state state() {
    lk_lock_state s = 0xDEAD;
    EXPECT_EQ(lock_->lock_state(&s), LK_OK);
    return s;
  }
  lk_door_state door() {
    lk_door_state d = 0xDEAD;
    EXPECT_EQ(lock_->door_state(&d), LK_OK);
    return d;
  }

  static lk_unlock_params unlock_params(uint64_t op, uint32_t relock_deadline_ms = 0) {
    lk_unlock_params p{};
    p.struct_size = sizeof p;
    p.operation_id = op;
    p.relock_deadline_ms = relock_deadline_ms;
    return p;
  }
  // Starts an operation and waits for its completion (the result is checked by the caller).
  lk_lock_completion run(bool unlock, uint64_t op, uint32_t relock_deadline_ms = 0, Millis wait = kWait) {
    lk_lock_completion c{};
    c.result = 1;  // no such result: "no completion"
    const lk_result started = unlock ? lock_->unlock(unlock_params(op, relock_deadline_ms), recorder_.completion())
                                     : lock_->lock(op, recorder_.completion());
    EXPECT_EQ(started, LK_OK) << (unlock ? "unlock" : "lock") << " did not start";
    if (started != LK_OK) return c;
    EXPECT_TRUE(recorder_.wait_completion(op, wait, &c)) << "no completion for operation " << op;
    return c;
  }

  bool wait_state(lk_lock_state want, Millis wait = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (state() != want) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(Millis(10));
    }
    return true;
  }
  bool wait_door(lk_door_state want, Millis wait = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (door() != want) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(Millis(10));
    }
    return true;
  }
  bool wait_logged(const std::string& fragment, Millis wait = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!recorder_.logged(fragment)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(Millis(10));
    }
    return true;
  }
  // Every log line, for failure messages.
  std::string logs() {
    std::string out;
    for (const std::string& line : recorder_.logs()) out += "  " + line + "\n";
    return out;
  }
  // True when an Unlocked state event came at or after index from.
  bool unlocked_event_since(std::size_t from) {
    const auto events = recorder_.events();
    for (std::size_t i = from; i < events.size(); ++i)
      if (events[i].kind == LK_EVENT_LOCK_STATE && events[i].value == LK_LOCK_STATE_UNLOCKED) return true;
    return false;
  }

  std::unique_ptr<MosquittoBroker> broker_;
  std::unique_ptr<Z2mEmulator> emulator_;
  EventRecorder recorder_;
  std::shared_ptr<host::Plugin> plugin_;
  std::unique_ptr<host::LockHandle> lock_;
};

}  // namespace latchkey::testing

#endif  // LATCHKEY_TESTS_Z2M_Z2M_FIXTURE_HPP
