// The agent's configuration: command-line flags and an optional INI-like file
// whose keys are the long flags without "--". Every value is checked here, so
// the rest of the agent never sees one outside its bounds.
#pragma once

#include <latchkey/common/log.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace latchkey::camera {

struct AgentConfig {
  std::string camera_id;                 // also the broker user name and a topic level
  std::string source;                    // /dev/videoN, rtsp://..., lavfi:<graph>, a file
  std::vector<std::pair<std::string, std::string>> input_options;  // passed to avformat_open_input
  enum class Scheme { kNone, kMqtt, kMqtts };  // how --broker was written
  Scheme broker_scheme = Scheme::kNone;
  std::string broker_host = "localhost";
  uint16_t broker_port = 1883;           // 8883 with TLS when no port is given
  bool tls = false;                      // mqtts:// or a tls_ca_file
  std::string password_file;             // empty: no password (a test broker only)
  std::string tls_ca_file;               // empty: the system's CAs when tls, else plain TCP
  std::string key_file;
  std::string record_dir;                // empty: recording commands are refused
  uint32_t period_ms = 100;              // attestation period, 20-1000
  bool loop = false;                     // test aid: play a file or lavfi source forever
  uint64_t freeze_after = 0;             // test aid: 0 = off, else freeze after N frames
  std::string reference_file;            // C8: the reference view (a 32x18 grey PGM); empty only with no_scene
  bool retake_reference = false;         // command line only: take the reference view again at this start
  std::string night_reference_file;      // C8: an optional second reference view, of the scene at night
  bool take_night_reference = false;     // command line only: take the night reference view at this start
  bool no_scene = false;                 // attest without scene measurements (C8)
  bool print_key = false;
  logging::LogLevel log_level = logging::LogLevel::kInfo;  // the lowest level logged

  static constexpr uint32_t kPeriodMinMs = 20;
  static constexpr uint32_t kPeriodMaxMs = 1000;
};

// What parse_command_line found: a config to run with, a request for help, or
// a refusal whose message names the option and the problem.
struct ParseOutcome {
  enum class Kind { kRun, kHelp, kVersion, kError };
  Kind kind = Kind::kError;
  AgentConfig config;
  std::string error;
};

// args excludes the program name. Reads the --config file when one is given;
// flags on the command line override its values.
ParseOutcome parse_command_line(const std::vector<std::string>& args);

// The text --help prints (the man page's source too).
std::string help_text();

// Prints a refusal as every Latchkey program does ("lk-camera-agent:
// <problem>" and the way to --help) and returns the usage exit status, 2.
int report_usage_error(const std::string& problem);

// A camera id usable as a broker user name, an MQTT topic level and in file
// names: 1-63 of A-Z a-z 0-9 . _ - (as the hub's net_camera plugin). nullopt
// when valid, else the reason.
std::optional<std::string> check_camera_id(const std::string& id);

}  // namespace latchkey::camera
