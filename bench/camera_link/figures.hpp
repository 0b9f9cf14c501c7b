// The camera-link figures of lk-bench-camera-link (see main.cpp). Each prints
// its ROW lines (bench/common/bench_report.hpp) and returns 0, or non-zero
// when it could not measure.
#ifndef LATCHKEY_BENCH_CAMERA_LINK_FIGURES_HPP
#define LATCHKEY_BENCH_CAMERA_LINK_FIGURES_HPP

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace latchkey::bench {

// 1. Hub nonce -> lk-camera-agent -> first attestation echoing it, through
//    net_camera and Mosquitto, against a bare MQTT echo on the same broker.
//    nodelay_periods_ms: also measured with TCP_NODELAY on every hop, in a
//    child process (tcp_nodelay: this is that child).
int run_nonce_echo(const std::string& self_exe, const std::filesystem::path& dir,
                   const std::vector<uint32_t>& periods_ms, std::size_t trials,
                   const std::vector<uint32_t>& nodelay_periods_ms, bool tcp_nodelay);

// 2. lk-camera-agent's CPU per frame on H.264 files made here, against a
//    libavcodec decode of the same file (and `ffmpeg -f null`).
int run_agent_cpu(const std::string& self_exe, const std::filesystem::path& dir, const std::vector<std::string>& sizes,
                  uint32_t seconds);
// The decode floor's child: decodes the file as the agent's decoder is set up
// and prints "DECODED <frames>".
int run_decode_floor(const std::string& file, bool measure);

// 3. The hub's CPU per network camera: N cameras publishing real signed
//    attestations at 10 Hz, relayed by net_camera into the Runtime, against
//    the Ed25519 verifications they need.
int run_hub_cpu(const std::string& self_exe, const std::filesystem::path& dir, const std::vector<std::size_t>& counts,
                uint32_t seconds);
// One camera count in its own process (the hub), printing "HUBCPU ..." lines;
// silent: no publisher, the cameras only open.
int run_hub_cpu_one(const std::string& self_exe, const std::filesystem::path& dir, std::size_t cameras,
                    uint32_t seconds, uint16_t port, const std::filesystem::path& hub_password_file,
                    const std::filesystem::path& credentials, bool silent);
// The publisher's child: N cameras, each its own MQTT user, signing with
// latchkey_attest and echoing the hub's newest nonce.
// credentials: "<camera id> <password>" lines, camera 0 first.
int run_publisher(const std::string& host, uint16_t port, const std::filesystem::path& credentials,
                  std::size_t cameras, uint32_t rate_hz);

// The options lk-camera-agent needs besides the ones every run passes: an
// agent that measures its scene (C8) wants a reference view file, made at its
// first start from the first frame, else nothing. Asks `--help` once.
std::vector<std::string> agent_scene_options(const std::filesystem::path& reference_file);

// Shared by figures 3 and its publisher: camera i's id and key seed.
std::string net_camera_id(std::size_t index);
void net_camera_seed(std::size_t index, uint8_t seed[32]);

}  // namespace latchkey::bench

#endif  // LATCHKEY_BENCH_CAMERA_LINK_FIGURES_HPP
