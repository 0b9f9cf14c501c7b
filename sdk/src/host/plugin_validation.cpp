// Validation of a negotiated plugin: identity strings and interface tables.
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

#include "plugin_impl.hpp"

namespace latchkey::host::detail {

namespace {

constexpr std::size_t kDescriptionMax = 1024;

// Empty when text is acceptable, else why not. Reads at most max + 1 bytes.
std::string identity_problem(const char* text, std::size_t max, bool optional) {
  if (text == nullptr) return optional ? std::string() : "is NULL";
  const std::size_t length = strnlen(text, max + 1);
  if (length == 0) return optional ? std::string() : "is empty";
  if (length > max) return "is longer than " + std::to_string(max) + " characters";
  for (std::size_t i = 0; i < length; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte > 0x7E) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", byte);
      return std::string("has the non-printable byte ") + hex + " at offset " + std::to_string(i);
    }
  }
  return {};
}

void check_identity_field(Plugin::Impl& impl, const char* field, const char* text, std::size_t max, bool optional,
                          std::string* out) {
  const std::string problem = identity_problem(text, max, optional);
  if (!problem.empty()) {
    impl.refuse(LoadErrorKind::kBadIdentity, std::string("lk_plugin_info.") + field + " " + problem +
                                                 ", expected " + (optional ? "NULL or " : "") +
                                                 "printable ASCII of 1 to " + std::to_string(max) + " characters");
  }
  if (text != nullptr) *out = text;
}

std::string interface_label(const char* name, uint32_t major) {
  return std::string("interface '") + name + "' major " + std::to_string(major);
}

// Asks get_interface for one table. Returns its struct_size and copies
// min(struct_size, sizeof(Table)) bytes into *copy (zeroed first); returns 0
// when the plugin does not offer it.
template <class Table>
uint32_t fetch_table(Plugin::Impl& impl, const char* name, uint32_t major, std::size_t min_size, const char* min_macro,
                     Table* copy) {
  const void* table = nullptr;
  const lk_result result = impl.info.get_interface(name, major, &table);
  // LK_ERR_NOT_FOUND (name unknown) and LK_ERR_VERSION (major unknown) are the
  // documented "not offered"; any other error is treated the same way, so a
  // plugin is never refused for how it declines an interface.
  if (result != LK_OK) return 0;
  if (table == nullptr) {
    // An answer that says "here it is" without a table is malformed plugin
    // information, not a missing interface.
    impl.refuse(LoadErrorKind::kBadPluginInfo, std::string("get_interface(\"") + name + "\", " +
                                                   std::to_string(major) + ") returned LK_OK with a NULL table");
  }
  uint32_t declared = 0;
  std::memcpy(&declared, table, sizeof declared);
  if (declared < min_size) {
    impl.refuse(LoadErrorKind::kTableTooSmall, interface_label(name, major) + ": struct_size is " +
                                                   std::to_string(declared) + ", expected at least " +
                                                   std::to_string(min_size) + " (" + min_macro + ")");
  }
  *copy = Table{};
  std::memcpy(copy, table, std::min<std::size_t>(declared, sizeof(Table)));
  copy->struct_size = declared;
  return declared;
}

void require_entry(Plugin::Impl& impl, const char* name, uint32_t major, const char* entry, bool present) {
  if (!present) {
    impl.refuse(LoadErrorKind::kMissingMandatoryEntry,
                interface_label(name, major) + ": mandatory entry '" + entry + "' is NULL, expected a function");
  }
}

}  // namespace

std::string version_text(uint32_t version) {
  return std::to_string(abi_version_major(version)) + "." + std::to_string(abi_version_minor(version));
}

void validate_identity(Plugin::Impl& impl) {
  const lk_plugin_info& info = impl.info;
  PluginIdentity& identity = impl.identity;
  check_identity_field(impl, "vendor", info.vendor, LK_IDENTITY_MAX, false, &identity.vendor);
  check_identity_field(impl, "driver_id", info.driver_id, LK_IDENTITY_MAX, false, &identity.driver_id);
  check_identity_field(impl, "driver_version", info.driver_version, LK_IDENTITY_MAX, false, &identity.driver_version);
  check_identity_field(impl, "description", info.description, kDescriptionMax, true, &identity.description);
  identity.abi_version = info.abi_version;
}

