// Valid plugins load, their tables are zero-filled copies of what they declared.
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "test_support.hpp"

namespace latchkey::host {
namespace {

using testing::library_is_loaded;
using testing::LogCapture;

TEST(Loader, LoadsMinimalPlugin_WithIdentityAndEveryTable) {
  const auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH);
  EXPECT_EQ(plugin->file(), std::filesystem::path(LK_TESTPLUGIN_MINIMAL_PATH));
  const PluginIdentity& id = plugin->identity();
  EXPECT_EQ(id.vendor, LKT_VENDOR);
  EXPECT_EQ(id.driver_id, LKT_DRIVER_ID);
  EXPECT_EQ(id.driver_version, LKT_DRIVER_VERSION);
  EXPECT_FALSE(id.description.empty());
  EXPECT_EQ(id.abi_version, kAbiVersion1_0);
  ASSERT_NE(plugin->lock_interface(), nullptr);
  ASSERT_NE(plugin->camera_interface(), nullptr);
  ASSERT_NE(plugin->authz_interface(), nullptr);
  ASSERT_NE(plugin->test_control_interface(), nullptr);
  EXPECT_EQ(plugin->declared_lock_size(), sizeof(lk_lock_interface_v1));
  EXPECT_EQ(plugin->declared_camera_size(), sizeof(lk_camera_interface_v1));
  EXPECT_EQ(plugin->declared_authz_size(), sizeof(lk_authz_interface_v1));
  EXPECT_EQ(plugin->declared_test_control_size(), sizeof(lk_test_control_interface_v1));
  EXPECT_NE(plugin->camera_interface()->snapshot, nullptr);
}

TEST(Loader, LoadsFutureMinorTables_CopyingOnlyKnownEntries) {
  const auto plugin = Plugin::load(LK_TESTPLUGIN_FUTURE_MINOR_PATH);
  // Two entries appended by a later minor; lk_plugin_info one field longer.
  EXPECT_EQ(plugin->declared_lock_size(), sizeof(lk_lock_interface_v1) + 2 * sizeof(void*));
  const lk_lock_interface_v1* lock = plugin->lock_interface();
  ASSERT_NE(lock, nullptr);
  EXPECT_EQ(lock->struct_size, plugin->declared_lock_size());
  ASSERT_NE(lock->unlock, nullptr);

  std::unique_ptr<LockHandle> handle;
  ASSERT_EQ(LockHandle::open(plugin, "lkt://lock/1", nullptr, &handle), LK_OK);
  int completions = 0;
  EXPECT_EQ(handle->lock(1, [&](const lk_lock_completion& c) { completions += c.result == LK_OK ? 1 : 0; }), LK_OK);
  EXPECT_EQ(completions, 1);
}

TEST(Loader, LoadsCameraTableEndingBeforeSnapshot_SnapshotUnsupported) {
  const auto plugin = Plugin::load(LK_TESTPLUGIN_CAMERA_NO_SNAPSHOT_PATH);
  EXPECT_EQ(plugin->declared_camera_size(), offsetof(lk_camera_interface_v1, snapshot));
  ASSERT_NE(plugin->camera_interface(), nullptr);
  // The plugin's static table holds a snapshot pointer past its struct_size:
  // the host copy must not pick it up.
  EXPECT_EQ(plugin->camera_interface()->snapshot, nullptr);

  std::unique_ptr<CameraHandle> camera;
  ASSERT_EQ(CameraHandle::open(plugin, "lkt://camera/1", nullptr, &camera), LK_OK);
  EXPECT_FALSE(camera->supports_snapshot());
  std::vector<uint8_t> frame;
  EXPECT_EQ(camera->snapshot(&frame, nullptr), LK_ERR_UNSUPPORTED);
}

TEST(Loader, RoutesPluginLogLines_TaggedWithDriverId) {
  LogCapture log;
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH, log.options());
  plugin.reset();
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], std::string(LKT_DRIVER_ID) + ": " + LKT_LOG_SHUTDOWN);
}

TEST(Loader, UnloadsLibrary_AfterCallingShutdownOnce) {
  LogCapture log;
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH, log.options());
  EXPECT_TRUE(library_is_loaded(LK_TESTPLUGIN_MINIMAL_PATH));
  EXPECT_EQ(log.count(LKT_LOG_SHUTDOWN), 0u);
  plugin.reset();
  EXPECT_EQ(log.count(LKT_LOG_SHUTDOWN), 1u);
  EXPECT_FALSE(library_is_loaded(LK_TESTPLUGIN_MINIMAL_PATH));
}

TEST(Loader, LoadingALoadedFileAgain_ReturnsTheSamePlugin) {
  LogCapture log;
  const auto first = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH, log.options());
  const auto second = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH);
  EXPECT_EQ(first, second);
}

TEST(Loader, ReloadsAfterUnload_NegotiatingAgain) {
  LogCapture log;
  Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH, log.options()).reset();
  EXPECT_EQ(log.count(LKT_LOG_SHUTDOWN), 1u);
  const auto again = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH, log.options());
  ASSERT_NE(again->lock_interface(), nullptr);
  std::unique_ptr<LockHandle> handle;
  EXPECT_EQ(LockHandle::open(again, "lkt://lock/1", nullptr, &handle), LK_OK);
}

}  // namespace
}  // namespace latchkey::host
