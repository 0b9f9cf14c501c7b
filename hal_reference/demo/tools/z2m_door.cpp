#include "z2m_door.hpp"

#include "mosquitto_broker.hpp"

#include <latchkey/client/api_json.hpp>
#include <latchkey/client/event_text.hpp>
#include <latchkey/demo/delivery.hpp>
#include <latchkey/demo/hub_status.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace lkdemo {

namespace client = latchkey::client;
namespace crypto = latchkey::crypto;
namespace demo = latchkey::demo;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

Z2mDoor::Z2mDoor(const fs::path& emulator, const fs::path& dir, Timeline& timeline) {
  if (!fs::exists(emulator)) {
    unavailable_ = emulator.string() + " was not built (LATCHKEY_BUILD_TESTS=OFF)";
    timeline.act("setup", "no Zigbee2MQTT door: " + unavailable_);
    return;
  }
  latchkey::testing::BrokerOptions options;
  options.extra_users = {"zigbee2mqtt"};
  options.acl_file = LATCHKEY_Z2M_ACL_FILE;
  broker_ = std::make_unique<latchkey::testing::MosquittoBroker>(options);
  const std::string at = "127.0.0.1:" + std::to_string(broker_->port());
  timeline.act("setup", "Mosquitto for Zigbee2MQTT on " + at + ": users zigbee2mqtt and hub, the ACL of "
                        "tools/broker/zigbee2mqtt.acl");
  control_ = dir / "z2m-control";
  emulator_.start({emulator.string(), "--broker", at, "--password-file",
                   broker_->password_file("zigbee2mqtt").string(), "--lock", "side_lock", "--sensor",
                   "side_contact", "--actuation-ms", "150", "--control", control_.string()},
                  dir / "z2m-emulator.log");
  for (int i = 0; i < 100 && !fs::exists(control_); ++i) std::this_thread::sleep_for(20ms);
  timeline.act("setup", "lk-z2m-emulator (pid " + std::to_string(emulator_.pid()) +
                            ") plays Zigbee2MQTT: lock side_lock, contact sensor side_contact");
  uri_ = "mqtt://" + at + "/side_lock?contact_sensor=side_contact&password_file=" +
         broker_->password_file("hub").string() + "&actuation_ms=1500";
}

Z2mDoor::~Z2mDoor() {
  if (!control_.empty() && fs::exists(control_)) tell("quit");
  emulator_.stop(2s);
  broker_.reset();
}

demo::SimDoor Z2mDoor::door() const { return {kDoor, {kCamera}, {}, uri_}; }

bool Z2mDoor::tell(const std::string& command) {
  // Non-blocking: a gone emulator must not hang the demo. Between two
  // writers the emulator reopens its pipe, so a refusal is retried briefly.
  const std::string line = command + "\n";
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int fd = ::open(control_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
      ::close(fd);
      return written;
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

void z2m_delivery(Demo& d, Z2mDoor& door) {
  d.timeline.step("h. A delivery at a door whose lock is on Zigbee2MQTT");
  if (!door.available()) {
    d.timeline.note("skipped: " + door.unavailable());
    return;
  }
  const auto door_is = [&](const std::string& lock, const std::string& state) {
    return demo::wait_until(
        [&] {
          const auto json = demo::door(d.api, Z2mDoor::kDoor);
          return json && client::json_text(json, "lock_state") == lock && client::json_text(json, "door_state") == state;
        },
        5s);
  };
  if (!d.timeline.check(door_is("locked", "closed"), "door side locked and closed, from the /get answers")) return;
  const client::MintedGrant grant = demo::mint_grant_for(d.hub, Z2mDoor::kDoor, d.courier, {}, {Z2mDoor::kCamera});
  d.timeline.act("courier", "delivery: grant " + client::short_id(crypto::to_hex(grant.grant_id), 16) +
                                " at door side (challenge, proof, unlock request)");
  const auto asked = std::chrono::steady_clock::now();
  const client::UnlockAnswer answer = demo::present_grant(d.api, Z2mDoor::kDoor, grant.signed_grant, d.courier);
  if (!d.timeline.check(answer.allowed, "unlock allowed", answer.allowed ? "" : answer.rule + ": " + answer.error))
    return;
  const bool unlocked = door_is("unlocked", "closed");
  d.timeline.check(unlocked, "unlocked, confirmed by the lock's lock_state report (not by the command)",
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - asked).count()) + " ms after the request");
  if (!unlocked) return;
  d.timeline.act("world", "door side: open, then close (the contact sensor on Zigbee2MQTT)");
  d.timeline.check(door.tell("open"), "the emulator took 'open'");
  d.timeline.check(door_is("unlocked", "open"), "the contact sensor reports open");
  d.timeline.check(door.tell("close"), "the emulator took 'close'");
  d.timeline.check(door_is("locked", "closed"), "the hub relocked after the door closed (U8)");
  const auto ended = demo::wait_session_end(d.api, answer.session, "completed", 5s);
  d.timeline.check(!ended.isNull(), "session " + client::short_id(answer.session, 16) + " completed");
}

}  // namespace lkdemo