void collect_interfaces(Plugin::Impl& impl) {
  const char* const lock_name = LK_LOCK_INTERFACE_NAME;
  const uint32_t lock_major = LK_LOCK_INTERFACE_MAJOR;
  impl.lock_size = fetch_table(impl, lock_name, lock_major, LK_LOCK_INTERFACE_V1_MIN_SIZE,
                               "LK_LOCK_INTERFACE_V1_MIN_SIZE", &impl.lock);
  if (impl.lock_size != 0) {
    const lk_lock_interface_v1& t = impl.lock;
    require_entry(impl, lock_name, lock_major, "open", t.open != nullptr);
    require_entry(impl, lock_name, lock_major, "close", t.close != nullptr);
    require_entry(impl, lock_name, lock_major, "describe", t.describe != nullptr);
    require_entry(impl, lock_name, lock_major, "get_lock_state", t.get_lock_state != nullptr);
    require_entry(impl, lock_name, lock_major, "get_door_state", t.get_door_state != nullptr);
    require_entry(impl, lock_name, lock_major, "lock", t.lock != nullptr);
    require_entry(impl, lock_name, lock_major, "unlock", t.unlock != nullptr);
  }

  const char* const camera_name = LK_CAMERA_INTERFACE_NAME;
  const uint32_t camera_major = LK_CAMERA_INTERFACE_MAJOR;
  impl.camera_size = fetch_table(impl, camera_name, camera_major, LK_CAMERA_INTERFACE_V1_MIN_SIZE,
                                 "LK_CAMERA_INTERFACE_V1_MIN_SIZE", &impl.camera);
  if (impl.camera_size != 0) {
    const lk_camera_interface_v1& t = impl.camera;
    require_entry(impl, camera_name, camera_major, "open", t.open != nullptr);
    require_entry(impl, camera_name, camera_major, "close", t.close != nullptr);
    require_entry(impl, camera_name, camera_major, "describe", t.describe != nullptr);
    require_entry(impl, camera_name, camera_major, "deliver_nonce", t.deliver_nonce != nullptr);
    require_entry(impl, camera_name, camera_major, "start_recording", t.start_recording != nullptr);
    require_entry(impl, camera_name, camera_major, "stop_recording", t.stop_recording != nullptr);
    // snapshot is optional (NULL, or beyond a struct_size that stops before it).
  }

  const char* const authz_name = LK_AUTHZ_INTERFACE_NAME;
  const uint32_t authz_major = LK_AUTHZ_INTERFACE_MAJOR;
  impl.authz_size = fetch_table(impl, authz_name, authz_major, LK_AUTHZ_INTERFACE_V1_MIN_SIZE,
                                "LK_AUTHZ_INTERFACE_V1_MIN_SIZE", &impl.authz);
  if (impl.authz_size != 0) {
    const lk_authz_interface_v1& t = impl.authz;
    require_entry(impl, authz_name, authz_major, "open", t.open != nullptr);
    require_entry(impl, authz_name, authz_major, "close", t.close != nullptr);
    require_entry(impl, authz_name, authz_major, "verify", t.verify != nullptr);
  }

  // Every test control entry is optional; a NULL one answers LK_ERR_UNSUPPORTED.
  impl.test_control_size = fetch_table(impl, LK_TEST_CONTROL_INTERFACE_NAME, LK_TEST_CONTROL_INTERFACE_MAJOR,
                                       LK_TEST_CONTROL_INTERFACE_V1_MIN_SIZE, "LK_TEST_CONTROL_INTERFACE_V1_MIN_SIZE",
                                       &impl.test_control);

  if (impl.lock_size == 0 && impl.camera_size == 0 && impl.authz_size == 0) {
    impl.refuse(LoadErrorKind::kNoInterfaces, std::string("get_interface offers none of '") + lock_name + "', '" +
                                                  camera_name + "' or '" + authz_name +
                                                  "' at major 1, expected at least one");
  }
}

}  // namespace latchkey::host::detail
