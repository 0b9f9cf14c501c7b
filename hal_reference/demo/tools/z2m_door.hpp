// The part of lk-demo with a Zigbee2MQTT door: a broker set up for
// Zigbee2MQTT (tools/broker/zigbee2mqtt.acl), lk-z2m-emulator playing
// Zigbee2MQTT with a lock and a contact sensor, and the hub's door "side"
// on the z2m_lock plugin with a simulated camera (docs/zigbee2mqtt.md).
#ifndef LATCHKEY_DEMO_Z2M_DOOR_HPP
#define LATCHKEY_DEMO_Z2M_DOOR_HPP

#include "demo_steps.hpp"

#include <latchkey/demo/child_process.hpp>
#include <latchkey/demo/sim_hub.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace latchkey::testing {
class MosquittoBroker;
}

namespace lkdemo {

class Z2mDoor {
 public:
  static constexpr const char* kDoor = "side";
  static constexpr const char* kCamera = "path";

  // Started before the hub, whose door opens the lock at start. When the
  // emulator was not built (tests off), available() is false and says why.
  Z2mDoor(const std::filesystem::path& emulator, const std::filesystem::path& dir, Timeline& timeline);
  ~Z2mDoor();

  bool available() const { return unavailable_.empty(); }
  const std::string& unavailable() const { return unavailable_; }
  // The door for SimHubOptions::doors.
  latchkey::demo::SimDoor door() const;
  // One line to the emulator (open, close, manual_lock, ...); false when it is not listening.
  bool tell(const std::string& command);

 private:
  std::string unavailable_;
  std::unique_ptr<latchkey::testing::MosquittoBroker> broker_;
  latchkey::demo::ChildProcess emulator_;
  std::filesystem::path control_;
  std::string uri_;
};

// h. A delivery at door side, whose lock is on Zigbee2MQTT: the unlock is
//    confirmed by the lock's own lock_state report, the contact sensor
//    reports the door, the hub relocks after it closes (U8).
void z2m_delivery(Demo& d, Z2mDoor& door);

}  // namespace lkdemo

#endif  // LATCHKEY_DEMO_Z2M_DOOR_HPP
