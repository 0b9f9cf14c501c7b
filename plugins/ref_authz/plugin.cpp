// The ref-authz plugin: exports lk_plugin_negotiate for RefAuthz.
#include "ref_authz.hpp"

#ifndef LATCHKEY_PLUGIN_VERSION
#error "LATCHKEY_PLUGIN_VERSION must be defined by the build"
#endif

namespace {

struct RefAuthzPlugin {
  static constexpr const char* vendor = "Latchkey";
  static constexpr const char* driver_id = "org.latchkey.ref-authz";
  static constexpr const char* driver_version = LATCHKEY_PLUGIN_VERSION;
  static constexpr const char* description = "Reference grant checker with pinned issuer keys and revocation";
  using Authz = latchkey::sim::RefAuthz;
};

}  // namespace

LK_PLUGIN_EXPORT(RefAuthzPlugin)
