// latchkeyd under systemd (Type=notify, docs/latchkeyd.md "Running under
// systemd"): readiness once the API listens, the watchdog beat from the
// loop thread, and stopping. Outside systemd (no NOTIFY_SOCKET) every call
// does nothing.
#ifndef LATCHKEY_HUB_SERVICE_MANAGER_HPP
#define LATCHKEY_HUB_SERVICE_MANAGER_HPP

#include <chrono>
#include <string>

namespace latchkey::hub::service {

// READY=1 with a status line for `systemctl status`.
void ready(const std::string& status);
// WATCHDOG=1: the loop thread is turning.
void watchdog_beat();
// STOPPING=1 with a status line.
void stopping(const std::string& status);
// STATUS=... alone (e.g. why the start failed).
void status(const std::string& status);
// How often to beat: half the WatchdogSec the service manager asked for
// (WATCHDOG_USEC, for this process), zero when it asked for none.
std::chrono::milliseconds watchdog_period();

}  // namespace latchkey::hub::service

#endif  // LATCHKEY_HUB_SERVICE_MANAGER_HPP
