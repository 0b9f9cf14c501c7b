#include "recorder.hpp"

#include "event_log.hpp"
#include "pacer.hpp"

#include <filesystem>

namespace latchkey::camera {

namespace {

// Raw pictures are encoded; anything Matroska can hold is copied as it came.
bool can_remux(const AVCodecParameters& parameters) {
  if (parameters.codec_id == AV_CODEC_ID_RAWVIDEO || parameters.codec_id == AV_CODEC_ID_WRAPPED_AVFRAME) return false;
  const AVOutputFormat* matroska = av_guess_format("matroska", nullptr, nullptr);
  return matroska != nullptr && avformat_query_codec(matroska, parameters.codec_id, FF_COMPLIANCE_NORMAL) == 1;
}

}  // namespace

std::string to_hex(const uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (std::size_t i = 0; i < size; ++i) {
    hex.push_back(kDigits[data[i] >> 4]);
    hex.push_back(kDigits[data[i] & 0x0f]);
  }
  return hex;
}

Recorder::Recorder(std::string directory, std::string boot_tag)
    : directory_(std::move(directory)), boot_tag_(std::move(boot_tag)) {}

Recorder::~Recorder() {
  if (recording()) stop();
}

bool Recorder::start(const SessionId& session, const AVCodecParameters& parameters, AVRational time_base,
                     AVRational frame_rate) {
  if (recording()) stop();
  const uint64_t segment = next_segment_id_++;
  const std::string path = (std::filesystem::path(directory_) / (to_hex(session.data(), session.size()) + "-" +
                                                                  boot_tag_ + "-" + std::to_string(segment) + ".mkv"))
                               .string();
  std::string error;
  remux_ = can_remux(parameters);
  bool opened = false;
  if (remux_) {
    opened = file_.open(path, parameters, time_base, error);
  } else {
    opened = encoder_.open(parameters.width, parameters.height, frame_rate, error) &&
             file_.open(path, encoder_.parameters(), encoder_.time_base(), error);
  }
  state_.has_session = true;
  state_.session_id = session;
  state_.segment_id = segment;
  if (!opened) {
    drop_kept();
    state_.recording = false;
    state_.recorded_bytes = 0;
    log_event(logging::LogLevel::kError, "recording for session " + to_hex(session.data(), session.size()) + " cannot start: " + error);
    return false;
  }
  state_.recording = true;
  state_.recorded_bytes = file_.bytes();
  waiting_for_key_ = true;
  segment_start_ns_ = monotonic_ns();
  if (remux_) {
    for (const Kept& k : kept_) {
      if (!file_.write(*k.packet, k.time_base, error)) break;
      waiting_for_key_ = false;
    }
    drop_kept();
  }
  const char* codec = avcodec_get_name(parameters.codec_id);
  log_event("recording started: session " + to_hex(session.data(), session.size()) + ", segment " +
            std::to_string(segment) + ", " + path + " (" +
            (remux_ ? std::string("remuxing ") + codec : std::string("encoding ") + codec + " as " +
                                                            encoder_.codec_name()) +
            ")");
  return true;
}

void Recorder::stop() {
  if (!recording()) return;
  std::string error;
  if (!remux_)
    encoder_.finish([this, &error](const AVPacket& p, AVRational tb) { return file_.write(p, tb, error); }, error);
  state_.recorded_bytes = file_.close(error);
  state_.recording = false;
  log_event("recording stopped: session " + to_hex(state_.session_id.data(), state_.session_id.size()) +
            ", segment " + std::to_string(state_.segment_id) + ", " + file_.path() + ", " +
            std::to_string(state_.recorded_bytes) + " bytes" + (error.empty() ? "" : " (" + error + ")"));
}

void Recorder::fail(const std::string& why) {
  log_event(logging::LogLevel::kError, "recording failed: " + why + "; the segment is closed");
  stop();
}

void Recorder::update_bytes(uint64_t now_ns) {
  std::string error;
  state_.recorded_bytes = file_.flush(now_ns, error);
  if (!error.empty()) fail(error);
}

void Recorder::source_changed(const AVCodecParameters& parameters) {
  drop_kept();
  keeping_ = can_remux(parameters);
}

void Recorder::drop_kept() {
  kept_.clear();
  kept_bytes_ = 0;
}

void Recorder::keep(const AVPacket& packet, AVRational time_base) {
  if (!keeping_) return;
  if ((packet.flags & AV_PKT_FLAG_KEY) != 0) drop_kept();
  else if (kept_.empty()) return;  // only from a key frame on
  if (kept_bytes_ + static_cast<std::size_t>(packet.size) > kMaxKeptBytes) return drop_kept();
  PacketPtr copy(av_packet_clone(&packet));
  if (!copy) return drop_kept();
  kept_bytes_ += static_cast<std::size_t>(packet.size);
  kept_.push_back({std::move(copy), time_base});
}

void Recorder::on_packet(const AVPacket& packet, AVRational time_base, uint64_t now_ns) {
  keep(packet, time_base);  // also while recording: a next segment may begin at any moment
  if (!recording() || !remux_) return;
  // A segment begins with a key frame, so it plays from its first byte.
  if (waiting_for_key_ && (packet.flags & AV_PKT_FLAG_KEY) == 0) return;
  waiting_for_key_ = false;
  std::string error;
  if (!file_.write(packet, time_base, error)) return fail(error);
  update_bytes(now_ns);
}

void Recorder::on_frame(const AVFrame& frame, uint64_t capture_ns) {
  if (!recording() || remux_) return;
  std::string error;
  const auto time_ms =
      capture_ns > segment_start_ns_ ? static_cast<int64_t>((capture_ns - segment_start_ns_) / 1'000'000) : 0;
  const bool ok = encoder_.encode(
      frame, time_ms, [this, &error](const AVPacket& p, AVRational tb) { return file_.write(p, tb, error); }, error);
  if (!ok) return fail(error);
  update_bytes(capture_ns);
}

}  // namespace latchkey::camera
