// One recording segment on disk: a Matroska file with one video stream,
// written with libavformat. Matroska because a segment cut short (power
// loss, SIGKILL) still plays up to its last cluster, and it takes any codec a
// camera sends. The byte count it reports is the file's size on disk after
// flushing, never an estimate (the hub is told it in attestations, U2).
#pragma once

#include "ffmpeg_util.hpp"

#include <cstdint>
#include <string>

namespace latchkey::camera {

class SegmentFile {
 public:
  SegmentFile() = default;
  ~SegmentFile();  // finishes the file if still open
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  // Creates path (which must not exist) with one stream described by
  // parameters, whose packets come in time_base. False with error on failure.
  bool open(const std::string& path, const AVCodecParameters& parameters, AVRational time_base, std::string& error);

  // Writes one packet of the stream; timestamps are moved to start at 0 and
  // made increasing. False with error when the file cannot be written.
  bool write(const AVPacket& packet, AVRational time_base, std::string& error);

  // Pushes what the muxer holds to the file and returns its size on disk.
  // At most every flush_interval_ns it really flushes; otherwise it returns
  // the size measured last.
  uint64_t flush(uint64_t now_ns, std::string& error, bool force = false);

  // Writes the trailer, closes the file and returns its final size.
  uint64_t close(std::string& error);

  bool is_open() const { return output_ != nullptr; }
  const std::string& path() const { return path_; }
  uint64_t bytes() const { return bytes_; }

  static constexpr uint64_t kFlushIntervalNs = 100'000'000;

 private:
  uint64_t size_on_disk(std::string& error) const;

  AVFormatContext* output_ = nullptr;
  PacketPtr packet_;
  std::string path_;
  int64_t first_ts_ = kNoTimestamp;  // in the stream's time base
  int64_t last_dts_ = kNoTimestamp;
  uint64_t last_flush_ns_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace latchkey::camera
