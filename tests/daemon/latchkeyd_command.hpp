// latchkeyd run as a command, for the tests of what it refuses and prints:
// its exit status, and stdout and stderr apart. A daemon that gets as far as
// its listening line is sent SIGTERM at once (the run then shows what a
// start that should have been refused did); one still running at the
// timeout is killed.
#ifndef LATCHKEY_TESTS_LATCHKEYD_COMMAND_HPP
#define LATCHKEY_TESTS_LATCHKEYD_COMMAND_HPP

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace latchkey::tests {

struct LatchkeydRun {
  int exit_code = -1;   // -1: ended by a signal
  int signal = 0;       // the signal that ended it, if any
  bool listened = false;
  std::string out;
  std::string err;
};

// The build's latchkeyd with `args` (e.g. {"--config", file, "--check"}).
LatchkeydRun run_latchkeyd(const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Replaces the line starting with `key =` in an INI file (SimHub's hub.ini),
// or appends `line` to the [hub] section when there is none.
void set_hub_key(const std::filesystem::path& ini, const std::string& key, const std::string& value);
std::string read_file(const std::filesystem::path& file);

}  // namespace latchkey::tests

#endif  // LATCHKEY_TESTS_LATCHKEYD_COMMAND_HPP
