// latchkeyd: the reference hub daemon. See docs/latchkeyd.md.
#include <latchkey/hub/api_server.hpp>
#include <latchkey/hub/daemon_config.hpp>
#include <latchkey/hub/runtime.hpp>

#include <sys/prctl.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;

namespace {

// The plugins next to this build (build tree) or installation.
fs::path default_plugin_dir() {
  std::error_code ec;
  const fs::path bin = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (const fs::path& candidate : {bin / ".." / "plugins", bin / ".." / "lib" / "latchkey" / "plugins"})
    if (fs::is_directory(candidate, ec)) return fs::weakly_canonical(candidate, ec);
  return bin;
}

int usage() {
  std::fprintf(stderr, "usage: latchkeyd --config FILE [--check]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path config_file;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) config_file = argv[++i];
    else if (std::strcmp(argv[i], "--check") == 0) check_only = true;
    else return usage();
  }
  if (config_file.empty()) return usage();
  // A client that goes away mid-answer must not take the hub with it.
  std::signal(SIGPIPE, SIG_IGN);
  // Plugin hosts run as this same user: as a non-dumpable process the hub's
  // /proc entries (open descriptors, environment, memory) and ptrace are
  // closed to them.
  ::prctl(PR_SET_DUMPABLE, 0);

  try {
    latchkey::hub::DaemonConfig config = latchkey::hub::DaemonConfig::load(config_file);
    if (!config.log_file.empty() && std::freopen(config.log_file.c_str(), "a", stderr) == nullptr) {
      std::fprintf(stdout, "latchkeyd: cannot open log file %s\n", config.log_file.c_str());
      return 1;
    }
    if (config.plugin_dir.empty()) config.plugin_dir = default_plugin_dir();
    latchkey::hub::Runtime runtime(std::move(config));
    if (check_only) {
      std::printf("latchkeyd: configuration, plugins and devices are usable\n");
      return 0;
    }
    latchkey::hub::ApiServer::Options options;
    options.address = runtime.config().api_address;
    options.token = runtime.api_token();
    options.test_control = runtime.config().test_control;
    latchkey::hub::ApiServer server(runtime, options);
    server.start();
    std::printf("latchkeyd: listening on http://%s:%u\n",
                options.address.substr(0, options.address.rfind(':')).c_str(), static_cast<unsigned>(server.port()));
    std::fflush(stdout);
    runtime.run();
    server.stop();
    runtime.shutdown();
    std::printf("latchkeyd: stopped\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "latchkeyd: %s\n", e.what());
    return 1;
  }
}
