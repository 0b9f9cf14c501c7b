// latchkey_attest's scene measurements (docs/rules.md C8): mean luminance,
// sharpness, the thumbnail and the similarity to the reference view, each
// checked against its definition in lk_attest.h computed here a second way
// (plainly, in wide integers or long double), on frames with row padding;
// and the reference file: written whole, read back, every malformed file
// refused with a sentence.
#include <sodium.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "attest_test_support.hpp"

using namespace latchkey::attest_test;

namespace {

constexpr size_t kThumb = LK_ATTEST_THUMB_SIZE;
using Thumb = std::array<uint8_t, kThumb>;

// A GRAY8 frame: height rows of stride bytes, the last stride - width of each padding.
struct Frame {
  uint32_t width = 0;
  uint32_t height = 0;
  size_t stride = 0;
  std::vector<uint8_t> bytes;
  Frame(uint32_t w, uint32_t h, size_t padding = 0, uint8_t pad_byte = 0xEE)
      : width(w), height(h), stride(w + padding), bytes(stride * h, pad_byte) {
    for (uint32_t y = 0; y < h; ++y)
      for (uint32_t x = 0; x < w; ++x) at(x, y) = 0;
  }
  uint8_t& at(uint32_t x, uint32_t y) { return bytes[y * stride + x]; }
  uint8_t at(uint32_t x, uint32_t y) const { return bytes[y * stride + x]; }
};

Frame random_frame(std::mt19937_64& rng, uint32_t w, uint32_t h, size_t padding) {
  Frame f(w, h, padding, 0xEE);
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) f.at(x, y) = static_cast<uint8_t>(rng());
  return f;
}

lk_attest_scene measure(const Frame& f, const uint8_t* reference = nullptr) {
  lk_attest_scene scene{9, 9, 9};
  EXPECT_EQ(lk_attest_scene_measure(f.bytes.data(), f.width, f.height, f.stride, reference, &scene), LK_ATTEST_OK);
  return scene;
}

Thumb thumbnail(const Frame& f) {
  Thumb t{};
  EXPECT_EQ(lk_attest_thumbnail(f.bytes.data(), f.width, f.height, f.stride, t.data()), LK_ATTEST_OK);
  return t;
}

// The definitions of lk_attest.h, written out plainly.
uint32_t rounded_mean_x1000(uint64_t sum, uint64_t count) { return static_cast<uint32_t>((sum * 1000 + count / 2) / count); }

lk_attest_scene plain_scene(const Frame& f) {
  uint64_t luminance = 0;
  for (uint32_t y = 0; y < f.height; ++y)
    for (uint32_t x = 0; x < f.width; ++x) luminance += f.at(x, y);
  // Sharpness: the block sums of the coarse copy, then their Laplacian.
  const uint32_t b = std::max(1u, std::min(f.width / 160, f.height / 90));
  const uint32_t columns = std::min(f.width / b, 512u), rows = f.height / b;
  std::vector<int64_t> q(uint64_t{columns} * rows, 0);
  for (uint32_t j = 0; j < rows; ++j)
    for (uint32_t i = 0; i < columns; ++i)
      for (uint32_t y = j * b; y < (j + 1) * b; ++y)
        for (uint32_t x = i * b; x < (i + 1) * b; ++x) q[j * columns + i] += f.at(x, y);
  auto at = [&](uint32_t i, uint32_t j) { return q[j * columns + i]; };
  uint64_t laplacian = 0;
  for (uint32_t j = 1; j + 1 < rows; ++j)
    for (uint32_t i = 1; i + 1 < columns; ++i)
      laplacian += static_cast<uint64_t>(
          std::llabs(4 * at(i, j) - at(i - 1, j) - at(i + 1, j) - at(i, j - 1) - at(i, j + 1)));
  return {rounded_mean_x1000(luminance, uint64_t{f.width} * f.height),
          rounded_mean_x1000(laplacian, uint64_t{columns - 2} * (rows - 2) * b * b), 0};
}

