// A small attesting camera (on the C++ wrapper) that breaks exactly one
// contract, chosen at build time (FAULTY_* below; none: a correct camera).
// Devices are "faulty://camera/<name>", 20 attestations a second.
//
//   FAULTY_REPEAT_COUNTER        every third attestation repeats the previous counter (C3)
//   FAULTY_FROZEN                the sensor is stuck: one frame digest forever, still signed (C5)
//   FAULTY_WRONG_KEY             signs with a key other than the one it describes (C1)
//   FAULTY_IGNORES_NONCE         keeps echoing the first nonce it received (C2)
//   FAULTY_FREES_SNAPSHOT_BUFFER calls free() on a caller's snapshot buffer that is too short (abi.md 3)
//
// Faults that show only after a while, or only against a bound stated tightly:
//
//   FAULTY_LATE_WRONG_KEY        from its 96th attestation since open on, signs with another key (C1):
//                                right for almost five seconds, longer than TC-CAM-1.2's window or a TC-GATE
//                                scenario keeps it open
//   FAULTY_RECORDING_NEW_BOOT    starting to record again after a stop restarts its pipeline under a new
//                                boot id, counter from 1, unannounced (C3): start, stop, start again
//   FAULTY_OUTAGE_COUNTER_RESET  back from an outage (LK_FAULT_CAMERA_OFFLINE cleared) its counter starts
//                                again at 1 under the same boot id (C3)
//   FAULTY_PERIOD_FAST           declares an attestation period of 100 ms, attests every 60 ms
//   FAULTY_PERIOD_SLOW           declares an attestation period of 50 ms, attests every 70 ms
//   FAULTY_CLOCK_FAST            its capture clock runs 12 % fast: inside the 10 % + 150 ms over 2 s that
//                                TC-CAM-1.6 used to allow, outside C3's 10 %; the hub rejects it after about
//                                4 s, longer than a TC-GATE scenario keeps it open
#include <latchkey/cpp/plugin.hpp>
#include <latchkey/crypto/attestations.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace {

using latchkey::plugin::Error;
namespace crypto = latchkey::crypto;

// The period it declares, and the one it keeps.
#if defined(FAULTY_PERIOD_FAST)
constexpr uint32_t kPeriodMs = 100;
constexpr uint32_t kActualPeriodMs = 60;  // the bug: 60 % of what it declares
#elif defined(FAULTY_PERIOD_SLOW)
constexpr uint32_t kPeriodMs = 50;
constexpr uint32_t kActualPeriodMs = 70;  // the bug: 140 % of what it declares
#else
constexpr uint32_t kPeriodMs = 50;
constexpr uint32_t kActualPeriodMs = kPeriodMs;
#endif
#ifdef FAULTY_LATE_WRONG_KEY
constexpr uint64_t kGoodAttestations = 95;  // then the wrong key
#endif
constexpr std::size_t kFrameSize = 256;

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

class FaultyCamera final : public latchkey::plugin::CameraDriver {
 public:
  static std::unique_ptr<FaultyCamera> open(std::string_view uri, latchkey::plugin::EventSink sink) {
    constexpr std::string_view prefix = "faulty://camera/";
    if (uri.substr(0, prefix.size()) != prefix || uri.size() == prefix.size()) return nullptr;
    return std::make_unique<FaultyCamera>(std::string(uri.substr(prefix.size())), sink);
  }

  FaultyCamera(std::string name, latchkey::plugin::EventSink sink)
      : name_(std::move(name)), sink_(sink), key_(key_for(name_, "device")), other_key_(key_for(name_, "other")),
        boot_id_(crypto::random_bytes(16)), worker_([this] { run(); }) {}

  ~FaultyCamera() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

  void describe(lk_camera_description& d) override {
    d.flags = LK_CAMERA_CAP_SNAPSHOT | LK_CAMERA_CAP_RECORDING;
    latchkey::plugin::copy_text(d.camera_id, name_);
    std::memcpy(d.public_key, key_.public_key.data(), sizeof d.public_key);
    d.attestation_period_ms = kPeriodMs;
    d.max_snapshot_bytes = kFrameSize;
  }

