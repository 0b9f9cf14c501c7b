#include "agent.hpp"

#include "event_log.hpp"
#include "pacer.hpp"

#include <latchkey/camera_link.pb.h>
#include <latchkey/common/version.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace latchkey::camera {

namespace {
constexpr std::size_t kMaxSourceDescription = 256;  // keeps the hello under its 512-byte limit
constexpr uint64_t kRetryRecordingNs = 5'000'000'000;
constexpr uint64_t kBadNonceLogIntervalNs = 5'000'000'000;
}  // namespace

std::string agent_version() { return std::string("lk-camera-agent ") + kProjectVersion; }

Agent::Agent(const AgentConfig& config, const lk_attest_key& key, std::string password, const std::atomic<bool>& stop)
    : config_(config),
      attester_(key, config.camera_id),
      scene_(config.no_scene ? nullptr
                             : std::make_unique<SceneMeter>(
                                   SceneOptions{config.reference_file, config.retake_reference, 1'000'000'000,
                                                config.night_reference_file, config.take_night_reference})),
      source_(SourceOptions{config.source, config.input_options, config.loop, config.freeze_after, true}, stop) {
  const BootId boot = attester_.boot_id();
  if (!config_.record_dir.empty()) recorder_ = std::make_unique<Recorder>(config_.record_dir, to_hex(boot.data(), 4));
  // Runs inside source_.next(), on the capture thread: a segment for a
  // reopened source starts before its first packet (a key frame) is lost.
  source_.set_packet_sink([this](const AVPacket& packet, AVRational time_base) {
    if (!recorder_) return;
    if (source_.generation() != seen_generation_) {
      seen_generation_ = source_.generation();
      recorder_->source_changed(*source_.codec_parameters());
    }
    keep_recording();
    recorder_->on_packet(packet, time_base, monotonic_ns());
  });
  push_recording_state();

  LinkSettings settings;
  settings.camera_id = config_.camera_id;
  settings.host = config_.broker_host;
  settings.port = config_.broker_port;
  settings.password = std::move(password);
  settings.tls = config_.tls;
  settings.tls_ca_file = config_.tls_ca_file;
  settings.hello = make_hello(key);
  LinkHandlers handlers;
  handlers.on_connected = [this] {
    nonce_seen_ = false;
    commands_.forget_last_id();
  };
  handlers.on_nonce = [this](const uint8_t* data, std::size_t size) { on_nonce(data, size); };
  handlers.on_command = [this](const uint8_t* data, std::size_t size) { commands_.offer(data, size); };
  log_event("started: boot id " + to_hex(boot.data(), boot.size()) + ", source " + source_.location().description +
            ", attestation period " + std::to_string(config_.period_ms) + " ms" +
            (config_.record_dir.empty() ? ", no --record-dir (recording commands will be refused)" : ""));
  log_event(scene_ ? scene_->describe()
                   : "--no-scene: attestations carry no scene measurements, so the hub cannot tell a covered, "
                     "blurred or turned camera (C8)");
  link_ = std::make_unique<MqttLink>(std::move(settings), std::move(handlers));
}

Agent::~Agent() { shut_down(); }

std::vector<uint8_t> Agent::make_hello(const lk_attest_key& key) const {
  latchkey::v1::CameraHello hello;
  const PublicKey pk = public_key_of(key);
  const BootId boot = attester_.boot_id();
  hello.set_camera_id(config_.camera_id);
  hello.set_public_key(pk.data(), pk.size());
  hello.set_boot_id(boot.data(), boot.size());
  hello.set_attestation_period_ms(config_.period_ms);
  hello.set_agent(agent_version());
  hello.set_source(source_.location().description.substr(0, kMaxSourceDescription));
  std::vector<uint8_t> bytes(hello.ByteSizeLong());
  hello.SerializeToArray(bytes.data(), static_cast<int>(bytes.size()));
  return bytes;
}

void Agent::on_nonce(const uint8_t* data, std::size_t size) {
  if (!attester_.set_nonce(data, size)) {
    const uint64_t now = monotonic_ns();
    if (now - last_bad_nonce_log_ns_.load() > kBadNonceLogIntervalNs) {
      last_bad_nonce_log_ns_ = now;
      log_event(logging::LogLevel::kWarning, "ignored a nonce of " + std::to_string(size) + " bytes (nonces are 16 to 32 bytes)");
    }
    return;
  }
  if (!nonce_seen_.exchange(true))
    log_event("first nonce from the hub on this connection (" + std::to_string(size) +
              " bytes): attestations echo the newest one from now on");
}