Thumb plain_thumbnail(const Frame& f) {
  Thumb t{};
  for (uint32_t j = 0; j < 18; ++j)
    for (uint32_t i = 0; i < 32; ++i) {
      uint64_t sum = 0, count = 0;
      for (uint32_t y = j * f.height / 18; y < (j + 1) * f.height / 18; ++y)
        for (uint32_t x = i * f.width / 32; x < (i + 1) * f.width / 32; ++x) {
          sum += f.at(x, y);
          ++count;
        }
      t[j * 32 + i] = static_cast<uint8_t>((sum + count / 2) / count);
    }
  return t;
}

// Pearson's r in long double; -2 when undefined (a uniform thumbnail).
long double plain_correlation(const Thumb& a, const Thumb& b) {
  long double ma = 0, mb = 0;
  for (size_t k = 0; k < kThumb; ++k) {
    ma += a[k];
    mb += b[k];
  }
  ma /= kThumb;
  mb /= kThumb;
  long double sab = 0, saa = 0, sbb = 0;
  for (size_t k = 0; k < kThumb; ++k) {
    sab += (a[k] - ma) * (b[k] - mb);
    saa += (a[k] - ma) * (a[k] - ma);
    sbb += (b[k] - mb) * (b[k] - mb);
  }
  if (saa == 0 || sbb == 0) return -2;
  return sab / std::sqrt(saa * sbb);
}

Thumb textured_thumb(std::mt19937_64& rng) {
  Thumb t{};
  for (auto& v : t) v = static_cast<uint8_t>(rng());
  return t;
}

}  // namespace

TEST(AttestScene, C8_UniformFramesHaveExactLuminanceAndNoSharpness) {
  for (const int level : {0, 1, 16, 127, 128, 235, 254, 255}) {
    Frame f(64, 36, 8);
    for (uint32_t y = 0; y < f.height; ++y)
      for (uint32_t x = 0; x < f.width; ++x) f.at(x, y) = static_cast<uint8_t>(level);
    Thumb reference{};
    for (size_t k = 0; k < kThumb; ++k) reference[k] = static_cast<uint8_t>(k % 7 * 30);
    const lk_attest_scene scene = measure(f, reference.data());
    EXPECT_EQ(scene.mean_luminance, static_cast<uint32_t>(level) * 1000u) << level;
    EXPECT_EQ(scene.sharpness, 0u) << level;
    EXPECT_EQ(scene.reference_similarity, 0u) << "a uniform view (a covered lens) is like nothing";
    Thumb uniform{};
    uniform.fill(static_cast<uint8_t>(level));
    EXPECT_EQ(thumbnail(f), uniform);
  }
}

TEST(AttestScene, C8_ACheckerboardIsAsSharpAsAFrameCanBe) {
  Frame f(40, 20, 3);
  for (uint32_t y = 0; y < f.height; ++y)
    for (uint32_t x = 0; x < f.width; ++x) f.at(x, y) = (x + y) % 2 ? 255 : 0;
  const lk_attest_scene scene = measure(f);
  EXPECT_EQ(scene.sharpness, LK_ATTEST_SHARPNESS_MAX);
  EXPECT_EQ(scene.mean_luminance, 127500u);
  EXPECT_EQ(scene.reference_similarity, 0u) << "no reference: 0";
}

TEST(AttestScene, C8_AFineTextureIsSharperThanItsBlur) {
  std::mt19937_64 rng(8);
  const Frame sharp = random_frame(rng, 96, 54, 0);
  Frame blurred(96, 54);
  for (uint32_t y = 0; y < 54; ++y)
    for (uint32_t x = 0; x < 96; ++x) {
      unsigned sum = 0, n = 0;
      for (int dy = -2; dy <= 2; ++dy)
        for (int dx = -2; dx <= 2; ++dx) {
          const int xx = static_cast<int>(x) + dx, yy = static_cast<int>(y) + dy;
          if (xx < 0 || yy < 0 || xx >= 96 || yy >= 54) continue;
          sum += sharp.at(static_cast<uint32_t>(xx), static_cast<uint32_t>(yy));
          ++n;
        }
      blurred.at(x, y) = static_cast<uint8_t>(sum / n);
    }
  EXPECT_LT(measure(blurred).sharpness * 5, measure(sharp).sharpness);
}

