// A seeded randomized property test of lk_attest_sign over its inputs: camera
// ids, nonces, recording states, scene measurements (absent, all zero, any
// value, beyond the maxima), counters, capture times, digests and output
// buffers of random sizes, within and beyond the limits. Every call either
// succeeds with bytes that libprotobuf parses to exactly the inputs, that
// verify with libsodium and the hub's verifier, or refuses with the
// documented code and changes nothing; no call writes outside the caller's
// buffer (a guard region after it must stay intact).
// LATCHKEY_ATTEST_SEED=<n> replays one seed; LATCHKEY_ATTEST_RUNS=<n> sets
// how many contexts are tried.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>

#include "attest_test_support.hpp"

extern "C" void lk__attest_set_counter(lk_attest_context* context, uint64_t counter);

namespace crypto = latchkey::crypto;
using namespace latchkey::attest_test;

namespace {

constexpr size_t kGuardSize = 64;
constexpr uint8_t kGuardByte = 0xA5;

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 10) : fallback;
}

// What the context should hold, mirrored from the calls that succeeded.
struct Model {
  std::string camera_id;
  std::string nonce;
  bool recording = false;
  std::string session_id;
  uint64_t segment_id = 0;
  uint64_t recorded_bytes = 0;
  bool has_scene = false;
  lk_attest_scene scene{};
  uint64_t counter = 0;
};

class RandomCamera {
 public:
  explicit RandomCamera(uint64_t seed) : rng_(seed) {}

  // Values of every varint width, and the edges.
  uint64_t any_u64() {
    switch (pick(0, 4)) {
      case 0: return 0;
      case 1: return UINT64_MAX;
      default: return rng_() >> pick(0, 63);
    }
  }
  size_t pick(size_t low, size_t high) { return std::uniform_int_distribution<size_t>(low, high)(rng_); }
  bool chance(unsigned percent) { return pick(0, 99) < percent; }
  std::string random_bytes(size_t size) {
    std::string out(size, '\0');
    for (char& c : out) c = static_cast<char>(pick(0, 255));
    return out;
  }
  // Mostly valid ids; sometimes empty, too long, or with a byte outside 0x21-0x7E.
  std::string camera_id() {
    std::string id(pick(0, 100) < 85 ? pick(1, 63) : pick(0, 90), 'c');
    for (char& c : id) c = static_cast<char>(chance(97) ? pick(0x21, 0x7E) : pick(1, 255));
    return id;
  }

