// The simulated camera through real shared-library loading: attestations
// (docs/rules.md C1) verified with the described key, nonces (C2), recording (U2),
// snapshots, and every camera fault visible in the attestation stream.
#include "event_recorder.hpp"

#include <latchkey/crypto/attestations.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>

namespace latchkey::testing {
namespace {

using host::CameraHandle;
using host::Plugin;

constexpr char kSeedHex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr uint32_t kRateHz = 50;
constexpr Millis kPeriod{1000 / kRateHz};
constexpr Millis kTimeout{2000};

crypto::PublicKey seed_public_key() {
  const auto seed = crypto::from_hex(kSeedHex);
  std::array<uint8_t, 32> s{};
  std::copy(seed->begin(), seed->end(), s.begin());
  return crypto::KeyPair::from_seed(s).public_key;
}

std::vector<uint8_t> nonce_of(uint8_t fill) { return std::vector<uint8_t>(16, fill); }

class SimCamera : public ::testing::Test {
 protected:
  void SetUp() override {
    host::LoadOptions options;
    options.log = recorder_.log_handler();
    plugin_ = Plugin::load(LATCHKEY_SIM_CAMERA_PATH, options);
    ASSERT_EQ(CameraHandle::open(plugin_, uri_, recorder_.handler(), &camera_), LK_OK);
    description_.struct_size = sizeof description_;
    ASSERT_EQ(camera_->describe(&description_), LK_OK);
    std::memcpy(key_.data(), description_.public_key, key_.size());
  }

  // Attestation events from index `from` on, waiting until there are n of them.
  std::vector<crypto::OpenedAttestation> attestations(std::size_t n, std::size_t from, const crypto::PublicKey& key) {
    std::vector<crypto::OpenedAttestation> out;
    recorder_.wait(kTimeout + n * kPeriod, [&] { return count_from(from) >= n; });
    for (const host::DeviceEvent& e : recorder_.events()) {
      if (from > 0) {
        --from;
        continue;
      }
      if (e.kind != LK_EVENT_ATTESTATION || !e.data) continue;
      out.push_back(crypto::open_attestation(crypto::ByteView(e.data->data(), e.data->size()), key));
      if (out.size() == n) break;
    }
    EXPECT_EQ(out.size(), n) << "attestations did not arrive";
    return out;
  }
  std::vector<crypto::OpenedAttestation> next_attestations(std::size_t n) {
    return attestations(n, recorder_.event_count(), key_);
  }

  // Waits until the stream reflects a change made just now (one in-flight
  // attestation may predate it), then returns the next n attestations.
  std::vector<crypto::OpenedAttestation> settled_attestations(std::size_t n) {
    attestations(1, recorder_.event_count(), key_);
    return next_attestations(n);
  }

  std::size_t count_from(std::size_t from) {  // called with the recorder's lock held
    return recorder_.event_count_unlocked(from, LK_EVENT_ATTESTATION);
  }

