#include "bench_camera.hpp"

#include <latchkey/crypto/attestations.hpp>
#include <latchkey/sim/device_uri.hpp>

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <queue>
#include <thread>

namespace latchkey::bench {
namespace {

int64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

// What one camera knows; the worker holds it by shared_ptr, so a camera that
// closes while the worker is about to attest for it is simply skipped.
struct BenchCamera::State {
  std::mutex mutex;  // guards everything below; attestations are emitted while holding it
  bool closed = false;
  std::string name;
  crypto::SecretKey secret{};
  plugin::EventSink sink;
  int probe_fd = -1;
  std::string boot_id;
  uint64_t counter = 0;
  crypto::Digest digest{};
  std::vector<uint8_t> nonce;
  bool recording = false;
  std::array<uint8_t, LK_SESSION_ID_SIZE> session{};
  bool offline = false;
  bool freeze = false;

  void attest() {
    std::lock_guard<std::mutex> lock(mutex);
    if (closed || offline) return;
    ++counter;
    const int64_t now = mono_ns();
    if (!freeze || counter == 1) {
      // A fresh "frame": only its digest matters to the hub (C5).
      std::string frame = name;
      frame.append(reinterpret_cast<const char*>(&counter), sizeof counter);
      digest = crypto::blake2b256(crypto::view(frame));
    }
    v1::Attestation a;
    a.set_camera_id(name);
    a.set_boot_id(boot_id);
    a.set_counter(counter);
    a.set_capture_time_ns(static_cast<uint64_t>(now));
    a.set_frame_digest(digest.data(), digest.size());
    a.set_hub_nonce(nonce.data(), nonce.size());
    // C8: a well-lit, sharp view of the door, as a real camera would measure it.
    a.mutable_scene()->set_mean_luminance(120'000);
    a.mutable_scene()->set_sharpness(20'000);
    a.mutable_scene()->set_reference_similarity(950);
    if (recording) {
      a.mutable_recording()->set_recording(true);
      a.mutable_recording()->set_session_id(session.data(), session.size());
      a.mutable_recording()->set_segment_id(1);
    }
    sink.emit_lent(LK_EVENT_ATTESTATION, crypto::sign_attestation(a, secret), static_cast<uint64_t>(now));
    if (probe_fd >= 0) {
      const int64_t sent = mono_ns();
      [[maybe_unused]] const ssize_t n = ::write(probe_fd, &sent, sizeof sent);
    }
  }
};

// The one worker thread of the plugin: a schedule of (due time, camera).
// Created with the first camera, joined when the last one closes.
class CameraClock {
 public:
  static std::shared_ptr<CameraClock> instance() {
    static std::mutex guard;
    static std::weak_ptr<CameraClock> current;
    std::lock_guard<std::mutex> lock(guard);
    auto clock = current.lock();
    if (!clock) {
      clock = std::make_shared<CameraClock>();
      current = clock;
    }
    return clock;
  }

  CameraClock() : worker_([this] { run(); }) {}
  ~CameraClock() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (worker_.joinable()) worker_.join();
  }

  void schedule(int64_t due, std::shared_ptr<BenchCamera::State> state, int64_t period) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push(Entry{due, ++sequence_, std::move(state), period});
    }
    wake_.notify_one();
  }

