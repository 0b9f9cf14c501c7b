// The camera link's fixed values (docs/camera-link.md), shared by the MQTT
// targets and the seed generator: the camera id the hub's plugin expects and
// the key a device URI pins (key=...), so seeds carry hellos that the pin
// confirms.
#ifndef LATCHKEY_FUZZ_SUPPORT_CAMERA_LINK_WORLD_HPP
#define LATCHKEY_FUZZ_SUPPORT_CAMERA_LINK_WORLD_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace latchkey::fuzz {

inline constexpr std::string_view kLinkCameraId = "cam-1";

inline std::array<uint8_t, 32> uri_pinned_key() {
  std::array<uint8_t, 32> k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(0xA0 + i);
  return k;
}

}  // namespace latchkey::fuzz

#endif  // LATCHKEY_FUZZ_SUPPORT_CAMERA_LINK_WORLD_HPP
