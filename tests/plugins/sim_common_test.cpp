// Unit tests of plugins/common: the device scheduler and device URI parsing.
#include <latchkey/sim/device_uri.hpp>
#include <latchkey/sim/scheduler.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace latchkey::sim {
namespace {

using std::chrono::milliseconds;

lk_result refusal_of(std::string_view uri) {
  try {
    DeviceUri::parse(uri, "lock", {"actuation_ms", "seed"});
  } catch (const plugin::Error& e) {
    return e.code();
  }
  return LK_OK;
}

TEST(Scheduler, RunsTasksInDueOrder) {
  Scheduler scheduler;
  std::mutex mutex;
  std::condition_variable done;
  std::vector<int> order;
  auto record = [&](int n) {
    return [&, n] {
      std::lock_guard<std::mutex> lock(mutex);
      order.push_back(n);
      done.notify_all();
    };
  };
  scheduler.after(milliseconds(30), record(3));
  scheduler.after(milliseconds(10), record(1));
  scheduler.after(milliseconds(20), record(2));
  std::unique_lock<std::mutex> lock(mutex);
  ASSERT_TRUE(done.wait_for(lock, milliseconds(2000), [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Scheduler, CancelledTaskNeverRuns) {
  std::atomic<int> runs{0};
  {
    Scheduler scheduler;
    const Scheduler::TaskId id = scheduler.after(milliseconds(20), [&] { ++runs; });
    EXPECT_TRUE(scheduler.cancel(id));
    EXPECT_FALSE(scheduler.cancel(id));
    std::this_thread::sleep_for(milliseconds(40));
  }
  EXPECT_EQ(runs.load(), 0);
}

TEST(Scheduler, StopDropsPendingTasksAndJoins) {
  std::atomic<int> runs{0};
  Scheduler scheduler;
  scheduler.after(milliseconds(0), [&] {
    std::this_thread::sleep_for(milliseconds(20));
    ++runs;
  });
  scheduler.after(milliseconds(500), [&] { ++runs; });
  std::this_thread::sleep_for(milliseconds(5));
  scheduler.stop();  // waits for the running task, drops the other
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(scheduler.after(milliseconds(0), [&] { ++runs; }), 0u);
}

TEST(Scheduler, CancellingTheTaskBeingWaitedForIsSafe) {
  Scheduler scheduler;
  std::atomic<int> runs{0};
  const Scheduler::TaskId far = scheduler.after(milliseconds(300), [&] { runs += 100; });
  std::this_thread::sleep_for(milliseconds(10));  // the worker now waits for that task's due time
  EXPECT_TRUE(scheduler.cancel(far));
  scheduler.after(milliseconds(5), [&] { ++runs; });
  std::this_thread::sleep_for(milliseconds(60));
  EXPECT_EQ(runs.load(), 1);
}

TEST(DeviceUri, ParsesNameAndParameters) {
  const DeviceUri uri = DeviceUri::parse("sim://lock/front-door?actuation_ms=50&seed=0aFF", "lock", {"actuation_ms", "seed"});
  EXPECT_EQ(uri.name(), "front-door");
  EXPECT_EQ(uri.get_uint("actuation_ms", 1, 1, 100), 50u);
  EXPECT_EQ(uri.get_uint("missing", 7, 1, 100), 7u);
  EXPECT_EQ(uri.get_hex("seed", 2), (std::vector<uint8_t>{0x0a, 0xff}));
}

TEST(DeviceUri, RefusesMalformedUris) {
  for (std::string_view bad : {"", "sim:/lock/a", "http://lock/a", "sim://camera/a", "sim://lock/", "sim://lock",
                               "sim://lock/a b", "sim://lock/a?", "sim://lock/a?actuation_ms", "sim://lock/a?=5",
                               "sim://lock/a?actuation_ms=", "sim://lock/a?actuation_ms=1&actuation_ms=2",
                               "sim://lock/a?colour=red", "sim://lock/a?actuation_ms=5&", "sim://lock/a/b"})
    EXPECT_EQ(refusal_of(bad), LK_ERR_INVALID_ARGUMENT) << bad;
}

TEST(DeviceUri, RefusesOutOfRangeValuesNamingTheKey) {
  const DeviceUri uri = DeviceUri::parse("sim://lock/a?actuation_ms=0&seed=zz", "lock", {"actuation_ms", "seed"});
  try {
    uri.get_uint("actuation_ms", 50, 1, 100);
    FAIL() << "0 accepted";
  } catch (const plugin::Error& e) {
    EXPECT_EQ(e.code(), LK_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("actuation_ms"), std::string::npos);
  }
  EXPECT_THROW(uri.get_hex("seed", 1), plugin::Error);
  const DeviceUri huge = DeviceUri::parse("sim://lock/a?actuation_ms=184467440737095516160", "lock", {"actuation_ms"});
  EXPECT_THROW(huge.get_uint("actuation_ms", 50, 1, 100), plugin::Error);
  const DeviceUri above = DeviceUri::parse("sim://lock/a?actuation_ms=101", "lock", {"actuation_ms"});
  EXPECT_THROW(above.get_uint("actuation_ms", 50, 1, 100), plugin::Error);
}

}  // namespace
}  // namespace latchkey::sim
