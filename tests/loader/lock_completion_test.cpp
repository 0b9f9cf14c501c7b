// Lock completions, contract-violation counters and call serialisation.
#include <latchkey/host/devices.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace latchkey::host {
namespace {

using testing::eventually;
using testing::LogCapture;

// Records the completions one handler received.
struct Completions {
  std::mutex mutex;
  std::vector<lk_lock_completion> seen;
  LockCompletionHandler handler() {
    return [this](const lk_lock_completion& completion) {
      std::lock_guard<std::mutex> lock(mutex);
      seen.push_back(completion);
    };
  }
  std::size_t count() {
    std::lock_guard<std::mutex> lock(mutex);
    return seen.size();
  }
};

std::unique_ptr<LockHandle> open_lock(const char* path, LogCapture* log = nullptr) {
  auto plugin = Plugin::load(path, log != nullptr ? log->options() : LoadOptions{});
  std::unique_ptr<LockHandle> lock;
  EXPECT_EQ(LockHandle::open(plugin, "lkt://lock/1", nullptr, &lock), LK_OK);
  return lock;
}

lk_unlock_params unlock_params(uint64_t operation_id) {
  lk_unlock_params params{};
  params.struct_size = sizeof(params);
  params.relock_deadline_ms = 5000;
  params.operation_id = operation_id;
  return params;
}

TEST(Lock, CompletionFiresOnce_EchoingTheOperation) {
  auto lock = open_lock(LK_TESTPLUGIN_MINIMAL_PATH);
  Completions done;
  ASSERT_EQ(lock->unlock(unlock_params(41), done.handler()), LK_OK);
  ASSERT_EQ(lock->lock(42, done.handler()), LK_OK);
  ASSERT_EQ(done.count(), 2u);
  EXPECT_EQ(done.seen[0].operation_id, 41u);
  EXPECT_EQ(done.seen[0].lock_state, LK_LOCK_STATE_UNLOCKED);
  EXPECT_EQ(done.seen[1].operation_id, 42u);
  EXPECT_EQ(done.seen[1].result, LK_OK);
  EXPECT_EQ(done.seen[1].lock_state, LK_LOCK_STATE_LOCKED);
  EXPECT_EQ(lock->pending_operations(), 0u);
  const ContractViolations v = lock->violations();
  EXPECT_EQ(v.duplicate_completions + v.unknown_completions + v.completions_after_failed_start +
                v.missing_completions + v.events_after_close,
            0u);
}

TEST(Lock, JamFault_CompletesWithJammed) {
  auto lock = open_lock(LK_TESTPLUGIN_MINIMAL_PATH);
  Completions done;
  ASSERT_EQ(lock->inject_fault(LK_FAULT_LOCK_JAM, 0), LK_OK);
  ASSERT_EQ(lock->unlock(unlock_params(1), done.handler()), LK_OK);
  ASSERT_EQ(lock->clear_faults(), LK_OK);
  ASSERT_EQ(lock->unlock(unlock_params(2), done.handler()), LK_OK);
  ASSERT_EQ(done.count(), 2u);
  EXPECT_EQ(done.seen[0].result, LK_ERR_JAMMED);
  EXPECT_EQ(done.seen[1].result, LK_OK);
}

TEST(Lock, CompletionFromPluginThread_ArrivesOnce) {
  auto lock = open_lock(LK_TESTPLUGIN_MINIMAL_PATH);
  Completions done;
  ASSERT_EQ(lock->lock(LKT_OP_THREAD | 3, done.handler()), LK_OK);
  EXPECT_TRUE(eventually([&] { return done.count() == 1; }));
  EXPECT_TRUE(eventually([&] { return lock->pending_operations() == 0; }));
  EXPECT_EQ(done.seen[0].operation_id, LKT_OP_THREAD | 3);
}

TEST(Lock, PendingOperation_CompletesWithClosedBeforeCloseReturns) {
  auto lock = open_lock(LK_TESTPLUGIN_MINIMAL_PATH);
  Completions done;
  ASSERT_EQ(lock->lock(LKT_OP_DEFER | 9, done.handler()), LK_OK);
  EXPECT_EQ(lock->pending_operations(), 1u);
  EXPECT_EQ(done.count(), 0u);
  lock->close();
  ASSERT_EQ(done.count(), 1u);
  EXPECT_EQ(done.seen[0].result, LK_ERR_CLOSED);
  EXPECT_EQ(lock->pending_operations(), 0u);
  EXPECT_EQ(lock->violations().missing_completions, 0u);
}

TEST(Lock, CallsAfterClose_ReturnClosed) {
  auto lock = open_lock(LK_TESTPLUGIN_MINIMAL_PATH);
  lock->close();
  lock->close();  // idempotent
  lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
  EXPECT_EQ(lock->lock_state(&state), LK_ERR_CLOSED);
  bool called = false;
  EXPECT_EQ(lock->lock(1, [&](const lk_lock_completion&) { called = true; }), LK_ERR_CLOSED);
  EXPECT_FALSE(called);
}

TEST(Lock, OpenFailure_ReturnsThePluginsResultAndNoHandle) {
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH);
  std::unique_ptr<LockHandle> lock;
  EXPECT_EQ(LockHandle::open(plugin, "lkt://lock/missing", nullptr, &lock), LK_ERR_NOT_FOUND);
  EXPECT_EQ(lock, nullptr);
}