  void deliver_nonce(const uint8_t* nonce, std::size_t size) override {
    std::lock_guard lock(mutex_);
#ifdef FAULTY_IGNORES_NONCE
    if (!nonce_.empty()) return;  // the bug: only the first nonce is ever echoed
#endif
    nonce_.assign(nonce, nonce + size);
  }

  void start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) override {
    std::lock_guard lock(mutex_);
    const std::string id(reinterpret_cast<const char*>(session_id), LK_SESSION_ID_SIZE);
    if (recording_ && session_ == id) return;
#ifdef FAULTY_RECORDING_NEW_BOOT
    if (!recording_ && stopped_once_) {
      // The bug: a new recording restarts the capture pipeline, and with it the boot id and counter.
      boot_id_ = crypto::random_bytes(16);
      counter_ = 0;
    }
#endif
    recording_ = true;
    session_ = id;
    ++segment_;
  }

  void stop_recording() override {
    std::lock_guard lock(mutex_);
    if (!recording_) throw Error(LK_ERR_STATE, "not recording");
    recording_ = false;
    stopped_once_ = true;
  }

  std::vector<uint8_t> snapshot(lk_snapshot_info& info) override {
    std::lock_guard lock(mutex_);
    info.format = LK_SNAPSHOT_FORMAT_PPM;
    info.width = 8;
    info.height = 8;
    info.device_time_ns = now_ns();
    return std::vector<uint8_t>(kFrameSize, static_cast<uint8_t>(frame_));
  }

  lk_result inject_fault(lk_fault fault, int64_t) override {
    std::lock_guard lock(mutex_);
    if (fault == LK_FAULT_CAMERA_FREEZE) freeze_ = true;
    else if (fault == LK_FAULT_CAMERA_OFFLINE) offline_ = true;
    else return LK_ERR_UNSUPPORTED;
    return LK_OK;
  }

  lk_result clear_faults() override {
    std::lock_guard lock(mutex_);
#ifdef FAULTY_OUTAGE_COUNTER_RESET
    if (offline_) counter_ = 0;  // the bug: back from the outage the counter starts again, same boot id
#endif
    freeze_ = offline_ = false;
    return LK_OK;
  }

 private:
  // The camera's own clock for capture times.
  uint64_t capture_ns() const {
#ifdef FAULTY_CLOCK_FAST
    return opened_ns_ + (now_ns() - opened_ns_) * 112 / 100;  // the bug: 12 % fast
#else
    return now_ns();
#endif
  }

  // One device key per camera name, so that enrolment and later opens agree.
  static crypto::KeyPair key_for(const std::string& name, const std::string& purpose) {
    return crypto::KeyPair::from_seed(crypto::blake2b256(crypto::view("faulty-camera:" + purpose + ":" + name)));
  }

  void run() {
    std::unique_lock lock(mutex_);
    auto next = std::chrono::steady_clock::now();
    while (!stopping_) {
      if (!offline_) {
        crypto::Bytes signed_attestation = attest_locked();
        lock.unlock();  // no lock held across on_event (abi.md 6)
        sink_.emit_lent(LK_EVENT_ATTESTATION, std::move(signed_attestation), now_ns());
        lock.lock();
      }
      next += std::chrono::milliseconds(kActualPeriodMs);
      wake_.wait_until(lock, next, [this] { return stopping_; });
    }
  }

  crypto::Bytes attest_locked() {
#ifndef FAULTY_FROZEN
    if (!freeze_) ++frame_;
#endif
    ++attestations_;
#ifdef FAULTY_REPEAT_COUNTER
    if (attestations_ % 3 != 0) ++counter_;  // the bug: every third attestation reuses the counter
#else
    ++counter_;
#endif
    latchkey::v1::Attestation a;
    a.set_camera_id(name_);
    a.set_boot_id(boot_id_.data(), boot_id_.size());
    a.set_counter(counter_);
    a.set_capture_time_ns(capture_ns());
    const std::vector<uint8_t> frame(kFrameSize, static_cast<uint8_t>(frame_));
    const std::vector<uint8_t> numbered = [&] {
      std::vector<uint8_t> f = frame;
      for (int i = 0; i < 8; ++i) f[i] = static_cast<uint8_t>(frame_ >> (8 * i));
      return f;
    }();
    const crypto::Digest digest = crypto::blake2b256(numbered);
    a.set_frame_digest(digest.data(), digest.size());
    a.set_hub_nonce(nonce_.data(), nonce_.size());
    if (recording_) {
      auto* r = a.mutable_recording();
      r->set_recording(true);
      r->set_session_id(session_);
      r->set_segment_id(segment_);
      r->set_recorded_bytes(attestations_ * kFrameSize);
    }
#if defined(FAULTY_WRONG_KEY)
    return crypto::sign_attestation(a, other_key_.secret_key);  // the bug: not the described key
#elif defined(FAULTY_LATE_WRONG_KEY)
    // The bug: after a while, another key (a key store that rotates on its own, say).
    return crypto::sign_attestation(a, attestations_ > kGoodAttestations ? other_key_.secret_key : key_.secret_key);
#else
    return crypto::sign_attestation(a, key_.secret_key);
#endif
  }

  const std::string name_;
  const latchkey::plugin::EventSink sink_;
  const crypto::KeyPair key_;
  const crypto::KeyPair other_key_;
  const uint64_t opened_ns_ = now_ns();
  crypto::Bytes boot_id_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool freeze_ = false;
  bool offline_ = false;
  uint64_t frame_ = 1;
  uint64_t counter_ = 0;
  uint64_t attestations_ = 0;
  std::vector<uint8_t> nonce_;
  bool recording_ = false;
  bool stopped_once_ = false;  // a recording was stopped since open
  std::string session_;
  uint64_t segment_ = 0;
  std::thread worker_;  // last: it runs run() on the members above
};

