// Camera and authorization handles over the test plugin.
#include <latchkey/host/devices.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace latchkey::host {
namespace {

std::unique_ptr<CameraHandle> open_camera(EventHandler handler = nullptr) {
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH);
  std::unique_ptr<CameraHandle> camera;
  EXPECT_EQ(CameraHandle::open(plugin, "lkt://camera/1", std::move(handler), &camera), LK_OK);
  return camera;
}

TEST(Camera, Describe_FillsTheDescription) {
  auto camera = open_camera();
  lk_camera_description description{};
  ASSERT_EQ(camera->describe(&description), LK_OK);
  EXPECT_STREQ(description.camera_id, "lkt-camera-1");
  EXPECT_EQ(description.max_snapshot_bytes, LKT_SNAPSHOT_SIZE);
  EXPECT_EQ(description.struct_size, sizeof(description));
}

TEST(Camera, Snapshot_SizesTheBufferFromTheQuery) {
  auto camera = open_camera();
  ASSERT_TRUE(camera->supports_snapshot());
  std::vector<uint8_t> frame;
  lk_snapshot_info info{};
  ASSERT_EQ(camera->snapshot(&frame, &info), LK_OK);
  ASSERT_EQ(frame.size(), LKT_SNAPSHOT_SIZE);
  EXPECT_EQ(frame[0], 0u);
  EXPECT_EQ(frame[257], 1u);
  EXPECT_EQ(info.format, LK_SNAPSHOT_FORMAT_PPM);
  EXPECT_EQ(info.width, 10u);
}

TEST(Camera, Recording_StartStopAndStateErrors) {
  std::vector<uint32_t> statuses;
  auto camera = open_camera([&](const DeviceEvent& event) {
    if (event.kind == LK_EVENT_CAMERA_STATUS) statuses.push_back(event.value);
  });
  const uint8_t session[LK_SESSION_ID_SIZE] = {1, 2, 3};
  EXPECT_EQ(camera->stop_recording(), LK_ERR_STATE);
  EXPECT_EQ(camera->start_recording(session), LK_OK);
  EXPECT_EQ(camera->start_recording(session), LK_ERR_STATE);
  EXPECT_EQ(camera->stop_recording(), LK_OK);
  EXPECT_EQ(statuses, (std::vector<uint32_t>{LK_CAMERA_STATUS_ONLINE, LK_CAMERA_STATUS_RECORDING_STARTED,
                                             LK_CAMERA_STATUS_RECORDING_STOPPED}));
}

TEST(Camera, DeliverNonce_RefusesSizesOutsideTheAbiRange) {
  auto camera = open_camera();
  const uint8_t nonce[LK_NONCE_MAX + 1] = {};
  EXPECT_EQ(camera->deliver_nonce(nonce, 15), LK_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(camera->deliver_nonce(nonce, LK_NONCE_MAX + 1), LK_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(camera->deliver_nonce(nullptr, 16), LK_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(camera->deliver_nonce(nonce, 16), LK_OK);
}

TEST(Camera, TestControl_ReachesTheCamera) {
  std::vector<uint32_t> statuses;
  auto camera = open_camera([&](const DeviceEvent& event) { statuses.push_back(event.value); });
  EXPECT_EQ(camera->inject_fault(LK_FAULT_CAMERA_OFFLINE, 0), LK_OK);
  EXPECT_EQ(camera->inject_fault(LK_FAULT_CAMERA_FREEZE, 0), LK_ERR_UNSUPPORTED);
  EXPECT_EQ(statuses.back(), LK_CAMERA_STATUS_OFFLINE);
}

std::unique_ptr<AuthzHandle> open_authz() {
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH);
  std::unique_ptr<AuthzHandle> authz;
  EXPECT_EQ(AuthzHandle::open(plugin, LKT_AUTHZ_CONFIG_OK, &authz), LK_OK);
  return authz;
}

TEST(Authz, Verify_GoodCredentialFillsTheGrant) {
  auto authz = open_authz();
  lk_grant_info grant{};
  lk_authz_refusal refusal{};
  const std::string credential = LKT_CREDENTIAL_GOOD;
  ASSERT_EQ(authz->verify("hub-1", "front-door", 1000000, {credential.begin(), credential.end()}, &grant, &refusal),
            LK_OK);
  EXPECT_STREQ(grant.hub_id, "hub-1");
  EXPECT_STREQ(grant.door_id, "front-door");
  EXPECT_EQ(grant.uses, 1u);
  EXPECT_EQ(grant.not_after_unix_ms, 1060000);
}

TEST(Authz, Verify_BadCredentialFillsTheRefusal) {
  auto authz = open_authz();
  lk_grant_info grant{};
  lk_authz_refusal refusal{};
  ASSERT_EQ(authz->verify("hub-1", "front-door", 0, {1, 2, 3}, &grant, &refusal), LK_ERR_DENIED);
  EXPECT_EQ(refusal.code, LK_REFUSAL_BAD_SIGNATURE);
  EXPECT_NE(std::strstr(refusal.message, "signature"), nullptr);
}

TEST(Authz, OpenWithABadConfiguration_ReturnsThePluginsResult) {
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH);
  std::unique_ptr<AuthzHandle> authz;
  EXPECT_EQ(AuthzHandle::open(plugin, "nonsense", &authz), LK_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(authz, nullptr);
}

TEST(Authz, VerifyAfterClose_ReturnsClosed) {
  auto authz = open_authz();
  authz->close();
  EXPECT_EQ(authz->verify("hub-1", "door", 0, {}, nullptr, nullptr), LK_ERR_CLOSED);
}

}  // namespace
}  // namespace latchkey::host
