// The plugin-host protocol's records (hal_reference/isolation/src/records.*)
// and its channel:
// what the host writes comes back into the same C struct, and the hub
// refuses what no honest host sends, leaving the caller's struct untouched.
#include "channel.hpp"
#include "latchkey/plugin_host.pb.h"
#include "records.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

using namespace latchkey;
using isolation::put_record;
using isolation::take_record;

namespace {

template <std::size_t N>
void fill_text(char (&out)[N], const std::string& text) {
  std::memset(out, 0, N);
  std::memcpy(out, text.data(), std::min(text.size(), N));
}

lk_grant_info sample_grant() {
  lk_grant_info g{};
  g.struct_size = sizeof g;
  g.uses = 1;
  std::memset(g.grant_id, 'g', sizeof g.grant_id);
  fill_text(g.issuer_key_id, "issuer-1");
  fill_text(g.hub_id, "hub-1");
  fill_text(g.door_id, "front");
  fill_text(g.courier_id, "courier-1");
  std::memset(g.courier_public_key, 'c', sizeof g.courier_public_key);
  g.not_before_unix_ms = 1000;
  g.not_after_unix_ms = 2000;
  g.required_camera_count = 2;
  fill_text(g.required_camera_ids[0], "porch");
  fill_text(g.required_camera_ids[1], "hall");
  return g;
}

// A struct whose every byte is a pattern, to see what a refusal touched.
template <typename T>
T patterned() {
  T out;
  std::memset(&out, 0xA5, sizeof out);
  out.struct_size = sizeof out;
  return out;
}

template <typename T>
void expect_refused(const plugin_host::v1::Record& record, const std::string& reason) {
  T out = patterned<T>();
  T before;
  std::memcpy(&before, &out, sizeof out);
  std::string why;
  EXPECT_FALSE(take_record(record, &out, &why));
  EXPECT_NE(why.find(reason), std::string::npos) << why;
  EXPECT_EQ(std::memcmp(&out, &before, sizeof out), 0) << "a refused record changed the struct";
}

}  // namespace

TEST(Records, LockDescription_RoundTrips) {
  lk_lock_description in{sizeof(lk_lock_description), LK_LOCK_CAP_DOOR_SENSOR, 800, 60000};
  plugin_host::v1::Record record;
  put_record(in, &record);
  lk_lock_description out = patterned<lk_lock_description>();
  std::string why;
  ASSERT_TRUE(take_record(record, &out, &why)) << why;
  EXPECT_EQ(out.struct_size, sizeof out);
  EXPECT_EQ(out.flags, in.flags);
  EXPECT_EQ(out.max_actuation_ms, 800u);
  EXPECT_EQ(out.max_relock_deadline_ms, 60000u);
}

TEST(Records, CameraDescription_RoundTripsAndKeepsTheCallersSize) {
  lk_camera_description in{};
  in.struct_size = sizeof in;
  in.flags = LK_CAMERA_CAP_SNAPSHOT;
  fill_text(in.camera_id, "porch");
  std::memset(in.public_key, 'k', sizeof in.public_key);
  in.attestation_period_ms = 250;
  in.max_snapshot_bytes = 4096;
  plugin_host::v1::Record record;
  put_record(in, &record);
  lk_camera_description out = patterned<lk_camera_description>();
  out.struct_size = 12345;  // whatever the caller set stays
  ASSERT_TRUE(take_record(record, &out, nullptr));
  EXPECT_EQ(out.struct_size, 12345u);
  EXPECT_STREQ(out.camera_id, "porch");
  EXPECT_EQ(out.camera_id[sizeof out.camera_id - 1], '\0') << "the rest of the array is zeroed";
  EXPECT_EQ(std::memcmp(out.public_key, in.public_key, sizeof in.public_key), 0);
  EXPECT_EQ(out.attestation_period_ms, 250u);
  EXPECT_EQ(out.max_snapshot_bytes, 4096u);
}

TEST(Records, CameraDescription_UnterminatedIdIsCutAtTheArrayLessOne) {
  // A plugin that filled the whole array: the host sends what the hub used
  // to keep of it, the array's size less one.
  lk_camera_description in{};
  in.struct_size = sizeof in;
  std::memset(in.camera_id, 'x', sizeof in.camera_id);
  plugin_host::v1::Record record;
  put_record(in, &record);
  EXPECT_EQ(record.camera().camera_id(), std::string(LK_CAMERA_ID_MAX - 1, 'x'));
  lk_camera_description out{};
  out.struct_size = sizeof out;
  ASSERT_TRUE(take_record(record, &out, nullptr));
  EXPECT_EQ(std::string(out.camera_id), std::string(LK_CAMERA_ID_MAX - 1, 'x'));
}

