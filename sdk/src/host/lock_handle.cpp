// LockHandle: a lock device, its serialised calls and its completions.
#include <latchkey/host/devices.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "device_registry.hpp"

namespace latchkey::host {

struct LockHandle::State : detail::DeviceCore {
  struct PendingOperation {
    LockCompletionHandler done;
    uint64_t operation_id = 0;
    bool starting = true;  // the start call has not returned yet
    bool fired_early = false;
    lk_lock_completion early{};  // a completion that fired inside the start call
  };

  using DeviceCore::DeviceCore;

  uintptr_t allocate_sequence();
  bool was_issued(uintptr_t sequence) const;
  template <class Call>
  lk_result start(uint64_t operation_id, LockCompletionHandler done, Call&& call);
  void complete(uintptr_t sequence, const lk_lock_completion* raw) noexcept;
  void close_device();

  const lk_lock_interface_v1* table = nullptr;
  const lk_test_control_interface_v1* test_control = nullptr;
  lk_lock_device* device = nullptr;

  // Taken by the completion path; never held while calling the plugin's
  // lock()/unlock() from here nor while running a handler.
  mutable std::mutex pending_mutex;
  std::map<uintptr_t, PendingOperation> pending;
  uintptr_t next_sequence = 1;
  uint64_t issued = 0;
  std::deque<uintptr_t> failed_starts;  // the latest few, to recognise late completions
  ContractViolations counted;
};

namespace {

constexpr std::size_t kFailedStartsRemembered = 256;

void on_completion(void* token, const lk_lock_completion* completion) noexcept {
  detail::DeviceRef ref(detail::token_index(token));
  auto* state = dynamic_cast<LockHandle::State*>(ref.get());
  if (state == nullptr) {
    detail::log_problem("lock completion for a device that is no longer open; dropped");
    return;
  }
  state->complete(detail::token_sequence(token), completion);
}

lk_lock_completion closed_completion(uint64_t operation_id) {
  lk_lock_completion completion{};
  completion.struct_size = sizeof(completion);
  completion.result = LK_ERR_CLOSED;
  completion.operation_id = operation_id;
  completion.lock_state = LK_LOCK_STATE_UNKNOWN;
  return completion;
}

}  // namespace

uintptr_t LockHandle::State::allocate_sequence() {
  for (;;) {
    const uintptr_t sequence = next_sequence;
    next_sequence = next_sequence % detail::kTokenHalfMask + 1;
    if (pending.count(sequence) == 0) {
      ++issued;
      return sequence;
    }
  }
}

bool LockHandle::State::was_issued(uintptr_t sequence) const {
  // Before the sequence space wraps (never, with 64-bit pointers) this is exact.
  if (issued >= detail::kTokenHalfMask) return sequence != 0;
  return sequence != 0 && sequence < next_sequence;
}

template <class Call>
lk_result LockHandle::State::start(uint64_t operation_id, LockCompletionHandler done, Call&& call) {
  LockCompletionHandler run_now;
  lk_lock_completion early{};
  lk_result result = LK_OK;
  {
    std::unique_lock<std::mutex> call_lock(call_mutex);
    if (!opened || closed.load()) return LK_ERR_CLOSED;
    uintptr_t sequence = 0;
    {
      std::lock_guard<std::mutex> lock(pending_mutex);
      sequence = allocate_sequence();
      PendingOperation operation;
      operation.done = std::move(done);
      operation.operation_id = operation_id;
      pending.emplace(sequence, std::move(operation));
    }
    result = call(detail::make_token(index, sequence));
    std::lock_guard<std::mutex> lock(pending_mutex);
    const auto found = pending.find(sequence);
    PendingOperation& operation = found->second;
    if (result != LK_OK) {
      // libuv rule, lk_lock.h: a failed start never completes.
      if (operation.fired_early) ++counted.completions_after_failed_start;
      failed_starts.push_back(sequence);
      if (failed_starts.size() > kFailedStartsRemembered) failed_starts.pop_front();
      pending.erase(found);
    } else if (operation.fired_early) {
      run_now = std::move(operation.done);
      early = operation.early;
      pending.erase(found);
    } else {
      operation.starting = false;
    }
  }
  // A completion fired inside the start call is delivered once the start is
  // known to have succeeded, outside every lock.
  if (run_now) detail::call_user("a LockCompletionHandler threw", [&] { run_now(early); });
  return result;
}

void LockHandle::State::complete(uintptr_t sequence, const lk_lock_completion* raw) noexcept {
  lk_lock_completion completion{};
  LockCompletionHandler done;
  {
    std::lock_guard<std::mutex> lock(pending_mutex);
    const auto found = pending.find(sequence);
    if (found == pending.end()) {
      if (std::find(failed_starts.begin(), failed_starts.end(), sequence) != failed_starts.end()) {
        ++counted.completions_after_failed_start;
      } else if (was_issued(sequence)) {
        ++counted.duplicate_completions;
      } else {
        ++counted.unknown_completions;
      }
      return;
    }
    PendingOperation& operation = found->second;
    if (raw != nullptr) {
      std::memcpy(&completion, raw, std::min<std::size_t>(raw->struct_size, sizeof(completion)));
    } else {
      completion.result = LK_ERR_INTERNAL;  // a NULL completion still ends the operation
      completion.operation_id = operation.operation_id;
      completion.lock_state = LK_LOCK_STATE_UNKNOWN;
    }
    completion.struct_size = sizeof(completion);
    if (operation.starting) {
      if (operation.fired_early) {
        ++counted.duplicate_completions;
      } else {
        operation.fired_early = true;
        operation.early = completion;
      }
      return;
    }
    done = std::move(operation.done);
    pending.erase(found);
  }
  if (done) detail::call_user("a LockCompletionHandler threw", [&] { done(completion); });
}

void LockHandle::State::close_device() {
  std::vector<PendingOperation> leftovers;
  {
    std::lock_guard<std::mutex> call_lock(call_mutex);
    if (closed.load()) return;
    if (opened) table->close(device);  // fires pending completions (LK_ERR_CLOSED) first
    closed.store(true);
    std::lock_guard<std::mutex> lock(pending_mutex);
    for (auto& entry : pending) leftovers.push_back(std::move(entry.second));
    counted.missing_completions += leftovers.size();
    pending.clear();
  }
  // The plugin broke "fires exactly once": complete them here so callers waiting
  // on a completion are not left hanging.
  for (PendingOperation& operation : leftovers) {
    const lk_lock_completion completion = closed_completion(operation.operation_id);
    if (operation.done) detail::call_user("a LockCompletionHandler threw", [&] { operation.done(completion); });
  }
}

lk_result LockHandle::open(std::shared_ptr<Plugin> plugin, const std::string& uri, EventHandler on_event,
                           std::unique_ptr<LockHandle>* out) {
  if (plugin == nullptr || plugin->lock_interface() == nullptr) {
    throw std::logic_error("latchkey: the plugin offers no lock interface");
  }
  if (out == nullptr) return LK_ERR_INVALID_ARGUMENT;
  auto state = std::make_shared<State>(plugin, std::move(on_event));
  state->table = plugin->lock_interface();
  state->test_control = plugin->test_control_interface();
  detail::register_device(*state);
  // From here the handle's destructor unregisters (and closes once opened).
  std::unique_ptr<LockHandle> handle(new LockHandle(state));
  std::lock_guard<std::mutex> call_lock(state->call_mutex);
  const lk_event_sink sink = detail::make_sink(*state);
  const lk_result result = state->table->open(uri.c_str(), &sink, &state->device);
  if (result != LK_OK) return result;
  state->opened = true;
  *out = std::move(handle);
  return LK_OK;
}

LockHandle::LockHandle(std::shared_ptr<State> state) : state_(std::move(state)) {}

LockHandle::~LockHandle() {
  state_->close_device();
  detail::unregister_device(*state_);
}

void LockHandle::close() { state_->close_device(); }

lk_result LockHandle::describe(lk_lock_description* description) {
  if (description == nullptr) return LK_ERR_INVALID_ARGUMENT;
  return state_->serialised([&] {
    *description = lk_lock_description{};
    description->struct_size = sizeof(*description);
    return state_->table->describe(state_->device, description);
  });
}

lk_result LockHandle::lock_state(lk_lock_state* state) {
  if (state == nullptr) return LK_ERR_INVALID_ARGUMENT;
  return state_->serialised([&] { return state_->table->get_lock_state(state_->device, state); });
}

lk_result LockHandle::door_state(lk_door_state* state) {
  if (state == nullptr) return LK_ERR_INVALID_ARGUMENT;
  return state_->serialised([&] { return state_->table->get_door_state(state_->device, state); });
}

lk_result LockHandle::lock(uint64_t operation_id, LockCompletionHandler done) {
  return state_->start(operation_id, std::move(done), [&](void* token) {
    return state_->table->lock(state_->device, operation_id, &on_completion, token);
  });
}

lk_result LockHandle::unlock(const lk_unlock_params& params, LockCompletionHandler done) {
  lk_unlock_params copy = params;
  copy.struct_size = sizeof(copy);
  return state_->start(copy.operation_id, std::move(done), [&](void* token) {
    return state_->table->unlock(state_->device, &copy, &on_completion, token);
  });
}

lk_result LockHandle::inject_fault(lk_fault fault, int64_t parameter) {
  return state_->serialised([&] {
    const lk_test_control_interface_v1* tc = state_->test_control;
    if (tc == nullptr || tc->inject_fault == nullptr) return LK_ERR_UNSUPPORTED;
    return tc->inject_fault(state_->device, LK_DEVICE_KIND_LOCK, fault, parameter);
  });
}

lk_result LockHandle::clear_faults() {
  return state_->serialised([&] {
    const lk_test_control_interface_v1* tc = state_->test_control;
    if (tc == nullptr || tc->clear_faults == nullptr) return LK_ERR_UNSUPPORTED;
    return tc->clear_faults(state_->device, LK_DEVICE_KIND_LOCK);
  });
}

lk_result LockHandle::physical_action(lk_physical_action action) {
  return state_->serialised([&] {
    const lk_test_control_interface_v1* tc = state_->test_control;
    if (tc == nullptr || tc->physical_action == nullptr) return LK_ERR_UNSUPPORTED;
    return tc->physical_action(state_->device, LK_DEVICE_KIND_LOCK, action);
  });
}

std::size_t LockHandle::pending_operations() const {
  std::lock_guard<std::mutex> lock(state_->pending_mutex);
  return state_->pending.size();
}

ContractViolations LockHandle::violations() const {
  std::lock_guard<std::mutex> lock(state_->pending_mutex);
  ContractViolations result = state_->counted;
  result.events_after_close = state_->events_after_close.load();
  return result;
}

const std::shared_ptr<Plugin>& LockHandle::plugin() const noexcept { return state_->plugin; }

}  // namespace latchkey::host