TEST(Violations, DuplicateCompletion_IsCountedAndNotDelivered) {
  auto lock = open_lock(LK_TESTPLUGIN_DOUBLE_COMPLETION_PATH);
  Completions done;
  ASSERT_EQ(lock->lock(1, done.handler()), LK_OK);
  ASSERT_EQ(lock->unlock(unlock_params(2), done.handler()), LK_OK);
  EXPECT_EQ(done.count(), 2u);
  EXPECT_EQ(lock->violations().duplicate_completions, 2u);
  EXPECT_EQ(lock->pending_operations(), 0u);
}

TEST(Violations, CompletionForAFailedStart_IsCountedAndNotDelivered) {
  auto lock = open_lock(LK_TESTPLUGIN_COMPLETION_THEN_FAIL_PATH);
  Completions done;
  // lock(): completes inside the call, then fails it.
  EXPECT_EQ(lock->lock(1, done.handler()), LK_ERR_BUSY);
  EXPECT_EQ(lock->violations().completions_after_failed_start, 1u);
  // unlock(): fails, then completes later from a plugin thread.
  EXPECT_EQ(lock->unlock(unlock_params(2), done.handler()), LK_ERR_BUSY);
  EXPECT_TRUE(eventually([&] { return lock->violations().completions_after_failed_start == 2; }));
  EXPECT_EQ(done.count(), 0u);
  EXPECT_EQ(lock->pending_operations(), 0u);
}

TEST(Violations, CompletionWithAnUnknownToken_IsCounted) {
  auto lock = open_lock(LK_TESTPLUGIN_UNKNOWN_COMPLETION_PATH);
  Completions done;
  ASSERT_EQ(lock->lock(1, done.handler()), LK_OK);
  EXPECT_EQ(done.count(), 1u);
  const ContractViolations v = lock->violations();
  EXPECT_EQ(v.unknown_completions, 1u);
  EXPECT_EQ(v.duplicate_completions, 0u);
}

TEST(Violations, OperationLeftPendingByClose_IsCompletedByTheHostAndCounted) {
  auto lock = open_lock(LK_TESTPLUGIN_FORGETS_ON_CLOSE_PATH);
  Completions done;
  ASSERT_EQ(lock->lock(LKT_OP_DEFER | 1, done.handler()), LK_OK);
  lock->close();
  ASSERT_EQ(done.count(), 1u);
  EXPECT_EQ(done.seen[0].result, LK_ERR_CLOSED);
  EXPECT_EQ(done.seen[0].operation_id, LKT_OP_DEFER | 1);
  EXPECT_EQ(lock->violations().missing_completions, 1u);
}

constexpr int kThreads = 4;
constexpr int kCallsPerThread = 40;

TEST(Serialisation, CallsOnOneHandleFromManyThreads_NeverOverlapInThePlugin) {
  LogCapture log;
  auto lock = open_lock(LK_TESTPLUGIN_MINIMAL_PATH, &log);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
        if (lock->lock_state(&state) != LK_OK) ++failures;
        if (i % 8 == 0 && lock->lock(static_cast<uint64_t>(t * 1000 + i), nullptr) != LK_OK) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(log.count(LKT_LOG_OVERLAP), 0u);
}

void ignore_event(void*, const lk_event*) {}

// Control for the test above: the plugin's detector does see overlapping
// calls when nothing serialises them.
TEST(Serialisation, UnserialisedRawCalls_AreDetectedByTheTestPlugin) {
  LogCapture log;
  auto plugin = Plugin::load(LK_TESTPLUGIN_MINIMAL_PATH, log.options());
  const lk_lock_interface_v1* table = plugin->lock_interface();
  const lk_event_sink sink{sizeof(lk_event_sink), nullptr, &ignore_event};
  lk_lock_device* device = nullptr;
  ASSERT_EQ(table->open("lkt://lock/raw", &sink, &device), LK_OK);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
        table->get_lock_state(device, &state);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  table->close(device);
  EXPECT_GT(log.count(LKT_LOG_OVERLAP), 0u);
}

}  // namespace
}  // namespace latchkey::host
