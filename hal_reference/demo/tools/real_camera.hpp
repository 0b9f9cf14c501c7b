// The parts of lk-demo with a camera outside the hub: lk-camera-agent on real
// frames (an FFmpeg test source), its own key, the hub's Mosquitto broker
// between them and the net_camera plugin relaying (docs/camera-link.md).
#ifndef LATCHKEY_DEMO_REAL_CAMERA_HPP
#define LATCHKEY_DEMO_REAL_CAMERA_HPP

#include "demo_steps.hpp"

#include <latchkey/demo/child_process.hpp>
#include <latchkey/demo/sim_hub.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace latchkey::testing {
class MosquittoBroker;
class NetnsLink;
class NetnsProcess;
}

namespace lkdemo {

// The broker and the agent, started before the hub (the hub pins the key the
// agent printed, as a person would after comparing it).
class RealCamera {
 public:
  static constexpr const char* kDoor = "garage";
  static constexpr const char* kCamera = "drive";

  RealCamera(const std::filesystem::path& agent, const std::filesystem::path& dir, Timeline& timeline);
  ~RealCamera();

  // The door with the agent's camera, for SimHubOptions::doors.
  latchkey::demo::SimDoor door() const;
  const std::filesystem::path& record_dir() const { return record_dir_; }
  // The camera's own network namespace, joined to the hub's by a veth pair;
  // null when this machine gives no rights to make one (link_unavailable()
  // says why), and the agent then runs on loopback.
  latchkey::testing::NetnsLink* link() { return link_.get(); }
  const std::string& link_unavailable() const { return link_unavailable_; }

 private:
  std::unique_ptr<latchkey::testing::NetnsLink> link_;
  std::string link_unavailable_;
  std::unique_ptr<latchkey::testing::MosquittoBroker> broker_;
  std::unique_ptr<latchkey::testing::NetnsProcess> netns_agent_;
  latchkey::demo::ChildProcess agent_;
  latchkey::demo::NetCamera camera_;
  std::filesystem::path record_dir_;
};

// f. A delivery at door garage watched by the agent: LIVE from its own
//    signatures, recording acknowledged (U2) into a real file, relock (U8).
void real_camera_delivery(Demo& d, RealCamera& camera);

// g. The 2017 attack on the camera's real link, during a delivery: the
//    camera's veth goes down; the hub relocks (door closed) within
//    live_timeout + 50 ms of the last attestation it accepted, measured on
//    the hub's own clock (U5, I4). Says plainly when it has no rights.
void link_cut(Demo& d, RealCamera& camera);

}  // namespace lkdemo

#endif  // LATCHKEY_DEMO_REAL_CAMERA_HPP
