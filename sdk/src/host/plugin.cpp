// Plugin::load: open the library, negotiate, validate, keep it loaded.
#include <latchkey/host/plugin.hpp>

#include <dlfcn.h>
#include <sys/stat.h>

#include <boost/dll/shared_library_load_mode.hpp>
#include <boost/filesystem/path.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "plugin_impl.hpp"

namespace latchkey::host {

namespace {

std::string describe_error(const std::filesystem::path& file, LoadErrorKind kind, const std::string& reason) {
  return "cannot load plugin '" + file.string() + "' (" + to_string(kind) + "): " + reason;
}

// Boost.DLL 1.74 drops dlerror()'s text; open the file once more to read it.
std::string dlopen_error_text(const std::filesystem::path& file) {
  dlerror();
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle != nullptr) {
    dlclose(handle);
    return "Boost.DLL could not load it, but dlopen can (unexpected)";
  }
  const char* text = dlerror();
  return text != nullptr ? text : "dlopen failed without a reason";
}

// A library is negotiated once per load: its host services must stay valid and
// shutdown() must run once, after every device of every user is closed. So a
// file whose library a live Plugin already holds yields that Plugin. Files are
// keyed by device and inode, as the dynamic loader itself keys them.
using FileKey = std::pair<dev_t, ino_t>;

struct LoadedPlugins {
  // Held through a whole load and a whole unload, so the two never interleave.
  std::recursive_mutex mutex;
  std::map<FileKey, std::weak_ptr<Plugin>> by_file;
};

LoadedPlugins& loaded_plugins() {
  static LoadedPlugins* const instance = new LoadedPlugins;  // outlives static destructors
  return *instance;
}

}  // namespace

const char* to_string(LoadErrorKind kind) noexcept {
  switch (kind) {
    case LoadErrorKind::kFileNotFound: return "file not found";
    case LoadErrorKind::kNotALibrary: return "not a loadable library";
    case LoadErrorKind::kMissingEntrySymbol: return "missing entry symbol";
    case LoadErrorKind::kNegotiationFailed: return "negotiation failed";
    case LoadErrorKind::kVersionOutOfRange: return "ABI version out of range";
    case LoadErrorKind::kBadPluginInfo: return "bad plugin info";
    case LoadErrorKind::kBadIdentity: return "bad identity";
    case LoadErrorKind::kMissingGetInterface: return "missing get_interface";
    case LoadErrorKind::kNoInterfaces: return "no interfaces";
    case LoadErrorKind::kTableTooSmall: return "interface table too small";
    case LoadErrorKind::kMissingMandatoryEntry: return "missing mandatory entry";
  }
  return "unknown load error";
}

LoadError::LoadError(std::filesystem::path file, LoadErrorKind kind, const std::string& reason)
    : std::runtime_error(describe_error(file, kind, reason)), file_(std::move(file)), kind_(kind) {}

Plugin::Impl::Impl(std::filesystem::path file_in, LoadOptions options_in)
    : file(std::move(file_in)), options(std::move(options_in)) {}

Plugin::Impl::~Impl() {
  // lk_plugin.h: shutdown runs after every device is closed (every handle
  // holds the Plugin) and before the library is unloaded.
  if (shutdown_due && info.shutdown != nullptr) info.shutdown();
  library.unload();
  // services is freed after this body, once the library is gone.
}

void Plugin::Impl::refuse(LoadErrorKind kind, const std::string& reason) const { throw LoadError(file, kind, reason); }

namespace {

void negotiate(Plugin::Impl& impl) {
  using Negotiate = lk_result(const lk_negotiate_request*, const lk_plugin_info**);
  if (!impl.library.has(LK_PLUGIN_ENTRY_SYMBOL)) {
    impl.refuse(LoadErrorKind::kMissingEntrySymbol,
                std::string("the library does not export '") + LK_PLUGIN_ENTRY_SYMBOL +
                    "' (a plugin exports it with LK_EXPORT and default visibility)");
  }
  Negotiate& entry = impl.library.get<Negotiate>(LK_PLUGIN_ENTRY_SYMBOL);

  lk_negotiate_request request{};
  request.struct_size = sizeof(request);
  request.min_abi_version = impl.options.min_abi_version;
  request.max_abi_version = impl.options.max_abi_version;
  request.host = impl.services->table();
  const lk_plugin_info* info = nullptr;
  const lk_result result = entry(&request, &info);
  // Appended piecewise: GCC 12 at -O3 misreports `"[" + std::string` as an overlapping copy (-Wrestrict).
  std::string range = "[";
  range += detail::version_text(request.min_abi_version);
  range += ", ";
  range += detail::version_text(request.max_abi_version);
  range += "]";
  if (result != LK_OK) {
    impl.refuse(LoadErrorKind::kNegotiationFailed, std::string(LK_PLUGIN_ENTRY_SYMBOL) + " returned " +
                                                       result_name(result) + " (" + std::to_string(result) +
                                                       ") for the host's ABI range " + range + ", expected LK_OK");
  }
  if (info == nullptr) {
    impl.refuse(LoadErrorKind::kBadPluginInfo,
                std::string(LK_PLUGIN_ENTRY_SYMBOL) + " returned LK_OK but left lk_plugin_info NULL");
  }
  constexpr std::size_t kMinInfoSize = offsetof(lk_plugin_info, shutdown);
  if (info->struct_size < kMinInfoSize) {
    impl.refuse(LoadErrorKind::kBadPluginInfo, "lk_plugin_info.struct_size is " + std::to_string(info->struct_size) +
                                                   ", expected at least " + std::to_string(kMinInfoSize));
  }
  std::memcpy(&impl.info, info, std::min<std::size_t>(info->struct_size, sizeof(impl.info)));
  impl.info.struct_size = info->struct_size;
  // From here the plugin may have started threads: refusals still call shutdown.
  impl.shutdown_due = true;

  const uint32_t chosen = impl.info.abi_version;
  if (chosen < request.min_abi_version || chosen > request.max_abi_version) {
    impl.refuse(LoadErrorKind::kVersionOutOfRange, "lk_plugin_info.abi_version is " + detail::version_text(chosen) +
                                                       ", expected within the host's range " + range);
  }
}

}  // namespace

