// Helpers the case bodies share: event and completion recorders with waits,
// device openers (through the run's PluginRunner, or in this process for the
// TC-ABI cases), a fence for raw calls into the plugin, and timing.
#ifndef LATCHKEY_CERTIFY_SUPPORT_HPP
#define LATCHKEY_CERTIFY_SUPPORT_HPP

#include "suite.hpp"

#include <latchkey/host/device_api.hpp>
#include <latchkey/host/devices.hpp>
#include <latchkey/isolation/plugin_runner.hpp>

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

// Records a device's events with the host time they arrived, and the calls
// the plugin refused after an isolated device had accepted them.
class EventLog {
 public:
  struct Entry {
    host::DeviceEvent event;
    Clock::time_point at;
  };
  struct CallFailure {
    std::string call;  // "stop_recording"
    lk_result result;
  };
  host::EventHandler handler();
  host::DeviceHooks hooks();  // handler() and the call failures
  std::vector<CallFailure> call_failures() const;
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
  std::vector<CallFailure> call_failures_;
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

// The subject's runner in the run's mode (suite.hpp DeviceRunner), started on
// first use and, when its isolated host is restarting, waited for. nullptr
// with *error set when the plugin cannot run in that mode.
isolation::PluginRunner* device_runner(const Subject& subject, std::string* error);
// The isolated host's failures so far (0 in process), and their reasons after the first `mark`.
std::size_t host_failure_count(const Subject& subject);
std::vector<std::string> host_failures_since(const Subject& subject, std::size_t mark);

// The plugin's log lines (host services log), in either mode: recording_log()
// wraps the run's handler (main.cpp) so that each line is kept in
// subject.log_record; then a mark to take before a call, the lines since a
// mark, and a wait (up to timeout) until pred holds for the lines since it.
host::LogHandler recording_log(const Subject& subject, host::LogHandler forward);
std::size_t plugin_log_mark(const Subject& subject);
std::vector<std::string> plugin_log_since(const Subject& subject, std::size_t mark);
bool wait_plugin_log(const Subject& subject, std::size_t mark,
                     const std::function<bool(const std::vector<std::string>&)>& pred, milliseconds timeout);

// Opens a device through the subject's runner; an open the runner cannot make
// (the plugin did not start) answers LK_ERR_CLOSED with *error set.
lk_result open_device(const Subject& subject, const std::string& uri, host::DeviceHooks hooks,
                      std::unique_ptr<host::LockDevice>* out, std::string* error = nullptr);
lk_result open_device(const Subject& subject, const std::string& uri, host::DeviceHooks hooks,
                      std::unique_ptr<host::CameraDevice>* out, std::string* error = nullptr);
lk_result open_authz(const Subject& subject, const std::string& config, std::unique_ptr<host::AuthzDevice>* out,
                     std::string* error = nullptr);

// Device cases (TC-LOCK, TC-CAM): opens ctx.uri through the subject's runner;
// ADD_FAILURE and nullptr when it does not open.
std::unique_ptr<host::LockDevice> open_lock(const CaseContext& ctx, EventLog& log);
std::unique_ptr<host::CameraDevice> open_camera(const CaseContext& ctx, EventLog& log);
// TC-ABI: opens ctx.uri on the plugin loaded into this process, whatever the
// mode; ADD_FAILURE and nullptr when it does not open.
std::unique_ptr<host::LockHandle> open_lock_handle(const CaseContext& ctx, EventLog& log);
std::unique_ptr<host::CameraHandle> open_camera_handle(const CaseContext& ctx, EventLog& log);

// Accepting calls (device_api.hpp: deliver_nonce, start_recording,
// stop_recording) return LK_OK on an isolated device once sent; the plugin's
// refusal comes later through on_call_failed. settle_camera_calls() delivers
// a fresh nonce and waits (up to timeout) for an attestation echoing it: the
// plugin made that attestation after answering every earlier call, and the
// host sends a call's answer before anything that follows it, so by then every
// refusal has arrived.
void settle_camera_calls(host::CameraDevice& camera, const EventLog& log, milliseconds timeout);
// The plugin's answer to an accepting call: `returned` when it is not LK_OK,
// else the first refusal of `call` recorded after `mark` (the size of
// log.call_failures() before the call), else LK_OK.
lk_result answer_of(lk_result returned, const EventLog& log, std::size_t mark, const std::string& call);

// A failure written for the driver author: what went wrong, what the
// contract expects, and what came. The runner keeps the three parts apart in
// the reports (the HTML report's failure list shows them side by side).
//   fail_case("the unlock never completed", "one completion within 1500 ms", "none");
void fail_case(const std::string& what, const std::string& expected, const std::string& came);
// The text fail_case() hands to GoogleTest: "<what>\nexpected: <expected>\ncame: <came>".
std::string failure_text(const std::string& what, const std::string& expected, const std::string& came);

// Runs a raw call into the plugin. A C++ exception that escapes the C
// boundary is a failure of the case (abi.md 1, 11), never a crash of the suite.
template <class Fn>
lk_result fenced_call(const std::string& what, Fn&& fn);
void report_escaped_exception(const std::string& what, const char* type);

void note_case_step(const std::string& step);  // child_case.hpp: shown if the plugin crashes the case

template <class Fn>
lk_result fenced_call(const std::string& what, Fn&& fn) {
  note_case_step(what);
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
std::optional<lk_lock_completion> run_lock_operation(host::LockDevice& lock, Completions& done, bool unlock,
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
// Every reference plugin reference_plugin() named this run (the report's provenance hashes them).
std::vector<std::filesystem::path> reference_plugins_used();

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_SUPPORT_HPP