// Sensor noise on a blurred picture must not make it look sharp: the
// sharpness is taken on block means, over which noise averages out.
TEST(AttestScene, C8_NoiseDoesNotHideABlur) {
  std::mt19937_64 rng(11);
  Frame sharp(640, 360), blurred(640, 360);
  for (uint32_t y = 0; y < 360; ++y)
    for (uint32_t x = 0; x < 640; ++x) sharp.at(x, y) = ((x / 40) + (y / 40)) % 2 ? 200 : 50;
  for (uint32_t y = 0; y < 360; ++y)
    for (uint32_t x = 0; x < 640; ++x) {
      unsigned sum = 0, n = 0;
      for (int d = -20; d <= 20; d += 4)
        for (int e = -20; e <= 20; e += 4) {
          const int xx = static_cast<int>(x) + d, yy = static_cast<int>(y) + e;
          if (xx < 0 || yy < 0 || xx >= 640 || yy >= 360) continue;
          sum += sharp.at(static_cast<uint32_t>(xx), static_cast<uint32_t>(yy));
          ++n;
        }
      blurred.at(x, y) = static_cast<uint8_t>(sum / n);
    }
  auto noisy = [&](const Frame& f) {
    Frame out = f;
    for (uint32_t y = 0; y < 360; ++y)
      for (uint32_t x = 0; x < 640; ++x)
        out.at(x, y) = static_cast<uint8_t>(std::clamp<int>(f.at(x, y) + static_cast<int>(rng() % 41) - 20, 0, 255));
    return out;
  };
  const uint32_t sharp_noisy = measure(noisy(sharp)).sharpness, blurred_noisy = measure(noisy(blurred)).sharpness;
  EXPECT_GT(sharp_noisy, 3 * blurred_noisy) << "sharp " << sharp_noisy << ", blurred " << blurred_noisy;
  EXPECT_LT(measure(blurred).sharpness * 5, measure(sharp).sharpness);
}

TEST(AttestScene, C8_MeasurementsMatchTheirDefinitionsOnFramesOfEveryBlockSize) {
  std::mt19937_64 rng(7);
  // b = 1 (and more than 512 columns), 2, 4, 8 and an odd stride.
  for (const auto& [w, h] : {std::pair{1100u, 20u}, std::pair{333u, 181u}, std::pair{641u, 361u},
                             std::pair{1280u, 720u}, std::pair{1000u, 900u}}) {
    const Frame f = random_frame(rng, w, h, 13);
    const lk_attest_scene expected = plain_scene(f);
    const lk_attest_scene scene = measure(f);
    EXPECT_EQ(scene.mean_luminance, expected.mean_luminance) << w << "x" << h;
    EXPECT_EQ(scene.sharpness, expected.sharpness) << w << "x" << h;
  }
}

TEST(AttestScene, C8_MeasurementsMatchTheirDefinitionsOnRandomFramesWithPadding) {
  std::mt19937_64 rng(20250611);
  for (int run = 0; run < 60; ++run) {
    const uint32_t w = static_cast<uint32_t>(32 + rng() % 400);
    const uint32_t h = static_cast<uint32_t>(18 + rng() % 250);
    const Frame f = random_frame(rng, w, h, rng() % 70);
    const Thumb reference = plain_thumbnail(random_frame(rng, 64, 36, 0));
    const lk_attest_scene expected = plain_scene(f);
    const lk_attest_scene scene = measure(f, reference.data());
    EXPECT_EQ(scene.mean_luminance, expected.mean_luminance) << w << "x" << h;
    EXPECT_EQ(scene.sharpness, expected.sharpness) << w << "x" << h;
    const Thumb t = thumbnail(f);
    EXPECT_EQ(t, plain_thumbnail(f)) << w << "x" << h;
    EXPECT_EQ(scene.reference_similarity, lk_attest_similarity(t.data(), reference.data()));
  }
}

