#include <latchkey/loop/task_queue.hpp>

#include <utility>

namespace latchkey::loop {

TaskQueue::~TaskQueue() = default;

void TaskQueue::open(uv_loop_t* loop, std::function<void()> on_wake) {
  on_wake_ = std::move(on_wake);
  uv_async_init(loop, &wake_, &TaskQueue::on_async);
  wake_.data = this;
  std::lock_guard lock(mutex_);
  open_ = true;
  accepting_ = true;
}

void TaskQueue::on_async(uv_async_t* handle) {
  auto* self = static_cast<TaskQueue*>(handle->data);
  if (self->on_wake_) self->on_wake_();
  else self->drain();
}

bool TaskQueue::post(Task task) {
  std::unique_lock lock(mutex_);
  if (!accepting_) {
    lock.unlock();
    return false;  // the task dies here, outside the lock: its destructor may post
  }
  queue_.push_back(std::move(task));
  uv_async_send(&wake_);
  return true;
}

bool TaskQueue::post_last(Task task) {
  std::unique_lock lock(mutex_);
  if (!accepting_) {
    lock.unlock();
    return false;
  }
  queue_.push_back(std::move(task));
  accepting_ = false;
  uv_async_send(&wake_);
  return true;
}

void TaskQueue::stop_accepting() {
  std::lock_guard lock(mutex_);
  accepting_ = false;
  if (open_) uv_async_send(&wake_);
}

bool TaskQueue::accepting() const {
  std::lock_guard lock(mutex_);
  return accepting_;
}

std::size_t TaskQueue::drain() {
  std::deque<Task> work = take();
  for (auto& task : work) task();
  return work.size();
}

std::deque<TaskQueue::Task> TaskQueue::take() {
  std::deque<Task> work;
  std::lock_guard lock(mutex_);
  work.swap(queue_);
  return work;
}

void TaskQueue::close() {
  std::deque<Task> abandoned;
  {
    std::lock_guard lock(mutex_);
    accepting_ = false;
    if (!open_) return;
    open_ = false;
    abandoned.swap(queue_);
  }
  auto* handle = reinterpret_cast<uv_handle_t*>(&wake_);
  if (!uv_is_closing(handle)) uv_close(handle, nullptr);
  // abandoned dies here, outside the lock.
}

}  // namespace latchkey::loop
