// Camera enrolment (RULES.md C1): load a camera plugin, open the device at
// its URI and read the identity and Ed25519 device key it describes, so the
// key can be pinned in latchkeyd's configuration (`key =`).
#ifndef LATCHKEY_CLIENT_CAMERA_ENROLMENT_HPP
#define LATCHKEY_CLIENT_CAMERA_ENROLMENT_HPP

#include <latchkey/crypto/crypto.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace latchkey::client {

class EnrolmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CameraEnrolment {
  std::string camera_id;
  crypto::PublicKey public_key{};
  std::string driver;                    // vendor / driver id / version
  uint32_t attestation_period_ms = 0;
};

// Throws EnrolmentError naming the plugin file or the URI and the reason
// (the loader's refusal, no camera interface, the open's result).
CameraEnrolment enrol_camera(const std::filesystem::path& plugin_file, const std::string& uri);

}  // namespace latchkey::client

#endif  // LATCHKEY_CLIENT_CAMERA_ENROLMENT_HPP
