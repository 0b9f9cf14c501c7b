// latchkeyd's log is the log every Latchkey program shares
// (latchkey/common/log.hpp); these names keep the hub's code in its own
// namespace.
#ifndef LATCHKEY_HUB_LOG_HPP
#define LATCHKEY_HUB_LOG_HPP

#include <latchkey/common/log.hpp>

namespace latchkey::hub {

using logging::format_log_line;
using logging::log;
using logging::log_level_name;
using logging::log_threshold;
using logging::LogLevel;
using logging::parse_log_level;
using logging::rfc3339_utc_ms;
using logging::set_journal_format;
using logging::set_log_program;
using logging::set_log_threshold;
using logging::stderr_is_journal;

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_LOG_HPP
