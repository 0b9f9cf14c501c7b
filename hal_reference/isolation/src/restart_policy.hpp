// When a failed host comes back, and when it does not: the restart delay
// doubles with each failure inside the quarantine window, and enough
// failures inside it quarantine the plugin (docs/isolation.md).
#ifndef LATCHKEY_ISOLATION_RESTART_POLICY_HPP
#define LATCHKEY_ISOLATION_RESTART_POLICY_HPP

#include <latchkey/isolation/plugin_runner.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>

namespace latchkey::isolation {

class RestartPolicy {
 public:
  explicit RestartPolicy(const SupervisionConfig& config) : config_(config) {}

  struct Decision {
    bool quarantine = false;
    int64_t restart_in_ms = 0;  // the delay before the next host (not quarantined)
    std::size_t recent = 0;     // failures inside the window, this one included
  };
  // Counts a failure at now_ns (monotonic) and decides what follows it.
  Decision on_failure(uint64_t now_ns);

  std::size_t recent_failures() const noexcept { return failure_times_ns_.size(); }

 private:
  int64_t backoff_ms() const;

  const SupervisionConfig& config_;
  std::deque<uint64_t> failure_times_ns_;
};

}  // namespace latchkey::isolation

#endif  // LATCHKEY_ISOLATION_RESTART_POLICY_HPP
