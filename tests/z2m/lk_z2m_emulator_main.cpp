// lk-z2m-emulator: a Zigbee2MQTT lock and contact sensor on a broker (the
// Z2mEmulator of this folder as a program), for lk-certify, the demo and
// people trying the z2m_lock plugin without Zigbee hardware.
//
//   lk-z2m-emulator --broker HOST:PORT --password-file FILE [options] [-- COMMAND [ARG]...]
//
// With a command it runs the command next to the emulator and exits with the
// command's status. Without one it reads commands, one a line, from stdin or
// (--control PATH) from a named pipe it makes there, which lk-demo writes to:
// open, close, manual_lock, manual_unlock, lock_while_open, jam, late MS,
// no_report, silent, clear, state, quit.
#include "z2m_emulator.hpp"

#include <latchkey/common/cli_options.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

const latchkey::cli::Program& program() {
  static const latchkey::cli::Program p{
      "lk-z2m-emulator",
      {"--broker HOST:PORT --password-file FILE [OPTION]... [-- COMMAND [ARG]...]"},
      "A Zigbee2MQTT lock and contact sensor on a broker, for lk-certify, the demo and people trying the "
      "z2m_lock plugin without Zigbee hardware. With a command it runs the command next to the emulator and "
      "exits with the command's status. Without one it reads commands, one a line, from stdin or (--control "
      "PATH) from a named pipe it makes there: open, close, manual_lock, manual_unlock, lock_while_open, jam, "
      "late MS, no_report, silent, clear, state, quit.",
      {{0, "quit, or with a command: the command's status (127: it could not be run)"},
       {2, "usage error, or no password could be read from --password-file"},
       {3, "the emulator failed, or the named pipe could not be made"}},
      ""};
  return p;
}

int run_command(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return 3;
  if (pid == 0) {
    ::execvp(args[0], args.data());
    std::cerr << "lk-z2m-emulator: cannot run " << argv[0] << "\n";
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Returns true on quit.
bool read_commands(latchkey::testing::Z2mEmulator& emulator, std::istream& input,
                   latchkey::testing::Z2mFaults& faults) {
  std::string line;
  while (std::getline(input, line)) {
    std::istringstream in(line);
    std::string word;
    in >> word;
    if (word.empty()) continue;
    if (word == "quit") return true;
    if (word == "open") emulator.open_door();
    else if (word == "close") emulator.close_door();
    else if (word == "manual_lock") emulator.manual_lock();
    else if (word == "manual_unlock") emulator.manual_unlock();
    else if (word == "lock_while_open") emulator.lock_while_open();
    else if (word == "jam") faults.jam = true;
    else if (word == "late") in >> faults.late_report_ms;
    else if (word == "no_report") faults.no_report = true;
    else if (word == "silent") faults.sensor_silent = true;
    else if (word == "clear") faults = {};
    else if (word != "state") {
      std::cout << "unknown command '" << word << "'" << std::endl;
      continue;
    }
    emulator.set_faults(faults);
    std::cout << "bolt " << (emulator.locked() ? "locked" : "not locked") << ", door "
              << (emulator.door_closed() ? "closed" : "open") << ", auto_relock_time "
              << emulator.auto_relock_time_s() << " s" << std::endl;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  latchkey::testing::Z2mEmulatorOptions options;
  std::string password_file;
  std::string control;
  std::vector<std::string> command;
  namespace po = latchkey::cli::po;
  po::options_description described;
  described.add_options()
      ("broker", po::value<std::string>()->value_name("HOST:PORT"), "the broker (required)")
      ("password-file", po::value<std::string>()->value_name("FILE"), "the Zigbee2MQTT user's password (required)")
      ("user", po::value<std::string>()->value_name("NAME"), "the broker user")
      ("base-topic", po::value<std::string>()->value_name("TOPIC"), "Zigbee2MQTT's base topic")
      ("lock", po::value<std::string>()->value_name("NAME"), "the lock's friendly name")
      ("sensor", po::value<std::string>()->value_name("NAME"), "the contact sensor's friendly name")
      ("actuation-ms", po::value<std::string>()->value_name("N"), "how long the bolt takes")
      ("checkin-ms", po::value<std::string>()->value_name("N"), "how often the devices report")
      ("no-auto-relock", "the lock exposes no auto_relock_time")
      ("unlocked", "start unlocked")
      ("door-open", "start with the door open")
      ("stale-retained", "leave a stale retained state on the broker")
      ("control", po::value<std::string>()->value_name("FIFO"), "read commands from a named pipe made there");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::vector<std::string>>(&command));
  po::positional_options_description positional;
  positional.add("command", -1);
  const latchkey::cli::Parsed parsed = latchkey::cli::parse(program(), described, argc, argv, &positional, &hidden);
  if (parsed.exit_status) return *parsed.exit_status;
  for (const po::option& option : parsed.in_order) {
    const std::string a = "--" + option.string_key;
    if (option.string_key == "command") continue;
    const auto value = [&] { return option.value.empty() ? std::string() : option.value.front(); };
    try {
      if (a == "--broker") {
        const std::string b = value();
        const std::size_t colon = b.rfind(':');
        if (colon == std::string::npos) throw std::invalid_argument("--broker needs HOST:PORT");
        options.host = b.substr(0, colon);
        options.port = static_cast<uint16_t>(std::stoul(b.substr(colon + 1)));
      } else if (a == "--password-file") password_file = value();
      else if (a == "--user") options.user = value();
      else if (a == "--base-topic") options.base_topic = value();
      else if (a == "--lock") options.lock_name = value();
      else if (a == "--sensor") options.sensor_name = value();
      else if (a == "--actuation-ms") options.actuation_ms = static_cast<uint32_t>(std::stoul(value()));
      else if (a == "--checkin-ms") options.checkin_ms = static_cast<uint32_t>(std::stoul(value()));
      else if (a == "--no-auto-relock") options.exposes_auto_relock = false;
      else if (a == "--unlocked") options.locked = false;
      else if (a == "--door-open") options.door_closed = false;
      else if (a == "--stale-retained") options.stale_retained = true;
      else if (a == "--control") control = value();
    } catch (const std::exception& e) {
      return latchkey::cli::report_usage_error(program(), a + ": " + e.what());
    }
  }
  if (password_file.empty()) return latchkey::cli::report_usage_error(program(), "--password-file FILE is required");
  std::ifstream in(password_file);
  if (!std::getline(in, options.password) || options.password.empty()) {
    std::cerr << "lk-z2m-emulator: cannot read a password from " << password_file << "\n";
    return 2;
  }
  try {
    latchkey::testing::Z2mEmulator emulator(options);
    std::cout << "lk-z2m-emulator: " << emulator.lock_topic() << " and " << emulator.sensor_topic() << " on "
              << options.host << ":" << options.port << std::endl;
    if (!command.empty()) return run_command(command);
    latchkey::testing::Z2mFaults faults;
    if (control.empty()) {
      read_commands(emulator, std::cin, faults);
      return 0;
    }
    if (::mkfifo(control.c_str(), 0600) != 0) {
      std::cerr << "lk-z2m-emulator: cannot make the named pipe " << control << "\n";
      return 3;
    }
    // Each writer's lines, until one says quit (or the emulator is terminated).
    while (true) {
      std::ifstream fifo(control);
      if (!fifo) break;
      if (read_commands(emulator, fifo, faults)) break;
    }
    ::unlink(control.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "lk-z2m-emulator: " << e.what() << "\n";
    return 3;
  }
}
