// lkctl: keys, grants, enrolment and the hub's HTTP API from the command line.
// See hal_reference/cli/README.md. Exit codes: 0 done, 1 failed (the hub
// failed or the audit log does not verify), 2 bad argument or file, 3 denied.
#include "commands.hpp"

#include <latchkey/client/api_client.hpp>
#include <latchkey/client/camera_enrolment.hpp>
#include <latchkey/client/key_files.hpp>

#include <iostream>
#include <vector>

namespace {

using lkctl::Command;
using lkctl::OptionSpec;

std::vector<Command> commands() {
  const auto api = [](OptionSpec spec) { return lkctl::with_api_options(std::move(spec)); };
  const std::string api_usage = "[--api URL] (--token FILE | --data-dir DIR)";
  return {
      {"keygen", "--out NAME", "write NAME.key (secret, mode 0600) and NAME.pub; print the public key",
       {{"out"}, {}, {}}, lkctl::run_keygen},
      {"enrol", "--plugin FILE --uri URI [--observe-s N] [--snapshot FILE]",
       "open a camera, print its id and the key to pin as `key =`, and the limits of its view (C8) from N s "
       "of its measurements (default 10; 0: the defaults); write its picture (a network camera's reference "
       "view) to FILE (default <camera id>-view.ppm)",
       {{"plugin", "uri", "observe-s", "snapshot"}, {}, {}}, lkctl::run_enrol},
      {"mint",
       "--issuer NAME.key --key-id ID --hub HUB --door DOOR --courier ID --courier-pub NAME.pub "
       "[--not-before UNIX_MS] [--valid-for SECONDS] [--camera ID]... [--out FILE]",
       "sign a grant; print or write the SignedGrant in hex",
       {{"issuer", "key-id", "hub", "door", "courier", "courier-pub", "not-before", "valid-for", "out"},
        {"camera"},
        {}},
       lkctl::run_mint},
      {"prove", "--grant FILE --courier NAME.key --door DOOR --challenge HEX",
       "sign the proof of presence; print the UnlockRequest in hex",
       {{"grant", "courier", "door", "challenge"}, {}, {}}, lkctl::run_prove},
      {"unlock", "--door DOOR --grant FILE --courier NAME.key " + api_usage,
       "challenge, proof and unlock request; exit 0 allowed, 3 denied",
       api({{"door", "grant", "courier"}, {}, {}}), lkctl::run_unlock},
      {"doors", api_usage, "doors, locks and cameras", api({}), lkctl::run_doors},
      {"sessions", api_usage, "open and recent sessions", api({}), lkctl::run_sessions},
      {"alarms", "[--from ID] " + api_usage, "alarms after alarm ID", api({{"from"}, {}, {}}), lkctl::run_alarms},
      {"audit", "[--from SEQ] " + api_usage, "the audit log from record SEQ", api({{"from"}, {}, {}}),
       lkctl::run_audit},
      {"events", api_usage, "follow the hub's events until interrupted", api({}), lkctl::run_events},
      {"verify", "--db FILE --hub-pub FILE", "verify an audit log's chain and checkpoints; exit 0 or 1",
       {{"db", "hub-pub"}, {}, {}}, lkctl::run_verify},
  };
}

void print_usage(std::ostream& out) {
  out << "usage: lkctl <command> [options]\n\n";
  for (const Command& command : commands()) {
    out << "  " << command.name << " " << command.usage << "\n      " << command.summary << "\n";
  }
  out << "\n--api defaults to http://127.0.0.1:7380; --data-dir DIR reads the token from DIR/api-token.\n"
      << "Exit codes: 0 done, 1 failed, 2 bad argument or file, 3 unlock denied.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cerr);
    return lkctl::kExitUsage;
  }
  const std::string name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    print_usage(std::cout);
    return lkctl::kExitOk;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& command : commands()) {
    if (command.name != name) continue;
    try {
      const lkctl::CommandLine parsed(name, args, command.options);
      return command.run(parsed);
    } catch (const lkctl::UsageError& e) {
      std::cerr << "lkctl " << name << ": " << e.what() << "\nusage: lkctl " << name << " " << command.usage << "\n";
      return lkctl::kExitUsage;
    } catch (const lkctl::RefusedArgument& e) {
      std::cerr << "lkctl " << name << ": " << e.what() << "\n";
      return lkctl::kExitUsage;
    } catch (const latchkey::client::KeyFileError& e) {
      std::cerr << "lkctl " << name << ": " << e.what() << "\n";
      return lkctl::kExitUsage;
    } catch (const latchkey::client::EnrolmentError& e) {
      std::cerr << "lkctl " << name << ": " << e.what() << "\n";
      return lkctl::kExitUsage;
    } catch (const std::invalid_argument& e) {
      std::cerr << "lkctl " << name << ": " << e.what() << "\n";
      return lkctl::kExitUsage;
    } catch (const latchkey::client::ApiError& e) {
      std::cerr << "lkctl " << name << ": " << e.what() << "\n";
      return lkctl::kExitFailure;
    } catch (const std::exception& e) {
      std::cerr << "lkctl " << name << ": " << e.what() << "\n";
      return lkctl::kExitFailure;
    }
  }
  std::cerr << "lkctl: unknown command '" << name << "'\n\n";
  print_usage(std::cerr);
  return lkctl::kExitUsage;
}
