#include "service_manager.hpp"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <string>

namespace latchkey::hub::service {
namespace {

// A status line is one line: systemd reads the message as KEY=VALUE lines.
std::string one_line(const std::string& text) {
  std::string out = text;
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

void notify(const std::string& message) {
  // The environment stays set (0): the watchdog beats need NOTIFY_SOCKET for
  // the daemon's whole life. NotifyAccess=main makes systemd ignore anything
  // the plugin hosts, which inherit it, might send.
  (void)sd_notify(0, message.c_str());
}

}  // namespace

void ready(const std::string& status) { notify("READY=1\nSTATUS=" + one_line(status)); }
void watchdog_beat() { notify("WATCHDOG=1"); }
void stopping(const std::string& status) { notify("STOPPING=1\nSTATUS=" + one_line(status)); }
void status(const std::string& status) { notify("STATUS=" + one_line(status)); }

std::chrono::milliseconds watchdog_period() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::max<uint64_t>(usec / 2000, 1));
}

}  // namespace latchkey::hub::service
