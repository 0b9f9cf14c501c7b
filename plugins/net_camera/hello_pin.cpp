#include "hello_pin.hpp"

#include <latchkey/camera_link.pb.h>
#include <latchkey/lk_camera.h>

#include <algorithm>
#include <utility>

namespace latchkey::net_camera {

std::string to_hex(const uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xF]);
  }
  return out;
}

// At most 64 characters of a camera-chosen string, non-printable ones as '?'.
std::string printable(const std::string& text) {
  std::string shown = text.substr(0, 64);
  std::replace_if(shown.begin(), shown.end(), [](char c) { return c < 0x20 || c > 0x7e; }, '?');
  return shown;
}

HelloPin::HelloPin(std::string camera_id, std::optional<PublicKey> pinned)
    : camera_id_(std::move(camera_id)), key_(pinned) {}

HelloPin::Outcome HelloPin::offer(const uint8_t* data, std::size_t size) {
  if (size == 0) return {Verdict::kCleared, "an empty hello (retained hello cleared); the pinned key stays"};
  if (size > kMaxHelloBytes)
    return {Verdict::kRefused, "hello of " + std::to_string(size) + " bytes refused (at most " +
                                   std::to_string(kMaxHelloBytes) + ")", LK_CAMERA_REFUSED_OVERSIZED};
  v1::CameraHello hello;
  if (!hello.ParseFromArray(data, static_cast<int>(size))) return {Verdict::kRefused, "malformed hello refused", LK_CAMERA_REFUSED_MALFORMED};
  if (hello.camera_id() != camera_id_)
    return {Verdict::kRefused, "hello naming camera '" + printable(hello.camera_id()) + "' refused on this camera's topic",
            LK_CAMERA_REFUSED_FOREIGN};
  if (hello.public_key().size() != PublicKey().size())
    return {Verdict::kRefused, "hello with a " + std::to_string(hello.public_key().size()) +
                                   "-byte public key refused (Ed25519 keys are 32 bytes)",
            LK_CAMERA_REFUSED_MALFORMED};
  PublicKey key{};
  std::copy(hello.public_key().begin(), hello.public_key().end(), key.begin());
  const std::string key_hex = to_hex(key.data(), key.size());
  if (key_ && *key_ != key)
    return {Verdict::kRefused, "hello with another public key " + key_hex + " refused; the pinned key is " +
                                   to_hex(key_->data(), key_->size()) + " (a new key needs a new enrolment)",
            LK_CAMERA_REFUSED_FOREIGN};
  const bool first = !key_;
  key_ = key;
  heard_ = true;
  period_ms_ = hello.attestation_period_ms();
  const std::string what = "hello from " + (hello.agent().empty() ? std::string("an agent") : printable(hello.agent())) +
                           ", key " + key_hex + ", one attestation every " + std::to_string(period_ms_) + " ms";
  return first ? Outcome{Verdict::kAdopted, what + ": key pinned"} : Outcome{Verdict::kConfirmed, what};
}

}  // namespace latchkey::net_camera
