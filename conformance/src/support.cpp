#include "support.hpp"

#include "report.hpp"
#include "runner.hpp"

#include "latchkey/attestation.pb.h"

#include <latchkey/crypto/crypto.hpp>

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <set>
#include <iostream>
#include <thread>

namespace latchkey::certify {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

host::DeviceHooks EventLog::hooks() {
  host::DeviceHooks hooks;
  hooks.on_event = handler();
  hooks.on_call_failed = [this](const std::string& call, lk_result result) {
    {
      std::lock_guard lock(mutex_);
      call_failures_.push_back({call, result});
    }
    changed_.notify_all();
  };
  return hooks;
}

std::vector<EventLog::CallFailure> EventLog::call_failures() const {
  std::lock_guard lock(mutex_);
  return call_failures_;
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
  call_failures_.clear();
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

DeviceRunner::~DeviceRunner() {
  runner.reset();  // stops an isolated host before its directory goes
  if (!work_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(work_dir, ignored);
  }
}

namespace {

// One runner per run. An isolated host gets a private working directory, the
// hub's deadlines, and a quarantine threshold no run reaches: a plugin that
// crashes its host in one case is restarted for the next instead of being
// shut out for the rest of the run.
void start_runner(const Subject& s, DeviceRunner& d) {
  if (!s.plugin) {
    d.error = "the host refused the plugin (TC-ABI-1.3)";
    return;
  }
  const std::string name = s.file.stem().string();
  // Absolute: the host process runs in its own working directory.
  const std::filesystem::path file = std::filesystem::absolute(s.file);
  try {
    if (s.mode == isolation::PluginMode::kInProcess) {
      host::LoadOptions options;
      options.log = s.plugin_log;
      d.runner = isolation::run_in_process(name, file, options);
      return;
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "lk-certify-host-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      d.error = "cannot create a working directory for the plugin host under " +
                std::filesystem::temp_directory_path().string();
      return;
    }
    d.work_dir = pattern;
    isolation::SupervisionConfig config;
    config.host_program = isolation::default_host_program();
    config.work_dir = d.work_dir / "host";
    config.quarantine_failures = 1000;
    auto notices = [&d](const isolation::PluginNotice& n) {
      if (n.kind == isolation::PluginNotice::Kind::kRestored) return;
      std::lock_guard lock(d.failures_mutex);
      d.host_failures.push_back((n.kind == isolation::PluginNotice::Kind::kQuarantined ? "quarantined: " : "") +
                                n.reason);
    };
    d.runner = isolation::run_isolated(name, file, config, notices, s.plugin_log);
  } catch (const std::exception& e) {
    d.error = std::string("the plugin did not start ") +
              (s.mode == isolation::PluginMode::kIsolated ? "in its lk-plugin-host: " : "in this process: ") + e.what();
  }
}

}  // namespace

isolation::PluginRunner* device_runner(const Subject& subject, std::string* error) {
  DeviceRunner& d = *subject.devices;
  isolation::PluginRunner* runner = nullptr;
  {
    std::lock_guard lock(d.mutex);
    if (!d.tried) {
      d.tried = true;
      start_runner(subject, d);
    }
    if (!d.runner) {
      if (error) *error = d.error;
      return nullptr;
    }
    runner = d.runner.get();
  }
  // A host that failed in an earlier case is being restarted: wait for it (backoff and start).
  const auto end = Clock::now() + std::chrono::seconds(20);
  for (;;) {
    const isolation::PluginStatus st = runner->status();
    if (st.state == isolation::PluginState::kRunning) return runner;
    if (st.state != isolation::PluginState::kRestarting || Clock::now() >= end) {
      if (error)
        *error = std::string("the plugin's host is ") + isolation::to_string(st.state) +
                 (st.last_fault.empty() ? "" : " (last fault: " + st.last_fault + ")");
      return nullptr;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

std::size_t host_failure_count(const Subject& subject) {
  DeviceRunner& d = *subject.devices;
  std::lock_guard lock(d.failures_mutex);
  return d.host_failures.size();
}

std::vector<std::string> host_failures_since(const Subject& subject, std::size_t mark) {
  DeviceRunner& d = *subject.devices;
  std::lock_guard lock(d.failures_mutex);
  if (mark >= d.host_failures.size()) return {};
  return {d.host_failures.begin() + static_cast<std::ptrdiff_t>(mark), d.host_failures.end()};
}

host::LogHandler recording_log(const Subject& subject, host::LogHandler forward) {
  return [record = subject.log_record, forward = std::move(forward)](lk_log_level level, const std::string& driver,
                                                                      const std::string& message) {
    {
      // Bounded, for a chatty plugin in a long run: the cases read lines from early on.
      constexpr std::size_t kMaxLines = 100'000;
      std::lock_guard lock(record->mutex);
      if (record->lines.size() < kMaxLines) record->lines.push_back(message);
    }
    if (forward) forward(level, driver, message);
  };
}

std::size_t plugin_log_mark(const Subject& subject) {
  std::lock_guard lock(subject.log_record->mutex);
  return subject.log_record->lines.size();
}

std::vector<std::string> plugin_log_since(const Subject& subject, std::size_t mark) {
  PluginLogRecord& r = *subject.log_record;
  std::lock_guard lock(r.mutex);
  if (mark >= r.lines.size()) return {};
  return {r.lines.begin() + static_cast<std::ptrdiff_t>(mark), r.lines.end()};
}

bool wait_plugin_log(const Subject& subject, std::size_t mark,
                     const std::function<bool(const std::vector<std::string>&)>& pred, milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  for (;;) {
    if (pred(plugin_log_since(subject, mark))) return true;
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

lk_result open_device(const Subject& subject, const std::string& uri, host::DeviceHooks hooks,
                      std::unique_ptr<host::LockDevice>* out, std::string* error) {
  isolation::PluginRunner* runner = device_runner(subject, error);
  if (runner == nullptr) return LK_ERR_CLOSED;
  return runner->open_lock(uri, std::move(hooks), out);
}

lk_result open_device(const Subject& subject, const std::string& uri, host::DeviceHooks hooks,
                      std::unique_ptr<host::CameraDevice>* out, std::string* error) {
  isolation::PluginRunner* runner = device_runner(subject, error);
  if (runner == nullptr) return LK_ERR_CLOSED;
  return runner->open_camera(uri, std::move(hooks), out);
}

lk_result open_authz(const Subject& subject, const std::string& config, std::unique_ptr<host::AuthzDevice>* out,
                     std::string* error) {
  isolation::PluginRunner* runner = device_runner(subject, error);
  if (runner == nullptr) return LK_ERR_CLOSED;
  return runner->open_authz(config, out);
}

namespace {

template <class Device>
std::unique_ptr<Device> open_through_runner(const CaseContext& ctx, EventLog& log, const char* kind) {
  std::unique_ptr<Device> device;
  std::string error;
  const lk_result r = open_device(ctx.subject, ctx.uri, log.hooks(), &device, &error);
  if (r != LK_OK) {
    ADD_FAILURE() << kind << " open(\"" << ctx.uri << "\") returned " << host::result_name(r)
                  << (error.empty() ? "" : ": " + error);
    return nullptr;
  }
  return device;
}

}  // namespace

std::unique_ptr<host::LockDevice> open_lock(const CaseContext& ctx, EventLog& log) {
  return open_through_runner<host::LockDevice>(ctx, log, "lock");
}

std::unique_ptr<host::CameraDevice> open_camera(const CaseContext& ctx, EventLog& log) {
  return open_through_runner<host::CameraDevice>(ctx, log, "camera");
}

std::unique_ptr<host::LockHandle> open_lock_handle(const CaseContext& ctx, EventLog& log) {
  std::unique_ptr<host::LockHandle> handle;
  const lk_result r = host::LockHandle::open(ctx.subject.plugin, ctx.uri, log.handler(), &handle);
  if (r != LK_OK) {
    ADD_FAILURE() << "lock open(\"" << ctx.uri << "\") returned " << host::result_name(r);
    return nullptr;
  }
  return handle;
}

std::unique_ptr<host::CameraHandle> open_camera_handle(const CaseContext& ctx, EventLog& log) {
  std::unique_ptr<host::CameraHandle> handle;
  const lk_result r = host::CameraHandle::open(ctx.subject.plugin, ctx.uri, log.handler(), &handle);
  if (r != LK_OK) {
    ADD_FAILURE() << "camera open(\"" << ctx.uri << "\") returned " << host::result_name(r);
    return nullptr;
  }
  return handle;
}

void settle_camera_calls(host::CameraDevice& camera, const EventLog& log, milliseconds timeout) {
  const std::vector<uint8_t> nonce = crypto::random_bytes(16);
  const std::string echo(nonce.begin(), nonce.end());
  const std::size_t from = log.size();
  if (camera.deliver_nonce(nonce.data(), nonce.size()) != LK_OK) return;
  log.wait_for(
      [&](const std::vector<EventLog::Entry>& all) {
        for (std::size_t i = from; i < all.size(); ++i) {
          const host::DeviceEvent& e = all[i].event;
          if (e.kind != LK_EVENT_ATTESTATION || !e.data) continue;
          v1::SignedAttestation signed_attestation;
          v1::Attestation attestation;
          if (signed_attestation.ParseFromArray(e.data->data(), static_cast<int>(e.data->size())) &&
              attestation.ParseFromString(signed_attestation.attestation()) && attestation.hub_nonce() == echo)
            return true;
        }
        return false;
      },
      timeout);
}

lk_result answer_of(lk_result returned, const EventLog& log, std::size_t mark, const std::string& call) {
  if (returned != LK_OK) return returned;
  const auto failures = log.call_failures();
  for (std::size_t i = mark; i < failures.size(); ++i)
    if (failures[i].call == call) return failures[i].result;
  return LK_OK;
}

std::string failure_text(const std::string& what, const std::string& expected, const std::string& came) {
  return what + "\nexpected: " + expected + "\ncame: " + came;
}

void fail_case(const std::string& what, const std::string& expected, const std::string& came) {
  ADD_FAILURE() << failure_text(what, expected, came);
}

void report_escaped_exception(const std::string& what, const char* type) {
  ADD_FAILURE() << what << ": a C++ exception (" << type
                << ") escaped the C boundary; abi.md 1 says no exception crosses it";
}

std::optional<lk_lock_completion> run_lock_operation(host::LockDevice& lock, Completions& done, bool unlock,
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
  const std::string what = unlock ? "unlock" : "lock";
  if (r != LK_OK) {
    fail_case("the lock refused to start a " + what, what + " LK_OK, then one completion", host::result_name(r));
    return std::nullopt;
  }
  auto c = done.wait(operation_id, timeout);
  if (!c)
    fail_case("the " + what + " (operation " + std::to_string(operation_id) + ") never completed",
              "one completion within " + std::to_string(timeout.count()) +
                  " ms (the declared actuation + 1500 ms; abi.md 3: a started operation completes exactly once)",
              "none");
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

namespace {
std::mutex references_mutex;
std::set<std::filesystem::path>& references() {
  static std::set<std::filesystem::path> used;
  return used;
}
}  // namespace

std::filesystem::path reference_plugin(const Subject& subject, const std::string& name) {
  std::filesystem::path file = subject.reference_dir / (name + ".so");
  const std::lock_guard<std::mutex> lock(references_mutex);
  references().insert(file);
  return file;
}

std::vector<std::filesystem::path> reference_plugins_used() {
  const std::lock_guard<std::mutex> lock(references_mutex);
  return {references().begin(), references().end()};
}

namespace {
void skip_as_manual(const std::string& step) { GTEST_SKIP() << kManualPrefix << step; }

std::string utc_now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}
}  // namespace

// Interactive: the operator answers yes or no, optionally followed by a note
// ("no the bolt stuck halfway"); the answer, the note, the operator's name and
// the time go into the case result (runner.cpp reads the property). A "no"
// fails the case; no answer at all (end of input) leaves the step manual.
bool confirm_manual_step(const Subject& subject, const std::string& step) {
  if (!subject.interactive) {
    skip_as_manual(step);
    return false;
  }
  static int answers = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    {
      const std::lock_guard<std::mutex> lock(console_mutex());
      std::cout << "\n  >>> MANUAL STEP: " << step
                << "\n  >>> Done as described? Answer yes or no, optionally followed by a note: " << std::flush;
    }
    std::string line;
    if (!std::getline(std::cin, line)) break;
    const auto b = line.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    const auto e = line.find_first_of(" \t", b);
    std::string word = line.substr(b, e == std::string::npos ? std::string::npos : e - b);
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string note;
    if (e != std::string::npos) {
      const auto nb = line.find_first_not_of(" \t", e);
      if (nb != std::string::npos) note = line.substr(nb);
    }
    bool yes;
    if (word == "yes" || word == "y") yes = true;
    else if (word == "no" || word == "n" || word == "fail") yes = false;
    else continue;
    const std::string time = utc_now_rfc3339();
    ::testing::Test::RecordProperty(kManualAnswerProperty + std::to_string(answers++),
                                    step + '\x1f' + (yes ? "yes" : "no") + '\x1f' + note + '\x1f' +
                                        subject.operator_name + '\x1f' + time);
    if (!yes) {
      fail_case("the operator reported that the manual step did not go as described", step,
                note.empty() ? std::string("\"no\" from ") + subject.operator_name
                             : "\"no\" from " + subject.operator_name + ": " + note);
      return false;
    }
    return true;
  }
  skip_as_manual(step + " (no yes/no answer from the operator)");
  return false;
}

std::string family_of(const std::string& id) {
  const auto first = id.find('-');
  const auto second = id.find('-', first + 1);
  return id.substr(first + 1, second - first - 1);
}

}  // namespace latchkey::certify
