// lk-plugin-info: loads plugins the way the hub does and says what they offer.
//
//   lk-plugin-info PLUGIN.so...
//
// Exit status: 0 when every plugin loads, 1 when one is refused, 2 on usage.
#include <latchkey/common/cli_options.hpp>
#include <latchkey/host/plugin.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {

using latchkey::host::Plugin;

std::string version_text(uint32_t version) {
  return std::to_string(latchkey::host::abi_version_major(version)) + "." +
         std::to_string(latchkey::host::abi_version_minor(version));
}

void print_interface(const char* name, uint32_t major, uint32_t declared_size, std::size_t known_size) {
  if (declared_size == 0) {
    std::printf("  %-22s not offered\n", name);
    return;
  }
  const char* note = declared_size > known_size ? " (newer minor; extra entries ignored)"
                     : declared_size < known_size ? " (older minor; missing entries are NULL)"
                                                  : "";
  std::printf("  %-22s major %u, table %u bytes%s\n", name, major, declared_size, note);
}

void print_plugin(const Plugin& plugin) {
  const auto& id = plugin.identity();
  std::printf("%s\n", plugin.file().c_str());
  std::printf("  vendor:                %s\n", id.vendor.c_str());
  std::printf("  driver id:             %s\n", id.driver_id.c_str());
  std::printf("  driver version:        %s\n", id.driver_version.c_str());
  if (!id.description.empty()) std::printf("  description:           %s\n", id.description.c_str());
  std::printf("  ABI version:           %s\n", version_text(id.abi_version).c_str());
  std::printf("  interfaces:\n");
  print_interface(LK_LOCK_INTERFACE_NAME, LK_LOCK_INTERFACE_MAJOR, plugin.declared_lock_size(),
                  sizeof(lk_lock_interface_v1));
  print_interface(LK_CAMERA_INTERFACE_NAME, LK_CAMERA_INTERFACE_MAJOR, plugin.declared_camera_size(),
                  sizeof(lk_camera_interface_v1));
  print_interface(LK_AUTHZ_INTERFACE_NAME, LK_AUTHZ_INTERFACE_MAJOR, plugin.declared_authz_size(),
                  sizeof(lk_authz_interface_v1));
  print_interface(LK_TEST_CONTROL_INTERFACE_NAME, LK_TEST_CONTROL_INTERFACE_MAJOR,
                  plugin.declared_test_control_size(), sizeof(lk_test_control_interface_v1));
  const lk_camera_interface_v1* camera = plugin.camera_interface();
  if (camera != nullptr) std::printf("  camera snapshot:       %s\n", camera->snapshot != nullptr ? "yes" : "no");
}

const latchkey::cli::Program& program() {
  static const latchkey::cli::Program p{
      "lk-plugin-info",
      {"PLUGIN.so..."},
      "Loads each Latchkey plugin as the hub does and prints its identity (vendor, driver id and version), "
      "its ABI version and the interfaces it offers, or why it is refused.",
      {{0, "every plugin loads"}, {1, "a plugin is refused"},
       {2, "usage error: an unknown or malformed option, no plugin given"}},
      ""};
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> plugins;
  latchkey::cli::po::options_description options;
  latchkey::cli::po::options_description hidden;
  hidden.add_options()("plugin", latchkey::cli::po::value(&plugins));
  latchkey::cli::po::positional_options_description positional;
  positional.add("plugin", -1);
  const latchkey::cli::Parsed parsed = latchkey::cli::parse(program(), options, argc, argv, &positional, &hidden);
  if (parsed.exit_status) return *parsed.exit_status;
  if (plugins.empty()) return latchkey::cli::report_usage_error(program(), "no plugin given");
  int status = 0;
  for (std::size_t i = 0; i < plugins.size(); ++i) {
    if (i > 0) std::printf("\n");
    try {
      const auto plugin = Plugin::load(plugins[i]);
      print_plugin(*plugin);
    } catch (const latchkey::host::LoadError& error) {
      std::printf("%s\n  refused: %s\n", plugins[i].c_str(), error.what());
      status = 1;
    } catch (const std::exception& error) {
      std::printf("%s\n  error: %s\n", plugins[i].c_str(), error.what());
      status = 1;
    }
    std::fflush(stdout);
  }
  return status;
}
