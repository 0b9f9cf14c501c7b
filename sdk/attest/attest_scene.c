/* Scene measurements (docs/rules.md C8) of a GRAY8 frame: mean luminance,
 * sharpness, and likeness of its thumbnail to the reference view. Integers
 * only, so every platform gives the same numbers for the same frame (the
 * attestation carries them, signed); the header says what each one means. */
#include "attest_internal.h"

#include <string.h>

#define LK__THUMB_W LK_ATTEST_THUMB_WIDTH
#define LK__THUMB_H LK_ATTEST_THUMB_HEIGHT
#define LK__THUMB_N LK_ATTEST_THUMB_SIZE

static int frame_is_valid(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride) {
  (void)pixels;
  if (width < LK__THUMB_W || height < LK__THUMB_H) return 0;
  if (width > LK_ATTEST_FRAME_SIDE_MAX || height > LK_ATTEST_FRAME_SIDE_MAX) return 0;
  if (stride < width) return 0;
  /* The last row must be addressable: stride * (height - 1) + width fits a size_t. */
  if (stride > ((size_t)-1 - width) / height) return 0;
  return 1;
}

/* ---- Mean luminance and sharpness: one pass ------------------------------ */

/* Row sums stay within 32 bits (16384 x 255 < 2^22), totals within 64
 * (2^28 pixels x 255 x 1000 < 2^46), so nothing overflows at the largest
 * frame. The loops are plain so compilers vectorise them (GCC with
 * -fvect-cost-model=dynamic, see CMakeLists.txt). */
static uint32_t row_sum(const uint8_t *row, uint32_t width) {
  uint32_t sum = 0;
  uint32_t x;
  for (x = 0; x < width; ++x) sum += row[x];
  return sum;
}

/* Sharpness is taken on a coarse copy of the frame, each pixel of it the
 * sum of a block of b x b pixels, b chosen so that the copy is about
 * 160 x 90: sensor noise averages out over a block (its Laplacian would
 * otherwise keep a defocused noisy camera looking sharp), edges stay. At
 * most LK__BLOCK_COLS_MAX block columns are used (the left part of frames
 * more than about 5 times wider than tall); three rows of them are kept. */
#define LK__BLOCK_COLS_TARGET 160u
#define LK__BLOCK_ROWS_TARGET 90u
#define LK__BLOCK_COLS_MAX 512u

static uint32_t block_side(uint32_t width, uint32_t height) {
  const uint32_t by_width = width / LK__BLOCK_COLS_TARGET, by_height = height / LK__BLOCK_ROWS_TARGET;
  const uint32_t b = by_width < by_height ? by_width : by_height;
  return b == 0 ? 1u : b;
}

/* Over block columns 1 .. columns - 2 of the middle row; a block sum is at
 * most 102^2 x 255 < 2^22, so the Laplacian fits 32 bits. */
static uint64_t block_row_laplacian(const uint32_t *up, const uint32_t *row, const uint32_t *down, uint32_t columns) {
  uint64_t sum = 0;
  uint32_t x;
  for (x = 1; x + 1 < columns; ++x) {
    const int64_t v = 4 * (int64_t)row[x] - (int64_t)row[x - 1] - (int64_t)row[x + 1] - (int64_t)up[x] - (int64_t)down[x];
    sum += (uint64_t)(v < 0 ? -v : v);
  }
  return sum;
}

typedef struct lk__pass {
  uint64_t luminance_sum;   /* of every pixel */
  uint64_t laplacian_sum;   /* of |Laplacian| of block sums over the inner blocks */
  uint64_t laplacian_count; /* inner blocks x b^2: the divisor that makes it a per-pixel mean */
} lk__pass;

