// latchkey_attest signs what the hub verifies (docs/rules.md C1-C3, C8, U2): every
// field read back with libprotobuf equals what was fed in (the scene present
// exactly when set, even all zeros), the signature
// verifies with libsodium and with sdk crypto's open_attestation, the counter
// strictly increases, each context is a new boot.
#include <sodium.h>

#include <gtest/gtest.h>

#include <set>

#include "attest_test_support.hpp"

extern "C" void lk__attest_set_counter(lk_attest_context* context, uint64_t counter);

namespace crypto = latchkey::crypto;
using namespace latchkey::attest_test;

namespace {

constexpr std::array<uint8_t, LK_ATTEST_SEED_SIZE> kSeed = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

std::array<uint8_t, LK_ATTEST_DIGEST_SIZE> digest_of(uint8_t fill) {
  std::array<uint8_t, LK_ATTEST_DIGEST_SIZE> digest{};
  digest.fill(fill);
  return digest;
}

std::string bytes(size_t size, char fill) { return std::string(size, fill); }
const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

class AttestSign : public ::testing::Test {
 protected:
  void SetUp() override {
    key = key_from_seed(kSeed);
    ASSERT_NE(key, nullptr);
    context = make_context("porch-cam");
    ASSERT_NE(context, nullptr);
  }
  Context make_context(const char* camera_id) {
    lk_attest_context* raw = nullptr;
    if (lk_attest_context_create(key.get(), camera_id, &raw) != LK_ATTEST_OK) return nullptr;
    return Context(raw);
  }
  Parsed sign_and_parse(uint64_t time_ns = 1000, uint8_t fill = 0x5A) {
    return parse(sign(context.get(), time_ns, digest_of(fill)));
  }

  Key key;
  Context context;
};

}  // namespace

TEST_F(AttestSign, C1_EveryFieldEqualsWhatWasFedIn) {
  const std::string nonce = bytes(16, '\x11');
  const std::string session = bytes(16, '\x22');
  ASSERT_EQ(lk_attest_set_nonce(context.get(), u8(nonce), nonce.size()), LK_ATTEST_OK);
  ASSERT_EQ(lk_attest_set_recording(context.get(), 1, u8(session), 7, 123456), LK_ATTEST_OK);

  const Parsed p = sign_and_parse(5'000'000'123, 0xC3);
  ASSERT_TRUE(p.ok);
  const latchkey::v1::Attestation& a = p.attestation;
  EXPECT_EQ(a.camera_id(), "porch-cam");
  EXPECT_EQ(a.boot_id(), boot_id_of(context.get()));
  EXPECT_EQ(a.counter(), 1u);
  EXPECT_EQ(a.capture_time_ns(), 5'000'000'123u);
  EXPECT_EQ(a.frame_digest(), bytes(32, '\xC3'));
  EXPECT_EQ(a.hub_nonce(), nonce);
  ASSERT_TRUE(a.has_recording());
  EXPECT_TRUE(a.recording().recording());
  EXPECT_EQ(a.recording().session_id(), session);
  EXPECT_EQ(a.recording().segment_id(), 7u);
  EXPECT_EQ(a.recording().recorded_bytes(), 123456u);
  EXPECT_EQ(p.signed_attestation.signature().size(), 64u);
}

TEST_F(AttestSign, C1_SignatureVerifiesWithLibsodiumAndTheHubsVerifier) {
  const std::vector<uint8_t> out = sign(context.get(), 42, digest_of(1));
  const Parsed p = parse(out);
  ASSERT_TRUE(p.ok);
  const crypto::PublicKey public_key = public_key_of(key.get());
  EXPECT_TRUE(verifies_with_libsodium(p, public_key));

  const crypto::OpenedAttestation opened = crypto::open_attestation(out, public_key);
  ASSERT_TRUE(opened.ok) << opened.error;
  EXPECT_EQ(opened.attestation.SerializeAsString(), p.attestation.SerializeAsString());

  // The same bytes under another camera's key, or with one body byte changed, do not open.
  std::array<uint8_t, LK_ATTEST_SEED_SIZE> other_seed = kSeed;
  other_seed[0] ^= 1;
  EXPECT_FALSE(crypto::open_attestation(out, crypto::KeyPair::from_seed(other_seed).public_key).ok);
  std::vector<uint8_t> tampered = out;
  tampered[10] ^= 0x01;  // inside camera_id, which starts at byte 5
  EXPECT_FALSE(crypto::open_attestation(tampered, public_key).ok);
}

TEST_F(AttestSign, C1_PublicKeyIsTheSeedsEd25519Key) {
  EXPECT_EQ(public_key_of(key.get()), crypto::KeyPair::from_seed(kSeed).public_key);
}

TEST_F(AttestSign, C1_BytesAreWhatLibprotobufWouldSerialize) {
  const std::string nonce = bytes(32, '\x7F');
  ASSERT_EQ(lk_attest_set_nonce(context.get(), u8(nonce), nonce.size()), LK_ATTEST_OK);
  for (const uint64_t time_ns : {uint64_t{0}, uint64_t{1}, uint64_t{300}, UINT64_MAX}) {
    const std::vector<uint8_t> out = sign(context.get(), time_ns, digest_of(9));
    const Parsed p = parse(out);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.signed_attestation.SerializeAsString(), std::string(out.begin(), out.end())) << time_ns;
    EXPECT_EQ(p.attestation.SerializeAsString(), p.signed_attestation.attestation()) << time_ns;
  }
}

TEST_F(AttestSign, C3_CounterStrictlyIncreasesByOnePerAttestation) {
  EXPECT_EQ(lk_attest_counter(context.get()), 0u);
  for (uint64_t expected = 1; expected <= 50; ++expected) {
    const Parsed p = sign_and_parse();
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.attestation.counter(), expected);
    EXPECT_EQ(lk_attest_counter(context.get()), expected);
  }
}

