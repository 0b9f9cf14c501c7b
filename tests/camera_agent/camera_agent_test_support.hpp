// Shared by the lk-camera-agent tests: a scratch folder, short test videos
// made with the ffmpeg command, BLAKE2b computed with libsodium alone, and
// counting the frames of a file with libavformat.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace latchkey::camera_test {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Whether the ffmpeg command is installed (tools/install-deps.sh installs it).
bool have_ffmpeg_command();

// Runs a shell command; true when it exits 0.
bool run(const std::string& command);

// Writes frames of lavfi testsrc2 at size WxH and rate fps, encoded with
// codec (e.g. "mpeg4", "ffv1"), to path with the ffmpeg command.
bool make_test_video(const std::string& path, const std::string& codec, int frames, const std::string& size, int fps);

// The GRAY8 pixels of the first frames of input (an ffmpeg -i argument, with
// -f lavfi for a graph when lavfi is true), decoded by the ffmpeg command,
// each hashed with libsodium's BLAKE2b-256.
std::vector<std::array<uint8_t, 32>> ffmpeg_gray_digests(const std::string& input, bool lavfi, int frames,
                                                         int width, int height);

// The GRAY8 pixels themselves (width x height bytes a frame, packed), as
// ffmpeg_gray_digests decodes them.
std::vector<std::vector<uint8_t>> ffmpeg_gray_frames(const std::string& input, bool lavfi, int frames, int width,
                                                     int height);

// Decodes path with libavformat/libavcodec and counts its video frames; -1
// when it cannot be opened.
int count_video_frames(const std::string& path, std::string* codec_name = nullptr);

uint64_t file_size(const std::string& path);

std::string hex(const uint8_t* data, std::size_t size);

}  // namespace latchkey::camera_test