TEST(Records, SnapshotInfo_RoundTrips) {
  lk_snapshot_info in{sizeof(lk_snapshot_info), LK_SNAPSHOT_FORMAT_PPM, 640, 480, 123456789};
  plugin_host::v1::Record record;
  put_record(in, &record);
  lk_snapshot_info out = patterned<lk_snapshot_info>();
  ASSERT_TRUE(take_record(record, &out, nullptr));
  EXPECT_EQ(out.format, LK_SNAPSHOT_FORMAT_PPM);
  EXPECT_EQ(out.width, 640u);
  EXPECT_EQ(out.height, 480u);
  EXPECT_EQ(out.device_time_ns, 123456789u);
}

TEST(Records, Grant_RoundTrips) {
  const lk_grant_info in = sample_grant();
  plugin_host::v1::Record record;
  put_record(in, &record);
  EXPECT_EQ(record.grant().required_camera_ids_size(), 2);
  lk_grant_info out = patterned<lk_grant_info>();
  std::string why;
  ASSERT_TRUE(take_record(record, &out, &why)) << why;
  EXPECT_EQ(out.uses, 1u);
  EXPECT_EQ(std::memcmp(out.grant_id, in.grant_id, sizeof in.grant_id), 0);
  EXPECT_STREQ(out.issuer_key_id, "issuer-1");
  EXPECT_STREQ(out.hub_id, "hub-1");
  EXPECT_STREQ(out.door_id, "front");
  EXPECT_STREQ(out.courier_id, "courier-1");
  EXPECT_EQ(std::memcmp(out.courier_public_key, in.courier_public_key, sizeof in.courier_public_key), 0);
  EXPECT_EQ(out.not_before_unix_ms, 1000);
  EXPECT_EQ(out.not_after_unix_ms, 2000);
  ASSERT_EQ(out.required_camera_count, 2u);
  EXPECT_STREQ(out.required_camera_ids[0], "porch");
  EXPECT_STREQ(out.required_camera_ids[1], "hall");
  for (uint32_t i = 2; i < LK_GRANT_MAX_CAMERAS; ++i) EXPECT_STREQ(out.required_camera_ids[i], "");
}

TEST(Records, Grant_CountAboveTheArrayPassesAsThePluginSetIt) {
  // The count is the plugin's (the hub's checks judge it); the ids are the array's.
  lk_grant_info in = sample_grant();
  in.required_camera_count = LK_GRANT_MAX_CAMERAS + 3;
  for (auto& id : in.required_camera_ids) fill_text(id, "cam");
  plugin_host::v1::Record record;
  put_record(in, &record);
  EXPECT_EQ(record.grant().required_camera_ids_size(), static_cast<int>(LK_GRANT_MAX_CAMERAS));
  lk_grant_info out{};
  out.struct_size = sizeof out;
  ASSERT_TRUE(take_record(record, &out, nullptr));
  EXPECT_EQ(out.required_camera_count, LK_GRANT_MAX_CAMERAS + 3);
}

TEST(Records, Refusal_RoundTrips) {
  lk_authz_refusal in{};
  in.struct_size = sizeof in;
  in.code = LK_REFUSAL_EXPIRED;
  fill_text(in.message, "the grant expired");
  plugin_host::v1::Record record;
  put_record(in, &record);
  lk_authz_refusal out = patterned<lk_authz_refusal>();
  ASSERT_TRUE(take_record(record, &out, nullptr));
  EXPECT_EQ(out.code, LK_REFUSAL_EXPIRED);
  EXPECT_STREQ(out.message, "the grant expired");
}

TEST(Records, MissingOrWrongKind_IsRefused) {
  expect_refused<lk_lock_description>(plugin_host::v1::Record(), "no record");
  plugin_host::v1::Record camera;
  camera.mutable_camera();
  expect_refused<lk_lock_description>(camera, "a camera description where a lock description was due");
  expect_refused<lk_grant_info>(camera, "where a grant was due");
}

