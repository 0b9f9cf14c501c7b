// Figure 2: lk-camera-agent's CPU per frame on H.264 input, against
// decoding the same file.
//
// The inputs are made here with FFmpeg: testsrc2 at 25 fps encoded by
// libx264 (veryfast, main profile, no B-frames, a key frame every 2 s, as
// IP cameras stream), one short and one long file per size.
//
//   measured: lk-camera-agent reading the file (a real process, connected to
//             a real Mosquitto, attesting every 100 ms). It has no "as fast
//             as possible" mode: files are read at their native rate, as a
//             camera delivers frames, so the run takes the file's length.
//   floor:    this program's own libavcodec decode loop (`decode` command)
//             on the same file, set up as the agent's decoder is (2 slice
//             threads, no frame threads), as fast as it can.
//   also:     `ffmpeg -i FILE -f null -`, FFmpeg's own decode with its
//             default (frame) threading.
//
// CPU is user + system time of the child from wait4(), all its threads;
// each figure keeps the least disturbed of its runs (3 for the short decode
// runs, 2 for the agent's).
// Per frame = (CPU on the long file - CPU on the short one) / (frames long -
// frames short), so the start-up and shutdown costs of each program (loading
// the FFmpeg libraries, probing the stream, connecting to the broker) cancel.
#include "child_process.hpp"
#include "figures.hpp"

#include "hub/stats.hpp"

#include "mosquitto_broker.hpp"

#include <latchkey/lk_attest.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace latchkey::bench {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr uint32_t kFrameRate = 25;
constexpr uint32_t kShortSeconds = 2;
constexpr int kFloorRepeats = 3;  // the floor runs are short: keep the least disturbed of three
constexpr int kAgentRepeats = 2;  // the agent's take the file's length: the less disturbed of two
constexpr const char* kCamera = "cpu";
const int kAgain = AVERROR(EAGAIN);

int64_t frames_of(const std::string& text) {
  long long n = 0;
  const auto at = text.find("DECODED ");
  return at != std::string::npos && std::sscanf(text.c_str() + at, "DECODED %lld", &n) == 1 ? n : -1;
}