TEST(AttestScene, C8_PaddingIsNeverRead) {
  std::mt19937_64 rng(3);
  Frame packed = random_frame(rng, 97, 41, 0);
  Frame padded(97, 41, 35, 0x00);
  Frame padded_white(97, 41, 35, 0xFF);
  for (uint32_t y = 0; y < 41; ++y)
    for (uint32_t x = 0; x < 97; ++x) padded.at(x, y) = padded_white.at(x, y) = packed.at(x, y);
  const Thumb reference = plain_thumbnail(random_frame(rng, 32, 18, 0));
  const lk_attest_scene a = measure(packed, reference.data());
  for (const Frame* f : {&padded, &padded_white}) {
    const lk_attest_scene b = measure(*f, reference.data());
    EXPECT_EQ(a.mean_luminance, b.mean_luminance);
    EXPECT_EQ(a.sharpness, b.sharpness);
    EXPECT_EQ(a.reference_similarity, b.reference_similarity);
    EXPECT_EQ(thumbnail(packed), thumbnail(*f));
  }
}

TEST(AttestScene, C8_TheThumbnailOfA32x18FrameIsTheFrameAndOf64x36The2x2Means) {
  std::mt19937_64 rng(5);
  const Frame small = random_frame(rng, 32, 18, 4);
  const Thumb t = thumbnail(small);
  for (uint32_t y = 0; y < 18; ++y)
    for (uint32_t x = 0; x < 32; ++x) EXPECT_EQ(t[y * 32 + x], small.at(x, y));
  Frame big(64, 36);
  big.at(0, 0) = 1, big.at(1, 0) = 2, big.at(0, 1) = 2, big.at(1, 1) = 1;        // 6 / 4 = 1.5 -> 2
  big.at(2, 0) = 1, big.at(3, 0) = 1, big.at(2, 1) = 1, big.at(3, 1) = 2;        // 5 / 4 = 1.25 -> 1
  big.at(63, 35) = 255, big.at(62, 35) = 255, big.at(63, 34) = 255, big.at(62, 34) = 254;  // 254.75 -> 255
  const Thumb b = thumbnail(big);
  EXPECT_EQ(b[0], 2);
  EXPECT_EQ(b[1], 1);
  EXPECT_EQ(b[kThumb - 1], 255);
}