#define FAULTY_STRING2(x) #x
#define FAULTY_STRING(x) FAULTY_STRING2(x)

struct FaultyCameraPlugin {
  static constexpr const char* vendor = "Latchkey conformance";
  static constexpr const char* driver_id = "org.latchkey.conformance.faulty." FAULTY_STRING(FAULTY_NAME);
  static constexpr const char* driver_version = "1.0.0";
  static constexpr const char* description = "A camera that breaks one contract on purpose";
  static constexpr bool test_control = true;
  static constexpr bool snapshot = true;
  using Camera = FaultyCamera;
};

}  // namespace

#ifdef FAULTY_FREES_SNAPSHOT_BUFFER
namespace {

namespace detail = latchkey::plugin::detail;

// The bug: a driver that treats a short caller buffer as its own to replace.
lk_result freeing_snapshot(lk_camera_device* d, uint8_t* buffer, std::size_t* size, lk_snapshot_info* info) noexcept {
  const lk_result r = detail::CameraTable<FaultyCameraPlugin>::snapshot(d, buffer, size, info);
  if (r == LK_ERR_BUFFER_TOO_SMALL && buffer != nullptr) std::free(buffer);
  return r;
}

lk_result freeing_get_interface(const char* name, uint32_t major, const void** table) noexcept {
  const lk_result r = detail::get_interface<FaultyCameraPlugin>(name, major, table);
  if (r == LK_OK && std::string_view(name) == LK_CAMERA_INTERFACE_NAME) {
    static lk_camera_interface_v1 patched = *static_cast<const lk_camera_interface_v1*>(*table);
    patched.snapshot = &freeing_snapshot;
    *table = &patched;
  }
  return r;
}

}  // namespace

extern "C" LK_EXPORT lk_result lk_plugin_negotiate(const lk_negotiate_request* request, const lk_plugin_info** info) {
  const lk_result r = detail::negotiate<FaultyCameraPlugin>(request, info);
  if (r != LK_OK) return r;
  static lk_plugin_info patched;
  patched = **info;
  patched.get_interface = &freeing_get_interface;
  *info = &patched;
  return LK_OK;
}
#else
LK_PLUGIN_EXPORT(FaultyCameraPlugin)
#endif
