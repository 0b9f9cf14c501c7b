#include <latchkey/common/log.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <errno.h>
#include <mutex>

namespace latchkey::logging {
namespace {

std::atomic<int> threshold{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> journal_format{false};
std::mutex program_mutex;
std::string program_name = program_invocation_short_name;  // guarded by program_mutex

// sd-daemon(3) priorities: error 3, warning 4, info 6, debug 7.
int journal_priority(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return 3;
    case LogLevel::kWarning: return 4;
    case LogLevel::kInfo: return 6;
    case LogLevel::kDebug: return 7;
  }
  return 6;
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warning") return LogLevel::kWarning;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void set_log_threshold(LogLevel level) { threshold = static_cast<int>(level); }
LogLevel log_threshold() { return static_cast<LogLevel>(threshold.load()); }
void set_journal_format(bool journal) { journal_format = journal; }

void set_log_program(std::string_view name) {
  const std::lock_guard lock(program_mutex);
  program_name = name;
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0, inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == device && static_cast<unsigned long long>(st.st_ino) == inode;
}

std::string rfc3339_utc_ms(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  struct tm utc {};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(((ms % 1000) + 1000) % 1000));
  return text;
}

std::string format_log_line(std::chrono::system_clock::time_point at, LogLevel level, std::string_view message,
                            std::string_view tag, bool journal) {
  std::string line;
  if (journal) {
    line = "<" + std::to_string(journal_priority(level)) + ">";
  } else {
    const std::lock_guard lock(program_mutex);
    line = rfc3339_utc_ms(at) + " " + program_name + " ";
  }
  line += tag.empty() ? std::string_view(log_level_name(level)) : tag;
  line += ": ";
  for (char c : message) {
    if (c == '\n') line += " | ";
    else if (c != '\r') line += c;
  }
  return line;
}

std::optional<JournalLine> parse_journal_line(std::string_view line) {
  if (line.size() < 4 || line[0] != '<' || line[1] < '0' || line[1] > '7' || line[2] != '>') return std::nullopt;
  const int priority = line[1] - '0';
  const std::string_view rest = line.substr(3);
  const auto colon = rest.find(": ");
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view tag = rest.substr(0, colon);
  for (char c : tag)
    if (c == ' ') return std::nullopt;  // one word before the colon
  JournalLine out;
  out.level = priority <= 3 ? LogLevel::kError : priority == 4 ? LogLevel::kWarning : priority <= 6 ? LogLevel::kInfo
                                                                                                   : LogLevel::kDebug;
  out.tag = tag;
  out.message = rest.substr(colon + 2);
  return out;
}

void log(LogLevel level, std::string_view message, std::string_view tag) {
  if (static_cast<int>(level) < threshold.load()) return;
  std::string line = format_log_line(std::chrono::system_clock::now(), level, message, tag, journal_format.load());
  line += '\n';
  // One write per line: lines from several threads never mix.
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace latchkey::logging