  const std::string uri_ = std::string("sim://camera/porch?rate_hz=") + std::to_string(kRateHz) + "&seed=" + kSeedHex;
  EventRecorder recorder_;
  std::shared_ptr<Plugin> plugin_;
  std::unique_ptr<CameraHandle> camera_;
  lk_camera_description description_{};
  crypto::PublicKey key_{};
};

TEST_F(SimCamera, Describe_GivesIdKeyPeriodAndSnapshotSize) {
  EXPECT_STREQ(description_.camera_id, "porch");
  EXPECT_EQ(key_, seed_public_key());
  EXPECT_EQ(description_.attestation_period_ms, 1000u / kRateHz);
  EXPECT_EQ(description_.flags, LK_CAMERA_CAP_SNAPSHOT | LK_CAMERA_CAP_RECORDING);
  EXPECT_GT(description_.max_snapshot_bytes, 0u);
  EXPECT_EQ(plugin_->identity().driver_id, "org.latchkey.sim-camera");
  EXPECT_EQ(plugin_->identity().driver_version, LATCHKEY_PROJECT_VERSION);
}

TEST_F(SimCamera, C1_AttestationsVerifyWithDescribedKey) {
  const auto stream = next_attestations(6);
  for (std::size_t i = 0; i < stream.size(); ++i) {
    ASSERT_TRUE(stream[i].ok) << stream[i].error;
    const v1::Attestation& a = stream[i].attestation;
    EXPECT_EQ(a.camera_id(), "porch");
    EXPECT_EQ(a.boot_id().size(), 16u);
    EXPECT_EQ(a.frame_digest().size(), 32u);
    if (i == 0) continue;
    const v1::Attestation& before = stream[i - 1].attestation;
    EXPECT_EQ(a.boot_id(), before.boot_id());
    EXPECT_GT(a.counter(), before.counter()) << "counter must strictly increase";
    EXPECT_GT(a.capture_time_ns(), before.capture_time_ns());
    EXPECT_NE(a.frame_digest(), before.frame_digest()) << "every capture is a new frame";
  }
}

TEST_F(SimCamera, C1_BootIdIsNewOnEveryOpen) {
  const auto first = next_attestations(1);
  EventRecorder other_events;
  std::unique_ptr<CameraHandle> other;
  ASSERT_EQ(CameraHandle::open(plugin_, uri_, other_events.handler(), &other), LK_OK);
  ASSERT_TRUE(other_events.wait(kTimeout, [&] { return other_events.event_count_unlocked(0, LK_EVENT_ATTESTATION) > 0; }));
  const host::DeviceEvent e = other_events.events().front();
  const auto second = crypto::open_attestation(crypto::ByteView(e.data->data(), e.data->size()), key_);
  ASSERT_TRUE(second.ok);
  EXPECT_NE(second.attestation.boot_id(), first[0].attestation.boot_id());
}

TEST_F(SimCamera, C2_EchoesLatestDeliveredNonce) {
  const std::vector<uint8_t> a = nonce_of(0xA1);
  const std::vector<uint8_t> b = nonce_of(0xB2);
  ASSERT_EQ(camera_->deliver_nonce(a.data(), a.size()), LK_OK);
  for (const auto& att : settled_attestations(3)) EXPECT_EQ(att.attestation.hub_nonce(), std::string(a.begin(), a.end()));
  ASSERT_EQ(camera_->deliver_nonce(b.data(), b.size()), LK_OK);
  for (const auto& att : settled_attestations(3)) EXPECT_EQ(att.attestation.hub_nonce(), std::string(b.begin(), b.end()));
  EXPECT_EQ(camera_->deliver_nonce(a.data(), 8), LK_ERR_INVALID_ARGUMENT);  // below 16 bytes
}

TEST_F(SimCamera, U2_RecordingIsReflectedInAttestations) {
  uint8_t session[LK_SESSION_ID_SIZE];
  for (std::size_t i = 0; i < sizeof session; ++i) session[i] = static_cast<uint8_t>(0x40 + i);
  const std::size_t before = recorder_.event_count();
  ASSERT_EQ(camera_->start_recording(session), LK_OK);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_RECORDING_STARTED, -1, before, kTimeout), 0);
  const auto recording = settled_attestations(3);
  uint64_t last_bytes = 0;
  for (const auto& att : recording) {
    ASSERT_TRUE(att.ok);
    const v1::RecordingState& r = att.attestation.recording();
    EXPECT_TRUE(r.recording());
    EXPECT_EQ(r.session_id(), std::string(reinterpret_cast<const char*>(session), sizeof session));
    EXPECT_GT(r.segment_id(), 0u);
    EXPECT_GT(r.recorded_bytes(), last_bytes) << "recorded bytes must grow";
    last_bytes = r.recorded_bytes();
  }
  uint8_t other[LK_SESSION_ID_SIZE] = {};
  const uint64_t first_segment = recording.back().attestation.recording().segment_id();
  ASSERT_EQ(camera_->start_recording(other), LK_OK) << "a new session switches the recording";
  const auto switched = settled_attestations(2).back().attestation.recording();
  EXPECT_EQ(switched.session_id(), std::string(sizeof other, '\0'));
  EXPECT_GT(switched.segment_id(), first_segment);

  const std::size_t before_stop = recorder_.event_count();
  ASSERT_EQ(camera_->stop_recording(), LK_OK);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_RECORDING_STOPPED, -1, before_stop, kTimeout), 0);
  for (const auto& att : settled_attestations(2)) EXPECT_FALSE(att.attestation.recording().recording());
  EXPECT_EQ(camera_->stop_recording(), LK_ERR_STATE);
}

