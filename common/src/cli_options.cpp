#include <latchkey/common/cli_options.hpp>
#include <latchkey/common/version.hpp>

#include <latchkey/lk_base.h>

#include <iostream>
#include <sstream>

namespace latchkey::cli {
namespace {

constexpr std::size_t kWidth = 79;        // the line width of --help
constexpr std::size_t kTextColumn = 28;   // where an option's description starts
constexpr const char* kPositionalKey = "lk-positional";  // collects arguments a program takes none of

// The words of `text` filled into lines of `width` after `indent` spaces;
// the first line's indent is already written by the caller.
std::string fill(const std::string& text, std::size_t indent, std::size_t first_used) {
  std::string out;
  std::size_t used = first_used;
  std::istringstream words(text);
  bool first_word = true;
  for (std::string word; words >> word;) {
    if (!first_word && used + 1 + word.size() > kWidth) {
      out += "\n" + std::string(indent, ' ');
      used = indent;
    } else if (!first_word) {
      out += ' ';
      ++used;
    }
    out += word;
    used += word.size();
    first_word = false;
  }
  return out;
}

// "-h [ --help ]" (Boost's form) as "-h, --help"; then the value's name.
std::string option_label(const po::option_description& option) {
  std::string name = option.format_name();
  if (const auto open = name.find(" [ "); open != std::string::npos) {
    const auto close = name.find(" ]", open);
    name = name.substr(0, open) + ", " + name.substr(open + 3, close - open - 3);
  }
  const auto& semantic = option.semantic();
  if (semantic->max_tokens() == 0) return name;
  const std::string value = semantic->name();
  if (semantic->min_tokens() == 0) return name + "[=" + value + "]";
  return name + " " + value;
}

void print_options(std::ostringstream& out, const po::options_description& options) {
  for (const auto& option : options.options()) {
    std::string line = "  " + option_label(*option);
    if (line.size() + 2 > kTextColumn) {
      out << line << "\n" << std::string(kTextColumn, ' ');
    } else {
      line.resize(kTextColumn, ' ');
      out << line;
    }
    out << fill(option->description(), kTextColumn, kTextColumn) << "\n";
  }
}

// Paragraphs separated by blank lines, each filled to the width; a paragraph
// whose lines are indented (a list, a table) is kept as it is written.
void print_paragraphs(std::ostringstream& out, const std::string& text) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find("\n\n", start);
    if (end == std::string::npos) end = text.size();
    const std::string paragraph = text.substr(start, end - start);
    start = end + 2;
    if (paragraph.find_first_not_of('\n') == std::string::npos) continue;
    out << "\n";
    if (paragraph.find("\n ") != std::string::npos) {
      out << paragraph;
      if (paragraph.back() != '\n') out << "\n";
    } else {
      out << fill(paragraph, 0, 0) << "\n";
    }
  }
}

// A Boost.Program_options error in the words every Latchkey program uses.
std::string problem_text(const po::error& e) {
  if (const auto* unknown = dynamic_cast<const po::unknown_option*>(&e))
    return "unknown option '" + unknown->get_option_name() + "'";
  if (const auto* syntax = dynamic_cast<const po::invalid_command_line_syntax*>(&e)) {
    // "--=value": Boost parses an option without a name.
    if (syntax->get_option_name().empty() || syntax->get_option_name() == "--") return "'--=...' names no option";
    switch (syntax->kind()) {
      case po::invalid_syntax::missing_parameter: return syntax->get_option_name() + " needs a value";
      case po::invalid_syntax::extra_parameter: return syntax->get_option_name() + " takes no value";
      case po::invalid_syntax::empty_adjacent_parameter: return syntax->get_option_name() + " has an empty value";
      default: break;
    }
  }
  if (const auto* twice = dynamic_cast<const po::multiple_occurrences*>(&e))
    return "option '" + twice->get_option_name() + "' given more than once";
  return e.what();
}

}  // namespace

po::options_description standard_options() {
  po::options_description standard;
  standard.add_options()
      ("help,h", "print this text and exit")
      ("version", "print the version and the plugin ABI version, and exit");
  return standard;
}

std::string version_text(const std::string& name) {
  std::ostringstream out;
  out << name << " " << kProjectVersion << "\n"
      << "plugin ABI " << LK_VERSION_MAJOR(LK_ABI_VERSION_CURRENT) << "." << LK_VERSION_MINOR(LK_ABI_VERSION_CURRENT)
      << "\n";
  return out.str();
}

