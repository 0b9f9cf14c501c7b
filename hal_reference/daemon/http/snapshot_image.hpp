// A camera snapshot as a browser shows it: JPEG as it came, a binary PPM
// (P6 colour or P5 grey, 8 bits) rewritten as an uncompressed 24-bit BMP.
// Internal to latchkey_http.
#ifndef LATCHKEY_HTTP_SNAPSHOT_IMAGE_HPP
#define LATCHKEY_HTTP_SNAPSHOT_IMAGE_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::hub::http {

struct WebImage {
  std::string media_type;  // image/jpeg, image/bmp
  std::vector<uint8_t> bytes;
};

// nullopt (with *error set) for a PPM that does not parse or whose size
// does not match its header.
std::optional<WebImage> bmp_from_ppm(const std::vector<uint8_t>& ppm, std::string* error);

}  // namespace latchkey::hub::http

#endif  // LATCHKEY_HTTP_SNAPSHOT_IMAGE_HPP
