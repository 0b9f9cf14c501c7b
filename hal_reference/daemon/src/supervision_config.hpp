// How latchkeyd supervises an isolated plugin's host, from the [isolation]
// section (docs/isolation.md). One definition for the runtime and for
// `latchkeyd --check`, which opens the plugins the same way.
#ifndef LATCHKEY_HUB_SUPERVISION_CONFIG_HPP
#define LATCHKEY_HUB_SUPERVISION_CONFIG_HPP

#include <latchkey/hub/daemon_config.hpp>
#include <latchkey/isolation/plugin_runner.hpp>

#include <filesystem>

namespace latchkey::hub {

// `work_dir`: the host's private working directory.
inline isolation::SupervisionConfig supervision_config(const IsolationConfig& i, const std::filesystem::path& work_dir) {
  isolation::SupervisionConfig c;
  c.host_program = i.host_program.empty() ? isolation::default_host_program() : i.host_program;
  c.work_dir = work_dir;
  c.call_deadline_ms = i.call_deadline_ms;
  c.heartbeat_interval_ms = i.heartbeat_interval_ms;
  c.restart_backoff_ms = i.restart_backoff_ms;
  c.restart_backoff_max_ms = i.restart_backoff_max_ms;
  c.quarantine_failures = static_cast<int>(i.quarantine_failures);
  c.quarantine_window_ms = i.quarantine_window_s * 1000;
  c.address_space_bytes = static_cast<uint64_t>(i.address_space_mb) << 20;
  c.max_open_files = static_cast<uint64_t>(i.open_files);
  return c;
}

}  // namespace latchkey::hub

#endif
