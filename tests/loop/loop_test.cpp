// latchkey_loop: the task queue other threads post to and the deadline timer.
#include <latchkey/loop/deadline_timer.hpp>
#include <latchkey/loop/task_queue.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace {

using latchkey::loop::DeadlineTimer;
using latchkey::loop::TaskQueue;

// A loop on a thread of its own, as the supervisor runs one.
struct LoopThread {
  uv_loop_t loop{};
  TaskQueue tasks;
  std::thread thread;

  LoopThread() {
    uv_loop_init(&loop);
    tasks.open(&loop);
  }
  void run() { thread = std::thread([this] { uv_run(&loop, UV_RUN_DEFAULT); }); }
  // The last task closes the queue: the loop has nothing left and returns.
  void finish() {
    tasks.post_last([this] { tasks.close(); });
    thread.join();
    EXPECT_EQ(uv_loop_close(&loop), 0);
  }
};

// Counts how many of its copies' owners were destroyed without running.
struct Token {
  std::shared_ptr<std::atomic<int>> alive;
  explicit Token(std::shared_ptr<std::atomic<int>> a) : alive(std::move(a)) { ++*alive; }
  Token(const Token& o) : alive(o.alive) { ++*alive; }
  ~Token() { --*alive; }
};

TEST(TaskQueue, RunsPostsFromManyThreadsInOrderOnTheLoopThread) {
  LoopThread l;
  l.run();
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<int> last(kThreads, -1);
  std::atomic<int> out_of_order{0}, off_thread{0}, ran{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t)
    posters.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        ASSERT_TRUE(l.tasks.post([&, t, i] {
          if (std::this_thread::get_id() != l.thread.get_id()) ++off_thread;
          if (last[t] != i - 1) ++out_of_order;
          last[t] = i;
          ++ran;
        }));
    });
  for (auto& p : posters) p.join();
  l.finish();
  EXPECT_EQ(ran, kThreads * kEach);
  EXPECT_EQ(out_of_order, 0);
  EXPECT_EQ(off_thread, 0);
}

TEST(TaskQueue, RefusesBeforeOpenAndAfterTheLastTask) {
  TaskQueue unopened;
  EXPECT_FALSE(unopened.post([] {}));
  EXPECT_FALSE(unopened.accepting());

  LoopThread l;
  bool ran_last = false;
  EXPECT_TRUE(l.tasks.accepting());
  ASSERT_TRUE(l.tasks.post_last([&] {
    ran_last = true;
    l.tasks.close();
  }));
  EXPECT_FALSE(l.tasks.accepting());
  auto alive = std::make_shared<std::atomic<int>>(0);
  EXPECT_FALSE(l.tasks.post([token = Token(alive)] {}));
  EXPECT_FALSE(l.tasks.post_last([token = Token(alive)] {}));
  EXPECT_EQ(*alive, 0) << "a refused task is destroyed at once";
  uv_run(&l.loop, UV_RUN_DEFAULT);
  EXPECT_TRUE(ran_last);
  EXPECT_EQ(uv_loop_close(&l.loop), 0);
}

// Threads keep posting while the loop closes the queue: every post either
// runs or is refused, none after the close runs, none leaks, nothing touches
// the closed handle (the sanitizer pass runs this under ASan).
TEST(TaskQueue, PostingDuringShutdownIsRefusedSafely) {
  for (int round = 0; round < 20; ++round) {
    LoopThread l;
    std::atomic<bool> closed{false};
    std::atomic<int> ran{0}, refused{0}, ran_after_close{0};
    auto alive = std::make_shared<std::atomic<int>>(0);
    l.run();
    std::atomic<bool> go{false};
    std::vector<std::thread> posters;
    for (int n = 0; n < 3; ++n)
      posters.emplace_back([&] {
        while (!go) std::this_thread::yield();
        for (int i = 0; i < 3000; ++i) {
          if (l.tasks.post([&, token = Token(alive)] {
                if (closed) ++ran_after_close;
                ++ran;
              }))
            continue;
          ++refused;
        }
      });
    go = true;
    std::this_thread::sleep_for(std::chrono::microseconds(200 * (round % 5)));
    l.tasks.post_last([&] {
      closed = true;
      l.tasks.close();
    });
    for (auto& p : posters) p.join();
    l.thread.join();
    EXPECT_EQ(uv_loop_close(&l.loop), 0);
    EXPECT_EQ(ran + refused, 3 * 3000);
    EXPECT_EQ(ran_after_close, 0);
    EXPECT_EQ(*alive, 0) << "tasks still queued at the close are destroyed";
  }
}

