// The library-lifetime rule, events and lent bytes.
#include <latchkey/host/devices.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "test_support.hpp"

namespace latchkey::host {
namespace {

using testing::eventually;
using testing::library_is_loaded;
using testing::LogCapture;

std::array<uint8_t, 16> make_nonce(uint8_t first) {
  std::array<uint8_t, 16> nonce{};
  for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<uint8_t>(first + i);
  return nonce;
}

// Keeps every event a handler saw.
struct EventLog {
  std::mutex mutex;
  std::vector<DeviceEvent> events;
  EventHandler handler() {
    return [this](const DeviceEvent& event) {
      std::lock_guard<std::mutex> lock(mutex);
      events.push_back(event);
    };
  }
  std::vector<DeviceEvent> snapshot() {
    std::lock_guard<std::mutex> lock(mutex);
    return events;
  }
};

TEST(Lifetime, DeviceKeepsLibraryLoaded_AfterLastPluginPointerDropped) {
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH);
  std::unique_ptr<LockHandle> lock;
  ASSERT_EQ(LockHandle::open(plugin, "lkt://lock/1", nullptr, &lock), LK_OK);
  plugin.reset();

  EXPECT_TRUE(library_is_loaded(LK_TESTPLUGIN_MINIMAL_PATH));
  lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
  EXPECT_EQ(lock->lock_state(&state), LK_OK);
  EXPECT_EQ(state, LK_LOCK_STATE_LOCKED);
  int completions = 0;
  EXPECT_EQ(lock->lock(5, [&](const lk_lock_completion&) { ++completions; }), LK_OK);
  EXPECT_EQ(completions, 1);

  lock.reset();
  EXPECT_FALSE(library_is_loaded(LK_TESTPLUGIN_MINIMAL_PATH));
}

TEST(Lifetime, LentBytesKeepLibraryLoaded_AfterDeviceAndPluginAreGone) {
  LogCapture log;
  EventLog events;
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH, log.options());
  std::unique_ptr<CameraHandle> camera;
  ASSERT_EQ(CameraHandle::open(plugin, "lkt://camera/1", events.handler(), &camera), LK_OK);
  const auto nonce = make_nonce(1);
  ASSERT_EQ(camera->deliver_nonce(nonce.data(), nonce.size()), LK_OK);

  std::shared_ptr<LentBytes> kept;
  for (const auto& event : events.snapshot()) {
    if (event.kind == LK_EVENT_ATTESTATION) kept = event.data;
  }
  ASSERT_NE(kept, nullptr);
  camera.reset();
  plugin.reset();
  events.events.clear();  // only `kept` holds the bytes now

  EXPECT_TRUE(library_is_loaded(LK_TESTPLUGIN_MINIMAL_PATH));
  EXPECT_EQ(log.count(LKT_LOG_RELEASED), 0u);
  EXPECT_EQ(kept->copy(), std::vector<uint8_t>(nonce.begin(), nonce.end()));

  kept.reset();
  EXPECT_EQ(log.count(LKT_LOG_RELEASED), 1u);
  EXPECT_EQ(log.count(LKT_LOG_SHUTDOWN), 1u);
  EXPECT_FALSE(library_is_loaded(LK_TESTPLUGIN_MINIMAL_PATH));
}

TEST(LentBytes, ReleasedExactlyOnce_WhenNoHandlerTakesThem) {
  LogCapture log;
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH, log.options());
  std::unique_ptr<CameraHandle> camera;
  ASSERT_EQ(CameraHandle::open(plugin, "lkt://camera/1", nullptr, &camera), LK_OK);
  for (uint8_t i = 0; i < 3; ++i) {
    const auto nonce = make_nonce(i);
    ASSERT_EQ(camera->deliver_nonce(nonce.data(), nonce.size()), LK_OK);
  }
  EXPECT_EQ(log.count(LKT_LOG_RELEASED), 3u);
  camera.reset();
  plugin.reset();
  EXPECT_EQ(log.count(LKT_LOG_RELEASED), 3u);
}

struct ReleaseCounter {
  int calls = 0;
  const uint8_t* last = nullptr;
};

void count_release(void* context, const uint8_t* data) {
  auto* counter = static_cast<ReleaseCounter*>(context);
  ++counter->calls;
  counter->last = data;
}

TEST(LentBytes, ReleasedExactlyOnce_AcrossMoves) {
  static const uint8_t bytes[3] = {7, 8, 9};
  ReleaseCounter counter;
  lk_event event{};
  event.struct_size = sizeof(event);
  event.data = bytes;
  event.data_size = sizeof bytes;
  event.release = &count_release;
  event.release_context = &counter;
  {
    LentBytes first(nullptr, event);
    LentBytes second(std::move(first));
    LentBytes third;
    third = std::move(second);
    EXPECT_EQ(third.size(), 3u);
    EXPECT_EQ(third.data(), bytes);
    EXPECT_EQ(first.data(), nullptr);
    EXPECT_EQ(counter.calls, 0);
  }
  EXPECT_EQ(counter.calls, 1);
  EXPECT_EQ(counter.last, bytes);
}