TEST_F(AttestSign, C3_CounterNeverWrapsWithinABoot) {
  lk__attest_set_counter(context.get(), UINT64_MAX - 1);
  EXPECT_EQ(sign_and_parse().attestation.counter(), UINT64_MAX);
  std::vector<uint8_t> out(LK_ATTEST_SIGNED_MAX);
  size_t size = out.size();
  EXPECT_EQ(lk_attest_sign(context.get(), 1, digest_of(0).data(), out.data(), &size), LK_ATTEST_ERR_COUNTER_EXHAUSTED);
  EXPECT_EQ(lk_attest_counter(context.get()), UINT64_MAX);
}

TEST_F(AttestSign, C3_EachContextIsANewBootWithARandomBootId) {
  std::set<std::string> boot_ids;
  for (int boot = 0; boot < 20; ++boot) {
    const Context c = make_context("porch-cam");
    ASSERT_NE(c, nullptr);
    const Parsed p = parse(sign(c.get(), 1, digest_of(0)));
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.attestation.boot_id().size(), LK_ATTEST_BOOT_ID_SIZE);
    EXPECT_EQ(p.attestation.boot_id(), boot_id_of(c.get()));
    EXPECT_EQ(p.attestation.counter(), 1u) << "a new boot starts its counter again";
    boot_ids.insert(p.attestation.boot_id());
  }
  EXPECT_EQ(boot_ids.size(), 20u);
  // Within one boot the id stays.
  EXPECT_EQ(sign_and_parse().attestation.boot_id(), sign_and_parse().attestation.boot_id());
}

