#include "support.hpp"

#include <gtest/gtest.h>

#include <iostream>

namespace latchkey::certify {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

host::EventHandler EventLog::handler() {
  return [this](const host::DeviceEvent& e) {
    {
      std::lock_guard lock(mutex_);
      entries_.push_back({e, Clock::now()});
    }
    changed_.notify_all();
  };
}

std::vector<EventLog::Entry> EventLog::entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

std::size_t EventLog::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

bool EventLog::wait_for(const std::function<bool(const std::vector<Entry>&)>& pred, milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return pred(entries_); });
}

bool EventLog::wait_kind(lk_event_kind kind, uint32_t value, milliseconds timeout, std::size_t from) const {
  return wait_for(
      [&](const std::vector<Entry>& all) {
        for (std::size_t i = from; i < all.size(); ++i)
          if (all[i].event.kind == kind && all[i].event.value == value) return true;
        return false;
      },
      timeout);
}

void EventLog::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

host::LockCompletionHandler Completions::handler() {
  return [record = record_](const lk_lock_completion& c) {
    {
      std::lock_guard lock(record->mutex);
      record->done.emplace(c.operation_id, c);
    }
    record->changed.notify_all();
  };
}

std::optional<lk_lock_completion> Completions::wait(uint64_t operation_id, milliseconds timeout) const {
  std::unique_lock lock(record_->mutex);
  if (!record_->changed.wait_for(lock, timeout, [&] { return record_->done.count(operation_id) > 0; })) return std::nullopt;
  return record_->done.find(operation_id)->second;
}

std::size_t Completions::count(uint64_t operation_id) const {
  std::lock_guard lock(record_->mutex);
  return record_->done.count(operation_id);
}

std::unique_ptr<host::LockHandle> open_lock(const CaseContext& ctx, EventLog& log) {
  std::unique_ptr<host::LockHandle> handle;
  const lk_result r = host::LockHandle::open(ctx.subject.plugin, ctx.uri, log.handler(), &handle);
  if (r != LK_OK) {
    ADD_FAILURE() << "lock open(\"" << ctx.uri << "\") returned " << host::result_name(r);
    return nullptr;
  }
  return handle;
}

std::unique_ptr<host::CameraHandle> open_camera(const CaseContext& ctx, EventLog& log) {
  std::unique_ptr<host::CameraHandle> handle;
  const lk_result r = host::CameraHandle::open(ctx.subject.plugin, ctx.uri, log.handler(), &handle);
  if (r != LK_OK) {
    ADD_FAILURE() << "camera open(\"" << ctx.uri << "\") returned " << host::result_name(r);
    return nullptr;
  }
  return handle;
}

void report_escaped_exception(const std::string& what, const char* type) {
  ADD_FAILURE() << what << ": a C++ exception (" << type
                << ") escaped the C boundary; abi.md 1 says no exception crosses it";
}

std::optional<lk_lock_completion> run_lock_operation(host::LockHandle& lock, Completions& done, bool unlock,
                                                     uint64_t operation_id, uint32_t relock_deadline_ms,
                                                     milliseconds timeout) {
  lk_result r;
  if (unlock) {
    lk_unlock_params p{};
    p.struct_size = sizeof p;
    p.operation_id = operation_id;
    p.relock_deadline_ms = relock_deadline_ms;
    r = lock.unlock(p, done.handler());
  } else {
    r = lock.lock(operation_id, done.handler());
  }
  if (r != LK_OK) {
    ADD_FAILURE() << (unlock ? "unlock" : "lock") << " start returned " << host::result_name(r);
    return std::nullopt;
  }
  auto c = done.wait(operation_id, timeout);
  if (!c)
    ADD_FAILURE() << (unlock ? "unlock" : "lock") << " operation " << operation_id << " did not complete within "
                  << timeout.count() << " ms (abi.md 3: a started operation completes exactly once)";
  return c;
}

milliseconds operation_timeout(const lk_lock_description& d) {
  return milliseconds(std::min<uint32_t>(d.max_actuation_ms, 30'000) + 1500);
}

const char* lock_state_text(lk_lock_state s) {
  switch (s) {
    case LK_LOCK_STATE_NOT_FULLY_LOCKED: return "NotFullyLocked";
    case LK_LOCK_STATE_LOCKED: return "Locked";
    case LK_LOCK_STATE_UNLOCKED: return "Unlocked";
    case LK_LOCK_STATE_UNLATCHED: return "Unlatched";
    case LK_LOCK_STATE_UNKNOWN: return "Unknown";
    default: return "(unknown value)";
  }
}

const char* door_state_text(lk_door_state s) {
  switch (s) {
    case LK_DOOR_STATE_OPEN: return "Open";
    case LK_DOOR_STATE_CLOSED: return "Closed";
    case LK_DOOR_STATE_JAMMED: return "Jammed";
    case LK_DOOR_STATE_FORCED_OPEN: return "ForcedOpen";
    case LK_DOOR_STATE_UNSPECIFIED_ERROR: return "UnspecifiedError";
    case LK_DOOR_STATE_AJAR: return "Ajar";
    case LK_DOOR_STATE_UNKNOWN: return "Unknown";
    default: return "(unknown value)";
  }
}

// Fast settings: the suite's timings assume a short actuation and a quick camera.
std::vector<std::string> default_lock_uris(const std::string& driver_id) {
  if (driver_id == "org.latchkey.sim-lock")
    return {"sim://lock/cert-a?actuation_ms=50", "sim://lock/cert-b?actuation_ms=50"};
  if (driver_id == "org.latchkey.example.c_lock") return {"example://lock/cert-a", "example://lock/cert-b"};
  return {};
}

std::vector<std::string> default_camera_uris(const std::string& driver_id) {
  if (driver_id == "org.latchkey.sim-camera")
    return {"sim://camera/cert-a?rate_hz=20&seed=" + std::string(64, 'a'),
            "sim://camera/cert-b?rate_hz=20&seed=" + std::string(64, 'b')};
  return {};
}

std::filesystem::path reference_plugin(const Subject& subject, const std::string& name) {
  return subject.reference_dir / (name + ".so");
}

namespace {
void skip_as_manual(const std::string& step) { GTEST_SKIP() << kManualPrefix << step; }
}  // namespace

bool confirm_manual_step(const Subject& subject, const std::string& step) {
  if (!subject.interactive) {
    skip_as_manual(step);
    return false;
  }
  std::cout << "\n  >>> MANUAL STEP: " << step << "\n  >>> Press Enter when done (or type 'fail' and Enter): "
            << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "fail") {
    ADD_FAILURE() << "the person at the device reported that this step failed: " << step;
    return false;
  }
  return true;
}

std::string family_of(const std::string& id) {
  const auto first = id.find('-');
  const auto second = id.find('-', first + 1);
  return id.substr(first + 1, second - first - 1);
}

}  // namespace latchkey::certify
