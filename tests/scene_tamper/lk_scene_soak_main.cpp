// lk-scene-soak: false alarms of C8 over hours of a normal scene, simulated
// at frame rate (docs/camera-agent.md, "False alarms over a long soak").
//
// Reads GRAY8 frames (width x height bytes each) on stdin, as FFmpeg decodes
// and converts them (tools/soak-scene.sh pipes `ffmpeg -f lavfi ... -f
// rawvideo -pix_fmt gray -`), and plays camera and hub on a simulated clock,
// frame i at i / fps seconds:
//   camera: the first frame after --reference-s becomes the reference view;
//           every frame is measured and signed with latchkey_attest, echoing
//           the hub's newest nonce;
//   hub:    the hub's own LivenessMonitor (C1-C5, C7, C8) judges each
//           attestation 5 ms after its capture, with the camera's limits.
// An alarm is an episode in which the view stays out of limits past
// tamper_window (the hub's camera-tamper alarm). Prints the frames and
// simulated hours, alarms and alarms per hour, every other rejection, the
// range of each measurement and the longest time out of limits that stayed
// inside the window.
//
// Its options and exit statuses: program() and parse() below, `--help`.
#include <latchkey/common/cli_options.hpp>
#include <latchkey/gate/config.hpp>
#include <latchkey/gate/liveness_monitor.hpp>
#include <latchkey/lk_attest.h>

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

using latchkey::gate::MonoNs;

struct Options {
  uint32_t width = 0, height = 0, fps = 0;
  double reference_s = 1.0;
  latchkey::gate::SceneLimits limits;
  int64_t tamper_window_ms = 2000;
};

const latchkey::cli::Program& program() {
  static const latchkey::cli::Program p{
      "lk-scene-soak",
      {"--width W --height H --fps F [--reference-s S] [--min-luminance N] [--max-luminance N] "
       "[--min-sharpness N] [--min-similarity N] [--tamper-window-ms N]"},
      "False alarms of C8 over hours of a normal scene, simulated at frame rate: reads GRAY8 frames on stdin "
      "(tools/soak-scene.sh pipes them from FFmpeg), measures and signs them as a camera does and judges them "
      "with the hub's own LivenessMonitor (docs/camera-agent.md, \"False alarms over a long soak\").",
      {{0, "no alarm"}, {1, "alarms"}, {2, "usage error or bad input"}},
      ""};
  return p;
}

[[noreturn]] void usage(const std::string& why) { std::exit(latchkey::cli::report_usage_error(program(), why)); }

uint32_t number(const std::string& name, const char* text, uint32_t max) {
  char* end = nullptr;
  const unsigned long v = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0' || v > max) usage(name + ": '" + text + "' is not a whole number up to " + std::to_string(max));
  return static_cast<uint32_t>(v);
}

