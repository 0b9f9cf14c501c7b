#include "command_line.hpp"

#include <charconv>

namespace lkctl {

CommandLine::CommandLine(const std::string& command, const std::vector<std::string>& args, const OptionSpec& spec)
    : command_(command) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      throw UsageError("unexpected argument '" + arg + "' (options are --name VALUE)");
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (const std::size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (spec.flags.count(name)) {
      if (inline_value) throw UsageError("--" + name + " takes no value");
      flags_.insert(name);
      continue;
    }
    const bool repeatable = spec.repeatable.count(name) != 0;
    if (!repeatable && !spec.values.count(name)) {
      throw UsageError("unknown option --" + name + " for '" + command + "'");
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= args.size()) throw UsageError("--" + name + " needs a value");
      value = args[++i];
    }
    if (value.empty()) throw UsageError("--" + name + " has an empty value");
    auto& slot = values_[name];
    if (!repeatable && !slot.empty()) throw UsageError("--" + name + " given twice");
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
