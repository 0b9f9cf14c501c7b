// One command line for every Latchkey program (Boost.Program_options).
//
// GNU style: `--opt VALUE` and `--opt=VALUE`, short options where a program
// declares them (`-h`), no abbreviations of long names. Every program gets
// `-h`/`--help` (usage, options, exit statuses; help2man turns the same text
// into the man page) and `--version` (the program, the project version and the
// plugin ABI version). A usage error prints one line naming the option and
// exits with kExitUsage (2) in every program.
#ifndef LATCHKEY_COMMON_CLI_OPTIONS_HPP
#define LATCHKEY_COMMON_CLI_OPTIONS_HPP

#include <latchkey/common/log.hpp>

#include <boost/program_options.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace latchkey::cli {

namespace po = boost::program_options;

// The exit status of a usage error (unknown or malformed option, missing
// value), the same in every program.
inline constexpr int kExitUsage = 2;

struct ExitStatus {
  int code;
  std::string meaning;
};

// What --help says about a program besides its options.
struct Program {
  std::string name;                        // "latchkeyd"
  std::vector<std::string> synopsis;       // each a usage line without the name
  std::string description;                 // paragraphs, separated by blank lines
  std::vector<ExitStatus> exit_statuses;   // every documented exit status
  std::string notes;                       // optional paragraphs after the options
};

// A usage error a program finds after parsing (a missing required option,
// two options that exclude each other): report() prints it as the parser's
// own errors are printed.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "<name> <project version>\nplugin ABI <major>.<minor>\n".
std::string version_text(const std::string& name);

// Usage, description, options, notes and the "Exit status:" section.
std::string help_text(const Program& program, const po::options_description& options);

// -h/--help and --version, which parse() adds to every program's options.
po::options_description standard_options();

// The parsing itself, printing nothing (for a program whose options also
// come from elsewhere, as lk-camera-agent's config file): the options in the
// order given. Throws UsageError naming the option ("unknown option '--x'",
// "--x needs a value", "--x takes no value", "unexpected argument 'y'").
// `options` must include what the caller accepts, standard_options() too,
// and outlive the result (which points to it, for po::store).
po::parsed_options tokenize(const po::options_description& options, const std::vector<std::string>& args,
                            const po::positional_options_description* positional = nullptr);

struct Parsed {
  po::variables_map values;
  std::vector<po::option> in_order;  // the options as given, for programs that apply them in order
  std::optional<int> exit_status;    // set: --help or --version printed (0) or a usage error (2); exit with it
};

// Adds -h/--help and --version to `options` and parses argv[1..argc). On
// --help or --version prints to stdout and sets exit_status 0; on a usage
// error prints "<name>: <problem>" and a hint to stderr and sets kExitUsage.
// `positional` maps the positional arguments to options of `hidden` (options
// --help does not list); nullptr: a program that takes none.
Parsed parse(const Program& program, const po::options_description& options, int argc, const char* const* argv,
             const po::positional_options_description* positional = nullptr,
             const po::options_description* hidden = nullptr);
Parsed parse(const Program& program, const po::options_description& options, const std::vector<std::string>& args,
             const po::positional_options_description* positional = nullptr,
             const po::options_description* hidden = nullptr);

// Prints "<name>: <problem>" and the --help hint to stderr; returns kExitUsage.
int report_usage_error(const Program& program, const std::string& problem);

// --log-level LEVEL, as every program that logs takes it (latchkeyd,
// lk-plugin-host, lk-certify, lk-camera-agent). Its help: "the lowest level
// <what>: debug, info, warning or error (default <default_note>)".
std::string log_level_help(const std::string& what, const std::string& default_note);
// Adds the option, its value into *value (given twice: a usage error).
void add_log_level_option(po::options_description& options, std::string* value, const std::string& what,
                          const std::string& default_note);
// Adds the option for a program that applies its options in order, the last
// one winning (lk-certify): each value is in Parsed::in_order.
void add_log_level_option(po::options_description& options, const std::string& what,
                          const std::string& default_note);
// nullopt when `value` names a level, else the problem: "'x' is not debug,
// info, warning or error".
std::optional<std::string> log_level_problem(const std::string& value);
// The level --log-level names; throws UsageError "--log-level: 'x' is not
// debug, info, warning or error".
logging::LogLevel log_level_argument(const std::string& value);

}  // namespace latchkey::cli

#endif  // LATCHKEY_COMMON_CLI_OPTIONS_HPP
