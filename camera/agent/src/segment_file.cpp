#include "segment_file.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace latchkey::camera {

SegmentFile::~SegmentFile() {
  std::string ignored;
  if (is_open()) close(ignored);
}

bool SegmentFile::open(const std::string& path, const AVCodecParameters& parameters, AVRational time_base,
                       std::string& error) {
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    error = path + " already exists; a recording is never overwritten";
    return false;
  }
  AVFormatContext* output = nullptr;
  int r = avformat_alloc_output_context2(&output, nullptr, "matroska", path.c_str());
  if (r < 0 || output == nullptr) {
    error = "no Matroska muxer: " + av_error_text(r);
    return false;
  }
  AVStream* stream = avformat_new_stream(output, nullptr);
  packet_.reset(av_packet_alloc());
  if (stream == nullptr || !packet_ || avcodec_parameters_copy(stream->codecpar, &parameters) < 0) {
    avformat_free_context(output);
    error = "out of memory";
    return false;
  }
  stream->codecpar->codec_tag = 0;  // let Matroska choose its own
  stream->time_base = time_base;
  // "file:" so that a directory name with a colon is not read as a protocol.
  if ((r = avio_open(&output->pb, ("file:" + path).c_str(), AVIO_FLAG_WRITE)) < 0) {
    avformat_free_context(output);
    error = "cannot create " + path + ": " + av_error_text(r);
    return false;
  }
  if ((r = avformat_write_header(output, nullptr)) < 0) {
    avio_closep(&output->pb);
    avformat_free_context(output);
    ::unlink(path.c_str());
    error = "cannot write the header of " + path + ": " + av_error_text(r);
    return false;
  }
  output_ = output;
  path_ = path;
  first_ts_ = kNoTimestamp;
  last_dts_ = kNoTimestamp;
  last_flush_ns_ = 0;
  flush(0, error, true);
  return true;
}

bool SegmentFile::write(const AVPacket& packet, AVRational time_base, std::string& error) {
  if (!is_open()) return false;
  AVPacket* p = packet_.get();
  if (av_packet_ref(p, &packet) < 0) {
    error = "out of memory";
    return false;
  }
  AVStream* stream = output_->streams[0];
  // Timestamps from 0, in the stream's time base, decode order increasing.
  if (p->pts == kNoTimestamp) p->pts = p->dts;
  if (p->dts == kNoTimestamp) p->dts = p->pts;
  if (p->pts == kNoTimestamp) {  // a source without timestamps: continue one tick after the last
    p->pts = p->dts = last_dts_ == kNoTimestamp ? 0 : last_dts_ + 1;
  } else {
    av_packet_rescale_ts(p, time_base, stream->time_base);
    if (first_ts_ == kNoTimestamp) first_ts_ = p->dts;
    p->pts -= first_ts_;
    p->dts -= first_ts_;
  }
  if (last_dts_ != kNoTimestamp && p->dts <= last_dts_) p->dts = last_dts_ + 1;
  if (p->pts < p->dts) p->pts = p->dts;
  last_dts_ = p->dts;
  p->stream_index = 0;
  p->pos = -1;
  const int r = av_write_frame(output_, p);  // one stream: nothing to interleave
  av_packet_unref(p);
  if (r < 0) {
    error = "cannot write to " + path_ + ": " + av_error_text(r);
    return false;
  }
  return true;
}

uint64_t SegmentFile::size_on_disk(std::string& error) const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    error = "cannot stat " + path_ + ": " + std::strerror(errno);
    return bytes_;
  }
  return static_cast<uint64_t>(st.st_size);
}

uint64_t SegmentFile::flush(uint64_t now_ns, std::string& error, bool force) {
  if (!is_open()) return bytes_;
  if (!force && now_ns - last_flush_ns_ < kFlushIntervalNs) return bytes_;
  last_flush_ns_ = now_ns;
  av_write_frame(output_, nullptr);  // the muxer's buffered cluster goes to the file
  avio_flush(output_->pb);
  if (output_->pb->error < 0) error = "cannot write to " + path_ + ": " + av_error_text(output_->pb->error);
  bytes_ = size_on_disk(error);
  return bytes_;
}

uint64_t SegmentFile::close(std::string& error) {
  if (!is_open()) return bytes_;
  int r = av_write_trailer(output_);
  if (r < 0) error = "cannot finish " + path_ + ": " + av_error_text(r);
  r = avio_closep(&output_->pb);
  if (r < 0 && error.empty()) error = "cannot close " + path_ + ": " + av_error_text(r);
  avformat_free_context(output_);
  output_ = nullptr;
  bytes_ = size_on_disk(error);
  return bytes_;
}

}  // namespace latchkey::camera
