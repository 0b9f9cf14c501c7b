#include "sim_camera.hpp"

#include <latchkey/crypto/attestations.hpp>
#include <latchkey/sim/device_uri.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <utility>

namespace latchkey::sim {
namespace {

using plugin::Error;

constexpr uint32_t kMinRateHz = 1;
constexpr uint32_t kMaxRateHz = 50;
constexpr int64_t kMaxClockJumpMs = 24LL * 3600 * 1000;

std::string ppm_header() {
  return "P6\n" + std::to_string(SimCamera::kFrameWidth) + " " + std::to_string(SimCamera::kFrameHeight) + "\n255\n";
}

std::size_t frame_size() { return ppm_header().size() + SimCamera::kFrameWidth * SimCamera::kFrameHeight * 3; }

// A synthetic scene: a gradient that drifts with every capture, so two
// consecutive frames (and their digests) always differ.
std::vector<uint8_t> render_frame(uint64_t number) {
  const std::string header = ppm_header();
  std::vector<uint8_t> frame(header.begin(), header.end());
  frame.reserve(frame_size());
  for (uint32_t y = 0; y < SimCamera::kFrameHeight; ++y) {
    for (uint32_t x = 0; x < SimCamera::kFrameWidth; ++x) {
      frame.push_back(static_cast<uint8_t>(x * 8 + number));
      frame.push_back(static_cast<uint8_t>(y * 10 + number * 3));
      frame.push_back(static_cast<uint8_t>((x ^ y) + (number >> 8)));
    }
  }
  for (std::size_t i = 0; i < 8; ++i) frame[header.size() + i] = static_cast<uint8_t>(number >> (8 * i));
  return frame;
}

}  // namespace

std::unique_ptr<SimCamera> SimCamera::open(std::string_view uri, plugin::EventSink sink) {
  const DeviceUri parsed = DeviceUri::parse(uri, "camera", {"rate_hz", "seed"});
  Config config;
  config.name = parsed.name();
  config.rate_hz = static_cast<uint32_t>(parsed.get_uint("rate_hz", 4, kMinRateHz, kMaxRateHz));
  if (const auto seed = parsed.get_hex("seed", 32)) {
    config.seed.emplace();
    std::copy(seed->begin(), seed->end(), config.seed->begin());
  }
  return std::make_unique<SimCamera>(std::move(config), sink);
}

SimCamera::SimCamera(Config config, plugin::EventSink sink)
    : config_(std::move(config)),
      sink_(sink),
      key_(config_.seed ? crypto::KeyPair::from_seed(*config_.seed) : crypto::KeyPair::generate()),
      boot_id_(crypto::random_bytes(16)) {
  std::lock_guard<std::mutex> lock(mutex_);
  // The scene goes on where a restarted camera's sensor finds it, not at the
  // first frame of its last boot: otherwise C7 would rightly call a restart
  // a loop. Each frame carries its number in its first pixels, as a camera
  // burns in its clock, so no two frames of a camera's life are equal.
  for (std::size_t i = 0; i < 8; ++i) frame_number_ = (frame_number_ << 8) | boot_id_[i];
  capture_locked();  // a snapshot is available from the start
  next_tick_ = Scheduler::Clock::now();
  scheduler_.at(next_tick_, [this] { on_tick(); });
}

SimCamera::~SimCamera() { scheduler_.stop(); }

void SimCamera::describe(lk_camera_description& description) {
  description.flags = LK_CAMERA_CAP_SNAPSHOT | LK_CAMERA_CAP_RECORDING;
  plugin::copy_text(description.camera_id, config_.name);
  std::memcpy(description.public_key, key_.public_key.data(), sizeof description.public_key);
  description.attestation_period_ms = period_ms();
  description.max_snapshot_bytes = static_cast<uint32_t>(frame_size());
}

void SimCamera::deliver_nonce(const uint8_t* nonce, std::size_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  nonce_.assign(nonce, nonce + size);
  if (!first_nonce_) first_nonce_ = nonce_;
}

void SimCamera::start_recording(const uint8_t (&session_id)[LK_SESSION_ID_SIZE]) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (recording_.on && std::equal(recording_.session_id.begin(), recording_.session_id.end(), session_id))
    return;  // idempotent
  // A new session while recording another switches to it in a new segment (lk_camera.h).
  recording_.on = true;
  std::copy(session_id, session_id + LK_SESSION_ID_SIZE, recording_.session_id.begin());
  recording_.segment_id = ++last_segment_id_;
  recording_.bytes = 0;
  sink_.emit(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_RECORDING_STARTED, 0, camera_time_ns_locked());
  // Acknowledge the new session at once in an extra attestation, so the hub's
  // recording-first check (U2) does not wait for the next period.
  scheduler_.at(Scheduler::Clock::now(), [this] {
    std::lock_guard<std::mutex> guard(mutex_);
    emit_attestation_locked();
  });
}

void SimCamera::stop_recording() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!recording_.on) throw Error(LK_ERR_STATE, "not recording");
  recording_ = Recording{};
  sink_.emit(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_RECORDING_STOPPED, 0, camera_time_ns_locked());
}

std::vector<uint8_t> SimCamera::snapshot(lk_snapshot_info& info) {
  std::lock_guard<std::mutex> lock(mutex_);
  info.format = LK_SNAPSHOT_FORMAT_PPM;
  info.width = kFrameWidth;
  info.height = kFrameHeight;
  info.device_time_ns = frame_time_ns_;
  return frame_;
}

