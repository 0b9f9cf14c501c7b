// lk-plugin-info: loads plugins the way the hub does and says what they offer.
//
//   lk-plugin-info PLUGIN.so...
//
// Exit status: 0 when every plugin loads, 1 when one is refused, 2 on usage.
#include <latchkey/host/plugin.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

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

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: lk-plugin-info PLUGIN.so...\n"
               "Loads each Latchkey plugin as the hub does and prints its identity, ABI\n"
               "version and interfaces, or why it is refused (exit status 1).\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  if (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
    print_usage(stdout);
    return 0;
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    if (i > 1) std::printf("\n");
    try {
      const auto plugin = Plugin::load(argv[i]);
      print_plugin(*plugin);
    } catch (const latchkey::host::LoadError& error) {
      std::printf("%s\n  refused: %s\n", argv[i], error.what());
      status = 1;
    } catch (const std::exception& error) {
      std::printf("%s\n  error: %s\n", argv[i], error.what());
      status = 1;
    }
    std::fflush(stdout);
  }
  return status;
}