std::string help_text(const Program& program, const po::options_description& options) {
  std::ostringstream out;
  for (std::size_t i = 0; i < program.synopsis.size(); ++i)
    out << (i == 0 ? "Usage: " : "  or:  ") << program.name << (program.synopsis[i].empty() ? "" : " ")
        << program.synopsis[i] << "\n";
  if (program.synopsis.empty()) out << "Usage: " << program.name << " [OPTION]...\n";
  print_paragraphs(out, program.description);
  out << "\nOptions:\n";
  print_options(out, options);
  print_options(out, standard_options());
  out << "\nOptions with a value take it as --opt VALUE or --opt=VALUE.\n";
  print_paragraphs(out, program.notes);
  out << "\nExit status:\n";
  for (const ExitStatus& status : program.exit_statuses) {
    std::string line = "  " + std::to_string(status.code);
    line.resize(6, ' ');
    out << line << fill(status.meaning, 6, 6) << "\n";
  }
  return out.str();
}

int report_usage_error(const Program& program, const std::string& problem) {
  std::cerr << program.name << ": " << problem << "\n"
            << "Try '" << program.name << " --help' for more information.\n";
  return kExitUsage;
}

std::string log_level_help(const std::string& what, const std::string& default_note) {
  return "the lowest level " + what + ": " + logging::kLogLevelChoices + " (default " + default_note + ")";
}

void add_log_level_option(po::options_description& options, std::string* value, const std::string& what,
                          const std::string& default_note) {
  options.add_options()("log-level", po::value(value)->value_name("LEVEL"), log_level_help(what, default_note).c_str());
}

void add_log_level_option(po::options_description& options, const std::string& what,
                          const std::string& default_note) {
  options.add_options()("log-level", po::value<std::vector<std::string>>()->value_name("LEVEL"),
                        log_level_help(what, default_note).c_str());
}

std::optional<std::string> log_level_problem(const std::string& value) {
  if (logging::parse_log_level(value)) return std::nullopt;
  return "'" + value + "' is not " + logging::kLogLevelChoices;
}

logging::LogLevel log_level_argument(const std::string& value) {
  if (const auto problem = log_level_problem(value)) throw UsageError("--log-level: " + *problem);
  return *logging::parse_log_level(value);
}

Parsed parse(const Program& program, const po::options_description& options, int argc, const char* const* argv,
             const po::positional_options_description* positional, const po::options_description* hidden) {
  return parse(program, options, std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc), positional,
               hidden);
}

po::parsed_options tokenize(const po::options_description& options, const std::vector<std::string>& args,
                            const po::positional_options_description* positional) {
  po::options_description all;
  all.add(options);
  po::positional_options_description none;
  if (positional == nullptr) {
    all.add_options()(kPositionalKey, po::value<std::vector<std::string>>());
    none.add(kPositionalKey, -1);
    positional = &none;
  }
  // GNU style: long options with "=" or the next word, short ones with the
  // next word or attached; an abbreviated long name is an unknown option.
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  try {
    po::parsed_options parsed = po::command_line_parser(args).options(all).positional(*positional).style(style).run();
    for (const po::option& option : parsed.options)
      if (option.string_key == kPositionalKey) throw UsageError("unexpected argument '" + option.value.front() + "'");
    // What is left is described by the caller's `options` (po::store reads
    // it): not by `all`, which ends here.
    parsed.description = &options;
    return parsed;
  } catch (const po::error& e) {
    throw UsageError(problem_text(e));
  }
}

Parsed parse(const Program& program, const po::options_description& options, const std::vector<std::string>& args,
             const po::positional_options_description* positional, const po::options_description* hidden) {
  Parsed result;
  po::options_description all;
  all.add(options).add(standard_options());
  if (hidden != nullptr) all.add(*hidden);
  try {
    po::parsed_options parsed = tokenize(all, args, positional);
    for (const po::option& option : parsed.options) {
      if (option.string_key == "help") {
        std::cout << help_text(program, options);
        result.exit_status = 0;
        return result;
      }
      if (option.string_key == "version") {
        std::cout << version_text(program.name);
        result.exit_status = 0;
        return result;
      }
    }
    po::store(parsed, result.values);
    po::notify(result.values);
    result.in_order = std::move(parsed.options);
  } catch (const po::error& e) {
    result.exit_status = report_usage_error(program, problem_text(e));
  } catch (const UsageError& e) {
    result.exit_status = report_usage_error(program, e.what());
  }
  return result;
}

}  // namespace latchkey::cli
