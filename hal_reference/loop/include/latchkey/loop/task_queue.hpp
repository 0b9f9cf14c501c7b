// Work handed to one libuv loop from any thread: post() queues a task and
// wakes the loop, which runs the queued tasks in order on its own thread.
#ifndef LATCHKEY_LOOP_TASK_QUEUE_HPP
#define LATCHKEY_LOOP_TASK_QUEUE_HPP

#include <uv.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace latchkey::loop {

// Life of a queue: open() on the loop, post() from anywhere, close() on the
// loop thread before the loop's last run. A post before open(), after
// stop_accepting() or post_last(), or after close() is refused (false) and
// its task destroyed at once. The wake-up is sent under the queue's lock,
// so no thread can signal the handle once close() has begun.
//
// The loop thread is whichever thread runs the loop; before the loop runs
// and after it stopped, that is the owner's thread.
class TaskQueue {
 public:
  using Task = std::function<void()>;

  TaskQueue() = default;
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;
  // Destroys what is still queued. The handle must be closed by then (close()
  // and a run of the loop since), or the loop never opened.
  ~TaskQueue();

  // Loop thread, once: binds the queue to the loop. on_wake runs on the loop
  // thread at each wake-up; without one, a wake-up runs drain().
  void open(uv_loop_t* loop, std::function<void()> on_wake = {});

  // Any thread: queues the task and wakes the loop; false when refused.
  bool post(Task task);
  // Any thread: queues the task as the last one; post() refuses from now on.
  // False (the task destroyed) when posts were refused already.
  bool post_last(Task task);
  // Any thread: post() refuses from now on; what is queued stays queued, and
  // the loop is woken once more so that on_wake sees it.
  void stop_accepting();
  bool accepting() const;

  // Loop thread: runs the tasks queued so far, in order; a task posted while
  // they run waits for the next wake-up. Answers how many ran.
  std::size_t drain();
  // Loop thread: the queued tasks, removed without running them.
  std::deque<Task> take();
  // Loop thread: refuses posts, destroys what is queued and closes the wake
  // handle (libuv finishes at the loop's next run). Again: nothing.
  void close();

 private:
  static void on_async(uv_async_t* handle);

  uv_async_t wake_{};
  std::function<void()> on_wake_;
  mutable std::mutex mutex_;
  std::deque<Task> queue_;  // mutex_
  bool open_ = false;       // mutex_: the handle may be signalled
  bool accepting_ = false;  // mutex_
};

}  // namespace latchkey::loop

#endif  // LATCHKEY_LOOP_TASK_QUEUE_HPP