static lk__pass measure_pass(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride) {
  const uint32_t b = block_side(width, height);
  const uint32_t columns_all = width / b;
  const uint32_t columns = columns_all < LK__BLOCK_COLS_MAX ? columns_all : LK__BLOCK_COLS_MAX;
  const uint32_t rows = height / b;
  uint32_t blocks[3][LK__BLOCK_COLS_MAX];
  lk__pass out;
  uint32_t y;
  out.luminance_sum = 0;
  out.laplacian_sum = 0;
  out.laplacian_count = (uint64_t)(columns - 2u) * (rows - 2u) * b * b;
  for (y = 0; y < height; ++y) {
    const uint8_t *row = pixels + (size_t)y * stride;
    out.luminance_sum += row_sum(row, width);
    if (y < rows * b) {
      const uint32_t block_row = y / b;
      uint32_t *acc = blocks[block_row % 3u];
      uint32_t x;
      if (y % b == 0) memset(acc, 0, columns * sizeof acc[0]);
      for (x = 0; x < columns; ++x) acc[x] += row_sum(row + (size_t)x * b, b);
      if (y % b == b - 1u && block_row >= 2u)
        out.laplacian_sum += block_row_laplacian(blocks[(block_row - 2u) % 3u], blocks[(block_row - 1u) % 3u], acc,
                                                 columns);
    }
  }
  return out;
}

/* round(sum x 1000 / count), half up; count > 0. */
static uint32_t mean_x1000(uint64_t sum, uint64_t count) { return (uint32_t)((sum * 1000u + count / 2u) / count); }

/* ---- The thumbnail ------------------------------------------------------- */

static void make_thumbnail(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride,
                           uint8_t thumbnail[LK__THUMB_N]) {
  uint32_t column_end[LK__THUMB_W];
  uint32_t i;
  uint32_t j;
  for (i = 0; i < LK__THUMB_W; ++i) column_end[i] = (uint32_t)(((uint64_t)(i + 1u) * width) / LK__THUMB_W);
  for (j = 0; j < LK__THUMB_H; ++j) {
    const uint32_t y0 = (uint32_t)(((uint64_t)j * height) / LK__THUMB_H);
    const uint32_t y1 = (uint32_t)(((uint64_t)(j + 1u) * height) / LK__THUMB_H);
    /* A cell holds at most 512 x 911 pixels of 255: its sum fits 64 bits easily, 32 too. */
    uint64_t sums[LK__THUMB_W];
    uint32_t y;
    memset(sums, 0, sizeof sums);
    for (y = y0; y < y1; ++y) {
      const uint8_t *row = pixels + (size_t)y * stride;
      uint32_t x0 = 0;
      for (i = 0; i < LK__THUMB_W; ++i) {
        sums[i] += row_sum(row + x0, column_end[i] - x0);
        x0 = column_end[i];
      }
    }
    for (i = 0; i < LK__THUMB_W; ++i) {
      const uint32_t x0 = i == 0 ? 0u : column_end[i - 1];
      const uint64_t count = (uint64_t)(column_end[i] - x0) * (y1 - y0);
      thumbnail[j * LK__THUMB_W + i] = (uint8_t)((sums[i] + count / 2u) / count);
    }
  }
}

/* ---- Similarity: zero-mean normalised cross-correlation, exactly --------- */

/* The centred sums of a thumbnail pair, each multiplied by n = 576 so they
 * stay integers: n Sxy - Sx Sy, and n Sxx - Sx^2. With 8-bit values these
 * are below 576^2 x 127.5^2 < 2^33 in magnitude. */
typedef struct lk__moments {
  int64_t covariance;
  uint64_t variance_a;
  uint64_t variance_b;
} lk__moments;

static lk__moments moments(const uint8_t *a, const uint8_t *b) {
  uint64_t sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  lk__moments m;
  size_t k;
  for (k = 0; k < LK__THUMB_N; ++k) {
    sa += a[k];
    sb += b[k];
    saa += (uint32_t)a[k] * a[k];
    sbb += (uint32_t)b[k] * b[k];
    sab += (uint32_t)a[k] * b[k];
  }
  m.covariance = (int64_t)(LK__THUMB_N * sab) - (int64_t)(sa * sb);
  m.variance_a = LK__THUMB_N * saa - sa * sa;
  m.variance_b = LK__THUMB_N * sbb - sb * sb;
  return m;
}

/* a x b as a 128-bit number, from 32-bit halves (C99 has no wider type). */
typedef struct lk__u128 {
  uint64_t high;
  uint64_t low;
} lk__u128;

static lk__u128 multiply(uint64_t a, uint64_t b) {
  const uint64_t a0 = a & 0xFFFFFFFFu, a1 = a >> 32, b0 = b & 0xFFFFFFFFu, b1 = b >> 32;
  const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const uint64_t middle = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
  lk__u128 r;
  r.low = (middle << 32) | (p00 & 0xFFFFFFFFu);
  r.high = p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32);
  return r;
}

