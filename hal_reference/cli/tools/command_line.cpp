#include "command_line.hpp"

#include <latchkey/common/cli_options.hpp>

#include <charconv>

namespace lkctl {

namespace po = latchkey::cli::po;

// The subcommand's options for Boost.Program_options: values (repeatable
// ones included) take one word each time they are given; flags none.
po::options_description describe(const OptionSpec& spec) {
  po::options_description description;
  for (const std::set<std::string>* names : {&spec.values, &spec.repeatable})
    for (const std::string& name : *names)
      description.add_options()(name.c_str(), po::value<std::vector<std::string>>()->value_name("VALUE"), "");
  for (const std::string& name : spec.flags) description.add_options()(name.c_str(), "");
  return description;
}

CommandLine::CommandLine(const std::string& command, const std::vector<std::string>& args, const OptionSpec& spec)
    : command_(command) {
  po::parsed_options parsed(nullptr);
  try {
    parsed = latchkey::cli::tokenize(describe(spec), args);
  } catch (const latchkey::cli::UsageError& e) {
    const std::string problem = e.what();
    if (problem.rfind("unknown option", 0) == 0) throw UsageError(problem + " for '" + command + "'");
    throw UsageError(problem);
  }
  for (const po::option& option : parsed.options) {
    const std::string& name = option.string_key;
    if (spec.flags.count(name)) {
      flags_.insert(name);
      continue;
    }
    const std::string& value = option.value.front();
    if (value.empty()) throw UsageError("--" + name + " has an empty value");
    auto& slot = values_[name];
    if (!spec.repeatable.count(name) && !slot.empty()) throw UsageError("option '--" + name + "' given more than once");
    slot.push_back(value);
  }
}

bool CommandLine::has(const std::string& name) const { return flags_.count(name) || values_.count(name); }

std::optional<std::string> CommandLine::value(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.front();
}

std::string CommandLine::required(const std::string& name) const {
  auto found = value(name);
  if (!found) throw UsageError("--" + name + " is required for '" + command_ + "'");
  return *found;
}

std::vector<std::string> CommandLine::values(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

int64_t CommandLine::integer(const std::string& name, int64_t min, int64_t max, int64_t fallback) const {
  const auto text = value(name);
  if (!text) return fallback;
  int64_t number = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), number);
  if (error != std::errc() || end != text->data() + text->size() || number < min || number > max) {
    throw UsageError("--" + name + " '" + *text + "' is not a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max));
  }
  return number;
}

}  // namespace lkctl
