// The C++ wrapper's optional traits (sdk/include/latchkey/cpp/plugin.hpp,
// docs/abi.md "The C++ wrappers"): Traits::shutdown becomes
// lk_plugin_info.shutdown, called by the host once before unloading, with
// an exception fenced into a log line; without it (and without a
// description) the fields are NULL.
#include <latchkey/host/plugin.hpp>
#include <latchkey/latchkey.h>

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

namespace {

struct Captured {
  std::mutex mutex;
  std::vector<std::string> lines;
  bool contains(const std::string& text) {
    std::lock_guard<std::mutex> guard(mutex);
    for (const auto& line : lines)
      if (line.find(text) != std::string::npos) return true;
    return false;
  }
};

void capture(void* context, lk_log_level, const char* message) {
  auto* captured = static_cast<Captured*>(context);
  std::lock_guard<std::mutex> guard(captured->mutex);
  captured->lines.emplace_back(message);
}

// Loads a plugin with dlopen and negotiates by hand, as a host does.
struct RawPlugin {
  void* library = nullptr;
  const lk_plugin_info* info = nullptr;
  Captured log;
  lk_host_services services{};

  explicit RawPlugin(const char* path) {
    library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) return;
    auto negotiate = reinterpret_cast<lk_plugin_negotiate_fn>(dlsym(library, LK_PLUGIN_ENTRY_SYMBOL));
    if (negotiate == nullptr) return;
    services.struct_size = sizeof services;
    services.context = &log;
    services.log = &capture;
    lk_negotiate_request request{};
    request.struct_size = sizeof request;
    request.min_abi_version = LK_ABI_VERSION_1_0;
    request.max_abi_version = LK_ABI_VERSION_CURRENT;
    request.host = &services;
    if (negotiate(&request, &info) != LK_OK) info = nullptr;
  }
  ~RawPlugin() {
    if (library != nullptr) dlclose(library);
  }
};

TEST(CppWrapper, ShutdownTraitBecomesTheShutdownEntryAndIsFenced) {
  RawPlugin plugin(LK_ABI_WRAPPER_SHUTDOWN_PATH);
  ASSERT_NE(plugin.library, nullptr) << dlerror();
  ASSERT_NE(plugin.info, nullptr) << "negotiation failed";
  ASSERT_NE(plugin.info->shutdown, nullptr) << "Traits::shutdown did not become lk_plugin_info.shutdown";
  ASSERT_NE(plugin.info->description, nullptr);
  plugin.info->shutdown();  // throws inside: the wrapper must turn it into a log line
  EXPECT_TRUE(plugin.log.contains("shutdown hook ran (1)")) << "the traits' shutdown did not run";
  EXPECT_TRUE(plugin.log.contains("plugin.shutdown: thrown from shutdown on purpose"))
      << "the exception thrown by shutdown was not fenced into a log line";
}

TEST(CppWrapper, WithoutTheOptionalTraitsShutdownAndDescriptionAreNull) {
  RawPlugin plugin(LK_ABI_WRAPPER_PLAIN_PATH);
  ASSERT_NE(plugin.library, nullptr) << dlerror();
  ASSERT_NE(plugin.info, nullptr) << "negotiation failed";
  EXPECT_EQ(plugin.info->shutdown, nullptr);
  EXPECT_EQ(plugin.info->description, nullptr);
}

TEST(CppWrapper, HostCallsTheShutdownHookWhenItUnloadsThePlugin) {
  Captured log;
  latchkey::host::LoadOptions options;
  options.log = [&log](lk_log_level, const std::string&, const std::string& message) {
    std::lock_guard<std::mutex> guard(log.mutex);
    log.lines.push_back(message);
  };
  auto plugin = latchkey::host::Plugin::load(LK_ABI_WRAPPER_SHUTDOWN_PATH, options);
  ASSERT_TRUE(plugin);
  EXPECT_FALSE(log.contains("shutdown hook ran")) << "shutdown ran while the plugin was in use";
  plugin.reset();  // the last reference: the host calls shutdown, then unloads
  EXPECT_TRUE(log.contains("shutdown hook ran")) << "the host did not call the wrapper's shutdown before unloading";
}

}  // namespace