TEST_F(AttestSign, C2_OnlyTheNewestNonceIsEchoed) {
  EXPECT_EQ(sign_and_parse().attestation.hub_nonce(), "") << "no nonce received yet";
  const std::string a = bytes(16, 'a');
  const std::string b = bytes(24, 'b');
  ASSERT_EQ(lk_attest_set_nonce(context.get(), u8(a), a.size()), LK_ATTEST_OK);
  EXPECT_EQ(sign_and_parse().attestation.hub_nonce(), a);
  ASSERT_EQ(lk_attest_set_nonce(context.get(), u8(b), b.size()), LK_ATTEST_OK);
  EXPECT_EQ(sign_and_parse().attestation.hub_nonce(), b);
  EXPECT_EQ(sign_and_parse().attestation.hub_nonce(), b) << "the newest nonce stays until the next";

  // A nonce of the wrong size is refused and the one held before is kept.
  const std::string too_short = bytes(15, 's');
  const std::string too_long = bytes(33, 'l');
  EXPECT_EQ(lk_attest_set_nonce(context.get(), u8(too_short), too_short.size()), LK_ATTEST_ERR_BAD_NONCE_SIZE);
  EXPECT_EQ(lk_attest_set_nonce(context.get(), u8(too_long), too_long.size()), LK_ATTEST_ERR_BAD_NONCE_SIZE);
  EXPECT_EQ(lk_attest_set_nonce(context.get(), nullptr, 16), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(sign_and_parse().attestation.hub_nonce(), b);
}

TEST_F(AttestSign, U2_NotRecordingIsStatedWithoutASessionId) {
  Parsed p = sign_and_parse();
  ASSERT_TRUE(p.attestation.has_recording()) << "the recording state is always sent";
  EXPECT_FALSE(p.attestation.recording().recording());

  ASSERT_EQ(lk_attest_set_recording(context.get(), 0, nullptr, 3, 99), LK_ATTEST_OK);
  p = sign_and_parse();
  EXPECT_FALSE(p.attestation.recording().recording());
  EXPECT_EQ(p.attestation.recording().session_id(), "");
  EXPECT_EQ(p.attestation.recording().segment_id(), 3u);
  EXPECT_EQ(p.attestation.recording().recorded_bytes(), 99u);

  // Recording needs a session; a flag other than 0 or 1 is refused; the state stays.
  const std::string session = bytes(16, 's');
  EXPECT_EQ(lk_attest_set_recording(context.get(), 1, nullptr, 4, 5), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_set_recording(context.get(), 2, u8(session), 4, 5), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_set_recording(nullptr, 0, nullptr, 4, 5), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(sign_and_parse().attestation.recording().segment_id(), 3u);
}

TEST_F(AttestSign, C8_SceneIsAbsentUntilSetAndAbsentAgainWhenCleared) {
  Parsed p = sign_and_parse();
  ASSERT_TRUE(p.ok);
  EXPECT_FALSE(p.attestation.has_scene()) << "a context starts without measurements";

  const lk_attest_scene scene = {123456, 7890, 912};
  ASSERT_EQ(lk_attest_set_scene(context.get(), &scene), LK_ATTEST_OK);
  p = sign_and_parse();
  ASSERT_TRUE(p.ok);
  ASSERT_TRUE(p.attestation.has_scene());
  EXPECT_EQ(p.attestation.scene().mean_luminance(), 123456u);
  EXPECT_EQ(p.attestation.scene().sharpness(), 7890u);
  EXPECT_EQ(p.attestation.scene().reference_similarity(), 912u);
  EXPECT_TRUE(sign_and_parse().attestation.has_scene()) << "the scene stays until changed";

  ASSERT_EQ(lk_attest_set_scene(context.get(), nullptr), LK_ATTEST_OK);
  p = sign_and_parse();
  ASSERT_TRUE(p.ok);
  EXPECT_FALSE(p.attestation.has_scene()) << "NULL clears: the field is left out";
}

TEST_F(AttestSign, C8_AllZeroSceneIsPresentWithLengthZero) {
  const lk_attest_scene zero = {0, 0, 0};
  ASSERT_EQ(lk_attest_set_scene(context.get(), &zero), LK_ATTEST_OK);
  const std::vector<uint8_t> out = sign(context.get(), 1000, digest_of(3));
  const Parsed p = parse(out);
  ASSERT_TRUE(p.ok);
  ASSERT_TRUE(p.attestation.has_scene()) << "black, flat and unlike the reference is still a measurement";
  EXPECT_EQ(p.attestation.scene().mean_luminance(), 0u);
  EXPECT_EQ(p.attestation.scene().sharpness(), 0u);
  EXPECT_EQ(p.attestation.scene().reference_similarity(), 0u);
  const std::string& body = p.signed_attestation.attestation();
  ASSERT_GE(body.size(), 2u);
  EXPECT_EQ(body.substr(body.size() - 2), std::string("\x42\x00", 2)) << "field 8, length 0, last";
  EXPECT_EQ(p.attestation.SerializeAsString(), body);
  EXPECT_EQ(p.signed_attestation.SerializeAsString(), std::string(out.begin(), out.end()));
}

TEST_F(AttestSign, C8_SceneBytesAreWhatLibprotobufWouldSerialize) {
  const std::string nonce = bytes(20, 'n');
  const std::string session = bytes(16, 's');
  ASSERT_EQ(lk_attest_set_nonce(context.get(), u8(nonce), nonce.size()), LK_ATTEST_OK);
  ASSERT_EQ(lk_attest_set_recording(context.get(), 1, u8(session), 2, 3), LK_ATTEST_OK);
  // Each value alone, every varint width, and the maxima: zeros inside are left out.
  const std::vector<lk_attest_scene> scenes = {
      {1, 0, 0},       {0, 1, 0},       {0, 0, 1},          {127, 128, 999},
      {16383, 16384, 1000}, {255000, 1020000, 1000}, {100000, 0, 700}, {0, 55555, 0}};
  for (const lk_attest_scene& scene : scenes) {
    ASSERT_EQ(lk_attest_set_scene(context.get(), &scene), LK_ATTEST_OK);
    const std::vector<uint8_t> out = sign(context.get(), 77, digest_of(4));
    const Parsed p = parse(out);
    ASSERT_TRUE(p.ok);
    ASSERT_TRUE(p.attestation.has_scene());
    EXPECT_EQ(p.attestation.scene().mean_luminance(), scene.mean_luminance);
    EXPECT_EQ(p.attestation.scene().sharpness(), scene.sharpness);
    EXPECT_EQ(p.attestation.scene().reference_similarity(), scene.reference_similarity);
    EXPECT_EQ(p.attestation.SerializeAsString(), p.signed_attestation.attestation()) << scene.mean_luminance;
    EXPECT_EQ(p.signed_attestation.SerializeAsString(), std::string(out.begin(), out.end()));
    EXPECT_TRUE(verifies_with_libsodium(p, public_key_of(key.get())));
    EXPECT_TRUE(crypto::open_attestation(out, public_key_of(key.get())).ok);
  }
}

TEST_F(AttestSign, C8_OutOfRangeSceneIsRefusedAndTheOldOneKept) {
  const lk_attest_scene good = {1000, 2000, 300};
  ASSERT_EQ(lk_attest_set_scene(context.get(), &good), LK_ATTEST_OK);
  for (const lk_attest_scene& bad : {lk_attest_scene{LK_ATTEST_LUMINANCE_MAX + 1, 0, 0},
                                     lk_attest_scene{0, LK_ATTEST_SHARPNESS_MAX + 1, 0},
                                     lk_attest_scene{0, 0, LK_ATTEST_SIMILARITY_MAX + 1},
                                     lk_attest_scene{UINT32_MAX, UINT32_MAX, UINT32_MAX}})
    EXPECT_EQ(lk_attest_set_scene(context.get(), &bad), LK_ATTEST_ERR_BAD_SCENE);
  EXPECT_EQ(lk_attest_set_scene(nullptr, &good), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_set_scene(nullptr, nullptr), LK_ATTEST_ERR_INVALID_ARGUMENT);
  const Parsed p = sign_and_parse();
  ASSERT_TRUE(p.attestation.has_scene());
  EXPECT_EQ(p.attestation.scene().mean_luminance(), 1000u);
  EXPECT_EQ(p.attestation.scene().sharpness(), 2000u);
  EXPECT_EQ(p.attestation.scene().reference_similarity(), 300u);
  EXPECT_EQ(lk_attest_counter(context.get()), 1u) << "refusals sign nothing";
}

TEST_F(AttestSign, SizeQueryAndShortBufferNeitherSignNorWrite) {
  size_t needed = 0;
  ASSERT_EQ(lk_attest_sign(context.get(), 1000, digest_of(1).data(), nullptr, &needed), LK_ATTEST_OK);
  EXPECT_GT(needed, 0u);
  EXPECT_EQ(lk_attest_counter(context.get()), 0u) << "a size query signs nothing";

  std::vector<uint8_t> out(needed, 0xEE);
  size_t size = needed - 1;
  EXPECT_EQ(lk_attest_sign(context.get(), 1000, digest_of(1).data(), out.data(), &size),
            LK_ATTEST_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(size, needed);
  EXPECT_EQ(out, std::vector<uint8_t>(needed, 0xEE)) << "a short buffer is left untouched";
  EXPECT_EQ(lk_attest_counter(context.get()), 0u);

  size = needed;
  ASSERT_EQ(lk_attest_sign(context.get(), 1000, digest_of(1).data(), out.data(), &size), LK_ATTEST_OK);
  EXPECT_EQ(size, needed);
  EXPECT_EQ(parse(out).attestation.counter(), 1u);
}

TEST_F(AttestSign, LongestInputsNeedExactlySignedMax) {
  const Context c = make_context(std::string(63, 'x').c_str());
  ASSERT_NE(c, nullptr);
  const std::string nonce = bytes(LK_ATTEST_NONCE_MAX, 'n');
  const std::string session = bytes(16, 's');
  ASSERT_EQ(lk_attest_set_nonce(c.get(), u8(nonce), nonce.size()), LK_ATTEST_OK);
  ASSERT_EQ(lk_attest_set_recording(c.get(), 1, u8(session), UINT64_MAX, UINT64_MAX), LK_ATTEST_OK);
  lk__attest_set_counter(c.get(), UINT64_MAX - 1);
  size_t needed = 0;
  ASSERT_EQ(lk_attest_sign(c.get(), UINT64_MAX, digest_of(1).data(), nullptr, &needed), LK_ATTEST_OK);
  EXPECT_EQ(needed, LK_ATTEST_SIGNED_MAX - 13u) << "without a scene: 286 bytes, as before C8";
  const lk_attest_scene widest = {LK_ATTEST_LUMINANCE_MAX, LK_ATTEST_SHARPNESS_MAX, LK_ATTEST_SIMILARITY_MAX};
  ASSERT_EQ(lk_attest_set_scene(c.get(), &widest), LK_ATTEST_OK);
  ASSERT_EQ(lk_attest_sign(c.get(), UINT64_MAX, digest_of(1).data(), nullptr, &needed), LK_ATTEST_OK);
  EXPECT_EQ(needed, LK_ATTEST_SIGNED_MAX);
  const Parsed p = parse(sign(c.get(), UINT64_MAX, digest_of(1)));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.attestation.camera_id(), std::string(63, 'x'));
  EXPECT_EQ(p.attestation.scene().sharpness(), LK_ATTEST_SHARPNESS_MAX);
}

TEST_F(AttestSign, CameraIdMustBe1To63PrintableCharacters) {
  for (const std::string& bad : {std::string(), std::string(64, 'x'), std::string("porch cam"),
                                std::string("porch\tcam"), std::string("caf\xC3\xA9"), std::string("a\x7F")}) {
    lk_attest_context* raw = reinterpret_cast<lk_attest_context*>(&raw);  // must stay untouched
    lk_attest_context* const before = raw;
    EXPECT_EQ(lk_attest_context_create(key.get(), bad.c_str(), &raw), LK_ATTEST_ERR_BAD_CAMERA_ID) << bad;
    EXPECT_EQ(raw, before);
  }
  EXPECT_NE(make_context(std::string(63, '~').c_str()), nullptr);
  EXPECT_NE(make_context("!"), nullptr);
}

TEST_F(AttestSign, NullArgumentsAreRefused) {
  lk_attest_context* raw = nullptr;
  EXPECT_EQ(lk_attest_context_create(nullptr, "cam", &raw), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_context_create(key.get(), nullptr, &raw), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_context_create(key.get(), "cam", nullptr), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(raw, nullptr);
  size_t size = LK_ATTEST_SIGNED_MAX;
  std::vector<uint8_t> out(size);
  EXPECT_EQ(lk_attest_sign(nullptr, 1, digest_of(0).data(), out.data(), &size), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_sign(context.get(), 1, nullptr, out.data(), &size), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_sign(context.get(), 1, digest_of(0).data(), out.data(), nullptr), LK_ATTEST_ERR_INVALID_ARGUMENT);
  lk_attest_key* no_key = nullptr;
  EXPECT_EQ(lk_attest_key_from_seed(nullptr, &no_key), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_counter(context.get()), 0u);
  lk_attest_context_free(nullptr);
  lk_attest_key_free(nullptr);
}

TEST(AttestResult, EveryCodeHasItsOwnName) {
  std::set<std::string> names;
  for (lk_attest_result code = LK_ATTEST_OK; code >= LK_ATTEST_ERR_REFERENCE_FLAT; --code) {
    const std::string name = lk_attest_result_name(code);
    EXPECT_EQ(name.rfind("LK_ATTEST_", 0), 0u) << code;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(1 - LK_ATTEST_ERR_REFERENCE_FLAT));
  EXPECT_STREQ(lk_attest_result_name(LK_ATTEST_ERR_REFERENCE_FLAT - 1), "unknown");
  EXPECT_STREQ(lk_attest_result_name(-999), "unknown");
}
