// latchkeyd: the reference hub daemon. See docs/latchkeyd.md.
#include <latchkey/hub/api_server.hpp>
#include <latchkey/hub/audit_recovery.hpp>
#include <latchkey/hub/daemon_config.hpp>
#include <latchkey/hub/fleet_bridge.hpp>
#include <latchkey/hub/runtime.hpp>
#include <latchkey/hub/log.hpp>
#include <latchkey/home_assistant/publisher.hpp>
#include <latchkey/common/cli_options.hpp>
#include <latchkey/common/version.hpp>

#include "runtime_files.hpp"
#include "service_manager.hpp"
#include "startup_check.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

// The plugins next to this build (build tree) or installation.
fs::path default_plugin_dir() {
  std::error_code ec;
  const fs::path bin = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (const fs::path& candidate : {bin / ".." / "plugins", bin / ".." / "lib" / "latchkey" / "plugins"})
    if (fs::is_directory(candidate, ec)) return fs::weakly_canonical(candidate, ec);
  return bin;
}

const latchkey::cli::Program& program() {
  static const latchkey::cli::Program p{
      "latchkeyd",
      {"--config FILE [--log-level LEVEL]", "--config FILE --check", "--config FILE --recover-audit",
       "--config FILE --print-fleet-bridge"},
      "latchkeyd, the Latchkey reference hub: runs the gate engine over the configured doors, locks and cameras "
      "(each plugin in its own lk-plugin-host), keeps the tamper-evident audit log and serves the HTTP API and "
      "status page (docs/latchkeyd.md). SIGTERM or SIGINT stop it with a signed checkpoint; SIGHUP reopens the "
      "log file.",
      {{0, "stopped cleanly, or --check found nothing wrong, or --recover-audit had nothing to recover or "
           "recovered the log, or --print-fleet-bridge printed the bridge"},
       {1, "failed to start or stopped on an error, --check found problems, --recover-audit failed, or "
           "--print-fleet-bridge refused the configuration"},
       {2, "usage error: an unknown or malformed option, a missing --config"}},
      "The log: one line per event on stderr or [hub] log_file, \"<RFC 3339 time, ms> latchkeyd <level>: "
      "<message>\"; under systemd with stderr on the journal, \"<priority>level: <message>\" instead."};
  return p;
}

int usage(const std::string& problem) { return latchkey::cli::report_usage_error(program(), problem); }

// Every line of `text` as "latchkeyd: <prefix><line>" on `out`.
void print_lines(FILE* out, const char* prefix, const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) std::fprintf(out, "latchkeyd: %s%s\n", prefix, line.c_str());
  std::fflush(out);
}

// Start-up messages reach whoever started the daemon even once stderr is the
// log file: a person at a terminal or a service manager must not have to
// look in the log to learn why the daemon did not start.
class StartupReporter {
 public:
  ~StartupReporter() {
    if (terminal_ != nullptr) std::fclose(terminal_);
  }
  // Keeps the original stderr, then makes stderr the log file.
  bool redirect_to_log(const fs::path& log_file) {
    const int saved = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (saved >= 0) terminal_ = ::fdopen(saved, "w");
    if (std::freopen(log_file.c_str(), "a", stderr) != nullptr) return true;
    // stderr may be gone with the failed freopen: report on the saved one.
    if (terminal_ != nullptr) {
      std::fprintf(terminal_, "latchkeyd: cannot open log file %s: %s\n", log_file.c_str(), std::strerror(errno));
      std::fflush(terminal_);
    }
    return false;
  }
  void fatal(const std::string& message) { report("", message); }
  void warning(const std::string& message) { report("warning: ", message); }

 private:
  void report(const char* prefix, const std::string& message) {
    print_lines(stderr, prefix, message);
    if (terminal_ != nullptr) print_lines(terminal_, prefix, message);
  }
  FILE* terminal_ = nullptr;
};

