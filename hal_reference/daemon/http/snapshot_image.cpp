#include "snapshot_image.hpp"

#include <cctype>

namespace latchkey::hub::http {
namespace {

constexpr uint64_t kMaxPixels = 16'000'000;

// The next header number of a PPM (after whitespace and # comments).
std::optional<uint64_t> header_number(const std::vector<uint8_t>& p, std::size_t& at) {
  for (;;) {
    while (at < p.size() && std::isspace(p[at])) ++at;
    if (at < p.size() && p[at] == '#') {
      while (at < p.size() && p[at] != '\n') ++at;
      continue;
    }
    break;
  }
  uint64_t n = 0;
  std::size_t digits = 0;
  while (at < p.size() && std::isdigit(p[at]) && digits < 9) {
    n = n * 10 + static_cast<uint64_t>(p[at++] - '0');
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  return n;
}

void put16(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}

}  // namespace

std::optional<WebImage> bmp_from_ppm(const std::vector<uint8_t>& ppm, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<WebImage> {
    *error = "snapshot is not a usable PPM: " + why;
    return std::nullopt;
  };
  if (ppm.size() < 2 || ppm[0] != 'P' || (ppm[1] != '6' && ppm[1] != '5')) return fail("no P6 or P5 magic");
  const std::size_t channels = ppm[1] == '6' ? 3 : 1;
  std::size_t at = 2;
  const auto width = header_number(ppm, at);
  const auto height = header_number(ppm, at);
  const auto max = header_number(ppm, at);
  if (!width || !height || !max) return fail("header incomplete");
  if (*max != 255) return fail("only 8-bit samples are shown");
  if (*width == 0 || *height == 0 || *width * *height > kMaxPixels) return fail("size out of range");
  if (at >= ppm.size() || !std::isspace(ppm[at])) return fail("header not ended");
  ++at;
  const std::size_t w = static_cast<std::size_t>(*width);
  const std::size_t h = static_cast<std::size_t>(*height);
  if (ppm.size() - at != w * h * channels) return fail("pixel data does not match the header's size");
  const std::size_t row = (w * 3 + 3) & ~std::size_t{3};
  const std::size_t data = row * h;
  WebImage image{"image/bmp", {}};
  std::vector<uint8_t>& out = image.bytes;
  out.reserve(54 + data);
  out.push_back('B');
  out.push_back('M');
  put32(out, static_cast<uint32_t>(54 + data));
  put32(out, 0);
  put32(out, 54);
  put32(out, 40);  // BITMAPINFOHEADER
  put32(out, static_cast<uint32_t>(w));
  put32(out, static_cast<uint32_t>(h));
  put16(out, 1);
  put16(out, 24);
  put32(out, 0);
  put32(out, static_cast<uint32_t>(data));
  put32(out, 2835);
  put32(out, 2835);
  put32(out, 0);
  put32(out, 0);
  // Rows bottom-up, BGR, each padded to 4 bytes.
  for (std::size_t y = h; y-- > 0;) {
    const uint8_t* src = ppm.data() + at + y * w * channels;
    for (std::size_t x = 0; x < w; ++x) {
      const uint8_t* px = src + x * channels;
      const uint8_t r = px[0], g = channels == 3 ? px[1] : px[0], b = channels == 3 ? px[2] : px[0];
      out.push_back(b);
      out.push_back(g);
      out.push_back(r);
    }
    for (std::size_t pad = w * 3; pad < row; ++pad) out.push_back(0);
  }
  return image;
}

}  // namespace latchkey::hub::http
