// lkctl's subcommands. Each takes its parsed options and returns the exit
// code; a bad argument or file throws UsageError (exit 2).
#ifndef LATCHKEY_LKCTL_COMMANDS_HPP
#define LATCHKEY_LKCTL_COMMANDS_HPP

#include "command_line.hpp"

#include <functional>
#include <string>

namespace lkctl {

struct Command {
  std::string name;
  std::string usage;    // the options, for the help text
  std::string summary;  // one line
  OptionSpec options;
  std::function<int(const CommandLine&)> run;
};

// key_commands.cpp: keygen, enrol, verify
int run_keygen(const CommandLine& args);
int run_enrol(const CommandLine& args);
int run_verify(const CommandLine& args);
// grant_commands.cpp: mint, prove
int run_mint(const CommandLine& args);
int run_prove(const CommandLine& args);
// fleet_commands.cpp: revoke, publish-revocations (docs/fleet.md "Revocations")
int run_revoke(const CommandLine& args);
int run_publish_revocations(const CommandLine& args);
// hub_commands.cpp: everything that talks to latchkeyd
int run_unlock(const CommandLine& args);
int run_doors(const CommandLine& args);
int run_sessions(const CommandLine& args);
int run_alarms(const CommandLine& args);
int run_audit(const CommandLine& args);
int run_events(const CommandLine& args);

// The options every hub command takes: --api, --token, --data-dir.
OptionSpec with_api_options(OptionSpec spec);

}  // namespace lkctl

#endif  // LATCHKEY_LKCTL_COMMANDS_HPP
