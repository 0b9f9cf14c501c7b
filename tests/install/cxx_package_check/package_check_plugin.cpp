// The smallest C++ plugin: an identity and no interfaces. It proves that
// Latchkey::plugin_sdk from an installed SDK brings the headers and C++17.
#include <latchkey/cpp/plugin.hpp>

namespace {

struct PackageCheckPlugin {
  static constexpr const char* vendor = "Latchkey";
  static constexpr const char* driver_id = "org.latchkey.package-check";
  static constexpr const char* driver_version = "1.0.0";
  static constexpr const char* description = "Checks the installed SDK";
};

}  // namespace

LK_PLUGIN_EXPORT(PackageCheckPlugin)
