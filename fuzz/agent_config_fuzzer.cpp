// Fuzzes lk-camera-agent's configuration: parse_command_line
// (camera/agent/src/agent_config.cpp) with a --config file, "name = value"
// lines whose names are the long options. The file is written by whoever
// installs the camera (or a maker's provisioning script); every value is
// checked there, so the rest of the agent never sees one outside its bounds.
//
// Input: a 2-byte big-endian length and that many bytes of command-line
// arguments, one a line (any "--config" among them dropped), then the
// --config file's text, written to a memory file; the harness adds
// "--config <that file>" after the arguments.
// Properties: a refusal is kError with a message naming the option (it says
// "--NAME") or the file's line (it starts "FILE:LINE: ", LINE one of the
// file's lines); kRun holds a configuration within every documented bound:
// a key file; unless --print-key, a camera id of 1-63 [A-Za-z0-9._-] and a
// source; a broker host and a port from 1 to 65535; TLS exactly for
// mqtts:// or a CA file, never a CA file with mqtt://; a period of
// 20-1000 ms; --loop only on a file or lavfi source; input options with a
// name.
#include "agent_config.hpp"
#include "source_kind.hpp"

#include "support/scratch_file.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

using latchkey::camera::AgentConfig;
using latchkey::camera::ParseOutcome;

namespace {

constexpr std::size_t kMaxArgs = 16;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at < text.size() && lines.size() < kMaxArgs) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

std::size_t line_count(const std::string& text) {
  const auto newlines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  return newlines + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

// "FILE:LINE: ..." with LINE a line of the file, or 0 when the error does not start with FILE.
std::size_t line_named(const std::string& error, const std::string& path) {
  if (error.compare(0, path.size() + 1, path + ":") != 0) return 0;
  std::size_t line = 0;
  const char* begin = error.data() + path.size() + 1;
  const auto [end, ec] = std::from_chars(begin, error.data() + error.size(), line);
  if (ec != std::errc() || end == begin || *end != ':') return SIZE_MAX;
  return line;
}

void check_run(const AgentConfig& c) {
  LK_FUZZ_CHECK(!c.key_file.empty(), "running without a key file");
  LK_FUZZ_CHECK(!c.broker_host.empty(), "running without a broker host");
  LK_FUZZ_CHECK(c.broker_port >= 1, "running with broker port 0");
  LK_FUZZ_CHECK(c.tls == (c.broker_scheme == AgentConfig::Scheme::kMqtts || !c.tls_ca_file.empty()),
                "TLS on or off against the broker's scheme and the CA file");
  LK_FUZZ_CHECK(!(c.broker_scheme == AgentConfig::Scheme::kMqtt && !c.tls_ca_file.empty()),
                "a CA file with an mqtt:// (plain TCP) broker");
  LK_FUZZ_CHECK(c.period_ms >= AgentConfig::kPeriodMinMs && c.period_ms <= AgentConfig::kPeriodMaxMs,
                "a period outside 20-1000 ms");
  for (const auto& [name, value] : c.input_options) LK_FUZZ_CHECK(!name.empty(), "an input option without a name");
  if (c.print_key) return;
  LK_FUZZ_CHECK(!latchkey::camera::check_camera_id(c.camera_id).has_value(), "running with an invalid camera id");
  LK_FUZZ_CHECK(!c.source.empty(), "running without a source");
  if (c.loop)
    LK_FUZZ_CHECK(!latchkey::camera::is_live(latchkey::camera::locate_source(c.source).kind),
                  "--loop on a live source");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static latchkey::fuzz::ScratchFile file;
  latchkey::fuzz::InputCursor in(data, size);
  std::vector<std::string> args;
  for (std::string& arg : split_lines(in.counted())) {
    arg.resize(std::min(arg.size(), arg.find('\0')));  // argv holds C strings: a word ends at its first NUL
    if (arg.rfind("--config", 0) != 0) args.push_back(std::move(arg));
  }
  const std::string text = in.rest();
  file.write(text);
  args.push_back("--config");
  args.push_back(file.path());

  const ParseOutcome out = latchkey::camera::parse_command_line(args);
  if (latchkey::fuzz::tracing())
    std::fprintf(stderr, "agent_config: %s %s\n",
                 out.kind == ParseOutcome::Kind::kRun      ? "run"
                 : out.kind == ParseOutcome::Kind::kHelp   ? "help"
                 : out.kind == ParseOutcome::Kind::kVersion ? "version"
                                                            : "refused:",
                 out.error.c_str());
  switch (out.kind) {
    case ParseOutcome::Kind::kRun:
      LK_FUZZ_CHECK(out.error.empty(), "running with an error");
      check_run(out.config);
      break;
    case ParseOutcome::Kind::kError: {
      LK_FUZZ_CHECK(!out.error.empty(), "a refusal without a message");
      const std::size_t line = line_named(out.error, file.path());
      if (line == 0) {
        // Names the option, or quotes (part of) the stray argument it refuses:
        // "--=c" is refused as "unexpected argument 'c'".
        const std::size_t open = out.error.find('\'');
        const std::size_t close = open == std::string::npos ? open : out.error.rfind('\'');  // the word may hold quotes
        const std::string quoted =
            close == std::string::npos ? std::string() : out.error.substr(open + 1, close - open - 1);
        const bool names_argument = close != std::string::npos && close > open &&
                                    std::any_of(args.begin(), args.end(), [&](const std::string& arg) {
                                      return quoted.empty() ? arg.empty() : arg.find(quoted) != std::string::npos;
                                    });  // '' : an empty word was given
        LK_FUZZ_CHECK(out.error.find("--") != std::string::npos || names_argument,
                      "a refusal that names neither an option, nor an argument, nor a line");
      }
      else
        LK_FUZZ_CHECK(line <= line_count(text), "a refusal naming a line the file does not have");
      break;
    }
    case ParseOutcome::Kind::kHelp:
    case ParseOutcome::Kind::kVersion:
      break;
  }
  return 0;
}
