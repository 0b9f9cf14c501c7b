// The C++ wrapper with a shutdown hook (abi.cpp_wrapper.*): Traits::shutdown
// logs through the host services, then throws, which the wrapper must fence.
#include <latchkey/cpp/plugin.hpp>

#include <atomic>

namespace {

std::atomic<int> shutdowns{0};

struct ShutdownPlugin {
  static constexpr const char* vendor = "Latchkey";
  static constexpr const char* driver_id = "org.latchkey.test.wrapper-shutdown";
  static constexpr const char* driver_version = "1.0.0";
  static constexpr const char* description = "The C++ wrapper's shutdown hook";
  // An authz provider only so that the host accepts the plugin (it must offer one interface).
  struct Authz final : latchkey::plugin::AuthzProvider {
    static std::unique_ptr<Authz> open(std::string_view) { return std::make_unique<Authz>(); }
    bool verify(const lk_authz_context&, const uint8_t*, std::size_t, lk_grant_info&, lk_authz_refusal& refusal) override {
      refusal.code = LK_REFUSAL_OTHER;
      return false;
    }
  };
  static void shutdown() {
    const int n = ++shutdowns;
    latchkey::plugin::log(LK_LOG_INFO, "shutdown hook ran (" + std::to_string(n) + ")");
    throw latchkey::plugin::Error(LK_ERR_INTERNAL, "thrown from shutdown on purpose");
  }
};

}  // namespace

LK_PLUGIN_EXPORT(ShutdownPlugin)