std::shared_ptr<Plugin> Plugin::load(const std::filesystem::path& file, LoadOptions options) {
  if (options.min_abi_version > options.max_abi_version) {
    throw std::invalid_argument("LoadOptions: min_abi_version is above max_abi_version");
  }
  auto impl = std::make_unique<Impl>(file, std::move(options));

  struct stat status {};
  if (::stat(file.c_str(), &status) != 0) impl->refuse(LoadErrorKind::kFileNotFound, "no such file");
  const FileKey key{status.st_dev, status.st_ino};
  LoadedPlugins& loaded = loaded_plugins();
  std::lock_guard<std::recursive_mutex> lock(loaded.mutex);
  if (auto found = loaded.by_file.find(key); found != loaded.by_file.end()) {
    if (auto live = found->second.lock()) return live;
  }
  // An absolute path: Boost.DLL would otherwise search ./ for a bare name.
  const std::filesystem::path absolute = std::filesystem::absolute(file);
  impl->services = std::make_unique<detail::HostServices>(impl->options.log, file.filename().string());

  boost::system::error_code load_error;
  impl->library.load(boost::filesystem::path(absolute.string()),
                     boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, load_error);
  if (load_error || !impl->library.is_loaded()) {
    impl->refuse(LoadErrorKind::kNotALibrary, "dlopen failed: " + dlopen_error_text(absolute));
  }

  negotiate(*impl);
  detail::validate_identity(*impl);
  if (impl->info.get_interface == nullptr) {
    impl->refuse(LoadErrorKind::kMissingGetInterface,
                 "lk_plugin_info.get_interface is NULL, expected the interface lookup function");
  }
  detail::collect_interfaces(*impl);
  impl->services->set_log_name(impl->identity.driver_id);
  auto plugin = std::shared_ptr<Plugin>(new Plugin(std::move(impl)));
  loaded.by_file[key] = plugin;
  return plugin;
}

Plugin::Plugin(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Plugin::~Plugin() {
  LoadedPlugins& loaded = loaded_plugins();
  std::lock_guard<std::recursive_mutex> lock(loaded.mutex);
  impl_.reset();  // shutdown, unload, free the host services
  for (auto it = loaded.by_file.begin(); it != loaded.by_file.end();) {
    it = it->second.expired() ? loaded.by_file.erase(it) : std::next(it);
  }
}

const std::filesystem::path& Plugin::file() const noexcept { return impl_->file; }
const PluginIdentity& Plugin::identity() const noexcept { return impl_->identity; }

const lk_lock_interface_v1* Plugin::lock_interface() const noexcept {
  return impl_->lock_size != 0 ? &impl_->lock : nullptr;
}
const lk_camera_interface_v1* Plugin::camera_interface() const noexcept {
  return impl_->camera_size != 0 ? &impl_->camera : nullptr;
}
const lk_authz_interface_v1* Plugin::authz_interface() const noexcept {
  return impl_->authz_size != 0 ? &impl_->authz : nullptr;
}
const lk_test_control_interface_v1* Plugin::test_control_interface() const noexcept {
  return impl_->test_control_size != 0 ? &impl_->test_control : nullptr;
}

uint32_t Plugin::declared_lock_size() const noexcept { return impl_->lock_size; }
uint32_t Plugin::declared_camera_size() const noexcept { return impl_->camera_size; }
uint32_t Plugin::declared_authz_size() const noexcept { return impl_->authz_size; }
uint32_t Plugin::declared_test_control_size() const noexcept { return impl_->test_control_size; }

}  // namespace latchkey::host
