// The options of one lkctl subcommand (the parser all Latchkey programs share,
// latchkey/common/cli_options.hpp): "--name value" or "--name=value",
// repeatable options, flags. Anything else is a UsageError naming it.
#ifndef LATCHKEY_LKCTL_COMMAND_LINE_HPP
#define LATCHKEY_LKCTL_COMMAND_LINE_HPP

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace lkctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and the answer is "no" (verify), or the hub failed
inline constexpr int kExitUsage = 2;    // a bad argument or file
inline constexpr int kExitDenied = 3;   // unlock denied

// A bad argument or file: lkctl prints it with the usage and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An argument the hub refused (unknown door, token not accepted): exit 2,
// without the usage text.
class RefusedArgument : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::set<std::string> values;      // --name VALUE, at most once
  std::set<std::string> repeatable;  // --name VALUE, any number of times
  std::set<std::string> flags;       // --name
};

class CommandLine {
 public:
  // args: what follows the subcommand. Throws UsageError.
  CommandLine(const std::string& command, const std::vector<std::string>& args, const OptionSpec& spec);

  const std::string& command() const { return command_; }
  bool has(const std::string& name) const;
  std::optional<std::string> value(const std::string& name) const;
  // Throws UsageError "--name is required".
  std::string required(const std::string& name) const;
  std::vector<std::string> values(const std::string& name) const;
  // A whole number within [min, max]; `fallback` when absent.
  int64_t integer(const std::string& name, int64_t min, int64_t max, int64_t fallback) const;

 private:
  std::string command_;
  std::map<std::string, std::vector<std::string>> values_;
  std::set<std::string> flags_;
};

}  // namespace lkctl

#endif  // LATCHKEY_LKCTL_COMMAND_LINE_HPP
