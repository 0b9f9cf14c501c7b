// The log of every long-running Latchkey program: one line per event on
// stderr (a log file when the program redirects stderr), each with a level.
// Two forms:
//   plain    2026-12-07T19:45:12.345Z latchkeyd warning: <message>
//   journal  <4>warning: <message>
// The journal form is for a program whose stderr is systemd's journal (the
// JOURNAL_STREAM the service manager set names stderr): journald stamps the
// time and the program itself and reads the priority from the "<N>" prefix.
// lk-plugin-host always writes the journal form: its stderr is latchkeyd's
// pipe, and the hub reads each line back (parse_journal_line) and logs it at
// its level, stamped once, by the hub.
// A message never spans lines: its line breaks are written as " | ".
#ifndef LATCHKEY_COMMON_LOG_HPP
#define LATCHKEY_COMMON_LOG_HPP

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::logging {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning", "error"; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view text);
const char* log_level_name(LogLevel level);
// The text --log-level's help and its error name: "debug, info, warning or error".
inline constexpr const char* kLogLevelChoices = "debug, info, warning or error";

// Process-wide settings, made once at start-up before any thread logs.
// Lines below the threshold (default info) are not written.
void set_log_threshold(LogLevel level);
LogLevel log_threshold();
void set_journal_format(bool journal);
// The name in plain lines ("latchkeyd", "lk-camera-agent[cam-1]"); default:
// the program's file name.
void set_log_program(std::string_view name);
// True when stderr is the stream JOURNAL_STREAM ("<device>:<inode>") names.
bool stderr_is_journal();

// Writes one line (thread-safe). `tag` is the word shown before the message
// ("alarm", "plugin"); empty: the level's name.
void log(LogLevel level, std::string_view message, std::string_view tag = {});
// The line log() writes, without the newline (for tests).
std::string format_log_line(std::chrono::system_clock::time_point at, LogLevel level, std::string_view message,
                            std::string_view tag, bool journal);

// A line in the journal form, read back: the level its "<N>" prefix gives
// (0-3 error, 4 warning, 5-6 info, 7 debug), the word before ": " (a level's
// name or a tag such as "plugin") and the message.
struct JournalLine {
  LogLevel level;
  std::string tag;
  std::string message;
};
// nullopt when `line` is not in the journal form ("<N>word: message").
std::optional<JournalLine> parse_journal_line(std::string_view line);

// RFC 3339 in UTC with milliseconds: 2026-12-07T19:45:12.345Z.
std::string rfc3339_utc_ms(std::chrono::system_clock::time_point t);

}  // namespace latchkey::logging

#endif  // LATCHKEY_COMMON_LOG_HPP