TEST(LentBytes, MoveAssignmentReleasesTheTargetsOwnBytesFirst) {
  static const uint8_t a[1] = {1};
  static const uint8_t b[1] = {2};
  ReleaseCounter counter_a;
  ReleaseCounter counter_b;
  lk_event event_a{};
  event_a.data = a;
  event_a.data_size = 1;
  event_a.release = &count_release;
  event_a.release_context = &counter_a;
  lk_event event_b = event_a;
  event_b.data = b;
  event_b.release_context = &counter_b;
  LentBytes target(nullptr, event_a);
  target = LentBytes(nullptr, event_b);
  EXPECT_EQ(counter_a.calls, 1);
  EXPECT_EQ(counter_b.calls, 0);
  EXPECT_EQ(target.data(), b);
}

TEST(LentBytes, BorrowedEventDataIsCopied_AndNeedsNoRelease) {
  LogCapture log;
  EventLog events;
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH, log.options());
  std::unique_ptr<CameraHandle> camera;
  ASSERT_EQ(CameraHandle::open(plugin, "lkt://camera/1", events.handler(), &camera), LK_OK);
  const auto nonce = make_nonce(LKT_NONCE_BORROWED);
  ASSERT_EQ(camera->deliver_nonce(nonce.data(), nonce.size()), LK_OK);
  std::shared_ptr<LentBytes> data;
  for (const auto& event : events.snapshot()) {
    if (event.kind == LK_EVENT_ATTESTATION) data = event.data;
  }
  ASSERT_NE(data, nullptr);
  // The plugin wiped its buffer after on_event returned; the copy is intact.
  EXPECT_EQ(data->copy(), std::vector<uint8_t>(nonce.begin(), nonce.end()));
  EXPECT_EQ(log.count(LKT_LOG_RELEASED), 0u);
}

TEST(Events, DeliveredToHandler_WithKindValueAndDetail) {
  EventLog events;
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH);
  std::unique_ptr<LockHandle> lock;
  ASSERT_EQ(LockHandle::open(plugin, "lkt://lock/1", events.handler(), &lock), LK_OK);
  ASSERT_EQ(lock->physical_action(LK_ACTION_DOOR_OPEN), LK_OK);
  ASSERT_EQ(lock->physical_action(LK_ACTION_MANUAL_UNLOCK), LK_OK);
  const auto seen = events.snapshot();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].kind, LK_EVENT_LOCK_STATE);  // the state on open
  EXPECT_EQ(seen[0].value, LK_LOCK_STATE_LOCKED);
  EXPECT_EQ(seen[1].kind, LK_EVENT_DOOR_STATE);
  EXPECT_EQ(seen[1].value, LK_DOOR_STATE_OPEN);
  EXPECT_EQ(seen[2].kind, LK_EVENT_LOCK_STATE);
  EXPECT_EQ(seen[2].value, LK_LOCK_STATE_UNLOCKED);
  EXPECT_EQ(seen[2].detail, LK_SOURCE_MANUAL);
  EXPECT_EQ(seen[2].data, nullptr);
}

TEST(Events, AfterClose_AreCountedReleasedAndNotDelivered) {
  LogCapture log;
  EventLog events;
  auto plugin = Plugin::load(LK_TESTPLUGIN_EVENT_AFTER_CLOSE_PATH, log.options());
  std::unique_ptr<LockHandle> first;
  ASSERT_EQ(LockHandle::open(plugin, "lkt://lock/1", events.handler(), &first), LK_OK);
  first->close();
  const std::size_t seen_before = events.snapshot().size();
  // This plugin fires an alarm on the closed device's sink when the next one opens.
  std::unique_ptr<LockHandle> second;
  ASSERT_EQ(LockHandle::open(plugin, "lkt://lock/2", nullptr, &second), LK_OK);
  EXPECT_EQ(first->violations().events_after_close, 1u);
  EXPECT_EQ(events.snapshot().size(), seen_before);
  EXPECT_EQ(log.count(LKT_LOG_RELEASED), 1u);
  EXPECT_EQ(second->violations().events_after_close, 0u);
}

TEST(Events, ForADestroyedHandle_AreReleasedWithoutTouchingIt) {
  LogCapture log;
  auto plugin = Plugin::load(LK_TESTPLUGIN_EVENT_AFTER_CLOSE_PATH, log.options());
  std::unique_ptr<LockHandle> first;
  ASSERT_EQ(LockHandle::open(plugin, "lkt://lock/1", [](const DeviceEvent&) {}, &first), LK_OK);
  first.reset();  // state freed; the plugin still holds the sink
  std::unique_ptr<LockHandle> second;
  ASSERT_EQ(LockHandle::open(plugin, "lkt://lock/2", nullptr, &second), LK_OK);
  EXPECT_EQ(log.count(LKT_LOG_RELEASED), 1u);
}

TEST(Events, FromAPluginThread_ReachTheHandler) {
  std::atomic<int> lock_state_events{0};
  std::atomic<bool> on_other_thread{false};
  const auto test_thread = std::this_thread::get_id();
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH);
  std::unique_ptr<LockHandle> lock;
  ASSERT_EQ(LockHandle::open(
                plugin, "lkt://lock/1",
                [&](const DeviceEvent& event) {
                  if (event.kind != LK_EVENT_LOCK_STATE) return;
                  ++lock_state_events;
                  if (std::this_thread::get_id() != test_thread) on_other_thread = true;
                },
                &lock),
            LK_OK);
  ASSERT_EQ(lock->lock(LKT_OP_THREAD | 1, nullptr), LK_OK);
  EXPECT_TRUE(eventually([&] { return on_other_thread.load(); }));
  lock.reset();
  EXPECT_EQ(lock_state_events.load(), 2);
}

}  // namespace
}  // namespace latchkey::host