// About one attestation per period: the newest frame is signed as soon as it
// arrives once 7/8 of the period have passed since the last attestation,
// else when the period ends. So a camera attesting every frame signs each as
// it comes (a frame does not wait for a tick: C8 counts from the frame), the
// longest gap stays the period, and the shortest is 7/8 of it.
void Agent::attest_loop() {
  const uint64_t period = uint64_t{config_.period_ms} * 1'000'000;
  const uint64_t early = period - period / 8;
  uint64_t last = monotonic_ns();
  uint64_t signed_index = 0;
  bool paused = false;
  std::string error;
  while (true) {
    {
      std::unique_lock lock(latest_mutex_);
      for (;;) {
        if (stop_attesting_) return;
        const uint64_t now = monotonic_ns();
        const bool fresh = latest_.valid && latest_.index != signed_index;
        if (now >= last + period || (fresh && now >= last + early)) break;
        const uint64_t wake = fresh ? last + early : last + period;
        frame_arrived_.wait_for(lock, std::chrono::nanoseconds(std::min<uint64_t>(wake - now, 20'000'000)));
      }
    }
    const uint64_t now = monotonic_ns();
    last = now;
    Latest frame;
    {
      const std::lock_guard lock(latest_mutex_);
      frame = latest_;
      if (scene_ && latest_gray_.index == latest_.index && scene_gray_.index != latest_.index)
        std::swap(latest_gray_, scene_gray_);
    }
    if (!frame.valid) continue;
    if (now - frame.capture_ns > kStaleFrameNs) {
      if (!paused) log_event(logging::LogLevel::kWarning, "no new frame for over 1 s: attestations paused until frames return");
      paused = true;
      continue;
    }
    if (paused) log_event("frames again: attestations resume");
    paused = false;
    std::optional<lk_attest_scene> scene;
    if (scene_) {
      scene = scene_of(frame);
      if (!scene) continue;  // no reference view yet, or a picture that cannot be measured: logged
    }
    const auto signed_attestation = attester_.sign(frame.digest, frame.capture_ns, scene ? &*scene : nullptr, error);
    if (!signed_attestation) {
      log_event(logging::LogLevel::kError, "cannot sign an attestation: " + error);
      continue;
    }
    signed_index = frame.index;
    link_->publish_attestation(*signed_attestation);
  }
}

// C8: the measurements of the frame about to be attested, each frame
// measured once however many periods it stays the newest.
// Its picture was swapped into scene_gray_ along with the copy of latest_.
std::optional<lk_attest_scene> Agent::scene_of(const Latest& frame) {
  if (measured_index_ == frame.index) return measured_;
  if (scene_gray_.index != frame.index) return std::nullopt;  // cannot happen: latest_ and its picture go together
  measured_ = scene_->measure(scene_gray_, frame.capture_ns);
  publish_reference();
  measured_index_ = frame.index;
  return measured_;
}

// The reference view's file, once there is one (loaded at start or just
// taken), for the hub to show a person (.../reference, retained).
void Agent::publish_reference() {
  if (reference_published_ || !scene_ || !scene_->has_reference() || !link_) return;
  std::ifstream in(scene_->reference_file(), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  reference_published_ = true;
  if (bytes.empty() || bytes.size() > 1024) {
    log_event(logging::LogLevel::kWarning, "the reference view file " + scene_->reference_file() + " could not be read to publish it");
    return;
  }
  link_->set_reference(std::move(bytes));
}

void Agent::push_recording_state() {
  const RecordingState state = recorder_ ? recorder_->state() : RecordingState{};
  if (state == pushed_state_) return;
  attester_.set_recording(state);
  pushed_state_ = state;
}

void Agent::handle_commands() {
  while (const auto command = commands_.take()) {
    if (!command->start) {
      log_event("command " + std::to_string(command->command_id) + ": stop recording");
      wanted_session_.reset();
      if (recorder_) recorder_->stop();
      continue;
    }
    const std::string session = to_hex(command->session_id.data(), command->session_id.size());
    log_event("command " + std::to_string(command->command_id) + ": start recording for session " + session);
    if (!recorder_) {
      log_event(logging::LogLevel::kWarning, "cannot record: no --record-dir is set; attestations keep saying not recording");
      continue;
    }
    if (wanted_session_ == command->session_id && recorder_->recording()) continue;  // already doing so
    wanted_session_ = command->session_id;
    start_attempt_generation_ = UINT64_MAX;  // try at once
    if (recorder_->recording()) recorder_->stop();
  }
}

// Records while a session is wanted: starts a segment as soon as the source
// is up, a new one when a live source was reopened (its stream may differ),
// and tries again every 5 s after a failure.
void Agent::keep_recording() {
  if (!recorder_ || !wanted_session_) return;
  if (recorder_->recording() && recorded_generation_ == source_.generation()) return;
  if (recorder_->recording()) recorder_->stop();
  const AVCodecParameters* parameters = source_.codec_parameters();
  if (parameters == nullptr) return;
  const uint64_t now = monotonic_ns();
  if (start_attempt_generation_ == source_.generation() && now - last_start_attempt_ns_ < kRetryRecordingNs) return;
  start_attempt_generation_ = source_.generation();
  last_start_attempt_ns_ = now;
  if (recorder_->start(*wanted_session_, *parameters, source_.time_base(), source_.frame_rate()))
    recorded_generation_ = source_.generation();
}

int Agent::run() {
  attest_thread_ = std::thread([this] { attest_loop(); });
  CapturedFrame frame;
  FrameSource::Status status = FrameSource::Status::kFrame;
  while (true) {
    handle_commands();
    keep_recording();
    push_recording_state();
    status = source_.next(frame);
    if (status != FrameSource::Status::kFrame) break;
    if (scene_) staging_gray_.assign(frame.gray, frame.gray_width, frame.gray_height, frame.gray_stride, frame.index);
    {
      const std::lock_guard lock(latest_mutex_);
      latest_ = {true, frame.digest, frame.capture_ns, frame.index};
      if (scene_) std::swap(latest_gray_, staging_gray_);
    }
    frame_arrived_.notify_one();
    if (recorder_) recorder_->on_frame(*frame.frame, frame.capture_ns);
  }
  if (status == FrameSource::Status::kEnded) log_event("the source ended: stopping");
  shut_down();
  return 0;
}

void Agent::shut_down() {
  {
    const std::lock_guard lock(latest_mutex_);
    stop_attesting_ = true;
  }
  frame_arrived_.notify_all();
  if (attest_thread_.joinable()) attest_thread_.join();
  if (link_) link_->shutdown(std::chrono::milliseconds(2000));
  if (recorder_ && recorder_->recording()) recorder_->stop();
}

}  // namespace latchkey::camera
