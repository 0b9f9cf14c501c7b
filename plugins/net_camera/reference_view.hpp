// The camera's reference view (C8) as its agent publishes it, retained, on
// latchkey/camera/<id>/reference: the agent's --reference-file, a binary PGM
//   "P5\n# latchkey-reference-v1 blake2b-256 <64 hex digits>\n32 18\n255\n"
// followed by the 576 cell values (docs/camera-agent.md). The plugin checks
// the shape only (it links nothing cryptographic; the digits are the
// camera's own check of its file) and shows it as the camera's snapshot: a
// PPM, each cell a 10 x 10 block of grey, so a person enrolling the camera
// sees what it compares its view with.
#ifndef LATCHKEY_NET_CAMERA_REFERENCE_VIEW_HPP
#define LATCHKEY_NET_CAMERA_REFERENCE_VIEW_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::net_camera {

constexpr uint32_t kReferenceWidth = 32, kReferenceHeight = 18, kReferenceScale = 10;
constexpr std::size_t kReferenceFileBytes = 690;
using ReferenceCells = std::array<uint8_t, kReferenceWidth * kReferenceHeight>;

// The cells of a reference file, or nullopt and *error saying what is wrong.
std::optional<ReferenceCells> parse_reference(const uint8_t* data, std::size_t size, std::string* error);

// The snapshot: "P6\n320 180\n255\n" and 320 x 180 RGB pixels.
std::vector<uint8_t> reference_ppm(const ReferenceCells& cells);
constexpr std::size_t kReferencePpmBytes =
    15 + std::size_t{kReferenceWidth * kReferenceScale} * (kReferenceHeight * kReferenceScale) * 3;

}  // namespace latchkey::net_camera

#endif  // LATCHKEY_NET_CAMERA_REFERENCE_VIEW_HPP