// Read-only: nothing is created or changed in the data directory.
int check(const fs::path& config_file) {
  const latchkey::hub::StartupCheck result = latchkey::hub::check_startup(config_file, default_plugin_dir());
  for (const std::string& warning : result.warnings) print_lines(stderr, "warning: ", warning);
  for (const std::string& problem : result.problems) print_lines(stderr, "", problem);
  if (!result.problems.empty()) {
    std::fprintf(stderr, "latchkeyd: %s: %zu problem(s) found\n", config_file.c_str(), result.problems.size());
    return 1;
  }
  std::printf("latchkeyd: configuration, data directory, plugins and devices are usable\n");
  return 0;
}

// A2: the person's way out of an audit log that does not verify (or that
// the fleet witness showed was rolled back, docs/fleet.md). The
// broken log is kept under a new name; the new log records the recovery,
// and grants issued before it are refused from then on (G3: the lost log
// may have consumed them). Run with latchkeyd stopped.
int recover_audit(const fs::path& config_file) {
  try {
    const latchkey::hub::DaemonConfig config = latchkey::hub::DaemonConfig::load(config_file);
    const latchkey::crypto::KeyPair hub_key = latchkey::hub::load_or_create_hub_key(config.data_dir);
    const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
    const auto mono_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch()).count();
    const latchkey::hub::AuditRecovery r =
        latchkey::hub::recover_audit_log(config.data_dir / "audit.db", hub_key, wall_ms, mono_ns);
    print_lines(r.recovered ? stdout : stderr, "", r.message);
    // Nothing to recover is no failure when the log verifies or is absent.
    return r.recovered || r.message.find("nothing to recover") != std::string::npos ? 0 : 1;
  } catch (const std::exception& e) {
    print_lines(stderr, "", std::string("recover audit log: ") + e.what());
    return 1;
  }
}

// [fleet] via = bridge: the hub broker's bridge file on stdout (docs/fleet.md,
// "The bridge"), from the same parser as the daemon, so the two agree.
int print_fleet_bridge(const fs::path& config_file) {
  try {
    const latchkey::hub::DaemonConfig config = latchkey::hub::DaemonConfig::load(config_file);
    const std::string text =
        latchkey::hub::fleet_bridge_config(config.fleet, latchkey::hub::read_fleet_bridge_password(config.fleet));
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    print_lines(stderr, "", std::string("print fleet bridge: ") + e.what());
    return 1;
  }
}