 private:
  struct Entry {
    int64_t due;
    uint64_t sequence;
    std::shared_ptr<BenchCamera::State> state;
    int64_t period;  // 0: a one-off attestation
    bool operator>(const Entry& other) const {
      return due != other.due ? due > other.due : sequence > other.sequence;
    }
  };

  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (queue_.empty()) {
        wake_.wait(lock);
        continue;
      }
      const int64_t due = queue_.top().due;
      const int64_t now = mono_ns();
      if (due > now) {
        wake_.wait_for(lock, std::chrono::nanoseconds(due - now));
        continue;
      }
      Entry entry = queue_.top();
      queue_.pop();
      lock.unlock();
      bool open = false;
      {
        std::lock_guard<std::mutex> state_lock(entry.state->mutex);
        open = !entry.state->closed;
      }
      if (open) entry.state->attest();
      lock.lock();
      if (open && entry.period > 0) {
        // Keep the grid; a worker that fell behind does not burst.
        int64_t next = entry.due + entry.period;
        if (next <= mono_ns()) next = mono_ns() + entry.period;
        queue_.push(Entry{next, ++sequence_, std::move(entry.state), entry.period});
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;
  uint64_t sequence_ = 0;
  bool stopping_ = false;
  std::thread worker_;  // last: starts after the members it uses exist
};

std::unique_ptr<BenchCamera> BenchCamera::open(std::string_view uri, plugin::EventSink sink) {
  const sim::DeviceUri parsed = sim::DeviceUri::parse(uri, "camera", {"rate_hz", "seed", "probe_fd"});
  Config config;
  config.name = parsed.name();
  config.rate_hz = static_cast<uint32_t>(parsed.get_uint("rate_hz", 4, 1, 50));
  const auto seed = parsed.get_hex("seed", 32);
  if (!seed) throw plugin::Error(LK_ERR_INVALID_ARGUMENT, "the bench camera needs seed=<64 hex digits>");
  std::copy(seed->begin(), seed->end(), config.seed.begin());
  const uint64_t probe = parsed.get_uint("probe_fd", 0, 0, 1 << 20);
  config.probe_fd = probe == 0 ? -1 : static_cast<int>(probe);  // never stdin
  return std::make_unique<BenchCamera>(std::move(config), sink);
}

BenchCamera::BenchCamera(Config config, plugin::EventSink sink)
    : config_(std::move(config)),
      sink_(sink),
      key_(crypto::KeyPair::from_seed(config_.seed)),
      state_(std::make_shared<State>()),
      clock_(CameraClock::instance()) {
  state_->name = config_.name;
  state_->secret = key_.secret_key;
  state_->sink = sink_;
  state_->probe_fd = config_.probe_fd;
  const crypto::Bytes boot = crypto::random_bytes(16);
  state_->boot_id.assign(boot.begin(), boot.end());
  // Spread the cameras over the period so the worker's load is even.
  const int64_t phase = static_cast<int64_t>(crypto::blake2b256(crypto::view(config_.name))[0]) * period_ns() / 256;
  clock_->schedule(mono_ns() + phase, state_, period_ns());
}

BenchCamera::~BenchCamera() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->closed = true;
}

void BenchCamera::describe(lk_camera_description& description) {
  description.flags = LK_CAMERA_CAP_RECORDING;
  plugin::copy_text(description.camera_id, config_.name);
  std::memcpy(description.public_key, key_.public_key.data(), sizeof description.public_key);
  description.attestation_period_ms = (1000 + config_.rate_hz - 1) / config_.rate_hz;
  description.max_snapshot_bytes = 0;
}

void BenchCamera::deliver_nonce(const uint8_t* nonce, std::size_t size) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->nonce.assign(nonce, nonce + size);
}

void BenchCamera::start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->recording = true;
    std::copy(session_id, session_id + LK_SESSION_ID_SIZE, state_->session.begin());
    sink_.emit(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_RECORDING_STARTED, 0, static_cast<uint64_t>(mono_ns()));
  }
  // Acknowledge at once (U2), as the reference sim camera does.
  clock_->schedule(mono_ns(), state_, 0);
}

void BenchCamera::stop_recording() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (!state_->recording) throw plugin::Error(LK_ERR_STATE, "not recording");
  state_->recording = false;
  sink_.emit(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_RECORDING_STOPPED, 0, static_cast<uint64_t>(mono_ns()));
}

lk_result BenchCamera::inject_fault(lk_fault fault, int64_t) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  switch (fault) {
    case LK_FAULT_CAMERA_OFFLINE:
      state_->offline = true;
      return LK_OK;
    case LK_FAULT_CAMERA_FREEZE:
      state_->freeze = true;
      return LK_OK;
    default:
      return LK_ERR_UNSUPPORTED;
  }
}

lk_result BenchCamera::clear_faults() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->offline = false;
  state_->freeze = false;
  return LK_OK;
}

}  // namespace latchkey::bench
