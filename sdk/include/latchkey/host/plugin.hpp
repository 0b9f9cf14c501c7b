// Host side: loading a Latchkey plugin and validating what it offers.
//
// Plugin::load() opens a shared library with Boost.DLL (rtld_now |
// rtld_local), calls lk_plugin_negotiate, and checks every answer: the entry
// symbol, the ABI version overlap, identity strings, minimum table sizes and
// mandatory entries. Each refusal throws LoadError naming the file and the
// reason. The library stays loaded while any shared_ptr<Plugin> (held by
// every device and every lent buffer) is alive.
//
// Validation order, one LoadErrorKind each: the file exists; it loads
// (dlerror() text in the message); it exports lk_plugin_negotiate; negotiation
// returns LK_OK; info is non-NULL and reaches at least `shutdown`; the chosen
// ABI version lies in the host's range; identity strings; get_interface is
// set; then lock, camera, authz and test control in that order: table size,
// then mandatory entries. An interface lookup answering any error means "not
// offered"; one answering LK_OK with a NULL table is kBadPluginInfo. A refusal
// after a successful negotiation still calls info->shutdown before unloading.
#ifndef LATCHKEY_HOST_PLUGIN_HPP
#define LATCHKEY_HOST_PLUGIN_HPP

#include <latchkey/latchkey.h>

#include <filesystem>
#include <functional>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace latchkey::host {

// The ABI versions as C++ constants. LK_MAKE_VERSION and friends use C casts
// (lk_base.h is C99), which -Wold-style-cast rejects in C++ code.
constexpr uint32_t make_abi_version(uint32_t major, uint32_t minor) noexcept { return (major << 16) | (minor & 0xFFFFu); }
constexpr uint32_t abi_version_major(uint32_t version) noexcept { return version >> 16; }
constexpr uint32_t abi_version_minor(uint32_t version) noexcept { return version & 0xFFFFu; }
inline constexpr uint32_t kAbiVersion1_0 = make_abi_version(1, 0);
inline constexpr uint32_t kAbiVersionCurrent = kAbiVersion1_0;

// Why a plugin was refused. Each kind has a purpose-built bad plugin in tests/.
enum class LoadErrorKind {
  kFileNotFound,          // no such file
  kNotALibrary,           // the file is not a loadable shared library (or a dependency is missing)
  kMissingEntrySymbol,    // lk_plugin_negotiate is not exported
  kNegotiationFailed,     // lk_plugin_negotiate returned an error (e.g. no version overlap)
  kVersionOutOfRange,     // the chosen ABI version is outside the host's range
  kBadPluginInfo,         // NULL info or info->struct_size below the v1 minimum
  kBadIdentity,           // vendor, driver_id or driver_version missing, too long or not printable
  kMissingGetInterface,   // info->get_interface is NULL
  kNoInterfaces,          // offers none of lock, camera, authz
  kTableTooSmall,         // an interface table's struct_size is below its v1 minimum
  kMissingMandatoryEntry, // a mandatory function in a table is NULL
};

const char* to_string(LoadErrorKind kind) noexcept;

class LoadError : public std::runtime_error {
 public:
  LoadError(std::filesystem::path file, LoadErrorKind kind, const std::string& reason);
  const std::filesystem::path& file() const noexcept { return file_; }
  LoadErrorKind kind() const noexcept { return kind_; }

 private:
  std::filesystem::path file_;
  LoadErrorKind kind_;
};

struct PluginIdentity {
  std::string vendor;
  std::string driver_id;
  std::string driver_version;
  std::string description;
  uint32_t abi_version = 0;
};

// Receives plugin log lines (from any plugin thread).
using LogHandler = std::function<void(lk_log_level level, const std::string& driver_id, const std::string& message)>;

struct LoadOptions {
  // The range offered to lk_plugin_negotiate. A range beyond what this host
  // knows is only for tests of refusals. min > max throws std::invalid_argument.
  uint32_t min_abi_version = kAbiVersion1_0;
  uint32_t max_abi_version = kAbiVersionCurrent;
  LogHandler log;  // empty: plugin log lines go to stderr
};

class Plugin {
 public:
  // Loads and validates. Throws LoadError. A file whose library a live Plugin
  // already holds returns that Plugin (a library is negotiated once per load;
  // the first load's options apply).
  static std::shared_ptr<Plugin> load(const std::filesystem::path& file, LoadOptions options = {});
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  const std::filesystem::path& file() const noexcept;
  const PluginIdentity& identity() const noexcept;

  // Zero-filled copies of the plugin's tables (min(size, known) bytes), or
  // nullptr when the plugin does not offer the interface. NULL entries in a
  // returned table are unsupported functions.
  const lk_lock_interface_v1* lock_interface() const noexcept;
  const lk_camera_interface_v1* camera_interface() const noexcept;
  const lk_authz_interface_v1* authz_interface() const noexcept;
  const lk_test_control_interface_v1* test_control_interface() const noexcept;

  // The table sizes the plugin declared (0 when not offered).
  uint32_t declared_lock_size() const noexcept;
  uint32_t declared_camera_size() const noexcept;
  uint32_t declared_authz_size() const noexcept;
  uint32_t declared_test_control_size() const noexcept;

  struct Impl;

 private:
  explicit Plugin(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A short human-readable name for an lk_result ("LK_ERR_JAMMED").
const char* result_name(lk_result result) noexcept;

}  // namespace latchkey::host

#endif  // LATCHKEY_HOST_PLUGIN_HPP