TEST(Records, TextThatDoesNotFitOrHoldsANul_IsRefused) {
  plugin_host::v1::Record record;
  put_record(sample_grant(), &record);
  plugin_host::v1::Record too_long = record;
  too_long.mutable_grant()->set_door_id(std::string(LK_ID_MAX, 'd'));
  expect_refused<lk_grant_info>(too_long, "the door id has 64 bytes; it holds at most 63");
  plugin_host::v1::Record nul = record;
  nul.mutable_grant()->set_hub_id(std::string("hub\0-2", 6));
  expect_refused<lk_grant_info>(nul, "the hub id holds a NUL byte");
  plugin_host::v1::Record long_camera = record;
  long_camera.mutable_grant()->set_required_camera_ids(1, std::string(LK_ID_MAX + 10, 'c'));
  expect_refused<lk_grant_info>(long_camera, "a required camera id has");

  plugin_host::v1::Record refusal;
  refusal.mutable_refusal()->set_message(std::string(LK_REASON_MAX, 'm'));
  expect_refused<lk_authz_refusal>(refusal, "the refusal message has");
  plugin_host::v1::Record camera;
  camera.mutable_camera()->set_camera_id(std::string(LK_CAMERA_ID_MAX, 'x'));
  camera.mutable_camera()->set_public_key(std::string(32, 'k'));
  expect_refused<lk_camera_description>(camera, "the camera id has");
}

TEST(Records, KeysAndIdsOfAnotherSize_AreRefused) {
  plugin_host::v1::Record camera;
  camera.mutable_camera()->set_camera_id("porch");
  camera.mutable_camera()->set_public_key(std::string(31, 'k'));
  expect_refused<lk_camera_description>(camera, "the public key has 31 bytes, not 32");
  plugin_host::v1::Record grant;
  put_record(sample_grant(), &grant);
  plugin_host::v1::Record short_id = grant;
  short_id.mutable_grant()->set_grant_id("g");
  expect_refused<lk_grant_info>(short_id, "the grant id has 1 bytes, not 16");
  plugin_host::v1::Record long_key = grant;
  long_key.mutable_grant()->set_courier_public_key(std::string(33, 'c'));
  expect_refused<lk_grant_info>(long_key, "the courier key has 33 bytes, not 32");
}

TEST(Records, GrantWhoseCameraIdsDoNotMatchItsCount_IsRefused) {
  plugin_host::v1::Record record;
  put_record(sample_grant(), &record);
  plugin_host::v1::Record extra = record;
  extra.mutable_grant()->add_required_camera_ids("attic");
  expect_refused<lk_grant_info>(extra, "the grant names 2 required camera(s) but 3 camera id(s) came with it");
  plugin_host::v1::Record too_many = record;
  too_many.mutable_grant()->set_required_camera_count(100);
  for (int i = 0; i < 20; ++i) too_many.mutable_grant()->add_required_camera_ids("cam");
  expect_refused<lk_grant_info>(too_many, "but 22 camera id(s)");
}

TEST(Records, Violations_RoundTrip) {
  host::ContractViolations in;
  in.duplicate_completions = 1;
  in.unknown_completions = 2;
  in.completions_after_failed_start = 3;
  in.events_after_close = 4;
  in.missing_completions = 5;
  plugin_host::v1::ContractViolations message;
  isolation::put_violations(in, &message);
  const host::ContractViolations out = isolation::take_violations(message);
  EXPECT_EQ(out.duplicate_completions, 1u);
  EXPECT_EQ(out.unknown_completions, 2u);
  EXPECT_EQ(out.completions_after_failed_start, 3u);
  EXPECT_EQ(out.events_after_close, 4u);
  EXPECT_EQ(out.missing_completions, 5u);
  EXPECT_EQ(isolation::take_violations(plugin_host::v1::ContractViolations()).missing_completions, 0u) << "absent: none";
}

// A send to a host that has died (its end of the socket closed) must close
// the channel, not end the hub or lk-certify with SIGPIPE. The child starts
// with SIGPIPE at its default action, as a program that never touched it has.
TEST(Channel, ASendToAClosedPeerIsAnErrorNotADeath) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::signal(SIGPIPE, SIG_DFL);
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) std::_Exit(3);
        ::close(sv[1]);
        uv_loop_t loop;
        uv_loop_init(&loop);
        bool closed = false;
        {
          isolation::Channel channel(&loop, sv[0], [](const std::string&) {}, [&](const std::string&) { closed = true; });
          plugin_host::v1::HubToHost message;
          message.mutable_ping();
          channel.send(message);
          for (int i = 0; i < 100 && !closed; ++i) uv_run(&loop, UV_RUN_NOWAIT);
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        std::_Exit(closed ? 0 : 4);
      },
      ::testing::ExitedWithCode(0), "");
}
