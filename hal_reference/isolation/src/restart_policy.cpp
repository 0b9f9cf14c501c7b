#include "restart_policy.hpp"

#include <algorithm>

namespace latchkey::isolation {

RestartPolicy::Decision RestartPolicy::on_failure(uint64_t now_ns) {
  failure_times_ns_.push_back(now_ns);
  const uint64_t window = static_cast<uint64_t>(config_.quarantine_window_ms) * 1'000'000;
  while (!failure_times_ns_.empty() && now_ns - failure_times_ns_.front() > window) failure_times_ns_.pop_front();
  Decision d;
  d.recent = failure_times_ns_.size();
  d.quarantine = static_cast<int>(d.recent) >= config_.quarantine_failures;
  d.restart_in_ms = backoff_ms();
  return d;
}

int64_t RestartPolicy::backoff_ms() const {
  const std::size_t recent = failure_times_ns_.size();
  int64_t delay = config_.restart_backoff_ms;
  for (std::size_t i = 1; i < recent && delay < config_.restart_backoff_max_ms; ++i) delay *= 2;
  return std::min(delay, config_.restart_backoff_max_ms);
}

}  // namespace latchkey::isolation