Options parse(int argc, char** argv) {
  namespace po = latchkey::cli::po;
  Options o;
  o.limits.required = true;
  po::options_description described;
  const auto number_option = [&](const char* name, const char* help) {
    described.add_options()(name, po::value<std::string>()->value_name("N"), help);
  };
  number_option("width", "frame width in pixels (32-16384; required)");
  number_option("height", "frame height in pixels (18-16384; required)");
  number_option("fps", "frames per second of the simulated clock (1-1000; required)");
  number_option("reference-s", "when the reference view is taken, in seconds (default 1)");
  number_option("min-luminance", "the camera's C8 limit, as enrolment sets it");
  number_option("max-luminance", "the camera's C8 limit, as enrolment sets it");
  number_option("min-sharpness", "the camera's C8 limit, as enrolment sets it");
  number_option("min-similarity", "the camera's C8 limit, as enrolment sets it");
  number_option("tamper-window-ms", "tamper_window in milliseconds (default 2000)");
  const latchkey::cli::Parsed parsed = latchkey::cli::parse(program(), described, argc, argv);
  if (parsed.exit_status) std::exit(*parsed.exit_status);
  for (const po::option& option : parsed.in_order) {
    const std::string a = "--" + option.string_key;
    const char* v = option.value.front().c_str();
    if (a == "--width") o.width = number(a, v, 16384);
    else if (a == "--height") o.height = number(a, v, 16384);
    else if (a == "--fps") o.fps = number(a, v, 1000);
    else if (a == "--reference-s") o.reference_s = number(a, v, 3600);
    else if (a == "--min-luminance") o.limits.min_luminance = number(a, v, 255000);
    else if (a == "--max-luminance") o.limits.max_luminance = number(a, v, 255000);
    else if (a == "--min-sharpness") o.limits.min_sharpness = number(a, v, 1020000);
    else if (a == "--min-similarity") o.limits.min_similarity = number(a, v, 1000);
    else if (a == "--tamper-window-ms") o.tamper_window_ms = number(a, v, 10000);
  }
  if (o.width < 32 || o.height < 18 || o.fps == 0) usage("--width (32+), --height (18+) and --fps (1+) are required");
  try {
    o.limits.validate();
  } catch (const std::exception& e) {
    usage(e.what());
  }
  return o;
}

void check(lk_attest_result r, const char* what) {
  if (r != LK_ATTEST_OK) {
    std::cerr << "lk-scene-soak: " << what << ": " << lk_attest_result_name(r) << "\n";
    std::exit(2);
  }
}

struct Range {
  uint32_t low = UINT32_MAX, high = 0;
  void add(uint32_t v) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (sodium_init() < 0) return 2;
  uint8_t seed[LK_ATTEST_SEED_SIZE];
  randombytes_buf(seed, sizeof seed);
  lk_attest_key* key = nullptr;
  check(lk_attest_key_from_seed(seed, &key), "key");
  uint8_t public_key[LK_ATTEST_PUBLIC_KEY_SIZE];
  lk_attest_key_public_key(key, public_key);
  lk_attest_context* camera = nullptr;
  check(lk_attest_context_create(key, "porch", &camera), "context");

  latchkey::gate::GateConfig config;
  config.tamper_window_ms = o.tamper_window_ms;
  latchkey::crypto::PublicKey pinned{};
  std::copy(std::begin(public_key), std::end(public_key), pinned.begin());
  latchkey::gate::LivenessMonitor hub("porch", pinned, config, o.limits);
  const latchkey::gate::RandomSource random = [](std::span<uint8_t> out) { randombytes_buf(out.data(), out.size()); };

  const std::size_t frame_size = std::size_t{o.width} * o.height;
  std::vector<uint8_t> frame(frame_size);
  std::vector<uint8_t> reference(LK_ATTEST_THUMB_SIZE);
  bool have_reference = false;
  const MonoNs frame_ns = 1'000'000'000LL / o.fps;
  const MonoNs transit_ns = 5'000'000;
  MonoNs next_nonce = 0;
  uint64_t frames = 0, attested = 0, alarms = 0;
  std::map<std::string, uint64_t> other_rejections;
  Range luminance, sharpness, similarity;
  bool in_alarm = false;
  MonoNs out_since = -1, longest_out = 0;
  std::vector<std::string> alarm_times;
  uint8_t attestation[1024];  // the camera link's limit

