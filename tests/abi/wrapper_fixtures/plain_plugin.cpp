// The C++ wrapper without the optional traits (abi.cpp_wrapper.*): no
// shutdown hook and no description, so both are NULL in lk_plugin_info.
#include <latchkey/cpp/plugin.hpp>

namespace {

struct PlainPlugin {
  static constexpr const char* vendor = "Latchkey";
  static constexpr const char* driver_id = "org.latchkey.test.wrapper-plain";
  static constexpr const char* driver_version = "1.0.0";
  struct Authz final : latchkey::plugin::AuthzProvider {
    static std::unique_ptr<Authz> open(std::string_view) { return std::make_unique<Authz>(); }
    bool verify(const lk_authz_context&, const uint8_t*, std::size_t, lk_grant_info&, lk_authz_refusal& refusal) override {
      refusal.code = LK_REFUSAL_OTHER;
      return false;
    }
  };
};

}  // namespace

LK_PLUGIN_EXPORT(PlainPlugin)