TEST(AttestScene, C8_FramesOutsideTheLimitsAreRefusedAndNothingWritten) {
  const std::vector<uint8_t> pixels(20000 * 20, 7);
  lk_attest_scene scene{1, 2, 3};
  Thumb t{};
  t.fill(9);
  struct Case {
    uint32_t w, h;
    size_t stride;
  };
  for (const Case c : {Case{31, 18, 31}, Case{32, 17, 32}, Case{0, 0, 0}, Case{16385, 18, 16385},
                       Case{32, 16385, 32}, Case{40, 18, 39}, Case{32, 18, SIZE_MAX / 4}}) {
    EXPECT_EQ(lk_attest_scene_measure(pixels.data(), c.w, c.h, c.stride, nullptr, &scene), LK_ATTEST_ERR_BAD_FRAME)
        << c.w << "x" << c.h << " stride " << c.stride;
    EXPECT_EQ(lk_attest_thumbnail(pixels.data(), c.w, c.h, c.stride, t.data()), LK_ATTEST_ERR_BAD_FRAME);
  }
  EXPECT_EQ(lk_attest_scene_measure(nullptr, 32, 18, 32, nullptr, &scene), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_scene_measure(pixels.data(), 32, 18, 32, nullptr, nullptr), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_thumbnail(nullptr, 32, 18, 32, t.data()), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_thumbnail(pixels.data(), 32, 18, 32, nullptr), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(scene.mean_luminance, 1u);
  EXPECT_EQ(scene.sharpness, 2u);
  EXPECT_EQ(scene.reference_similarity, 3u);
  Thumb nines{};
  nines.fill(9);
  EXPECT_EQ(t, nines);
  // The limits themselves are measured.
  EXPECT_EQ(lk_attest_scene_measure(pixels.data(), 32, 18, 32, nullptr, &scene), LK_ATTEST_OK);
  EXPECT_EQ(scene.mean_luminance, 7000u);
  EXPECT_EQ(lk_attest_scene_measure(pixels.data(), 16384, 18, 16384, nullptr, &scene), LK_ATTEST_OK);
}

TEST(AttestScene, C8_SimilarityIsRoundedCorrelationInIntegers) {
  std::mt19937_64 rng(77);
  int exact = 0;
  for (int run = 0; run < 3000; ++run) {
    // Pairs from unrelated to nearly equal: b is a mix of a and noise.
    const Thumb a = textured_thumb(rng);
    Thumb b{};
    const unsigned mix = static_cast<unsigned>(rng() % 101);
    for (size_t k = 0; k < kThumb; ++k) b[k] = static_cast<uint8_t>((a[k] * mix + (rng() & 0xFF) * (100 - mix)) / 100);
    const long double r = plain_correlation(a, b);
    const long double scaled = r <= 0 ? 0 : 1000 * r;
    const uint32_t got = lk_attest_similarity(a.data(), b.data());
    EXPECT_LE(std::fabs(static_cast<long double>(got) - scaled), 0.5L + 1e-9L) << "r = " << static_cast<double>(r);
    if (std::fabs(scaled - std::floor(scaled) - 0.5L) > 1e-6L) {
      EXPECT_EQ(got, static_cast<uint32_t>(std::llround(scaled)));
      ++exact;
    }
    EXPECT_EQ(got, lk_attest_similarity(b.data(), a.data())) << "symmetric";
  }
  EXPECT_GT(exact, 2900);
}

TEST(AttestScene, C8_SimilarityIgnoresBrightnessAndContrastButNotTheLayout) {
  std::mt19937_64 rng(11);
  // A view with structure: a gradient and some blocks, values 40-200.
  Thumb view{};
  for (uint32_t y = 0; y < 18; ++y)
    for (uint32_t x = 0; x < 32; ++x)
      view[y * 32 + x] = static_cast<uint8_t>(40 + x * 3 + ((x / 8 + y / 6) % 2) * 50 + rng() % 5);
  EXPECT_EQ(lk_attest_similarity(view.data(), view.data()), 1000u);
  Thumb darker{}, brighter{}, inverted{}, shifted{}, turned{};
  for (size_t k = 0; k < kThumb; ++k) {
    darker[k] = static_cast<uint8_t>(view[k] / 2);            // dusk: half the light
    brighter[k] = static_cast<uint8_t>(view[k] + 50);         // a lamp: an offset
    inverted[k] = static_cast<uint8_t>(255 - view[k]);
  }
  for (uint32_t y = 0; y < 18; ++y)
    for (uint32_t x = 0; x < 32; ++x) {
      shifted[y * 32 + x] = view[y * 32 + (x + 12) % 32];     // panned by over a third
      turned[y * 32 + x] = view[(17 - y) * 32 + (31 - x)];    // upside down
    }
  EXPECT_GE(lk_attest_similarity(darker.data(), view.data()), 995u);
  EXPECT_EQ(lk_attest_similarity(brighter.data(), view.data()), 1000u);
  EXPECT_EQ(lk_attest_similarity(inverted.data(), view.data()), 0u) << "negative correlation is clamped to 0";
  EXPECT_LT(lk_attest_similarity(shifted.data(), view.data()), 500u);
  EXPECT_LT(lk_attest_similarity(turned.data(), view.data()), 500u);
  Thumb flat{};
  flat.fill(30);
  EXPECT_EQ(lk_attest_similarity(flat.data(), view.data()), 0u);
  EXPECT_EQ(lk_attest_similarity(view.data(), flat.data()), 0u);
}

// ---- The reference file --------------------------------------------------

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string hex_blake2b(const uint8_t* data, size_t size) {
  uint8_t sum[32];
  crypto_generichash(sum, sizeof sum, data, size, nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
  return hex;
}

std::string reference_file_bytes(const Thumb& t) {
  return "P5\n# latchkey-reference-v1 blake2b-256 " + hex_blake2b(t.data(), t.size()) + "\n32 18\n255\n" +
         std::string(t.begin(), t.end());
}

struct Loaded {
  lk_attest_result result;
  std::string message;
  Thumb view;
};

Loaded load(const std::string& path) {
  Loaded l{};
  l.view.fill(0x5A);
  char message[LK_ATTEST_MESSAGE_SIZE] = "";
  l.result = lk_attest_reference_load(path.c_str(), l.view.data(), message, sizeof message);
  l.message = message;
  return l;
}

}  // namespace

TEST(AttestReference, C8_SavedViewLoadsBackAsAPgmAnyViewerShows) {
  ASSERT_GE(sodium_init(), 0);
  ScratchDir dir;
  std::mt19937_64 rng(1);
  const Thumb view = textured_thumb(rng);
  const std::string path = dir.path("reference.pgm");
  char message[LK_ATTEST_MESSAGE_SIZE] = "";
  ASSERT_EQ(lk_attest_reference_save(path.c_str(), view.data(), message, sizeof message), LK_ATTEST_OK) << message;
  EXPECT_NE(std::string(message).find(path), std::string::npos) << message;
  EXPECT_EQ(read_all(path), reference_file_bytes(view)) << "exactly the documented format";
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  const Loaded l = load(path);
  ASSERT_EQ(l.result, LK_ATTEST_OK) << l.message;
  EXPECT_EQ(l.view, view);

  // Saving again replaces it whole, and leaves no temporary file behind.
  const Thumb other = textured_thumb(rng);
  ASSERT_EQ(lk_attest_reference_save(path.c_str(), other.data(), nullptr, 0), LK_ATTEST_OK);
  EXPECT_EQ(load(path).view, other);
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path(""))) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST(AttestReference, C8_AFlatViewIsNeitherSavedNorLoaded) {
  ASSERT_GE(sodium_init(), 0);
  ScratchDir dir;
  Thumb flat{};
  for (size_t k = 0; k < kThumb; ++k) flat[k] = static_cast<uint8_t>(20 + k % 3);  // a covered lens, a little noise
  char message[LK_ATTEST_MESSAGE_SIZE] = "";
  EXPECT_EQ(lk_attest_reference_check(flat.data(), message, sizeof message), LK_ATTEST_ERR_REFERENCE_FLAT);
  EXPECT_NE(std::string(message).find("standard deviation is 0.8 grey levels, at least 4"), std::string::npos)
      << message;
  const std::string path = dir.path("flat.pgm");
  EXPECT_EQ(lk_attest_reference_save(path.c_str(), flat.data(), message, sizeof message), LK_ATTEST_ERR_REFERENCE_FLAT);
  EXPECT_NE(std::string(message).find(path), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(path));
  write_all(path, reference_file_bytes(flat));  // well formed, checksum right, but flat
  const Loaded l = load(path);
  EXPECT_EQ(l.result, LK_ATTEST_ERR_REFERENCE_FLAT) << l.message;
  EXPECT_NE(l.message.find("too little contrast"), std::string::npos) << l.message;

  // The limit: a standard deviation of exactly 4 passes, just under it does not.
  Thumb four{};
  for (size_t k = 0; k < kThumb; ++k) four[k] = static_cast<uint8_t>(k % 2 ? 104 : 96);
  EXPECT_EQ(lk_attest_reference_check(four.data(), nullptr, 0), LK_ATTEST_OK);
  four[0] = 97;
  EXPECT_EQ(lk_attest_reference_check(four.data(), nullptr, 0), LK_ATTEST_ERR_REFERENCE_FLAT);
  EXPECT_EQ(lk_attest_reference_check(nullptr, nullptr, 0), LK_ATTEST_ERR_INVALID_ARGUMENT);
}

