// lkctl: keys, grants, enrolment and the hub's HTTP API from the command line.
// See hal_reference/cli/README.md; the exit statuses are in program() below.
#include "commands.hpp"

#include <latchkey/client/api_client.hpp>
#include <latchkey/client/camera_enrolment.hpp>
#include <latchkey/client/key_files.hpp>
#include <latchkey/common/cli_options.hpp>

#include <algorithm>

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
      {"revoke",
       "--issuer NAME.key --key-id ID --hub HUB --sequence N [--grant HEX]... [--out FILE]",
       "sign the issuer's whole revocation list for a hub (it replaces the list with a smaller sequence); print "
       "or write the SignedRevocationList in hex",
       {{"issuer", "key-id", "hub", "sequence", "out"}, {"grant"}, {}}, lkctl::run_revoke},
      {"publish-revocations",
       "--file FILE --host HOST [--port N] [--user NAME] [--password-file FILE] [--tls] [--tls-ca-file FILE] "
       "[--timeout-s N]",
       "publish a signed revocation list, retained at QoS 1, on the fleet broker's "
       "latchkey/fleet/v1/<hub>/down/revocations/<issuer key id>; exit 0 once the broker acknowledged it",
       {{"file", "host", "port", "user", "password-file", "tls-ca-file", "timeout-s"}, {}, {"tls"}},
       lkctl::run_publish_revocations},
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

// The subcommands, as --help lists them (help2man: the COMMANDS section).
std::string command_list() {
  std::string text = "Commands:\n";
  for (const Command& command : commands())
    text += "  " + command.name + " " + command.usage + "\n      " + command.summary + "\n";
  text += "\n`lkctl COMMAND --help` prints one command's options. --api defaults to http://127.0.0.1:7380; "
          "--data-dir DIR reads the token from DIR/api-token.";
  return text;
}

const latchkey::cli::Program& program() {
  static const latchkey::cli::Program p{
      "lkctl",
      {"COMMAND [OPTION]..."},
      "Keys, grants, camera enrolment and the hub's HTTP API from the command line: makes and signs grants "
      "and proofs of presence, unlocks through latchkeyd, lists its doors, sessions, alarms and audit log, "
      "follows its events and verifies an audit log (hal_reference/cli/README.md, docs/api.md); signs an "
      "issuer's revocation lists and publishes them on the fleet broker (docs/fleet.md).",
      {{lkctl::kExitOk, "done (unlock: allowed; verify: the log verifies)"},
       {lkctl::kExitFailure, "failed: the hub or the fleet broker failed, refused or could not be reached, or "
                             "the audit log does not verify"},
       {lkctl::kExitUsage, "usage error: an unknown command or option, a bad argument or file, an argument the "
                           "hub refused"},
       {lkctl::kExitDenied, "unlock denied"}},
      command_list()};
  return p;
}

int usage_error(const std::string& problem) { return latchkey::cli::report_usage_error(program(), problem); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no command given");
  const std::string name = argv[1];
  const latchkey::cli::po::options_description no_options;  // before a command: --help and --version only
  if (name == "help") {
    std::cout << latchkey::cli::help_text(program(), no_options);
    return lkctl::kExitOk;
  }
  if (name.rfind("-", 0) == 0) {
    // Before the command: --help, --version, or an unknown option.
    const latchkey::cli::Parsed parsed = latchkey::cli::parse(program(), no_options, argc, argv);
    if (parsed.exit_status) return *parsed.exit_status;
    return usage_error("no command given");
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& command : commands()) {
    if (command.name != name) continue;
    if (std::find(args.begin(), args.end(), "--help") != args.end() ||
        std::find(args.begin(), args.end(), "-h") != args.end()) {
      std::cout << "Usage: lkctl " << name << " " << command.usage << "\n" << command.summary << "\n";
      return lkctl::kExitOk;
    }
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
  return usage_error("unknown command '" + name + "'");
}
