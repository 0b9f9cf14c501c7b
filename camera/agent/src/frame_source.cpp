#include "frame_source.hpp"

#include "event_log.hpp"

#include <algorithm>
#include <stdexcept>

namespace latchkey::camera {

namespace {
constexpr uint64_t kOpenTimeoutNs = 10'000'000'000;  // a live source that takes longer to open is retried
constexpr uint64_t kReadTimeoutNs = 5'000'000'000;   // a live source silent this long is reopened
constexpr uint64_t kMaxRetryDelayMs = 10'000;
constexpr AVRational kNanoseconds = {1, 1'000'000'000};
}  // namespace

FrameSource::FrameSource(SourceOptions options, const std::atomic<bool>& stop)
    : options_(std::move(options)), stop_(stop), location_(locate_source(options_.source)) {
  init_ffmpeg();
  frame_.reset(av_frame_alloc());
  packet_.reset(av_packet_alloc());
  if (!frame_ || !packet_) throw std::runtime_error("out of memory");
  std::string error;
  if (open_input(error)) return;
  if (!is_live(location_.kind)) throw std::runtime_error("source " + location_.description + ": " + error);
  log_event(logging::LogLevel::kWarning, "source " + location_.description + " cannot be opened: " + error + "; retrying");
}

FrameSource::~FrameSource() { close_input(); }

int FrameSource::interrupt(void* opaque) {
  const auto* self = static_cast<const FrameSource*>(opaque);
  if (self->stop_.load()) return 1;
  return self->io_deadline_ns_ != 0 && monotonic_ns() > self->io_deadline_ns_ ? 1 : 0;
}

bool FrameSource::open_input(std::string& error) {
  AVFormatContext* context = avformat_alloc_context();
  if (context == nullptr) {
    error = "out of memory";
    return false;
  }
  context->interrupt_callback.callback = &FrameSource::interrupt;
  context->interrupt_callback.opaque = this;
  // A camera that stops delivering must not block the agent in the driver.
  if (location_.kind == SourceKind::kV4l2) context->flags |= AVFMT_FLAG_NONBLOCK;
  const AVInputFormat* format = nullptr;
  if (!location_.format.empty()) {
    format = av_find_input_format(location_.format.c_str());
    if (format == nullptr) {
      avformat_free_context(context);
      error = "this FFmpeg has no " + location_.format + " input";
      return false;
    }
  }
  AVDictionary* dictionary = nullptr;
  for (const auto& [key, value] : options_.input_options) av_dict_set(&dictionary, key.c_str(), value.c_str(), 0);
  io_deadline_ns_ = is_live(location_.kind) ? monotonic_ns() + kOpenTimeoutNs : 0;
  int r = avformat_open_input(&context, location_.url.c_str(), format, &dictionary);  // frees context on failure
  const AVDictionaryEntry* unused = nullptr;
  while (r >= 0 && (unused = av_dict_get(dictionary, "", unused, AV_DICT_IGNORE_SUFFIX)) != nullptr)
    log_event(logging::LogLevel::kWarning, "input option " + std::string(unused->key) + " was not used by the source");
  av_dict_free(&dictionary);
  if (r < 0) {
    io_deadline_ns_ = 0;
    error = av_error_text(r);
    return false;
  }
  InputPtr input(context);
  r = avformat_find_stream_info(context, nullptr);
  io_deadline_ns_ = 0;
  if (r < 0) {
    error = "cannot read its streams: " + av_error_text(r);
    return false;
  }
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream < 0 || codec == nullptr) {
    error = "it has no video stream that this FFmpeg can decode";
    return false;
  }
  AVStream* st = context->streams[stream];
  CodecContextPtr decoder(avcodec_alloc_context3(codec));
  if (!decoder || avcodec_parameters_to_context(decoder.get(), st->codecpar) < 0) {
    error = "cannot set up the decoder";
    return false;
  }
  decoder->pkt_timebase = st->time_base;
  decoder->thread_count = 2;
  decoder->thread_type = FF_THREAD_SLICE;  // no frame threading: it would delay every frame
  if ((r = avcodec_open2(decoder.get(), codec, nullptr)) < 0) {
    error = std::string("cannot open the ") + codec->name + " decoder: " + av_error_text(r);
    return false;
  }
  const AVRational rate = av_guess_frame_rate(context, st, nullptr);
  if (rate.num > 0 && rate.den > 0) {
    frame_interval_ns_ = av_rescale(1'000'000'000, rate.den, rate.num);
    frame_rate_ = rate;
  }
  for (unsigned i = 0; i < context->nb_streams; ++i)
    if (static_cast<int>(i) != stream) context->streams[i]->discard = AVDISCARD_ALL;
  input_ = std::move(input);
  decoder_ = std::move(decoder);
  stream_ = stream;
  draining_ = false;
  last_packet_ns_ = monotonic_ns();
  return true;
}

void FrameSource::close_input() {
  decoder_.reset();
  input_.reset();
  stream_ = -1;
}

const AVCodecParameters* FrameSource::codec_parameters() const {
  return input_ ? input_->streams[stream_]->codecpar : nullptr;
}

AVRational FrameSource::time_base() const { return input_ ? input_->streams[stream_]->time_base : AVRational{0, 1}; }

bool FrameSource::reopen_live(const std::string& why) {
  if (input_) log_event(logging::LogLevel::kWarning, "source " + location_.description + ": " + why + "; reopening");
  close_input();
  pacer_.reset();
  for (;;) {
    if (!sleep_until(monotonic_ns() + retry_delay_ms_ * 1'000'000, stop_)) return false;
    std::string error;
    if (open_input(error)) break;
    if (stop_.load()) return false;
    retry_delay_ms_ = std::min(retry_delay_ms_ * 2, kMaxRetryDelayMs);
    log_event(logging::LogLevel::kWarning, "source " + location_.description + " cannot be opened: " + error + "; retrying in " +
              std::to_string(retry_delay_ms_) + " ms");
  }
  retry_delay_ms_ = 500;
  ++generation_;
  log_event("source " + location_.description + " is open again");
  return true;
}

bool FrameSource::restart_loop() {
  const AVRational before = time_base();
  close_input();
  std::string error;
  if (!open_input(error)) {
    log_event(logging::LogLevel::kError, "source " + location_.description + " cannot be opened again to loop: " + error);
    return false;
  }
  // Continue the timeline where the last pass ended, so paced reading and a
  // recording's timestamps go on increasing across passes.
  const AVStream* st = input_->streams[stream_];
  const int64_t start = st->start_time != kNoTimestamp ? st->start_time : 0;
  ts_offset_ = av_rescale_q(next_ts_, before, st->time_base) - start;
  next_ts_ = av_rescale_q(next_ts_, before, st->time_base);
  log_event("looping: source " + location_.description + " starts again from its beginning (test aid)");
  return true;
}

int FrameSource::read_and_send() {
  if (location_.kind == SourceKind::kNetwork) io_deadline_ns_ = monotonic_ns() + kReadTimeoutNs;
  int r = av_read_frame(input_.get(), packet_.get());
  io_deadline_ns_ = 0;
  if (r < 0) return r;
  if (packet_->stream_index != stream_) {
    av_packet_unref(packet_.get());
    return 0;
  }
  last_packet_ns_ = monotonic_ns();
  const AVRational tb = time_base();
  if (packet_->pts != kNoTimestamp) packet_->pts += ts_offset_;
  if (packet_->dts != kNoTimestamp) packet_->dts += ts_offset_;
  const int64_t ts = packet_->pts != kNoTimestamp ? packet_->pts : packet_->dts;
  if (ts != kNoTimestamp) {
    const int64_t duration =
        packet_->duration > 0 ? packet_->duration : av_rescale_q(frame_interval_ns_, kNanoseconds, tb);
    next_ts_ = std::max(next_ts_, ts + duration);
  }
  if (sink_) sink_(*packet_, tb);
  r = avcodec_send_packet(decoder_.get(), packet_.get());
  av_packet_unref(packet_.get());
  if (r < 0 && r != kAvErrorAgain && decode_errors_++ % 100 == 0)
    log_event(logging::LogLevel::kWarning, "source " + location_.description + ": a packet could not be decoded: " + av_error_text(r) + " (" +
              std::to_string(decode_errors_) + " so far)");
  return 0;
}

FrameSource::Status FrameSource::next(CapturedFrame& out) {
  const bool live = is_live(location_.kind);
  for (;;) {
    if (stop_.load()) return Status::kStopped;
    if (frozen_) return deliver_frozen(out);
    if (!input_) {
      if (!reopen_live("")) return Status::kStopped;
      continue;
    }
    int r = avcodec_receive_frame(decoder_.get(), frame_.get());
    if (r == 0) return deliver(out);
    if (r == kAvErrorEof) {  // the decoder gave out every frame of the input
      if (options_.loop) {
        if (!restart_loop()) return Status::kEnded;
        continue;
      }
      if (live) {
        if (!reopen_live("the stream ended")) return Status::kStopped;
        continue;
      }
      log_event("source " + location_.description + " ended");
      return Status::kEnded;
    }
    if (r != kAvErrorAgain) {
      if (live) {
        if (!reopen_live("decoding failed: " + av_error_text(r))) return Status::kStopped;
        continue;
      }
      log_event(logging::LogLevel::kError, "source " + location_.description + ": decoding failed: " + av_error_text(r));
      return Status::kEnded;
    }
    if (draining_) continue;
    r = read_and_send();
    if (r == 0) continue;
    if (stop_.load()) return Status::kStopped;
    if (r == kAvErrorAgain) {  // a non-blocking V4L2 device with no new frame yet
      if (monotonic_ns() - last_packet_ns_ > kReadTimeoutNs) {
        if (!reopen_live("no frame for 5 s")) return Status::kStopped;
      } else {
        sleep_until(monotonic_ns() + 5'000'000, stop_);
      }
      continue;
    }
    if (live && r != kAvErrorEof) {
      if (!reopen_live("reading failed: " + av_error_text(r))) return Status::kStopped;
      continue;
    }
    if (r != kAvErrorEof) log_event(logging::LogLevel::kError, "source " + location_.description + ": reading failed: " + av_error_text(r));
    avcodec_send_packet(decoder_.get(), nullptr);  // the end: give out the frames still inside
    draining_ = true;
  }
}

FrameSource::Status FrameSource::deliver(CapturedFrame& out) {
  if (options_.paced && !is_live(location_.kind)) {
    const int64_t pts = frame_->best_effort_timestamp;
    if (pts != kNoTimestamp && !pacer_.wait_for(av_rescale_q(pts, time_base(), kNanoseconds), stop_))
      return Status::kStopped;
  }
  out.capture_ns = last_capture_ns_ = monotonic_ns();
  out.digest = pixels_.digest_frame(*frame_);
  out.frame = frame_.get();
  out.index = ++delivered_;
  out.frozen = false;
  set_gray(out);
  if (options_.freeze_after != 0 && delivered_ >= options_.freeze_after) {
    frozen_ = true;
    log_event("freeze-after " + std::to_string(options_.freeze_after) +
              " reached: the last frame is re-digested from now on (test aid: a stuck sensor)");
  }
  return Status::kFrame;
}

FrameSource::Status FrameSource::deliver_frozen(CapturedFrame& out) {
  if (!sleep_until(last_capture_ns_ + static_cast<uint64_t>(frame_interval_ns_), stop_)) return Status::kStopped;
  out.capture_ns = last_capture_ns_ = monotonic_ns();
  out.digest = pixels_.digest_again();
  out.frame = frame_.get();
  out.index = ++delivered_;
  out.frozen = true;
  set_gray(out);
  return Status::kFrame;
}

void FrameSource::set_gray(CapturedFrame& out) const {
  out.gray = pixels_.pixels();
  out.gray_width = pixels_.width();
  out.gray_height = pixels_.height();
  out.gray_stride = pixels_.stride();
}

}  // namespace latchkey::camera
