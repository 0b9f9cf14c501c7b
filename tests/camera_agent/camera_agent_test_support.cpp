#include "camera_agent_test_support.hpp"

#include "ffmpeg_util.hpp"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace latchkey::camera_test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/lk-camera-agent-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool have_ffmpeg_command() { return run("ffmpeg -hide_banner -version > /dev/null 2>&1"); }

bool run(const std::string& command) { return std::system(command.c_str()) == 0; }

bool make_test_video(const std::string& path, const std::string& codec, int frames, const std::string& size, int fps) {
  return run("ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=" + size + ":rate=" +
             std::to_string(fps) + " -frames:v " + std::to_string(frames) + " -c:v " + codec + " -g 5 '" + path +
             "'");
}

std::vector<std::vector<uint8_t>> ffmpeg_gray_frames(const std::string& input, bool lavfi, int frames, int width,
                                                     int height) {
  std::vector<std::vector<uint8_t>> out;
  TempDir dir;
  const std::string raw = dir.file("frames.gray");
  if (!run("ffmpeg -hide_banner -loglevel error -y " + std::string(lavfi ? "-f lavfi " : "") + "-i '" + input +
           "' -frames:v " + std::to_string(frames) + " -pix_fmt gray -f rawvideo '" + raw + "'"))
    return out;
  std::ifstream in(raw, std::ios::binary);
  std::vector<uint8_t> frame(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
  while (in.read(reinterpret_cast<char*>(frame.data()), static_cast<std::streamsize>(frame.size())))
    out.push_back(frame);
  return out;
}

std::vector<std::array<uint8_t, 32>> ffmpeg_gray_digests(const std::string& input, bool lavfi, int frames, int width,
                                                         int height) {
  std::vector<std::array<uint8_t, 32>> digests;
  if (sodium_init() < 0) return digests;
  for (const auto& frame : ffmpeg_gray_frames(input, lavfi, frames, width, height)) {
    std::array<uint8_t, 32> d{};
    crypto_generichash(d.data(), d.size(), frame.data(), frame.size(), nullptr, 0);
    digests.push_back(d);
  }
  return digests;
}

int count_video_frames(const std::string& path, std::string* codec_name) {
  using namespace latchkey::camera;
  init_ffmpeg();
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, ("file:" + path).c_str(), nullptr, nullptr) < 0) return -1;
  InputPtr input(raw);
  if (avformat_find_stream_info(raw, nullptr) < 0) return -1;
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream < 0 || codec == nullptr) return -1;
  if (codec_name != nullptr) *codec_name = codec->name;
  CodecContextPtr decoder(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(decoder.get(), raw->streams[stream]->codecpar);
  if (avcodec_open2(decoder.get(), codec, nullptr) < 0) return -1;
  PacketPtr packet(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  int frames = 0;
  auto receive = [&] {
    while (avcodec_receive_frame(decoder.get(), frame.get()) == 0) ++frames;
  };
  while (av_read_frame(raw, packet.get()) >= 0) {
    if (packet->stream_index == stream && avcodec_send_packet(decoder.get(), packet.get()) >= 0) receive();
    av_packet_unref(packet.get());
  }
  avcodec_send_packet(decoder.get(), nullptr);
  receive();
  return frames;
}

uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::string hex(const uint8_t* data, std::size_t size) {
  std::string out;
  char two[3];
  for (std::size_t i = 0; i < size; ++i) {
    std::snprintf(two, sizeof two, "%02x", data[i]);
    out += two;
  }
  return out;
}

}  // namespace latchkey::camera_test