TEST_F(SimCamera, Snapshot_QueryShortBufferAndContent) {
  // Straight through the C table: the size query and the short buffer.
  const lk_camera_interface_v1* table = plugin_->camera_interface();
  ASSERT_NE(table->snapshot, nullptr);
  lk_event_sink sink{sizeof(lk_event_sink), nullptr, [](void*, const lk_event* e) {
                       if (e->release != nullptr) e->release(e->release_context, e->data);
                     }};
  lk_camera_device* device = nullptr;
  ASSERT_EQ(table->open(uri_.c_str(), &sink, &device), LK_OK);
  std::size_t size = 0;
  EXPECT_EQ(table->snapshot(device, nullptr, &size, nullptr), LK_OK);
  EXPECT_GT(size, 0u);
  EXPECT_LE(size, description_.max_snapshot_bytes);
  std::vector<uint8_t> small(size - 1);
  std::size_t small_size = small.size();
  EXPECT_EQ(table->snapshot(device, small.data(), &small_size, nullptr), LK_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(small_size, size);
  std::vector<uint8_t> frame(size);
  lk_snapshot_info info{};
  info.struct_size = sizeof info;
  EXPECT_EQ(table->snapshot(device, frame.data(), &size, &info), LK_OK);
  table->close(device);
  EXPECT_EQ(info.format, LK_SNAPSHOT_FORMAT_PPM);
  EXPECT_EQ(std::string(frame.begin(), frame.begin() + 2), "P6");
  EXPECT_EQ(frame.size(), 3u * info.width * info.height + std::string("P6\n32 24\n255\n").size());

  std::vector<uint8_t> via_handle;
  EXPECT_EQ(camera_->snapshot(&via_handle, nullptr), LK_OK);
  EXPECT_EQ(via_handle.size(), frame.size());
}

TEST_F(SimCamera, FaultFreeze_DigestStaysConstantButSigned) {
  ASSERT_EQ(camera_->inject_fault(LK_FAULT_CAMERA_FREEZE, 0), LK_OK);
  const auto frozen = settled_attestations(5);
  for (const auto& att : frozen) {
    ASSERT_TRUE(att.ok) << att.error;
    EXPECT_EQ(att.attestation.frame_digest(), frozen[0].attestation.frame_digest());
  }
  EXPECT_GT(frozen.back().attestation.counter(), frozen.front().attestation.counter());
  ASSERT_EQ(camera_->clear_faults(), LK_OK);
  const auto live = settled_attestations(2);
  EXPECT_NE(live[0].attestation.frame_digest(), live[1].attestation.frame_digest());
}

TEST_F(SimCamera, FaultOffline_NoAttestationsArrive) {
  next_attestations(1);
  const std::size_t before = recorder_.event_count();
  ASSERT_EQ(camera_->inject_fault(LK_FAULT_CAMERA_OFFLINE, 0), LK_OK);
  ASSERT_GE(recorder_.wait_event(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_OFFLINE, -1, before, kTimeout), 0);
  std::this_thread::sleep_for(2 * kPeriod);  // one tick may have been under way
  const std::size_t quiet_from = recorder_.event_count();
  EXPECT_LT(recorder_.wait_event(LK_EVENT_ATTESTATION, -1, -1, quiet_from, 6 * kPeriod), 0);
  ASSERT_EQ(camera_->clear_faults(), LK_OK);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_ONLINE, -1, quiet_from, kTimeout), 0);
  EXPECT_GE(recorder_.wait_event(LK_EVENT_ATTESTATION, -1, -1, quiet_from, kTimeout), 0);
}

TEST_F(SimCamera, FaultReplay_OldCounterReappears) {
  const auto earlier = next_attestations(4);
  uint64_t highest = 0;
  for (const auto& att : earlier) highest = std::max<uint64_t>(highest, att.attestation.counter());
  ASSERT_EQ(camera_->inject_fault(LK_FAULT_CAMERA_REPLAY, 0), LK_OK);
  const auto replayed = settled_attestations(3);
  bool old_counter_seen = false;
  for (const auto& att : replayed) {
    EXPECT_TRUE(att.ok) << "replayed attestations carry genuine signatures";
    old_counter_seen = old_counter_seen || att.attestation.counter() <= highest;
  }
  EXPECT_TRUE(old_counter_seen);
}

