// The certification suite's vocabulary: the plugin under test (Subject), the
// test cases (CaseDef) with their IDs and the clause or rule each one cites,
// and the context a case body runs in. Case bodies use GoogleTest assertions;
// lk-certify registers one GoogleTest test per case and device instance.
//
// Modes: the device cases (TC-LOCK, TC-CAM, TC-AUTHZ) open their devices
// through one PluginRunner per run, in the mode the run was given (isolated:
// the plugin in its own lk-plugin-host process, as the hub runs it by
// default; in_process: loaded into lk-certify), and TC-GATE runs the hub with
// that mode. The TC-ABI cases test the C ABI itself - the raw tables, borrowed
// buffers, negotiation in child processes - so they always call the plugin
// loaded into this process, whatever the mode.
#ifndef LATCHKEY_CERTIFY_SUITE_HPP
#define LATCHKEY_CERTIFY_SUITE_HPP

#include <latchkey/crypto/crypto.hpp>
#include <latchkey/host/plugin.hpp>
#include <latchkey/isolation/plugin_runner.hpp>

#include "plugin_probe.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::certify {

// What a case runs once for: the plugin, each lock or camera device, the
// authorization provider, (kGate) each device and the provider in the hub, or
// (kAgent) the camera agent of an --agent run, spoken to over the broker.
enum class Scope { kPlugin, kLock, kCamera, kAuthz, kGate, kAgent };

struct AgentTarget;  // agent_target.hpp: the camera agent under test (lk-certify --agent)

// How the suite can obtain credentials for an authorization provider.
struct AuthzSetup {
  std::string config;                 // handed to open()
  bool can_mint = false;              // the suite knows an issuer secret pinned by config
  std::string issuer_key_id;
  crypto::KeyPair issuer;
  bool reference_format = false;      // the provider reads "issuer <key id> <hex>" lines
};

// The runner the device cases open their devices through (device_runner() in
// support.hpp): started on first use and kept for the whole run, so an
// isolated plugin has one host process, restarted by its supervisor if it fails.
struct DeviceRunner {
  std::mutex mutex;
  bool tried = false;
  std::unique_ptr<isolation::PluginRunner> runner;
  std::string error;                     // why it did not start
  std::filesystem::path work_dir;        // the isolated host's working directory (removed at the end)
  std::mutex failures_mutex;             // the supervisor's thread appends
  std::vector<std::string> host_failures;  // the isolated host failing, in order
  ~DeviceRunner();
};

// The plugin's log lines, in order, as they reached the run's log handler
// (recording_log() in support.hpp), from either mode.
struct PluginLogRecord {
  std::mutex mutex;
  std::vector<std::string> lines;
};

// The plugin under test and everything the suite learnt about it.
struct Subject {
  std::filesystem::path file;
  std::string sha256;
  std::shared_ptr<host::Plugin> plugin;  // null when the host refused it
  std::string load_error;                // LoadError text when refused
  std::string load_error_kind;
  std::vector<std::string> lock_uris;
  std::vector<std::string> camera_uris;
  AuthzSetup authz;
  std::filesystem::path reference_dir;   // the reference plugins the gate cases pair it with
  bool interactive = false;
  std::string operator_name;             // --operator: recorded with each answer to a manual step
  NegotiationProbe negotiation;          // probed in a child process before loading
  isolation::PluginMode mode = isolation::PluginMode::kIsolated;  // how device and gate cases run it
  host::LogHandler plugin_log;           // the plugin's log lines, in either mode
  std::shared_ptr<PluginLogRecord> log_record = std::make_shared<PluginLogRecord>();
  std::shared_ptr<DeviceRunner> devices = std::make_shared<DeviceRunner>();
  // Set in an --agent run: the camera agent is under test, the plugin is the
  // relay (lk_net_camera.so) the TC-CAM device cases reach it through, and
  // only TC-CAM cases run.
  std::shared_ptr<AgentTarget> agent;

  bool loaded() const { return plugin != nullptr; }
  bool offers_lock() const { return plugin && plugin->lock_interface() != nullptr; }
  bool offers_camera() const { return plugin && plugin->camera_interface() != nullptr; }
  bool offers_authz() const { return plugin && plugin->authz_interface() != nullptr; }
  bool offers_test_control() const { return plugin && plugin->test_control_interface() != nullptr; }
};

struct CaseContext {
  Subject& subject;
  std::string uri;  // the device URI (lock or camera scope), empty otherwise
};

// nullopt: the case applies; otherwise why it was skipped.
using Applicability = std::function<std::optional<std::string>(const Subject&, const std::string& uri)>;

struct CaseDef {
  std::string id;          // TC-<FAMILY>-<n>.<m>
  std::string title;       // what it checks, one sentence
  std::string cites;       // "abi.md 7 Lock interface" or "docs/rules.md U5"
  Scope scope = Scope::kPlugin;
  Applicability applies;   // may be empty: always applies when the scope has instances
  std::function<void(CaseContext&)> run;
  bool manual = false;     // needs a person; prompted with --interactive, reported manual otherwise
};

std::string family_of(const std::string& id);  // "TC-LOCK-2.1" -> "LOCK"

// Every case, in ID order.
const std::vector<CaseDef>& all_cases();
void add_abi_cases(std::vector<CaseDef>& cases);
void add_lock_cases(std::vector<CaseDef>& cases);
void add_camera_cases(std::vector<CaseDef>& cases);
void add_agent_cases(std::vector<CaseDef>& cases);  // TC-CAM-6 to 9, scope kAgent
void add_authz_cases(std::vector<CaseDef>& cases);
void add_gate_cases(std::vector<CaseDef>& cases);

// A skip message starting with this marks a manual step (not a plain skip).
inline constexpr const char* kManualPrefix = "manual: ";
// A skip that is not a gap: the case does not concern this plugin or device
// (an interface or capability it does not declare). Only these leave a run
// PASSED; every other skip (no device, could not run) makes it INCOMPLETE.
inline constexpr const char* kNotApplicablePrefix = "not applicable: ";
// The case needs the test-control interface (LK_INTERFACE_TEST_CONTROL) that
// the vendor's test build offers: the run is INCOMPLETE and the report says
// which build to submit, never a silent skip.
inline constexpr const char* kNeedsTestControlPrefix = "needs test control: ";

// For manual steps: in interactive mode asks the operator, who answers yes or
// no with an optional note (recorded with the time and the operator's name in
// the case result; "no" fails the case and returns false); in batch mode, or
// without an answer, marks the case manual with the step text and returns
// false, and the case body returns at once. True when the operator said yes.
bool confirm_manual_step(const Subject& subject, const std::string& step);

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_SUITE_HPP
