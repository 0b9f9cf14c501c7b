#include "raw_device.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

namespace latchkey::certify {
namespace {

void drop_event(void*, const lk_event* event) {
  if (event != nullptr && event->release != nullptr) event->release(event->release_context, event->data);
}

std::mutex g_mutex;
std::condition_variable g_changed;
std::map<uint64_t, uint64_t> g_completions;
std::atomic<uint64_t> g_next_id{0x5EED0000};

}  // namespace

const lk_event_sink& dropping_sink() {
  static const lk_event_sink sink{sizeof(lk_event_sink), nullptr, &drop_event};
  return sink;
}

void counting_completion(void*, const lk_lock_completion* completion) {
  if (completion == nullptr) return;
  {
    std::lock_guard lock(g_mutex);
    ++g_completions[completion->operation_id];
  }
  g_changed.notify_all();
}

uint64_t completions_seen(uint64_t operation_id) {
  std::lock_guard lock(g_mutex);
  auto it = g_completions.find(operation_id);
  return it == g_completions.end() ? 0 : it->second;
}

bool wait_completion(uint64_t operation_id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(g_mutex);
  return g_changed.wait_for(lock, timeout, [&] { return g_completions.count(operation_id) > 0; });
}

uint64_t next_raw_operation_id() { return ++g_next_id; }

}  // namespace latchkey::certify