TEST(AttestReference, C8_MalformedFilesAreRefusedWithASentence) {
  ASSERT_GE(sodium_init(), 0);
  ScratchDir dir;
  std::mt19937_64 rng(2);
  const Thumb view = textured_thumb(rng);
  const std::string good = reference_file_bytes(view);
  const size_t header = good.size() - kThumb;
  std::string flipped = good;
  flipped[header + 100] ^= 0x01;
  std::string bad_hex = good;
  bad_hex[40] = 'g';
  std::string wrong_size = good;
  wrong_size.replace(header - 10, 5, "33 18");
  std::string plain_pgm = "P5\n32 18\n255\n" + std::string(view.begin(), view.end());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "does not begin with"},
      {good.substr(0, good.size() - 1), "it has 689 bytes, expected 690"},
      {good + "\n", "more than 690 bytes"},
      {good.substr(0, 20), "does not begin with"},
      {plain_pgm, "does not begin with"},
      {"P6" + good.substr(2), "does not begin with"},
      {flipped, "do not match its checksum"},
      {bad_hex, "not 64 hex digits"},
      {wrong_size, "\"32 18\""},
  };
  for (const auto& [bytes, expected] : cases) {
    const std::string path = dir.path("bad.pgm");
    write_all(path, bytes);
    const Loaded l = load(path);
    EXPECT_EQ(l.result, LK_ATTEST_ERR_REFERENCE_FORMAT) << expected;
    EXPECT_NE(l.message.find(expected), std::string::npos) << "'" << l.message << "'";
    EXPECT_NE(l.message.find(path), std::string::npos) << l.message;
    Thumb untouched{};
    untouched.fill(0x5A);
    EXPECT_EQ(l.view, untouched) << "nothing written on a refusal";
  }
  write_all(dir.path("good.pgm"), good);
  EXPECT_EQ(load(dir.path("good.pgm")).result, LK_ATTEST_OK);

  const Loaded missing = load(dir.path("missing.pgm"));
  EXPECT_EQ(missing.result, LK_ATTEST_ERR_REFERENCE_NOT_FOUND);
  EXPECT_NE(missing.message.find("does not exist"), std::string::npos) << missing.message;
  std::filesystem::create_directory(dir.path("a-directory"));
  const Loaded directory = load(dir.path("a-directory"));
  EXPECT_EQ(directory.result, LK_ATTEST_ERR_REFERENCE_FORMAT);
  EXPECT_NE(directory.message.find("not a regular file"), std::string::npos) << directory.message;
  EXPECT_EQ(load("").result, LK_ATTEST_ERR_INVALID_ARGUMENT);
  Thumb out{};
  EXPECT_EQ(lk_attest_reference_load(nullptr, out.data(), nullptr, 0), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_reference_load(dir.path("good.pgm").c_str(), nullptr, nullptr, 0),
            LK_ATTEST_ERR_INVALID_ARGUMENT);
}

