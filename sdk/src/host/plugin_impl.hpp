// Plugin::Impl: what a loaded plugin owns (internal to the loader).
#ifndef LATCHKEY_SRC_HOST_PLUGIN_IMPL_HPP
#define LATCHKEY_SRC_HOST_PLUGIN_IMPL_HPP

#include <latchkey/host/plugin.hpp>

#include <boost/dll/shared_library.hpp>

#include <memory>
#include <string>

#include "host_services.hpp"

namespace latchkey::host {

// Members are destroyed in reverse order: the library is unloaded before the
// host services it was given are freed.
struct Plugin::Impl {
  Impl(std::filesystem::path file_in, LoadOptions options);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Throws LoadError(file, kind, reason).
  [[noreturn]] void refuse(LoadErrorKind kind, const std::string& reason) const;

  std::filesystem::path file;
  LoadOptions options;
  std::unique_ptr<detail::HostServices> services;
  boost::dll::shared_library library;

  // A zeroed copy of min(info->struct_size, sizeof) bytes of the plugin's info.
  lk_plugin_info info{};
  // Set once negotiation succeeded with readable info: shutdown() is then due.
  bool shutdown_due = false;
  PluginIdentity identity;

  // Zeroed copies of min(struct_size, sizeof) bytes of each offered table.
  lk_lock_interface_v1 lock{};
  lk_camera_interface_v1 camera{};
  lk_authz_interface_v1 authz{};
  lk_test_control_interface_v1 test_control{};
  // The struct_size each table declared; 0 when the interface is not offered.
  uint32_t lock_size = 0;
  uint32_t camera_size = 0;
  uint32_t authz_size = 0;
  uint32_t test_control_size = 0;
};

namespace detail {

// Checks vendor, driver_id, driver_version and description of impl.info and
// fills impl.identity. Throws kBadIdentity.
void validate_identity(Plugin::Impl& impl);

// Looks up lock, camera, authz and test control through get_interface,
// checks sizes and mandatory entries and fills the table copies. Throws
// kBadPluginInfo, kTableTooSmall, kMissingMandatoryEntry or kNoInterfaces.
void collect_interfaces(Plugin::Impl& impl);

// "1.0" for an ABI version.
std::string version_text(uint32_t version);

}  // namespace detail
}  // namespace latchkey::host

#endif  // LATCHKEY_SRC_HOST_PLUGIN_IMPL_HPP
