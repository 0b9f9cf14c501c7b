// latchkeyd --check: everything a start would refuse, found without starting
// and without writing. It reads the configuration (every problem, not just
// the first), checks that api_address is a usable literal host:port, that
// the data directory and the secrets already in it may be trusted
// (runtime_files.hpp), that the audit log verifies against the hub key, that
// the log file can be opened, and that every plugin loads the way it is
// configured to run and opens the devices named for it (cameras proving
// their pinned key). It creates and modifies nothing in the data directory:
// a missing data directory, hub key or token is what the first start makes.
#ifndef LATCHKEY_HUB_STARTUP_CHECK_HPP
#define LATCHKEY_HUB_STARTUP_CHECK_HPP

#include <filesystem>
#include <string>
#include <vector>

namespace latchkey::hub {

struct StartupCheck {
  std::vector<std::string> problems;  // each would stop a start
  std::vector<std::string> warnings;  // worth knowing; a start goes ahead
};

// `default_plugin_dir`: where plugins are looked up when [hub] names no plugin_dir.
StartupCheck check_startup(const std::filesystem::path& config_file, const std::filesystem::path& default_plugin_dir);

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_STARTUP_CHECK_HPP