TEST(AttestReference, C8_ASaveThatCannotBeWrittenLeavesTheOldFile) {
  ASSERT_GE(sodium_init(), 0);
  ScratchDir dir;
  std::mt19937_64 rng(4);
  const Thumb view = textured_thumb(rng);
  char message[LK_ATTEST_MESSAGE_SIZE] = "";
  const std::string nowhere = dir.path("missing-dir/reference.pgm");
  EXPECT_EQ(lk_attest_reference_save(nowhere.c_str(), view.data(), message, sizeof message), LK_ATTEST_ERR_IO);
  EXPECT_NE(std::string(message).find(nowhere), std::string::npos) << message;
  EXPECT_NE(std::string(message).find("No such file or directory"), std::string::npos) << message;

  // A directory where the file should be: rename fails, the temporary file goes.
  std::filesystem::create_directory(dir.path("occupied"));
  std::filesystem::create_directory(dir.path("occupied/inside"));
  EXPECT_EQ(lk_attest_reference_save(dir.path("occupied").c_str(), view.data(), message, sizeof message),
            LK_ATTEST_ERR_IO);
  EXPECT_NE(std::string(message).find("unchanged"), std::string::npos) << message;
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path(""))) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u) << "no temporary file left behind";
  EXPECT_EQ(lk_attest_reference_save("", view.data(), nullptr, 0), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_reference_save(nowhere.c_str(), nullptr, nullptr, 0), LK_ATTEST_ERR_INVALID_ARGUMENT);
}