TEST(TaskQueue, CloseDestroysWhatIsStillQueued) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto alive = std::make_shared<std::atomic<int>>(0);
  {
    TaskQueue tasks;
    tasks.open(&loop);
    ASSERT_TRUE(tasks.post([token = Token(alive)] {}));
    ASSERT_TRUE(tasks.post([token = Token(alive)] {}));
    EXPECT_EQ(*alive, 2);
    tasks.close();
    EXPECT_EQ(*alive, 0);
    EXPECT_FALSE(tasks.post([] {}));
    tasks.close();  // again: nothing
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

// The runtime's stop: posts refused, the loop woken so that it can see it,
// what was queued left to take.
TEST(TaskQueue, StopAcceptingWakesTheLoopAndKeepsTheQueue) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  TaskQueue tasks;
  int wakes = 0;
  bool saw_refusal = false;
  tasks.open(&loop, [&] {
    ++wakes;
    saw_refusal = !tasks.accepting();
    uv_stop(&loop);
  });
  bool ran = false;
  ASSERT_TRUE(tasks.post([&] { ran = true; }));
  std::thread([&] { tasks.stop_accepting(); }).join();
  EXPECT_FALSE(tasks.post([] {}));
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_GE(wakes, 1);
  EXPECT_TRUE(saw_refusal);
  EXPECT_FALSE(ran);
  auto left = tasks.take();
  EXPECT_EQ(left.size(), 1u);
  for (auto& task : left) task();
  EXPECT_TRUE(ran);
  tasks.close();
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(TaskQueue, DrainRunsTasksPostedMeanwhileAtTheNextWake) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  TaskQueue tasks;
  std::vector<int> order;
  tasks.open(&loop);
  tasks.post([&] {
    order.push_back(1);
    tasks.post([&] {
      order.push_back(3);
      tasks.close();
    });
  });
  tasks.post([&] { order.push_back(2); });
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

struct TimerLoop {
  uv_loop_t loop{};
  DeadlineTimer timer;
  std::vector<uint64_t> fired_at;
  TimerLoop() {
    uv_loop_init(&loop);
    timer.open(&loop, [this] { fired_at.push_back(DeadlineTimer::now_ns()); });
  }
  ~TimerLoop() {
    timer.close();
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop), 0);
  }
};

TEST(DeadlineTimer, FiresOnceNeverBeforeItsDeadline) {
  TimerLoop t;
  for (int i = 0; i < 20; ++i) {
    // Let the loop's cached time go stale first, as a busy loop's does.
    std::this_thread::sleep_for(std::chrono::microseconds(1500));
    const uint64_t deadline = DeadlineTimer::now_ns() + 2'300'000 + 100'000 * static_cast<uint64_t>(i);
    t.timer.arm_at(deadline);
    EXPECT_TRUE(t.timer.armed());
    EXPECT_EQ(t.timer.deadline_ns(), deadline);
    t.fired_at.clear();
    uv_run(&t.loop, UV_RUN_DEFAULT);
    ASSERT_EQ(t.fired_at.size(), 1u);
    EXPECT_GE(t.fired_at[0], deadline);
    EXPECT_FALSE(t.timer.armed());
  }
}

TEST(DeadlineTimer, ReArmingReplacesAndStopDisarms) {
  TimerLoop t;
  const uint64_t now = DeadlineTimer::now_ns();
  t.timer.arm_at(now + 500'000'000);
  t.timer.arm_at(now + 5'000'000);  // the earlier deadline wins: it replaces
  uv_run(&t.loop, UV_RUN_DEFAULT);
  ASSERT_EQ(t.fired_at.size(), 1u);
  EXPECT_LT(t.fired_at[0], now + 400'000'000);

  t.fired_at.clear();
  t.timer.arm_at(DeadlineTimer::now_ns() + 5'000'000);
  t.timer.stop();
  EXPECT_FALSE(t.timer.armed());
  uv_run(&t.loop, UV_RUN_DEFAULT);
  EXPECT_TRUE(t.fired_at.empty());
}

TEST(DeadlineTimer, APassedDeadlineFiresAtTheNextTurn) {
  TimerLoop t;
  t.timer.arm_at(0);
  uv_run(&t.loop, UV_RUN_NOWAIT);
  EXPECT_EQ(t.fired_at.size(), 1u);
}

TEST(DeadlineTimer, ReArmsFromItsOwnExpiry) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  DeadlineTimer timer;
  int fired = 0;
  timer.open(&loop, [&] {
    if (++fired < 3) timer.arm_at(DeadlineTimer::now_ns() + 1'000'000);
    else timer.close();
  });
  timer.arm_at(DeadlineTimer::now_ns() + 1'000'000);
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(fired, 3);
  timer.close();  // again: nothing
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
