// One test per refusal: the kind, the file name and a reason naming the field.
#include <latchkey/host/plugin.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <stdexcept>
#include <string>

#include "test_support.hpp"

namespace latchkey::host {
namespace {

using testing::library_is_loaded;
using testing::LogCapture;

void expect_refusal(const std::string& path, LoadErrorKind kind, std::initializer_list<std::string> reason_parts,
                    LoadOptions options = {}) {
  try {
    const auto plugin = Plugin::load(path, std::move(options));
    ADD_FAILURE() << "loaded " << path << " instead of refusing it";
  } catch (const LoadError& error) {
    const std::string what = error.what();
    EXPECT_EQ(error.kind(), kind) << what;
    EXPECT_EQ(error.file(), std::filesystem::path(path));
    EXPECT_NE(what.find(std::filesystem::path(path).filename().string()), std::string::npos) << what;
    EXPECT_NE(what.find(to_string(kind)), std::string::npos) << what;
    for (const auto& part : reason_parts) {
      EXPECT_NE(what.find(part), std::string::npos) << "expected \"" << part << "\" in: " << what;
    }
  }
}

TEST(Loader, RefusesMissingFile_NamingFile) {
  expect_refusal(LK_BADPLUGIN_NOT_A_LIBRARY_PATH ".absent", LoadErrorKind::kFileNotFound, {"no such file"});
}

TEST(Loader, RefusesTextFile_WithDlopenReason) {
  expect_refusal(LK_BADPLUGIN_NOT_A_LIBRARY_PATH, LoadErrorKind::kNotALibrary, {"dlopen failed: "});
}

TEST(Loader, RefusesLibraryWithoutEntrySymbol_NamingSymbol) {
  expect_refusal(LK_BADPLUGIN_NO_ENTRY_PATH, LoadErrorKind::kMissingEntrySymbol, {"'lk_plugin_negotiate'"});
}

TEST(Loader, RefusesFailedNegotiation_NamingResultAndHostRange) {
  expect_refusal(LK_BADPLUGIN_REFUSES_PATH, LoadErrorKind::kNegotiationFailed, {"LK_ERR_VERSION", "[1.0, 1.0]"});
}

TEST(Loader, RefusesValidPlugin_WhenHostRangeDoesNotOverlap) {
  LoadOptions options;
  options.min_abi_version = make_abi_version(2, 0);
  options.max_abi_version = make_abi_version(2, 3);
  expect_refusal(LK_TESTPLUGIN_MINIMAL_PATH, LoadErrorKind::kNegotiationFailed, {"LK_ERR_VERSION", "[2.0, 2.3]"},
                 options);
}

TEST(Loader, RefusesChosenVersionOutsideRange_NamingField) {
  expect_refusal(LK_BADPLUGIN_VERSION_OUT_OF_RANGE_PATH, LoadErrorKind::kVersionOutOfRange,
                 {"lk_plugin_info.abi_version is 2.0", "[1.0, 1.0]"});
}

TEST(Loader, RefusesNullPluginInfo) {
  expect_refusal(LK_BADPLUGIN_NULL_INFO_PATH, LoadErrorKind::kBadPluginInfo, {"lk_plugin_info NULL"});
}

TEST(Loader, RefusesPluginInfoTooSmall_NamingFieldAndMinimum) {
  expect_refusal(LK_BADPLUGIN_INFO_TOO_SMALL_PATH, LoadErrorKind::kBadPluginInfo,
                 {"lk_plugin_info.struct_size is 8",
                  "at least " + std::to_string(offsetof(lk_plugin_info, shutdown))});
}

TEST(Loader, RefusesInterfaceOfferedWithNullTable_NamingInterface) {
  expect_refusal(LK_BADPLUGIN_NULL_TABLE_PATH, LoadErrorKind::kBadPluginInfo, {"\"latchkey.lock\"", "NULL table"});
}

TEST(Loader, RefusesEmptyVendor_NamingField) {
  expect_refusal(LK_BADPLUGIN_EMPTY_VENDOR_PATH, LoadErrorKind::kBadIdentity, {"lk_plugin_info.vendor is empty"});
}

TEST(Loader, RefusesNullDriverId_NamingField) {
  expect_refusal(LK_BADPLUGIN_NULL_DRIVER_ID_PATH, LoadErrorKind::kBadIdentity, {"lk_plugin_info.driver_id is NULL"});
}

TEST(Loader, RefusesUnprintableDriverId_NamingByteAndOffset) {
  expect_refusal(LK_BADPLUGIN_UNPRINTABLE_DRIVER_ID_PATH, LoadErrorKind::kBadIdentity,
                 {"lk_plugin_info.driver_id", "0x07", "offset 12", "printable ASCII"});
}

TEST(Loader, RefusesTooLongDriverVersion_NamingLimit) {
  expect_refusal(LK_BADPLUGIN_LONG_DRIVER_VERSION_PATH, LoadErrorKind::kBadIdentity,
                 {"lk_plugin_info.driver_version", "longer than 127"});
}

TEST(Loader, RefusesUnprintableDescription_NamingField) {
  expect_refusal(LK_BADPLUGIN_BAD_DESCRIPTION_PATH, LoadErrorKind::kBadIdentity,
                 {"lk_plugin_info.description", "0x0A"});
}

TEST(Loader, RefusesNullGetInterface_NamingField) {
  expect_refusal(LK_BADPLUGIN_NULL_GET_INTERFACE_PATH, LoadErrorKind::kMissingGetInterface,
                 {"lk_plugin_info.get_interface is NULL"});
}

TEST(Loader, RefusesPluginOfferingOnlyTestControl_NamingDriverInterfaces) {
  expect_refusal(LK_BADPLUGIN_NO_INTERFACES_PATH, LoadErrorKind::kNoInterfaces,
                 {"'latchkey.lock'", "'latchkey.camera'", "'latchkey.authz'"});
}

TEST(Loader, RefusesTableTooSmall_NamingFileAndField) {
  expect_refusal(LK_BADPLUGIN_LOCK_TABLE_TOO_SMALL_PATH, LoadErrorKind::kTableTooSmall,
                 {"'latchkey.lock' major 1", "struct_size is " + std::to_string(offsetof(lk_lock_interface_v1, unlock)),
                  "at least " + std::to_string(sizeof(lk_lock_interface_v1)), "LK_LOCK_INTERFACE_V1_MIN_SIZE"});
}

TEST(Loader, RefusesCameraTableTooSmall_NamingFileAndField) {
  expect_refusal(LK_BADPLUGIN_CAMERA_TABLE_TOO_SMALL_PATH, LoadErrorKind::kTableTooSmall,
                 {"'latchkey.camera' major 1",
                  "at least " + std::to_string(offsetof(lk_camera_interface_v1, snapshot))});
}

TEST(Loader, RefusesTestControlTableTooSmall_NamingFileAndField) {
  expect_refusal(LK_BADPLUGIN_TEST_CONTROL_TOO_SMALL_PATH, LoadErrorKind::kTableTooSmall,
                 {"'latchkey.test_control' major 1", "LK_TEST_CONTROL_INTERFACE_V1_MIN_SIZE"});
}

TEST(Loader, RefusesLockWithoutUnlock_NamingEntry) {
  expect_refusal(LK_BADPLUGIN_LOCK_NO_UNLOCK_PATH, LoadErrorKind::kMissingMandatoryEntry,
                 {"'latchkey.lock'", "'unlock' is NULL"});
}

TEST(Loader, RefusesCameraWithoutDeliverNonce_NamingEntry) {
  expect_refusal(LK_BADPLUGIN_CAMERA_NO_DELIVER_NONCE_PATH, LoadErrorKind::kMissingMandatoryEntry,
                 {"'latchkey.camera'", "'deliver_nonce' is NULL"});
}

TEST(Loader, RefusesAuthzWithoutVerify_NamingEntry) {
  expect_refusal(LK_BADPLUGIN_AUTHZ_NO_VERIFY_PATH, LoadErrorKind::kMissingMandatoryEntry,
                 {"'latchkey.authz'", "'verify' is NULL"});
}

TEST(Loader, RefusalAfterNegotiation_CallsShutdownAndUnloads) {
  LogCapture log;
  EXPECT_THROW(Plugin::load(LK_BADPLUGIN_LOCK_NO_UNLOCK_PATH, log.options()), LoadError);
  EXPECT_EQ(log.count(LKT_LOG_SHUTDOWN), 1u);
  EXPECT_FALSE(library_is_loaded(LK_BADPLUGIN_LOCK_NO_UNLOCK_PATH));
}

TEST(Loader, RefusalBeforeValidInfo_DoesNotCallShutdown) {
  LogCapture log;
  EXPECT_THROW(Plugin::load(LK_BADPLUGIN_INFO_TOO_SMALL_PATH, log.options()), LoadError);
  EXPECT_EQ(log.count(LKT_LOG_SHUTDOWN), 0u);
  EXPECT_FALSE(library_is_loaded(LK_BADPLUGIN_INFO_TOO_SMALL_PATH));
}

TEST(Loader, RejectsInvertedHostRange) {
  LoadOptions options;
  options.min_abi_version = make_abi_version(1, 1);
  options.max_abi_version = make_abi_version(1, 0);
  EXPECT_THROW(Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH, options), std::invalid_argument);
}

TEST(Loader, EveryRefusalKindHasItsOwnName) {
  std::set<std::string> names;
  for (int k = static_cast<int>(LoadErrorKind::kFileNotFound); k <= static_cast<int>(LoadErrorKind::kMissingMandatoryEntry);
       ++k) {
    names.insert(to_string(static_cast<LoadErrorKind>(k)));
  }
  EXPECT_EQ(names.size(), 11u);
}

TEST(ResultName, NamesEveryCode) {
  EXPECT_STREQ(result_name(LK_OK), "LK_OK");
  EXPECT_STREQ(result_name(LK_ERR_JAMMED), "LK_ERR_JAMMED");
  EXPECT_STREQ(result_name(LK_ERR_CLOSED), "LK_ERR_CLOSED");
  EXPECT_STREQ(result_name(-1500), "LK_ERR_VENDOR");
  EXPECT_STREQ(result_name(-77), "LK_ERR_UNKNOWN");
  std::set<std::string> names;
  for (lk_result code = LK_ERR_CLOSED; code <= LK_OK; ++code) names.insert(result_name(code));
  EXPECT_EQ(names.size(), 15u);
  EXPECT_EQ(names.count("LK_ERR_UNKNOWN"), 0u);
}

}  // namespace
}  // namespace latchkey::host
