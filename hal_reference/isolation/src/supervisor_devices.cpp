// The supervisor's devices' side: what the proxies ask for from their
// threads (open, close, queries, accepting calls, lock operations), and the
// events and completions the host sends for the devices.
#include "supervisor.hpp"

#include <latchkey/host/devices.hpp>

#include <future>

namespace latchkey::isolation {

namespace {

lk_lock_completion failed_completion(uint64_t operation, lk_result result) {
  lk_lock_completion c{};
  c.struct_size = sizeof c;
  c.operation_id = operation;
  c.result = result;
  c.lock_state = LK_LOCK_STATE_UNKNOWN;
  return c;
}

}  // namespace

// ---- Loop thread ----

std::string Supervisor::device_name(uint32_t id) const {
  auto it = slots_.find(id);
  return it == slots_.end() ? "device " + std::to_string(id) : "'" + it->second.uri + "'";
}

void Supervisor::set_record(uint32_t id, const plugin_host::v1::Record& record) {
  slots_[id].record = record;
  std::lock_guard lock(records_mutex_);
  records_[id] = record;
}

// Every lock operation still pending fails with LK_ERR_CLOSED; the devices stay.
void Supervisor::fail_operations() {
  for (auto& [id, slot] : slots_) {
    auto operations = std::move(slot.operations);
    slot.operations.clear();
    for (auto& [op, done] : operations) done(failed_completion(op, LK_ERR_CLOSED));
  }
}

void Supervisor::on_event(const plugin_host::v1::Event& e) {
  auto it = slots_.find(e.device_id());
  if (it == slots_.end() && closed_devices_.count(e.device_id())) return;  // sent before it was closed
  if (it == slots_.end() || phase_ == Phase::kStarting)
    return fail("protocol violation: an event for device " + std::to_string(e.device_id()) + ", which is not open");
  if (!it->second.hooks.on_event) return;
  host::DeviceEvent event;
  event.kind = e.kind();
  event.value = e.value();
  event.detail = e.detail();
  event.device_time_ns = e.device_time_ns();
  if (!e.data().empty())
    event.data = std::make_shared<host::LentBytes>(std::vector<uint8_t>(e.data().begin(), e.data().end()));
  it->second.hooks.on_event(event);
}

void Supervisor::on_completion(const plugin_host::v1::Completion& c) {
  auto slot = slots_.find(c.device_id());
  if (slot == slots_.end() && closed_devices_.count(c.device_id())) return;  // completed by the close
  if (slot == slots_.end()) return fail("protocol violation: a completion for device " +
                                        std::to_string(c.device_id()) + ", which is not open");
  auto op = slot->second.operations.find(c.operation_id());
  if (op == slot->second.operations.end())
    return fail("protocol violation: a completion of operation " + std::to_string(c.operation_id()) +
                ", which is not pending");
  host::LockCompletionHandler done = std::move(op->second);
  slot->second.operations.erase(op);
  lk_lock_completion completion{};
  completion.struct_size = sizeof completion;
  completion.operation_id = c.operation_id();
  completion.result = c.result();
  completion.lock_state = c.lock_state();
  done(completion);
}

// ---- The proxies' side (any thread but the loop's) ----

lk_result Supervisor::open_device(plugin_host::v1::DeviceKind kind, const std::string& uri, host::DeviceHooks hooks, uint32_t* id,
                                  plugin_host::v1::Record* record) {
  if (on_loop_thread()) return LK_ERR_STATE;
  auto promise = std::make_shared<std::promise<lk_result>>();
  auto future = promise->get_future();
  auto device = std::make_shared<uint32_t>(0);
  auto description = std::make_shared<plugin_host::v1::Record>();
  const bool posted = post([this, kind, uri, hooks = std::move(hooks), promise, device, description]() mutable {
    if (phase_ != Phase::kRunning) return promise->set_value(LK_ERR_CLOSED);
    const uint32_t slot_id = ++next_device_;
    Slot& slot = slots_[slot_id];
    slot.kind = kind;
    slot.uri = uri;
    slot.hooks = std::move(hooks);
    plugin_host::v1::HubToHost request;
    plugin_host::v1::OpenDevice* open = request.mutable_open();
    open->set_device_id(slot_id);
    open->set_kind(kind);
    open->set_uri(uri);
    send_call(std::move(request), "opening '" + uri + "'",
              [this, slot_id, promise, device, description](const plugin_host::v1::Reply* reply, lk_result failure) {
                const lk_result r = reply ? static_cast<lk_result>(reply->result()) : failure;
                if (r == LK_OK) {
                  set_record(slot_id, reply->record());
                  *device = slot_id;
                  *description = reply->record();
                } else {
                  slots_.erase(slot_id);
                }
                promise->set_value(r);
              });
  });
  if (!posted) return LK_ERR_CLOSED;
  if (future.wait_for(std::chrono::milliseconds(config_.call_deadline_ms + 2000)) != std::future_status::ready)
    return LK_ERR_TIMEOUT;
  const lk_result r = future.get();
  if (r == LK_OK) {
    *id = *device;
    *record = *description;
  }
  return r;
}

plugin_host::v1::ContractViolations Supervisor::close_device(uint32_t id) {
  auto counts = std::make_shared<plugin_host::v1::ContractViolations>();
  if (on_loop_thread()) return {};
  auto promise = std::make_shared<std::promise<void>>();
  auto future = promise->get_future();
  const bool posted = post([this, id, promise, counts] {
    auto it = slots_.find(id);
    if (it == slots_.end()) return promise->set_value();
    auto operations = std::move(it->second.operations);
    slots_.erase(it);
    closed_devices_.insert(id);
    {
      std::lock_guard records(records_mutex_);
      records_.erase(id);
    }
    if (phase_ != Phase::kRunning) {
      for (auto& [op, done] : operations) done(failed_completion(op, LK_ERR_CLOSED));
      return promise->set_value();
    }
    plugin_host::v1::HubToHost request;
    request.mutable_close()->set_device_id(id);
    auto ops = std::make_shared<std::map<uint64_t, host::LockCompletionHandler>>(std::move(operations));
    send_call(std::move(request), "closing device " + std::to_string(id),
              [promise, ops, counts](const plugin_host::v1::Reply* reply, lk_result) {
                if (reply != nullptr) *counts = reply->violations();
                // The host completed what was pending as it closed; those completions
                // found no slot and were dropped. The callers hear of them here.
                for (auto& [op, done] : *ops) done(failed_completion(op, LK_ERR_CLOSED));
                promise->set_value();
              });
  });
  if (posted) future.wait_for(std::chrono::milliseconds(config_.call_deadline_ms + 2000));
  return posted && future.wait_for(std::chrono::seconds(0)) == std::future_status::ready ? *counts
                                                                                          : plugin_host::v1::ContractViolations{};
}

// Queries run on the caller's thread over the host's call socket
// (call_socket.*); the loop hears only of failures.
lk_result Supervisor::call(uint32_t id, plugin_host::v1::DeviceCall call, plugin_host::v1::Reply* reply) {
  if (!running_) return LK_ERR_CLOSED;
  const auto method = call.method();
  plugin_host::v1::HubToHost request;
  call.set_device_id(id);
  *request.mutable_device() = std::move(call);
  std::optional<CallSocket::Failure> failure;
  const lk_result result = call_socket_.call(std::move(request), call_deadline_ns(), reply, &failure);
  if (!failure) return result;
  post([this, id, method, failure = std::move(*failure), result] {
    if (failure.generation != generation_ || phase_ != Phase::kRunning) return;  // about an earlier host
    const std::string what = plugin_host::v1::DeviceCall::Method_Name(method) + " on " + device_name(id);
    if (failure.closed_by_host) {
      // A crash: the exit status says more; wait briefly for it, as for the other socket.
      if (eof_reason_.empty()) eof_reason_ = what + ": " + failure.why;
      if (!grace_timer_.armed()) grace_timer_.arm_at(loop::DeadlineTimer::now_ns() + kGraceNs);
      return;
    }
    fail(result == LK_ERR_TIMEOUT
             ? "hang: " + what + " got no answer within " + std::to_string(config_.call_deadline_ms) + " ms"
             : what + ": " + failure.why);
  });
  return result;
}

plugin_host::v1::Record Supervisor::record(uint32_t id) const {
  std::lock_guard lock(records_mutex_);
  auto it = records_.find(id);
  return it == records_.end() ? plugin_host::v1::Record() : it->second;
}

lk_result Supervisor::send(uint32_t id, plugin_host::v1::DeviceCall call, const char* what) {
  if (!running_) return LK_ERR_CLOSED;
  call.set_device_id(id);
  const bool posted = post([this, id, call = std::move(call), what]() mutable {
    auto it = slots_.find(id);
    if (phase_ != Phase::kRunning || it == slots_.end()) return;  // the failure was reported as such
    const std::string text = std::string(what) + " on " + device_name(id);
    plugin_host::v1::HubToHost request;
    *request.mutable_device() = std::move(call);
    send_call(std::move(request), text, [this, id, what](const plugin_host::v1::Reply* r, lk_result) {
      if (r == nullptr || r->result() == LK_OK) return;
      auto slot = slots_.find(id);
      if (slot != slots_.end() && slot->second.hooks.on_call_failed)
        slot->second.hooks.on_call_failed(what, static_cast<lk_result>(r->result()));
    });
  });
  return posted ? LK_OK : LK_ERR_CLOSED;
}

lk_result Supervisor::start_operation(uint32_t id, plugin_host::v1::DeviceCall call, host::LockCompletionHandler done) {
  if (!running_) return LK_ERR_CLOSED;
  call.set_device_id(id);
  const uint64_t op = call.operation_id();
  const bool posted = post([this, id, op, call = std::move(call), done = std::move(done)]() mutable {
    auto it = slots_.find(id);
    auto finish = [&done, op](lk_result r) { done(failed_completion(op, r)); };
    if (phase_ != Phase::kRunning || it == slots_.end()) return finish(LK_ERR_CLOSED);
    if (it->second.operations.count(op)) return finish(LK_ERR_BUSY);
    it->second.operations[op] = std::move(done);
    const std::string what = plugin_host::v1::DeviceCall::Method_Name(call.method()) + " on " + device_name(id);
    plugin_host::v1::HubToHost request;
    *request.mutable_device() = std::move(call);
    send_call(std::move(request), what, [this, id, op](const plugin_host::v1::Reply* r, lk_result) {
      if (r == nullptr || r->result() == LK_OK) return;  // a failure completed every operation already
      // A refused start never completes in the plugin: complete it here with the refusal.
      auto slot = slots_.find(id);
      if (slot == slots_.end()) return;
      auto pending = slot->second.operations.find(op);
      if (pending == slot->second.operations.end()) return;
      host::LockCompletionHandler handler = std::move(pending->second);
      slot->second.operations.erase(pending);
      handler(failed_completion(op, static_cast<lk_result>(r->result())));
    });
  });
  return posted ? LK_OK : LK_ERR_CLOSED;
}

}  // namespace latchkey::isolation
