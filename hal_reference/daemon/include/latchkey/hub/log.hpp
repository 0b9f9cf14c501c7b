// latchkeyd's log: one line per event on stderr (the log file when [hub]
// log_file is set), each with a level. Two forms:
//   plain    2026-12-07T19:45:12.345Z latchkeyd warning: <message>
//   journal  <4>warning: <message>
// The journal form is for a daemon whose stderr is systemd's journal (the
// JOURNAL_STREAM the service manager set names stderr): journald stamps the
// time itself and reads the priority from the "<N>" prefix. A message never
// spans lines: its line breaks are written as " | ".
#ifndef LATCHKEY_HUB_LOG_HPP
#define LATCHKEY_HUB_LOG_HPP

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::hub {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning", "error"; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view text);
const char* log_level_name(LogLevel level);

// Process-wide settings, made once at start-up before any thread logs.
// Lines below the threshold (default info) are not written.
void set_log_threshold(LogLevel level);
LogLevel log_threshold();
void set_journal_format(bool journal);
// True when stderr is the stream JOURNAL_STREAM ("<device>:<inode>") names.
bool stderr_is_journal();

// Writes one line (thread-safe). `tag` is the word shown before the message
// ("alarm", "plugin"); empty: the level's name.
void log(LogLevel level, std::string_view message, std::string_view tag = {});
// The line log() writes in the plain form, without the newline (for tests).
std::string format_log_line(std::chrono::system_clock::time_point at, LogLevel level, std::string_view message,
                            std::string_view tag, bool journal);

// RFC 3339 in UTC with milliseconds: 2026-12-07T19:45:12.345Z.
std::string rfc3339_utc_ms(std::chrono::system_clock::time_point t);

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_LOG_HPP