TEST_F(SimCamera, FaultIgnoreNonce_KeepsEchoingFirstNonce) {
  const std::vector<uint8_t> first = nonce_of(0x11);
  const std::vector<uint8_t> later = nonce_of(0x22);
  ASSERT_EQ(camera_->deliver_nonce(first.data(), first.size()), LK_OK);
  ASSERT_EQ(camera_->inject_fault(LK_FAULT_CAMERA_IGNORE_NONCE, 0), LK_OK);
  ASSERT_EQ(camera_->deliver_nonce(later.data(), later.size()), LK_OK);
  for (const auto& att : settled_attestations(3))
    EXPECT_EQ(att.attestation.hub_nonce(), std::string(first.begin(), first.end()));
  ASSERT_EQ(camera_->clear_faults(), LK_OK);
  for (const auto& att : settled_attestations(2))
    EXPECT_EQ(att.attestation.hub_nonce(), std::string(later.begin(), later.end()));
}

TEST_F(SimCamera, FaultRepeatCounter_CounterStopsIncreasing) {
  ASSERT_EQ(camera_->inject_fault(LK_FAULT_CAMERA_REPEAT_COUNTER, 0), LK_OK);
  const auto stream = settled_attestations(3);
  EXPECT_EQ(stream[0].attestation.counter(), stream[1].attestation.counter());
  EXPECT_EQ(stream[1].attestation.counter(), stream[2].attestation.counter());
  for (const auto& att : stream) EXPECT_TRUE(att.ok);
}

TEST_F(SimCamera, FaultWrongKey_SignatureFailsWithDescribedKey) {
  ASSERT_EQ(camera_->inject_fault(LK_FAULT_CAMERA_WRONG_KEY, 0), LK_OK);
  for (const auto& att : settled_attestations(3)) {
    EXPECT_FALSE(att.ok);
    EXPECT_NE(att.error.find("signature"), std::string::npos) << att.error;
  }
  ASSERT_EQ(camera_->clear_faults(), LK_OK);
  for (const auto& att : settled_attestations(2)) EXPECT_TRUE(att.ok);
}

TEST_F(SimCamera, FaultClockJump_CaptureTimeJumps) {
  const auto before = next_attestations(1);
  ASSERT_EQ(camera_->inject_fault(LK_FAULT_CAMERA_CLOCK_JUMP, 5000), LK_OK);
  const auto ahead = settled_attestations(1);
  EXPECT_GE(ahead[0].attestation.capture_time_ns(), before[0].attestation.capture_time_ns() + 5'000'000'000ull);
  ASSERT_EQ(camera_->inject_fault(LK_FAULT_CAMERA_CLOCK_JUMP, -10000), LK_OK);  // now 5 s behind
  const auto behind = settled_attestations(1);
  EXPECT_LT(behind[0].attestation.capture_time_ns(), before[0].attestation.capture_time_ns()) << "clock ran backwards";
}

TEST_F(SimCamera, Close_LentAttestationOutlivesTheDevice) {
  next_attestations(1);
  std::shared_ptr<host::LentBytes> kept;
  for (const host::DeviceEvent& e : recorder_.events())
    if (e.kind == LK_EVENT_ATTESTATION) kept = e.data;
  ASSERT_TRUE(kept);
  camera_.reset();
  const auto opened = crypto::open_attestation(crypto::ByteView(kept->data(), kept->size()), key_);
  EXPECT_TRUE(opened.ok);
}

TEST_F(SimCamera, Open_RefusesOutOfRangeRateNamingTheKey) {
  std::unique_ptr<CameraHandle> other;
  EXPECT_EQ(CameraHandle::open(plugin_, "sim://camera/porch?rate_hz=51", recorder_.handler(), &other),
            LK_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(recorder_.logged("rate_hz"));
  EXPECT_EQ(CameraHandle::open(plugin_, "sim://camera/porch?seed=00ff", recorder_.handler(), &other),
            LK_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(recorder_.logged("seed"));
  EXPECT_EQ(other, nullptr);
}

}  // namespace
}  // namespace latchkey::testing
