// The streamed frame digest is BLAKE2b-256 of the bytes in the order fed
// (C5 and C7 compare digests, so equal frames must give equal digests), and
// the capture clock helper is CLOCK_MONOTONIC.
#include <latchkey/crypto/crypto.hpp>

#include <gtest/gtest.h>
#include <time.h>

#include "attest_test_support.hpp"

namespace crypto = latchkey::crypto;
using namespace latchkey::attest_test;

namespace {

Digest make_digest() {
  lk_attest_digest* raw = nullptr;
  if (lk_attest_digest_create(&raw) != LK_ATTEST_OK) return nullptr;
  return Digest(raw);
}

crypto::Digest final_of(lk_attest_digest* digest) {
  crypto::Digest out{};
  EXPECT_EQ(lk_attest_digest_final(digest, out.data()), LK_ATTEST_OK);
  return out;
}

std::vector<uint8_t> frame(size_t size, uint8_t seed) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(seed + i * 31u);
  return bytes;
}

}  // namespace

TEST(AttestDigest, C5_StreamedRowsGiveTheBlake2b256OfTheWholeFrame) {
  const Digest digest = make_digest();
  ASSERT_NE(digest, nullptr);
  const std::vector<uint8_t> pixels = frame(640 * 3 + 17, 5);
  // Uneven rows, an empty piece among them.
  size_t at = 0;
  for (const size_t row : {size_t{640}, size_t{0}, size_t{1}, size_t{639}, size_t{640 + 17}}) {
    ASSERT_EQ(lk_attest_digest_update(digest.get(), pixels.data() + at, row), LK_ATTEST_OK);
    at += row;
  }
  ASSERT_EQ(at, pixels.size());
  EXPECT_EQ(final_of(digest.get()), crypto::blake2b256(pixels));
}

TEST(AttestDigest, C5_FinalStartsTheNextFrameSoEqualFramesGiveEqualDigests) {
  const Digest digest = make_digest();
  ASSERT_NE(digest, nullptr);
  const std::vector<uint8_t> pixels = frame(1000, 9);
  ASSERT_EQ(lk_attest_digest_update(digest.get(), pixels.data(), pixels.size()), LK_ATTEST_OK);
  const crypto::Digest first = final_of(digest.get());
  ASSERT_EQ(lk_attest_digest_update(digest.get(), pixels.data(), pixels.size()), LK_ATTEST_OK);
  EXPECT_EQ(final_of(digest.get()), first);
  EXPECT_EQ(final_of(digest.get()), crypto::blake2b256({})) << "a frame with no bytes";
}

TEST(AttestDigest, C7_ADifferentFrameGivesADifferentDigest) {
  const Digest digest = make_digest();
  ASSERT_NE(digest, nullptr);
  std::vector<uint8_t> pixels = frame(1000, 9);
  ASSERT_EQ(lk_attest_digest_update(digest.get(), pixels.data(), pixels.size()), LK_ATTEST_OK);
  const crypto::Digest first = final_of(digest.get());
  pixels[999] ^= 1;
  ASSERT_EQ(lk_attest_digest_update(digest.get(), pixels.data(), pixels.size()), LK_ATTEST_OK);
  EXPECT_NE(final_of(digest.get()), first);
}

TEST(AttestDigest, NullArgumentsAreRefused) {
  const Digest digest = make_digest();
  ASSERT_NE(digest, nullptr);
  uint8_t out[LK_ATTEST_DIGEST_SIZE];
  EXPECT_EQ(lk_attest_digest_create(nullptr), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_digest_update(nullptr, out, 1), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_digest_update(digest.get(), nullptr, 1), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_digest_update(digest.get(), nullptr, 0), LK_ATTEST_OK);
  EXPECT_EQ(lk_attest_digest_final(nullptr, out), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_digest_final(digest.get(), nullptr), LK_ATTEST_ERR_INVALID_ARGUMENT);
  lk_attest_digest_free(nullptr);
}

TEST(AttestClock, C3_MonotonicNsReadsClockMonotonic) {
  timespec before{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  const uint64_t reading = lk_attest_monotonic_ns();
  timespec after{};
  clock_gettime(CLOCK_MONOTONIC, &after);
  const auto ns = [](const timespec& t) { return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + t.tv_nsec; };
  EXPECT_LE(ns(before), reading);
  EXPECT_LE(reading, ns(after));
}