static int at_least(lk__u128 a, lk__u128 b) { return a.high != b.high ? a.high > b.high : a.low >= b.low; }

/* round(1000 r), r = cov / sqrt(va vb), without floating point: the answer
 * is the largest k in 0..1000 with k - 1/2 <= 1000 r, that is with
 * (2k - 1)^2 va vb <= (2000 cov)^2, found by bisection. Both sides are
 * below 2^92: (2k - 1)^2 va < 2^55 times vb < 2^33; 2000 cov < 2^44 squared. */
static uint32_t similarity_of(const lk__moments *m) {
  uint32_t low = 0, high = LK_ATTEST_SIMILARITY_MAX;
  lk__u128 target;
  if (m->covariance <= 0 || m->variance_a == 0 || m->variance_b == 0) return 0;
  target = multiply(2000u * (uint64_t)m->covariance, 2000u * (uint64_t)m->covariance);
  while (low < high) {
    const uint32_t k = (low + high + 1u) / 2u;
    const uint64_t odd = 2u * (uint64_t)k - 1u;
    if (at_least(target, multiply(odd * odd * m->variance_a, m->variance_b)))
      low = k;
    else
      high = k - 1u;
  }
  return low;
}

uint32_t lk_attest_similarity(const uint8_t thumbnail[LK_ATTEST_THUMB_SIZE],
                              const uint8_t reference[LK_ATTEST_THUMB_SIZE]) {
  const lk__moments m = moments(thumbnail, reference);
  return similarity_of(&m);
}

/* The standard deviation of a thumbnail in tenths of a grey level, rounded
 * down: sqrt(n Sxx - Sx^2) / n, by integer square root. */
static uint32_t isqrt64(uint64_t v) {
  uint64_t r = 0, bit = (uint64_t)1 << 62;
  while (bit > v) bit >>= 2;
  while (bit != 0) {
    if (v >= r + bit) {
      v -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  return (uint32_t)r;
}

uint32_t lk__attest_thumbnail_deviation_x10(const uint8_t thumbnail[LK_ATTEST_THUMB_SIZE]) {
  const lk__moments m = moments(thumbnail, thumbnail);
  return isqrt64(m.variance_a * 100u) / LK__THUMB_N;
}

int lk__attest_thumbnail_is_flat(const uint8_t thumbnail[LK_ATTEST_THUMB_SIZE]) {
  const lk__moments m = moments(thumbnail, thumbnail);
  /* standard deviation < min  <=>  n Sxx - Sx^2 < (n min)^2 */
  const uint64_t floor = (uint64_t)LK__THUMB_N * LK_ATTEST_REFERENCE_CONTRAST_MIN;
  return m.variance_a < floor * floor;
}

/* ---- The public functions ------------------------------------------------ */

lk_attest_result lk_attest_thumbnail(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride,
                                     uint8_t thumbnail[LK_ATTEST_THUMB_SIZE]) {
  if (pixels == NULL || thumbnail == NULL) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  if (!frame_is_valid(pixels, width, height, stride)) return LK_ATTEST_ERR_BAD_FRAME;
  make_thumbnail(pixels, width, height, stride, thumbnail);
  return LK_ATTEST_OK;
}

lk_attest_result lk_attest_scene_measure(const uint8_t *pixels, uint32_t width, uint32_t height, size_t stride,
                                         const uint8_t *reference, lk_attest_scene *scene) {
  lk__pass pass;
  lk_attest_scene out;
  if (pixels == NULL || scene == NULL) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  if (!frame_is_valid(pixels, width, height, stride)) return LK_ATTEST_ERR_BAD_FRAME;
  pass = measure_pass(pixels, width, height, stride);
  out.mean_luminance = mean_x1000(pass.luminance_sum, (uint64_t)width * height);
  out.sharpness = mean_x1000(pass.laplacian_sum, pass.laplacian_count);
  out.reference_similarity = 0;
  if (reference != NULL) {
    uint8_t thumbnail[LK__THUMB_N];
    make_thumbnail(pixels, width, height, stride, thumbnail);
    out.reference_similarity = lk_attest_similarity(thumbnail, reference);
  }
  *scene = out;
  return LK_ATTEST_OK;
}
