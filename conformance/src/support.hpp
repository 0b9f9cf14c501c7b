// Helpers the case bodies share: event and completion recorders with waits,
// device openers, a fence for raw calls into the plugin, and timing.
#ifndef LATCHKEY_CERTIFY_SUPPORT_HPP
#define LATCHKEY_CERTIFY_SUPPORT_HPP

#include "suite.hpp"

#include <latchkey/host/devices.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace latchkey::certify {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double ms_since(Clock::time_point start);

// Records a device's events with the host time they arrived.
class EventLog {
 public:
  struct Entry {
    host::DeviceEvent event;
    Clock::time_point at;
  };
  host::EventHandler handler();
  std::vector<Entry> entries() const;
  std::size_t size() const;
  // Waits until pred(entries) holds or the timeout passes; returns pred's last answer.
  bool wait_for(const std::function<bool(const std::vector<Entry>&)>& pred, milliseconds timeout) const;
  bool wait_kind(lk_event_kind kind, uint32_t value, milliseconds timeout, std::size_t from = 0) const;
  void clear();

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Entry> entries_;
};

// Records lock completions by operation id. Handlers share the record, so a
// completion the host fires at close after this object is gone is harmless.
class Completions {
 public:
  host::LockCompletionHandler handler();
  // Waits for the completion of operation id; nullopt on timeout.
  std::optional<lk_lock_completion> wait(uint64_t operation_id, milliseconds timeout) const;
  std::size_t count(uint64_t operation_id) const;

 private:
  struct Record {
    std::mutex mutex;
    std::condition_variable changed;
    std::multimap<uint64_t, lk_lock_completion> done;
  };
  std::shared_ptr<Record> record_ = std::make_shared<Record>();
};

// Opens ctx.uri as a lock or camera; ADD_FAILURE and nullptr when it does not open.
std::unique_ptr<host::LockHandle> open_lock(const CaseContext& ctx, EventLog& log);
std::unique_ptr<host::CameraHandle> open_camera(const CaseContext& ctx, EventLog& log);

// Runs a raw call into the plugin. A C++ exception that escapes the C
// boundary is a failure of the case (abi.md 1, 11), never a crash of the suite.
template <class Fn>
lk_result fenced_call(const std::string& what, Fn&& fn);
void report_escaped_exception(const std::string& what, const char* type);

template <class Fn>
lk_result fenced_call(const std::string& what, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    report_escaped_exception(what, e.what());
  } catch (...) {
    report_escaped_exception(what, "non-standard exception");
  }
  return LK_ERR_INTERNAL;
}

// Lock state after a completed operation, waiting up to timeout for a lock
// or unlock to finish. Returns the completion; ADD_FAILURE when none came.
std::optional<lk_lock_completion> run_lock_operation(host::LockHandle& lock, Completions& done, bool unlock,
                                                     uint64_t operation_id, uint32_t relock_deadline_ms,
                                                     milliseconds timeout);

// The time allowed for one lock operation: the declared actuation plus a margin for a loaded machine.
milliseconds operation_timeout(const lk_lock_description& d);

const char* lock_state_text(lk_lock_state s);
const char* door_state_text(lk_door_state s);

// Default device URIs for the reference plugins (by driver id); empty otherwise.
std::vector<std::string> default_lock_uris(const std::string& driver_id);
std::vector<std::string> default_camera_uris(const std::string& driver_id);

// Paths of the reference partner plugins used by the gate cases.
std::filesystem::path reference_plugin(const Subject& subject, const std::string& name);

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_SUPPORT_HPP
