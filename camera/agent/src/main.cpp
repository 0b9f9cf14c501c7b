// lk-camera-agent: the reference camera-side agent of the camera link
// (docs/camera-link.md, docs/camera-agent.md).
#include "agent.hpp"
#include "agent_config.hpp"
#include "device_key.hpp"
#include "event_log.hpp"
#include "recorder.hpp"

#include <latchkey/common/cli_options.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_stop_signal(int) { g_stop.store(true); }

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a broken connection is an error return, not a death
}

bool read_password(const std::string& path, std::string& password, std::string& error) {
  if (path.empty()) return true;
  std::error_code ec;
  const auto perms = std::filesystem::status(path, ec).permissions();
  std::ifstream in(path);
  if (ec || !in) {
    error = "--password-file: cannot read " + path;
    return false;
  }
  std::getline(in, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    error = "--password-file: " + path + " has an empty first line";
    return false;
  }
  if (password.find('\0') != std::string::npos) {  // libmosquitto takes a C string: it would send less
    error = "--password-file: " + path + " holds a NUL byte in its first line";
    return false;
  }
  using std::filesystem::perms;
  if ((perms & (perms::group_read | perms::others_read)) != perms::none)
    latchkey::camera::log_event(latchkey::logging::LogLevel::kWarning,
                                "--password-file " + path + " is readable by other users (chmod 600 it)");
  return true;
}

bool prepare_record_dir(const std::string& dir, std::string& error) {
  if (dir.empty()) return true;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    error = "--record-dir: " + dir + " is not a directory that can be created or used" +
            (ec ? " (" + ec.message() + ")" : "");
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace latchkey::camera;
  const std::vector<std::string> args(argv + 1, argv + argc);
  const ParseOutcome parsed = parse_command_line(args);
  switch (parsed.kind) {
    case ParseOutcome::Kind::kHelp:
      std::cout << help_text();
      return 0;
    case ParseOutcome::Kind::kVersion:
      std::cout << latchkey::cli::version_text("lk-camera-agent");
      return 0;
    case ParseOutcome::Kind::kError:
      return report_usage_error(parsed.error);
    case ParseOutcome::Kind::kRun:
      break;
  }
  const AgentConfig& config = parsed.config;
  latchkey::logging::set_log_program("lk-camera-agent");
  latchkey::logging::set_log_threshold(config.log_level);
  // Under systemd with stderr on the journal: priorities, no time stamps.
  latchkey::logging::set_journal_format(latchkey::logging::stderr_is_journal());
  if (!config.camera_id.empty()) set_log_camera_id(config.camera_id);

  LoadedKey key = load_or_create_key(config.key_file);
  if (!key.key) {
    std::cerr << "lk-camera-agent: --key-file: " << key.message << "\n";
    return 1;
  }
  if (key.created) log_event(key.message + " (a new device key: enrol it at the hub)");
  const PublicKey pk = public_key_of(*key.key);
  std::cout << "public key: " << to_hex(pk.data(), pk.size()) << std::endl;
  if (config.print_key) return 0;

  std::string password;
  std::string error;
  if (!read_password(config.password_file, password, error) || !prepare_record_dir(config.record_dir, error)) {
    std::cerr << "lk-camera-agent: " << error << "\n";
    return 2;
  }

  install_signal_handlers();
  try {
    Agent agent(config, *key.key, std::move(password), g_stop);
    key.key.reset();  // the attestation context holds its own copy
    const int status = agent.run();
    log_event("stopped");
    return status;
  } catch (const std::exception& e) {
    log_event(latchkey::logging::LogLevel::kError, std::string("cannot run: ") + e.what());
    return 1;
  }
}