  while (std::fread(frame.data(), 1, frame_size, stdin) == frame_size) {
    const MonoNs capture = static_cast<MonoNs>(frames) * frame_ns + 1'000'000'000;  // the clock starts at 1 s
    ++frames;
    if (!have_reference) {
      if (static_cast<double>(capture - 1'000'000'000) < o.reference_s * 1e9) continue;
      check(lk_attest_thumbnail(frame.data(), o.width, o.height, o.width, reference.data()), "thumbnail");
      char message[256];
      check(lk_attest_reference_check(reference.data(), message, sizeof message), message);
      have_reference = true;
    }
    // The hub's nonces, every nonce period, reach the camera at once.
    while (next_nonce <= capture) {
      const latchkey::crypto::Bytes nonce = hub.issue_nonce(next_nonce, random);
      check(lk_attest_set_nonce(camera, nonce.data(), nonce.size()), "nonce");
      next_nonce += config.nonce_period_ms * 1'000'000;
    }
    lk_attest_scene scene{};
    check(lk_attest_scene_measure(frame.data(), o.width, o.height, o.width, reference.data(), &scene), "measure");
    luminance.add(scene.mean_luminance);
    sharpness.add(scene.sharpness);
    similarity.add(scene.reference_similarity);
    check(lk_attest_set_scene(camera, &scene), "scene");
    uint8_t digest[LK_ATTEST_DIGEST_SIZE];
    crypto_generichash(digest, sizeof digest, frame.data(), frame.size(), nullptr, 0);
    size_t size = sizeof attestation;
    check(lk_attest_sign(camera, static_cast<uint64_t>(capture), digest, attestation, &size), "sign");
    ++attested;
    const MonoNs now = capture + transit_ns;
    const latchkey::gate::AttestationVerdict v = hub.on_attestation({attestation, size}, now);
    const bool out = scene.mean_luminance < o.limits.min_luminance || scene.mean_luminance > o.limits.max_luminance ||
                     scene.sharpness < o.limits.min_sharpness || scene.reference_similarity < o.limits.min_similarity;
    if (out && out_since < 0) out_since = capture;
    if (!out && out_since >= 0) {
      longest_out = std::max(longest_out, capture - out_since);
      out_since = -1;
    }
    if (!v.accepted && v.rule != latchkey::Rule::C8)
      ++other_rejections[std::string(latchkey::name(v.rule)) + ": " + v.reason.substr(0, 60)];
    const bool tampered = hub.tampered(now);
    if (tampered && !in_alarm) {
      ++alarms;
      const double at_h = static_cast<double>(capture - 1'000'000'000) / 3.6e12;
      char line[160];
      std::snprintf(line, sizeof line, "%.3f h (%s)", at_h, hub.tamper_problem().c_str());
      if (alarm_times.size() < 20) alarm_times.push_back(line);
    }
    in_alarm = tampered;
  }
  lk_attest_context_free(camera);
  lk_attest_key_free(key);
  if (frames == 0 || !have_reference) {
    std::cerr << "lk-scene-soak: " << frames << " frames read, no reference view taken\n";
    return 2;
  }
  const double hours = static_cast<double>(frames) / o.fps / 3600.0;
  std::printf("frames %llu (%ux%u at %u/s), simulated %.2f h, attested %llu\n",
              static_cast<unsigned long long>(frames), o.width, o.height, o.fps, hours,
              static_cast<unsigned long long>(attested));
  std::printf("limits: luminance %u-%u, sharpness >= %u, similarity >= %u; tamper_window %lld ms\n",
              o.limits.min_luminance, o.limits.max_luminance, o.limits.min_sharpness, o.limits.min_similarity,
              static_cast<long long>(o.tamper_window_ms));
  std::printf("measured: mean_luminance %u-%u, sharpness %u-%u, reference_similarity %u-%u\n", luminance.low,
              luminance.high, sharpness.low, sharpness.high, similarity.low, similarity.high);
  std::printf("longest run out of limits that ended: %.1f s\n", static_cast<double>(longest_out) / 1e9);
  std::printf("alarms %llu, %.3f per hour\n", static_cast<unsigned long long>(alarms),
              static_cast<double>(alarms) / hours);
  for (const std::string& t : alarm_times) std::printf("  alarm at %s\n", t.c_str());
  for (const auto& [why, n] : other_rejections)
    std::printf("other rejections: %llu x %s\n", static_cast<unsigned long long>(n), why.c_str());
  return alarms == 0 && other_rejections.empty() ? 0 : 1;
}
