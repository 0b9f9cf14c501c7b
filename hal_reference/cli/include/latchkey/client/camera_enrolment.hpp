// Camera enrolment (docs/rules.md C1): load a camera plugin, open the device at
// its URI and read the identity and Ed25519 device key it describes, so the
// key can be pinned in latchkeyd's configuration (`key =`).
#ifndef LATCHKEY_CLIENT_CAMERA_ENROLMENT_HPP
#define LATCHKEY_CLIENT_CAMERA_ENROLMENT_HPP

#include <latchkey/crypto/crypto.hpp>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace latchkey::client {

class EnrolmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// C8: what the camera measured of its view while it was watched.
struct SceneRange {
  uint32_t samples = 0;  // attestations that verified with the described key and carried a scene
  uint32_t unmeasured = 0;  // attestations that verified and carried none
  uint32_t min_luminance = UINT32_MAX, max_luminance = 0;
  uint32_t min_sharpness = UINT32_MAX, max_sharpness = 0;
  uint32_t min_similarity = UINT32_MAX, max_similarity = 0;
  void add(uint32_t luminance, uint32_t sharpness, uint32_t similarity);
};

// The camera's limits (the scene_* keys of its [camera.X] section), chosen
// from what it measured as docs/camera-agent.md tells a person to: luminance
// limits outside what was seen with a margin, a sharpness floor at a third
// of the lowest seen, a similarity floor 300 under the lowest seen (200 to
// 500). Each within the hub's bounds.
struct SceneThresholds {
  uint32_t min_luminance, max_luminance, min_sharpness, min_similarity;
};
SceneThresholds choose_thresholds(const SceneRange& seen);

struct CameraEnrolment {
  std::string camera_id;
  crypto::PublicKey public_key{};
  std::string driver;                    // vendor / driver id / version
  uint32_t attestation_period_ms = 0;
  SceneRange scene;                      // over observe_ms (empty when 0)
  // The camera's snapshot at the end (for a network camera: the reference
  // view its agent compares frames with, C8), and its format; empty, with
  // snapshot_note saying why, when there is none.
  std::vector<uint8_t> snapshot;
  uint32_t snapshot_format = 0;          // LK_SNAPSHOT_FORMAT_*
  std::string snapshot_note;
};

// Throws EnrolmentError naming the plugin file or the URI and the reason
// (the loader's refusal, no camera interface, the open's result). With
// observe_ms > 0 it keeps the camera open that long and gathers the scene
// measurements of every attestation that verifies with the described key.
CameraEnrolment enrol_camera(const std::filesystem::path& plugin_file, const std::string& uri,
                             uint32_t observe_ms = 0);

}  // namespace latchkey::client

#endif  // LATCHKEY_CLIENT_CAMERA_ENROLMENT_HPP