  void one_context() {
    const Key key = key_from_seed(seed_bytes());
    ASSERT_NE(key, nullptr);
    const crypto::PublicKey public_key = public_key_of(key.get());

    Model model;
    model.camera_id = camera_id();
    const bool id_valid = !model.camera_id.empty() && model.camera_id.size() <= 63 &&
                          std::all_of(model.camera_id.begin(), model.camera_id.end(),
                                      [](char c) { return c >= 0x21 && c <= 0x7E; });
    lk_attest_context* raw = nullptr;
    const lk_attest_result created = lk_attest_context_create(key.get(), model.camera_id.c_str(), &raw);
    ASSERT_EQ(created, id_valid ? LK_ATTEST_OK : LK_ATTEST_ERR_BAD_CAMERA_ID) << "camera id of " << model.camera_id.size();
    if (!id_valid) {
      EXPECT_EQ(raw, nullptr);
      return;
    }
    const Context context(raw);
    const std::string boot_id = boot_id_of(context.get());
    for (size_t step = pick(1, 6); step > 0; --step) {
      if (chance(40)) change_nonce(context.get(), model);
      if (chance(40)) change_recording(context.get(), model);
      if (chance(40)) change_scene(context.get(), model);
      if (chance(20)) {
        model.counter = chance(30) ? UINT64_MAX - pick(0, 1) : any_u64();
        lk__attest_set_counter(context.get(), model.counter);
      }
      sign_once(context.get(), model, boot_id, public_key);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

 private:
  std::array<uint8_t, LK_ATTEST_SEED_SIZE> seed_bytes() {
    std::array<uint8_t, LK_ATTEST_SEED_SIZE> seed{};
    for (uint8_t& b : seed) b = static_cast<uint8_t>(pick(0, 255));
    return seed;
  }

  void change_nonce(lk_attest_context* context, Model& model) {
    const size_t size = pick(0, LK_ATTEST_NONCE_MAX + 16);
    const std::string nonce = random_bytes(size);
    const bool null_pointer = chance(5);
    const lk_attest_result expected = null_pointer ? LK_ATTEST_ERR_INVALID_ARGUMENT
                                      : size >= LK_ATTEST_NONCE_MIN && size <= LK_ATTEST_NONCE_MAX
                                          ? LK_ATTEST_OK
                                          : LK_ATTEST_ERR_BAD_NONCE_SIZE;
    const auto* data = null_pointer ? nullptr : reinterpret_cast<const uint8_t*>(nonce.data());
    EXPECT_EQ(lk_attest_set_nonce(context, data, size), expected) << "nonce of " << size;
    if (expected == LK_ATTEST_OK) model.nonce = nonce;
  }

  void change_recording(lk_attest_context* context, Model& model) {
    const int flag = chance(90) ? static_cast<int>(pick(0, 1)) : (chance(50) ? 2 : -1);
    const bool with_session = chance(80);
    const std::string session = random_bytes(LK_ATTEST_SESSION_ID_SIZE);
    const uint64_t segment = any_u64();
    const uint64_t bytes = any_u64();
    const bool valid = (flag == 0 || flag == 1) && (flag == 0 || with_session);
    const auto* data = with_session ? reinterpret_cast<const uint8_t*>(session.data()) : nullptr;
    EXPECT_EQ(lk_attest_set_recording(context, flag, data, segment, bytes),
              valid ? LK_ATTEST_OK : LK_ATTEST_ERR_INVALID_ARGUMENT)
        << "flag " << flag << (with_session ? " with" : " without") << " a session";
    if (!valid) return;
    model.recording = flag == 1;
    model.session_id = with_session ? session : std::string();
    model.segment_id = segment;
    model.recorded_bytes = bytes;
  }

  // A measurement: zero (left out inside the scene), its maximum, one above
  // (refused), or any value of any varint width below the maximum.
  uint32_t measurement(uint32_t max) {
    switch (pick(0, 9)) {
      case 0: return 0;
      case 1: return max;
      case 2: return chance(50) ? max + 1 : static_cast<uint32_t>(pick(max + 1, UINT32_MAX));
      default: return static_cast<uint32_t>(pick(0, max) >> pick(0, 20));
    }
  }

  void change_scene(lk_attest_context* context, Model& model) {
    if (chance(15)) {
      EXPECT_EQ(lk_attest_set_scene(context, nullptr), LK_ATTEST_OK);
      model.has_scene = false;
      return;
    }
    const lk_attest_scene scene = {measurement(LK_ATTEST_LUMINANCE_MAX), measurement(LK_ATTEST_SHARPNESS_MAX),
                                   measurement(LK_ATTEST_SIMILARITY_MAX)};
    const bool valid = scene.mean_luminance <= LK_ATTEST_LUMINANCE_MAX && scene.sharpness <= LK_ATTEST_SHARPNESS_MAX &&
                       scene.reference_similarity <= LK_ATTEST_SIMILARITY_MAX;
    EXPECT_EQ(lk_attest_set_scene(context, &scene), valid ? LK_ATTEST_OK : LK_ATTEST_ERR_BAD_SCENE)
        << scene.mean_luminance << " " << scene.sharpness << " " << scene.reference_similarity;
    if (!valid) return;
    model.has_scene = true;
    model.scene = scene;
  }

  void sign_once(lk_attest_context* context, Model& model, const std::string& boot_id,
                 const crypto::PublicKey& public_key) {
    const uint64_t time_ns = any_u64();
    std::array<uint8_t, LK_ATTEST_DIGEST_SIZE> digest{};
    for (uint8_t& b : digest) b = static_cast<uint8_t>(pick(0, 255));

    size_t needed = 0;
    const lk_attest_result queried = lk_attest_sign(context, time_ns, digest.data(), nullptr, &needed);
    if (model.counter == UINT64_MAX) {
      EXPECT_EQ(queried, LK_ATTEST_ERR_COUNTER_EXHAUSTED);
    } else {
      ASSERT_EQ(queried, LK_ATTEST_OK);
      ASSERT_LE(needed, LK_ATTEST_SIGNED_MAX);
    }
    EXPECT_EQ(lk_attest_counter(context), model.counter) << "a size query signs nothing";

    // A buffer big enough, a byte or two short, or of any size; then a guard region.
    const size_t shape = pick(0, 9);
    const size_t capacity = shape < 6   ? needed + pick(0, 16)
                            : shape < 8 ? needed - std::min(needed, pick(1, 2))
                                        : pick(0, LK_ATTEST_SIGNED_MAX + 8);
    std::vector<uint8_t> buffer(capacity + kGuardSize, kGuardByte);
    size_t size = capacity;
    const lk_attest_result result = lk_attest_sign(context, time_ns, digest.data(), buffer.data(), &size);
    for (size_t i = capacity; i < buffer.size(); ++i)
      ASSERT_EQ(buffer[i], kGuardByte) << "wrote " << i - capacity << " bytes past a buffer of " << capacity;

    if (model.counter == UINT64_MAX) {
      EXPECT_EQ(result, LK_ATTEST_ERR_COUNTER_EXHAUSTED);
    } else if (capacity < needed) {
      EXPECT_EQ(result, LK_ATTEST_ERR_BUFFER_TOO_SMALL);
      EXPECT_EQ(size, needed);
    } else {
      ASSERT_EQ(result, LK_ATTEST_OK);
      EXPECT_EQ(size, needed);
      ++model.counter;
      ++signed_count;
      expect_matches(std::vector<uint8_t>(buffer.begin(), buffer.begin() + static_cast<long>(size)), model, boot_id,
                     time_ns, digest, public_key);
    }
    if (result != LK_ATTEST_OK) {
      EXPECT_EQ(buffer, std::vector<uint8_t>(capacity + kGuardSize, kGuardByte)) << "a refused call wrote";
    }
    EXPECT_EQ(lk_attest_counter(context), model.counter);
  }

  void expect_matches(const std::vector<uint8_t>& out, const Model& model, const std::string& boot_id,
                      uint64_t time_ns, const std::array<uint8_t, LK_ATTEST_DIGEST_SIZE>& digest,
                      const crypto::PublicKey& public_key) {
    const Parsed p = parse(out);
    ASSERT_TRUE(p.ok);
    const latchkey::v1::Attestation& a = p.attestation;
    EXPECT_EQ(a.camera_id(), model.camera_id);
    EXPECT_EQ(a.boot_id(), boot_id);
    EXPECT_EQ(a.counter(), model.counter);
    EXPECT_EQ(a.capture_time_ns(), time_ns);
    EXPECT_EQ(a.frame_digest(), std::string(digest.begin(), digest.end()));
    EXPECT_EQ(a.hub_nonce(), model.nonce);
    EXPECT_TRUE(a.has_recording());
    EXPECT_EQ(a.recording().recording(), model.recording);
    EXPECT_EQ(a.recording().session_id(), model.session_id);
    EXPECT_EQ(a.recording().segment_id(), model.segment_id);
    EXPECT_EQ(a.recording().recorded_bytes(), model.recorded_bytes);
    EXPECT_EQ(a.has_scene(), model.has_scene);
    EXPECT_EQ(a.scene().mean_luminance(), model.has_scene ? model.scene.mean_luminance : 0u);
    EXPECT_EQ(a.scene().sharpness(), model.has_scene ? model.scene.sharpness : 0u);
    EXPECT_EQ(a.scene().reference_similarity(), model.has_scene ? model.scene.reference_similarity : 0u);
    if (model.has_scene) ++scene_count;
    EXPECT_EQ(a.SerializeAsString(), p.signed_attestation.attestation());
    EXPECT_EQ(p.signed_attestation.SerializeAsString(), std::string(out.begin(), out.end()));
    EXPECT_TRUE(verifies_with_libsodium(p, public_key));
    const crypto::OpenedAttestation opened = crypto::open_attestation(out, public_key);
    EXPECT_TRUE(opened.ok) << opened.error;
  }

  std::mt19937_64 rng_;

 public:
  static inline uint64_t signed_count = 0;
  static inline uint64_t scene_count = 0;
};

}  // namespace

TEST(AttestEncoderProperty, EveryCallParsesToItsInputsOrRefusesAndNeverWritesPastTheBuffer) {
  const uint64_t seed = env_or("LATCHKEY_ATTEST_SEED", 20250611);
  const uint64_t runs = env_or("LATCHKEY_ATTEST_RUNS", 1500);
  for (uint64_t i = 0; i < runs; ++i) {
    const uint64_t run_seed = seed + i;
    SCOPED_TRACE("replay with LATCHKEY_ATTEST_SEED=" + std::to_string(run_seed) + " LATCHKEY_ATTEST_RUNS=1");
    RandomCamera(run_seed).one_context();
    if (::testing::Test::HasFailure()) return;
  }
  // Most runs must reach a signature, or the property says little.
  EXPECT_GT(RandomCamera::signed_count, runs) << "attestations signed and checked";
  EXPECT_GT(RandomCamera::scene_count, runs / 4) << "attestations with a scene";
  std::printf("%llu attestations signed and checked (%llu with a scene) over %llu contexts\n",
              static_cast<unsigned long long>(RandomCamera::signed_count),
              static_cast<unsigned long long>(RandomCamera::scene_count), static_cast<unsigned long long>(runs));
}
