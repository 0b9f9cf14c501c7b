#include "reference_view.hpp"

#include <cstring>

namespace latchkey::net_camera {

std::optional<ReferenceCells> parse_reference(const uint8_t* data, std::size_t size, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<ReferenceCells> {
    if (error) *error = why;
    return std::nullopt;
  };
  static constexpr char kStart[] = "P5\n# latchkey-reference-v1 blake2b-256 ";
  static constexpr char kEnd[] = "\n32 18\n255\n";
  const std::size_t start = sizeof kStart - 1, digits = 64, end = sizeof kEnd - 1;
  if (size != kReferenceFileBytes)
    return fail("a reference view of " + std::to_string(size) + " bytes (a reference file is " +
                std::to_string(kReferenceFileBytes) + ")");
  if (std::memcmp(data, kStart, start) != 0) return fail("a reference view without the latchkey-reference-v1 header");
  for (std::size_t i = start; i < start + digits; ++i) {
    const char c = static_cast<char>(data[i]);
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return fail("a reference view whose checksum is not 64 hex digits");
  }
  if (std::memcmp(data + start + digits, kEnd, end) != 0) return fail("a reference view that is not 32 x 18 of 255 levels");
  ReferenceCells cells{};
  std::memcpy(cells.data(), data + start + digits + end, cells.size());
  return cells;
}

std::vector<uint8_t> reference_ppm(const ReferenceCells& cells) {
  const uint32_t w = kReferenceWidth * kReferenceScale, h = kReferenceHeight * kReferenceScale;
  static constexpr char kHeader[] = "P6\n320 180\n255\n";
  std::vector<uint8_t> out(kHeader, kHeader + sizeof kHeader - 1);
  out.reserve(kReferencePpmBytes);
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) {
      const uint8_t v = cells[(y / kReferenceScale) * kReferenceWidth + x / kReferenceScale];
      out.insert(out.end(), {v, v, v});
    }
  return out;
}

}  // namespace latchkey::net_camera
