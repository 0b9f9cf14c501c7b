#include "agent_config.hpp"

#include "source_kind.hpp"

#include <latchkey/common/cli_options.hpp>
#include <latchkey/common/log.hpp>

#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

namespace latchkey::camera {

namespace {

namespace cli = latchkey::cli;
namespace po = latchkey::cli::po;

using Apply = std::function<std::optional<std::string>(AgentConfig&, const std::string&)>;

struct Option {
  const char* name;   // the long flag without "--", and the config file key
  const char* value;  // the value's placeholder in --help, or nullptr for a flag
  const char* help;
  Apply apply;
  bool command_line_only = false;
};

std::optional<uint64_t> parse_unsigned(const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
  if (text == "false" || text == "no" || text == "off" || text == "0") return false;
  return std::nullopt;
}

std::optional<std::string> set_string(std::string& field, const std::string& value) {
  if (value.empty()) return "needs a value";
  field = value;
  return std::nullopt;
}

// [mqtt:// | mqtts://] then host, host:port, [v6], [v6]:port.
std::optional<std::string> set_broker(AgentConfig& c, const std::string& text) {
  std::string value = text;
  c.broker_scheme = AgentConfig::Scheme::kNone;
  if (value.rfind("mqtt://", 0) == 0) {
    c.broker_scheme = AgentConfig::Scheme::kMqtt;
    value = value.substr(7);
  } else if (value.rfind("mqtts://", 0) == 0) {
    c.broker_scheme = AgentConfig::Scheme::kMqtts;
    value = value.substr(8);
  } else if (value.find("://") != std::string::npos) {
    return "'" + text + "': only mqtt:// and mqtts:// are known";
  }
  if (!value.empty() && value.back() == '/') value.pop_back();
  std::string host = value;
  std::string port;
  if (!value.empty() && value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string::npos) return "'" + value + "' has an unclosed '['";
    host = value.substr(1, close - 1);
    if (close + 1 < value.size()) {
      if (value[close + 1] != ':') return "'" + value + "' is not host:port";
      port = value.substr(close + 2);
    }
  } else if (const auto colon = value.rfind(':'); colon != std::string::npos) {
    if (value.find(':') != colon) return "'" + value + "' is an IPv6 address: write it as [addr]:port";
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
    if (port.empty()) return "'" + value + "' has an empty port";
  }
  if (host.empty()) return "'" + value + "' has no host";
  c.broker_host = host;
  if (!port.empty()) {
    const auto p = parse_unsigned(port);
    if (!p || *p < 1 || *p > 65535) return "port '" + port + "' is not a number from 1 to 65535";
    c.broker_port = static_cast<uint16_t>(*p);
  } else {
    c.broker_port = 0;  // the default for plain or TLS, chosen once all options are read
  }
  return std::nullopt;
}

// --log-level's help, as every program that logs has it.
const char* log_level_help() {
  static const std::string text = cli::log_level_help("logged", "info");
  return text.c_str();
}

std::vector<Option> options() {
  return {
      {"camera-id", "ID", "camera id: broker user name and topic level latchkey/camera/<ID>/ (required)",
       [](AgentConfig& c, const std::string& v) -> std::optional<std::string> {
         if (auto problem = check_camera_id(v)) return problem;
         c.camera_id = v;
         return std::nullopt;
       }},
      {"source", "SOURCE",
       "frames to attest (required): /dev/videoN (V4L2), rtsp://..., a file, or lavfi:<graph> "
       "e.g. lavfi:testsrc2=size=1280x720:rate=10",
       [](AgentConfig& c, const std::string& v) { return set_string(c.source, v); }},
      {"input-option", "KEY=VALUE",
       "an FFmpeg input option, repeatable, e.g. video_size=1280x720, input_format=mjpeg, rtsp_transport=tcp",
       [](AgentConfig& c, const std::string& v) -> std::optional<std::string> {
         const auto eq = v.find('=');
         if (eq == std::string::npos || eq == 0) return "'" + v + "' is not KEY=VALUE";
         c.input_options.emplace_back(v.substr(0, eq), v.substr(eq + 1));
         return std::nullopt;
       }},
      {"broker", "[mqtts://]HOST[:PORT]",
       "the hub's MQTT broker (default localhost:1883); mqtts:// or --tls-ca-file for TLS (default port 8883)",
       set_broker},
      {"password-file", "FILE", "file whose first line is this camera's broker password",
       [](AgentConfig& c, const std::string& v) { return set_string(c.password_file, v); }},
      {"tls-ca-file", "FILE", "connect with TLS, trusting the CA certificate(s) in FILE (PEM); mqtts:// alone trusts /etc/ssl/certs",
       [](AgentConfig& c, const std::string& v) { return set_string(c.tls_ca_file, v); }},
      {"key-file", "FILE", "the camera's Ed25519 device key; created (mode 0600) if missing (required)",
       [](AgentConfig& c, const std::string& v) { return set_string(c.key_file, v); }},
      {"record-dir", "DIR", "where recordings go (created if missing); without it recording commands are refused",
       [](AgentConfig& c, const std::string& v) { return set_string(c.record_dir, v); }},
      {"period-ms", "MS", "attestation period in milliseconds, 20-1000 (default 100)",
       [](AgentConfig& c, const std::string& v) -> std::optional<std::string> {
         const auto n = parse_unsigned(v);
         if (!n) return "'" + v + "' is not a whole number of milliseconds";
         if (*n < AgentConfig::kPeriodMinMs || *n > AgentConfig::kPeriodMaxMs)
           return std::to_string(*n) + " is outside " + std::to_string(AgentConfig::kPeriodMinMs) + "-" +
                  std::to_string(AgentConfig::kPeriodMaxMs);
         c.period_ms = static_cast<uint32_t>(*n);
         return std::nullopt;
       }},
      {"loop", nullptr, "TEST AID: play a file or lavfi source again from its start forever (looped footage, C7)",
       [](AgentConfig& c, const std::string& v) -> std::optional<std::string> {
         const auto b = parse_bool(v);
         if (!b) return "'" + v + "' is not true or false";
         c.loop = *b;
         return std::nullopt;
       }},
      {"freeze-after", "N",
       "TEST AID: after N decoded frames keep re-digesting the last one (a stuck sensor, C5); 0 = off",
       [](AgentConfig& c, const std::string& v) -> std::optional<std::string> {
         const auto n = parse_unsigned(v);
         if (!n) return "'" + v + "' is not a whole number of frames";
         c.freeze_after = *n;
         return std::nullopt;
       }},
      {"reference-file", "FILE",
       "the reference view the scene measurements (C8) compare each frame with, a 32x18 grey PGM; "
       "taken from the first usable frame and saved there when missing (enrolment); required unless --no-scene",
       [](AgentConfig& c, const std::string& v) { return set_string(c.reference_file, v); }},
      {"retake-reference", nullptr,
       "replace the reference view with the first usable frame of this start (after re-aiming the camera; "
       "command line only)",
       [](AgentConfig& c, const std::string& v) -> std::optional<std::string> {
         const auto b = parse_bool(v);
         if (!b) return "'" + v + "' is not true or false";
         c.retake_reference = *b;
         return std::nullopt;
       },
       true},
      {"night-reference-file", "FILE",
       "a second reference view, of the scene at night (an IR mode can change it more than light does): the "
       "similarity is that of the closer of the two; loaded when present, taken only with --take-night-reference",
       [](AgentConfig& c, const std::string& v) { return set_string(c.night_reference_file, v); }},
      {"take-night-reference", nullptr,
       "save the first usable frame of this start as the night reference view (at night, after the day one "
       "exists; command line only)",
       [](AgentConfig& c, const std::string& v) -> std::optional<std::string> {
         const auto b = parse_bool(v);
         if (!b) return "'" + v + "' is not true or false";
         c.take_night_reference = *b;
         return std::nullopt;
       },
       true},
      {"no-scene", nullptr,
       "send no scene measurements (C8): the hub then cannot tell a covered, blurred or turned camera",
       [](AgentConfig& c, const std::string& v) -> std::optional<std::string> {
         const auto b = parse_bool(v);
         if (!b) return "'" + v + "' is not true or false";
         c.no_scene = *b;
         return std::nullopt;
       }},
      {"log-level", "LEVEL", log_level_help(),
       [](AgentConfig& c, const std::string& v) -> std::optional<std::string> {
         if (auto problem = cli::log_level_problem(v)) return problem;
         c.log_level = cli::log_level_argument(v);
         return std::nullopt;
       }},
      {"print-key", nullptr, "print the public key (creating the key file if missing) and exit",
       [](AgentConfig& c, const std::string& v) -> std::optional<std::string> {
         const auto b = parse_bool(v);
         if (!b) return "'" + v + "' is not true or false";
         c.print_key = *b;
         return std::nullopt;
       },
       true},
  };
}

// The table as Boost.Program_options options: every option takes a value
// (repeatable: the table applies them in order, the last one winning); a flag
// takes one only as --flag=VALUE.
po::options_description table_options() {
  po::options_description description;
  for (const Option& o : options()) {
    auto* semantic = po::value<std::vector<std::string>>();
    if (o.value == nullptr) semantic->implicit_value({"true"}, "true")->value_name("BOOL");
    else semantic->value_name(o.value);
    description.add_options()(o.name, semantic, o.help);
  }
  description.add_options()
      ("config", po::value<std::vector<std::string>>()->value_name("FILE"),
       "read options from FILE; flags on the command line override it");
  return description;
}

po::options_description command_line_options() {
  po::options_description description = table_options();
  description.add(cli::standard_options());
  return description;
}

const Option* find_option(const std::vector<Option>& all, const std::string& name) {
  for (const auto& o : all)
    if (name == o.name) return &o;
  return nullptr;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

struct Setting {
  std::string name;
  std::string value;
  std::string where;  // "--name" or "FILE:LINE: name"
};

// Reads "key = value" lines; '#' or ';' starts a comment line.
std::optional<std::string> read_config_file(const std::string& path, const std::vector<Option>& all,
                                            std::vector<Setting>& out) {
  std::ifstream in(path);
  if (!in) return "--config: cannot read " + path;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    const std::string where = path + ":" + std::to_string(number);
    const auto eq = text.find('=');
    if (eq == std::string::npos) return where + ": '" + text + "' is not key = value";
    const std::string key = trim(text.substr(0, eq));
    const Option* option = find_option(all, key);
    if (option == nullptr) return where + ": unknown key '" + key + "' (keys are the long options, see --help)";
    if (option->command_line_only) return where + ": '" + key + "' is a command-line flag only";
    out.push_back({key, trim(text.substr(eq + 1)), where + ": " + key});
  }
  return std::nullopt;
}

std::optional<std::string> check_complete(AgentConfig& c) {
  if (c.key_file.empty()) return "--key-file is required";
  if (c.broker_scheme == AgentConfig::Scheme::kMqtt && !c.tls_ca_file.empty())
    return "--tls-ca-file: the --broker is mqtt:// (plain TCP); write mqtts:// or host:port for TLS";
  c.tls = c.broker_scheme == AgentConfig::Scheme::kMqtts || !c.tls_ca_file.empty();
  if (c.broker_port == 0) c.broker_port = c.tls ? 8883 : 1883;
  if (c.print_key) return std::nullopt;
  if (c.camera_id.empty()) return "--camera-id is required";
  if (c.source.empty()) return "--source is required";
  const auto kind = locate_source(c.source).kind;
  if (c.loop && is_live(kind))
    return "--loop: a " + std::string(source_kind_name(kind)) + " source cannot be looped (files and lavfi only)";
  // C8: a camera measures unless told not to, so none is left unmeasured by
  // a forgotten option.
  if (c.no_scene && !c.reference_file.empty())
    return "--no-scene: a --reference-file is given too; measure (drop --no-scene) or do not (drop --reference-file)";
  if (c.no_scene && c.retake_reference) return "--retake-reference: --no-scene takes no reference view";
  if (c.no_scene && !c.night_reference_file.empty())
    return "--night-reference-file: --no-scene measures nothing to compare with it";
  if (c.take_night_reference && c.night_reference_file.empty())
    return "--take-night-reference: needs --night-reference-file, where to save it";
  if (c.take_night_reference && c.retake_reference)
    return "--take-night-reference: not with --retake-reference (take the day view first, the night one at night)";
  if (!c.no_scene && c.reference_file.empty())
    return "--reference-file is required: the reference view the scene measurements (C8) compare frames with, "
           "taken at first start; --no-scene to send no measurements";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_camera_id(const std::string& id) {
  if (id.empty()) return "the camera id is empty";
  if (id.size() > 63) return "'" + id + "' is longer than 63 characters";
  for (const char ch : id) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                    ch == '_' || ch == '-';
    if (!ok) return "'" + id + "' may hold only A-Z a-z 0-9 . _ - (the hub's net_camera plugin accepts no other)";
  }
  return std::nullopt;
}

ParseOutcome parse_command_line(const std::vector<std::string>& args) {
  ParseOutcome outcome;
  const auto all = options();
  std::vector<Setting> command_line;
  std::string config_file;
  po::parsed_options parsed(nullptr);
  try {
    parsed = cli::tokenize(command_line_options(), args);
  } catch (const cli::UsageError& e) {
    // As every refusal here, it names an option; report_usage_error adds
    // the way to --help.
    outcome.error = e.what();
    return outcome;
  }
  for (const po::option& option : parsed.options) {
    const std::string& name = option.string_key;
    if (name == "help") {
      outcome.kind = ParseOutcome::Kind::kHelp;
      return outcome;
    }
    if (name == "version") {
      outcome.kind = ParseOutcome::Kind::kVersion;
      return outcome;
    }
  }
  for (const po::option& option : parsed.options) {
    const std::string& name = option.string_key;
    // A flag given without "=VALUE" is on.
    const std::string value = option.value.empty() ? "true" : option.value.front();
    if (name == "config") {
      config_file = value;
    } else {
      command_line.push_back({name, value, "--" + name});
    }
  }

  std::vector<Setting> settings;
  if (!config_file.empty()) {
    if (auto problem = read_config_file(config_file, all, settings)) {
      outcome.error = *problem;
      return outcome;
    }
  }
  // The command line wins: applied after the file, it replaces its values
  // (input options add up).
  settings.insert(settings.end(), command_line.begin(), command_line.end());
  AgentConfig config;
  for (const auto& s : settings) {
    if (auto problem = find_option(all, s.name)->apply(config, s.value)) {
      outcome.error = s.where + ": " + *problem;
      return outcome;
    }
  }
  if (auto problem = check_complete(config)) {
    outcome.error = *problem;
    return outcome;
  }
  outcome.kind = ParseOutcome::Kind::kRun;
  outcome.config = std::move(config);
  return outcome;
}

namespace {

const cli::Program& program() {
  static const cli::Program p{
      "lk-camera-agent",
      {"--camera-id ID --source SOURCE --key-file FILE --reference-file FILE [OPTION]...",
       "--camera-id ID --source SOURCE --key-file FILE --no-scene [OPTION]...",
       "--key-file FILE --print-key"},
      "The Latchkey camera agent: decodes every frame of SOURCE, signs an attestation of the newest frame's "
      "pixels, its scene measurements (mean luminance, sharpness, likeness to the reference view), the hub's "
      "newest nonce and the recording state every period, and publishes it on latchkey/camera/<ID>/attestation "
      "(docs/camera-link.md, docs/camera-agent.md).\n\n"
      "In a --config file, write the options' names without \"--\", one \"name = value\" a line.",
      {{0, "stopped by SIGTERM or SIGINT, or the source ended, or --print-key printed the key"},
       {1, "the key file could not be read or created, or the agent could not run (the source or the broker "
           "failed beyond retrying)"},
       {2, "usage error: an unknown or malformed option, a bad value, a bad --config file, an unreadable "
           "--password-file or unusable --record-dir"}},
      "--loop and --freeze-after are test aids: they make the agent misbehave on purpose (looped or frozen "
      "footage) so the hub's C5/C7 checks can be exercised. Never set them on a camera.\n\n"
      "The reference view (C8) is taken at enrolment, with the camera aimed as it will stay and nothing in "
      "front of it: at the first start, from the first frame with enough contrast 1 s after the source starts; "
      "attestations begin once it is saved. Look at the PGM file to check it. --retake-reference takes it again "
      "(the camera was re-aimed on purpose).\n\n"
      "The log: one line per event on stderr, \"<RFC 3339 time, ms> lk-camera-agent[<ID>] <level>: "
      "<message>\"; under systemd with stderr on the journal, \"<priority>level: <message>\" instead."};
  return p;
}

}  // namespace

std::string help_text() { return cli::help_text(program(), table_options()); }

int report_usage_error(const std::string& problem) { return cli::report_usage_error(program(), problem); }

}  // namespace latchkey::camera