int run(const fs::path& config_file, std::optional<latchkey::hub::LogLevel> log_level) {
  StartupReporter reporter;
  try {
    latchkey::hub::DaemonConfig config = latchkey::hub::DaemonConfig::load(config_file);
    if (!config.log_file.empty() && !reporter.redirect_to_log(config.log_file)) return 1;
    latchkey::hub::set_log_program("latchkeyd");
    latchkey::hub::set_log_threshold(log_level.value_or(config.log_level));
    // Under systemd with stderr on the journal: priorities, no time stamps.
    latchkey::hub::set_journal_format(config.log_file.empty() && latchkey::hub::stderr_is_journal());
    if (config.plugin_dir.empty()) config.plugin_dir = default_plugin_dir();
    // Before anything starts: a password file that cannot be trusted stops the start.
    std::string mqtt_password;
    if (config.mqtt.enabled && !config.mqtt.password_file.empty())
      mqtt_password = latchkey::home_assistant::read_password_file(config.mqtt.password_file);
    if (const std::string warning = latchkey::hub::api_address_warning(config.api_address); !warning.empty())
      reporter.warning(warning);
    latchkey::hub::Runtime runtime(std::move(config));
    latchkey::hub::ApiServer::Options options;
    options.address = runtime.config().api_address;
    options.token = runtime.api_token();
    options.test_control = runtime.config().test_control;
    latchkey::hub::ApiServer server(runtime, options);
    server.start();
    // [mqtt]: Home Assistant (docs/home-assistant.md). Off by default; a
    // broker that is down or slow delays nothing of the hub's.
    std::unique_ptr<latchkey::home_assistant::Publisher> home_assistant;
    if (const latchkey::hub::MqttConfig& mqtt = runtime.config().mqtt; mqtt.enabled) {
      latchkey::home_assistant::PublisherOptions ha;
      ha.mqtt = mqtt;
      ha.hub_id = runtime.config().hub_id;
      ha.version = latchkey::kProjectVersion;
      ha.password = mqtt_password;
      home_assistant = std::make_unique<latchkey::home_assistant::Publisher>(runtime, std::move(ha));
    }
    const std::string listening = "listening on http://" + options.address.substr(0, options.address.rfind(':')) +
                                  ":" + std::to_string(server.port());
    std::printf("latchkeyd: %s\n", listening.c_str());
    std::fflush(stdout);
    latchkey::hub::log(latchkey::hub::LogLevel::kInfo, std::string("latchkeyd ") + latchkey::kProjectVersion + " " + listening + " (hub " +
                                                           runtime.config().hub_id + ")");
    // systemd: ready once the API listens; the watchdog beats from the loop thread.
    if (const auto period = latchkey::hub::service::watchdog_period(); period.count() > 0)
      runtime.set_heartbeat(period, [] { latchkey::hub::service::watchdog_beat(); });
    latchkey::hub::service::ready(listening);
    runtime.run();
    latchkey::hub::service::stopping("closing the devices and the audit log");
    home_assistant.reset();  // "offline", while the hub still answers (fast: it is stopping)
    server.stop();
    runtime.shutdown();
    latchkey::hub::log(latchkey::hub::LogLevel::kInfo, "latchkeyd stopped");
    std::printf("latchkeyd: stopped\n");
    return 0;
  } catch (const std::exception& e) {
    reporter.fatal(e.what());
    latchkey::hub::service::status(std::string("failed: ") + e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = latchkey::cli::po;
  std::string config_text;
  std::string level_text;
  po::options_description options;
  options.add_options()
      ("config", po::value(&config_text)->value_name("FILE"), "the hub's configuration (docs/latchkeyd.md); required")
      ("check", "check the configuration, data directory, plugins and devices; change nothing")
      ("recover-audit",
       "set aside an audit log that does not verify, or that the fleet witness showed was rolled back, and start a "
       "new one (docs/latchkeyd.md, docs/fleet.md)")
      ("print-fleet-bridge",
       "print the hub broker's Mosquitto bridge to the fleet broker, made from [fleet] with via = bridge; it holds the "
       "fleet password (docs/fleet.md, \"The bridge\")");
  latchkey::cli::add_log_level_option(options, &level_text, "logged", "[hub] log_level, else info");
  const latchkey::cli::Parsed parsed = latchkey::cli::parse(program(), options, argc, argv);
  if (parsed.exit_status) return *parsed.exit_status;
  const bool check_only = parsed.values.count("check") != 0;
  const bool recover = parsed.values.count("recover-audit") != 0;
  std::optional<latchkey::hub::LogLevel> log_level;
  if (parsed.values.count("log-level")) {
    if (const auto problem = latchkey::cli::log_level_problem(level_text)) return usage("--log-level: " + *problem);
    log_level = latchkey::cli::log_level_argument(level_text);
  }
  if (config_text.empty()) return usage("--config FILE is required");
  const fs::path config_file = config_text;
  const bool print_bridge = parsed.values.count("print-fleet-bridge") != 0;
  if (int(check_only) + int(recover) + int(print_bridge) > 1)
    return usage("--check, --recover-audit and --print-fleet-bridge exclude each other");
  if (recover) return recover_audit(config_file);
  if (print_bridge) return print_fleet_bridge(config_file);
  // A client that goes away mid-answer must not take the hub with it.
  std::signal(SIGPIPE, SIG_IGN);
  // Plugin hosts run as this same user: as a non-dumpable process the hub's
  // /proc entries (open descriptors, environment, memory) and ptrace are
  // closed to them.
  ::prctl(PR_SET_DUMPABLE, 0);
  if (check_only) return check(config_file);

  // A2: SIGTERM and SIGINT end the daemon with a final signed checkpoint,
  // whenever they come. They are blocked here, before any thread exists (so
  // every thread inherits the mask), and Runtime::run() unblocks them on the
  // loop thread once its handlers are installed: one that arrives earlier,
  // also right after the "listening" line, waits for them instead of ending
  // the daemon by the default action. SIGHUP (reopen the log) likewise.
  sigset_t handled;
  sigemptyset(&handled);
  for (int signal : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&handled, signal);
  ::pthread_sigmask(SIG_BLOCK, &handled, nullptr);
  return run(config_file, log_level);
}