lk_result SimCamera::inject_fault(lk_fault fault, int64_t parameter) {
  std::lock_guard<std::mutex> lock(mutex_);
  switch (fault) {
    case LK_FAULT_CAMERA_FREEZE:
      faults_.freeze = true;
      return LK_OK;
    case LK_FAULT_CAMERA_OFFLINE:
      if (!faults_.offline) sink_.emit(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_OFFLINE, 0, camera_time_ns_locked());
      faults_.offline = true;
      return LK_OK;
    case LK_FAULT_CAMERA_REPLAY:
      if (!faults_.replay) replay_next_ = 0;  // start again from the oldest kept attestation
      faults_.replay = true;
      return LK_OK;
    case LK_FAULT_CAMERA_IGNORE_NONCE:
      faults_.ignore_nonce = true;
      return LK_OK;
    case LK_FAULT_CAMERA_REPEAT_COUNTER:
      faults_.repeat_counter = true;
      return LK_OK;
    case LK_FAULT_CAMERA_WRONG_KEY:
      faults_.wrong_key = crypto::KeyPair::generate();
      return LK_OK;
    case LK_FAULT_CAMERA_CLOCK_JUMP:
      if (parameter < -kMaxClockJumpMs || parameter > kMaxClockJumpMs) return LK_ERR_INVALID_ARGUMENT;
      faults_.clock_offset_ns += parameter * 1'000'000;
      return LK_OK;
    case LK_FAULT_CAMERA_COVERED:
      faults_.covered = true;
      return LK_OK;
    default:
      return LK_ERR_UNSUPPORTED;
  }
}

lk_result SimCamera::clear_faults() {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool was_offline = faults_.offline;
  faults_ = Faults{};  // the clock returns to its true reading
  if (was_offline) sink_.emit(LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_ONLINE, 0, camera_time_ns_locked());
  return LK_OK;
}

void SimCamera::on_tick() {
  std::lock_guard<std::mutex> lock(mutex_);
  emit_attestation_locked();
  next_tick_ += std::chrono::nanoseconds(1'000'000'000LL / config_.rate_hz);
  scheduler_.at(next_tick_, [this] { on_tick(); });
}

void SimCamera::emit_attestation_locked() {
  if (faults_.replay && !history_.empty()) {
    // Resend what was already signed, oldest first, looping over the history.
    crypto::Bytes old = history_[replay_next_ % history_.size()];
    ++replay_next_;
    sink_.emit_lent(LK_EVENT_ATTESTATION, std::move(old), camera_time_ns_locked());
  } else if (!faults_.offline) {
    capture_locked();
    crypto::Bytes signed_attestation = attest_locked();
    history_.push_back(signed_attestation);
    if (history_.size() > kReplayHistory) history_.pop_front();
    sink_.emit_lent(LK_EVENT_ATTESTATION, std::move(signed_attestation), frame_time_ns_);
  }
}

void SimCamera::capture_locked() {
  frame_time_ns_ = camera_time_ns_locked();
  if (faults_.freeze && !frame_.empty()) {
    if (recording_.on) recording_.bytes += frame_.size();
    return;  // FREEZE: the sensor keeps delivering the same picture
  }
  frame_ = render_frame(++frame_number_);
  frame_digest_ = crypto::blake2b256(frame_);
  if (recording_.on) recording_.bytes += frame_.size();
}

crypto::Bytes SimCamera::attest_locked() {
  if (!faults_.repeat_counter || counter_ == 0) ++counter_;
  v1::Attestation attestation;
  attestation.set_camera_id(config_.name);
  attestation.set_boot_id(boot_id_.data(), boot_id_.size());
  attestation.set_counter(counter_);
  attestation.set_capture_time_ns(frame_time_ns_);
  attestation.set_frame_digest(frame_digest_.data(), frame_digest_.size());
  const std::vector<uint8_t>& nonce = faults_.ignore_nonce && first_nonce_ ? *first_nonce_ : nonce_;
  attestation.set_hub_nonce(nonce.data(), nonce.size());
  // C8: the simulated view is lit and in focus and looks like its
  // reference; the luminance is the frame's own mean.
  uint64_t sum = 0;
  const std::size_t pixels_at = frame_.size() - SimCamera::kFrameWidth * SimCamera::kFrameHeight * 3;
  for (std::size_t i = pixels_at; i < frame_.size(); ++i) sum += frame_[i];
  v1::SceneMeasurements* scene = attestation.mutable_scene();
  if (faults_.covered) {  // tape over the lens: what latchkey_attest measures of a covered camera
    scene->set_mean_luminance(400);
    scene->set_sharpness(60);
    scene->set_reference_similarity(0);
  } else {
    scene->set_mean_luminance(static_cast<uint32_t>(sum * 1000 / (frame_.size() - pixels_at)));
    scene->set_sharpness(25'000);
    scene->set_reference_similarity(950);
  }
  if (recording_.on) {
    v1::RecordingState* recording = attestation.mutable_recording();
    recording->set_recording(true);
    recording->set_session_id(recording_.session_id.data(), recording_.session_id.size());
    recording->set_segment_id(recording_.segment_id);
    recording->set_recorded_bytes(recording_.bytes);
  }
  const crypto::SecretKey& key = faults_.wrong_key ? faults_.wrong_key->secret_key : key_.secret_key;
  return crypto::sign_attestation(attestation, key);
}

uint64_t SimCamera::camera_time_ns_locked() const {
  // CLOCK_JUMP shifts the camera's clock; it never reads below zero.
  const int64_t now = static_cast<int64_t>(monotonic_ns());
  const int64_t shifted = now + faults_.clock_offset_ns;
  return shifted < 0 ? 0 : static_cast<uint64_t>(shifted);
}

uint32_t SimCamera::period_ms() const { return (1000 + config_.rate_hz - 1) / config_.rate_hz; }

}  // namespace latchkey::sim