fs::path make_input(const fs::path& dir, const std::string& size, uint32_t seconds, const std::string& log) {
  const fs::path file = dir / ("testsrc2-" + size + "-" + std::to_string(seconds) + "s.mp4");
  const ChildExit e =
      run_to_end({find_program("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                  "testsrc2=size=" + size + ":rate=" + std::to_string(kFrameRate), "-t", std::to_string(seconds),
                  "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-bf", "0", "-g",
                  std::to_string(2 * kFrameRate), "-pix_fmt", "yuv420p", file.string()},
                 log, 300s);
  if (e.status != 0) throw std::runtime_error("ffmpeg could not make " + file.string() + "; see " + log);
  return file;
}

struct Cost {
  int64_t cpu_ns = -1;
  int64_t frames = -1;
};

// measure: also the scene measurements (C8) of every decoded frame's luma
// plane, as lk-camera-agent measures each frame it attests.
Cost decode_floor(const std::string& self_exe, const fs::path& file, const std::string& log, bool measure = false) {
  Cost best;
  for (int i = 0; i < kFloorRepeats; ++i) {
    std::string out;
    const ChildExit e = run_to_end({self_exe, "decode", "--file", file.string(), "--measure", measure ? "1" : "0"},
                                   log, 120s, &out);
    if (e.status != 0) throw std::runtime_error("the decode floor failed on " + file.string() + "; see " + log);
    if (best.cpu_ns < 0 || e.cpu_ns() < best.cpu_ns) best = {e.cpu_ns(), frames_of(out)};
  }
  return best;
}

Cost ffmpeg_null(const fs::path& file, int64_t frames, const std::string& log) {
  Cost best;
  for (int i = 0; i < kFloorRepeats; ++i) {
    const ChildExit e = run_to_end({find_program("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-i",
                                    file.string(), "-f", "null", "-"},
                                   log, 120s);
    if (e.status != 0) throw std::runtime_error("ffmpeg -f null failed on " + file.string() + "; see " + log);
    if (best.cpu_ns < 0 || e.cpu_ns() < best.cpu_ns) best = {e.cpu_ns(), frames};
  }
  return best;
}

Cost agent_run(const testing::MosquittoBroker& broker, const fs::path& dir, const std::string& size,
               const fs::path& file, int64_t frames, uint32_t seconds, const std::string& log) {
  Cost best;
  std::vector<std::string> argv = {LATCHKEY_CAMERA_AGENT, "--camera-id", kCamera, "--source", file.string(),
                                   "--broker", broker.address() + ":" + std::to_string(broker.port()),
                                   "--password-file", broker.password_file(kCamera).string(), "--key-file",
                                   (dir / "cpu.key").string(), "--period-ms", "100"};
  // One reference view per size, made by the first run that needs it (the
  // less disturbed of the two runs is kept, so that one-time cost drops out).
  for (const std::string& o : agent_scene_options(dir / ("reference-" + size))) argv.push_back(o);
  for (int i = 0; i < kAgentRepeats; ++i) {
    const ChildExit e = run_to_end(argv, log, std::chrono::seconds(seconds + 30));
    if (e.status != 0) throw std::runtime_error("lk-camera-agent failed on " + file.string() + "; see " + log);
    if (best.cpu_ns < 0 || e.cpu_ns() < best.cpu_ns) best = {e.cpu_ns(), frames};
  }
  return best;
}

double per_frame_ms(const Cost& longer, const Cost& shorter) {
  return static_cast<double>(longer.cpu_ns - shorter.cpu_ns) / 1e6 / static_cast<double>(longer.frames - shorter.frames);
}

}  // namespace

std::vector<std::string> agent_scene_options(const fs::path& reference_file) {
  static const bool measures_scene = [] {
    std::string help;
    run_to_end({LATCHKEY_CAMERA_AGENT, "--help"}, "/dev/null", 10s, &help);
    return help.find("--reference-file") != std::string::npos;
  }();
  if (!measures_scene) return {};
  return {"--reference-file", reference_file.string()};
}

int run_decode_floor(const std::string& file, bool measure) {
  AVFormatContext* input = nullptr;
  if (avformat_open_input(&input, file.c_str(), nullptr, nullptr) < 0) return 1;
  std::unique_ptr<AVFormatContext, void (*)(AVFormatContext*)> input_owner(
      input, [](AVFormatContext* f) { avformat_close_input(&f); });
  if (avformat_find_stream_info(input, nullptr) < 0) return 1;
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(input, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream < 0 || codec == nullptr) return 1;
  std::unique_ptr<AVCodecContext, void (*)(AVCodecContext*)> decoder(
      avcodec_alloc_context3(codec), [](AVCodecContext* c) { avcodec_free_context(&c); });
  if (!decoder || avcodec_parameters_to_context(decoder.get(), input->streams[stream]->codecpar) < 0) return 1;
  decoder->pkt_timebase = input->streams[stream]->time_base;
  decoder->thread_count = 2;                 // as lk-camera-agent's FrameSource
  decoder->thread_type = FF_THREAD_SLICE;
  if (avcodec_open2(decoder.get(), codec, nullptr) < 0) return 1;
  std::unique_ptr<AVPacket, void (*)(AVPacket*)> packet(av_packet_alloc(), [](AVPacket* p) { av_packet_free(&p); });
  std::unique_ptr<AVFrame, void (*)(AVFrame*)> frame(av_frame_alloc(), [](AVFrame* f) { av_frame_free(&f); });
  int64_t frames = 0;
  uint8_t reference[LK_ATTEST_THUMB_SIZE];
  uint64_t checksum = 0;  // keeps the measurements from being optimised away
  const auto drain = [&] {
    int r;
    while ((r = avcodec_receive_frame(decoder.get(), frame.get())) == 0) {
      if (measure) {
        const auto w = static_cast<uint32_t>(frame->width), h = static_cast<uint32_t>(frame->height);
        const auto stride = static_cast<size_t>(frame->linesize[0]);
        if (frames == 0) lk_attest_thumbnail(frame->data[0], w, h, stride, reference);
        lk_attest_scene scene{};
        if (lk_attest_scene_measure(frame->data[0], w, h, stride, reference, &scene) == LK_ATTEST_OK)
          checksum += scene.mean_luminance + scene.sharpness + scene.reference_similarity;
      }
      ++frames;
    }
    return r;
  };
  while (av_read_frame(input, packet.get()) >= 0) {
    if (packet->stream_index == stream) {
      int r = avcodec_send_packet(decoder.get(), packet.get());
      while (r == kAgain) {
        drain();
        r = avcodec_send_packet(decoder.get(), packet.get());
      }
      drain();
    }
    av_packet_unref(packet.get());
  }
  avcodec_send_packet(decoder.get(), nullptr);
  drain();
  std::printf("DECODED %lld\n", static_cast<long long>(frames));
  if (measure) std::printf("MEASURED checksum %llu\n", static_cast<unsigned long long>(checksum));
  return 0;
}

int run_agent_cpu(const std::string& self_exe, const fs::path& dir, const std::vector<std::string>& sizes,
                  uint32_t seconds) {
  if (seconds <= kShortSeconds) throw std::invalid_argument("--seconds must be more than 2");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string log = (dir / "agent-cpu.log").string();
  testing::BrokerOptions options;
  options.cameras = {kCamera};
  testing::MosquittoBroker broker(options);
  // The device key is made once, outside the measured runs.
  std::vector<std::string> make_key = {LATCHKEY_CAMERA_AGENT, "--camera-id", kCamera, "--source", "lavfi:testsrc2",
                                       "--key-file", (dir / "cpu.key").string(), "--print-key"};
  for (const std::string& o : agent_scene_options(dir / "reference-unused")) make_key.push_back(o);
  run_to_end(make_key, log, 10s);
  const bool scene = !agent_scene_options(dir).empty();

  for (const std::string& size : sizes) {
    std::fprintf(stderr, "agent cpu: %s, making the inputs\n", size.c_str());
    const fs::path shorter = make_input(dir, size, kShortSeconds, log);
    const fs::path longer = make_input(dir, size, seconds, log);
    std::fprintf(stderr, "agent cpu: %s, decode floor and ffmpeg\n", size.c_str());
    const Cost floor_short = decode_floor(self_exe, shorter, log), floor_long = decode_floor(self_exe, longer, log);
    const Cost measure_short = decode_floor(self_exe, shorter, log, true);
    const Cost measure_long = decode_floor(self_exe, longer, log, true);
    const Cost ffmpeg_short = ffmpeg_null(shorter, floor_short.frames, log);
    const Cost ffmpeg_long = ffmpeg_null(longer, floor_long.frames, log);
    std::fprintf(stderr, "agent cpu: %s, lk-camera-agent at native rate (%u s + %u s, twice)\n", size.c_str(),
                 kShortSeconds, seconds);
    const Cost agent_short = agent_run(broker, dir, size, shorter, floor_short.frames, kShortSeconds, log);
    const Cost agent_long = agent_run(broker, dir, size, longer, floor_long.frames, seconds, log);

    const double agent = per_frame_ms(agent_long, agent_short);
    const double floor = per_frame_ms(floor_long, floor_short);
    const double ffmpeg = per_frame_ms(ffmpeg_long, ffmpeg_short);
    const std::string frames = std::to_string(floor_long.frames - floor_short.frames) + " frames (" +
                               std::to_string(seconds) + " s - " + std::to_string(kShortSeconds) +
                               " s files, 25 fps)";
    print_row("Agent CPU per frame, " + size + " H.264", fmt("%.2f ms", agent), fmt("%.2f ms", floor),
              fmt("%.2f", agent / floor), "-", "info",
              "floor: libavcodec decode of the same file, the agent's decoder settings (2 slice threads), min of 3; " +
                  frames + "; agent at native rate, attesting every 100 ms" +
                  (scene ? ", measuring its scene (C8)" : "") + ", min of 2; " +
                  fmt("%.0f%%", agent * kFrameRate / 10.0) + " of one core at 25 fps");
    const double measured = per_frame_ms(measure_long, measure_short) - floor;
    print_row("Scene measurements (C8) per frame, " + size, fmt("%.3f ms", measured), fmt("%.2f ms", floor),
              fmt("%.3f", measured / floor), "-", "info",
              "lk_attest_scene_measure (luminance, sharpness, thumbnail and similarity) of every decoded frame's luma "
              "plane, added to the decode floor's loop: (decode + measure) - decode, same files, min of 3 each; "
              "the agent measures each frame it attests (every frame at a period of one frame interval)");
    print_row("Agent CPU per frame vs ffmpeg -f null, " + size, fmt("%.2f ms", agent), fmt("%.2f ms", ffmpeg),
              fmt("%.2f", agent / ffmpeg), "-", "info",
              "floor: `ffmpeg -i FILE -f null -` (its default frame threads), min of 3; " + frames);
  }
  return 0;
}

}  // namespace latchkey::bench
