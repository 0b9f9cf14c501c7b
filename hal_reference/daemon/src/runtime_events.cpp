// The runtime's event hub: the events published to subscribers (the API's
// event stream), the recent history a new subscriber catches up from, and
// that is all: liveness changes come from the engine (gate::LivenessChanged).
#include "runtime_impl.hpp"

#include "runtime_views.hpp"

namespace latchkey::hub {
namespace {

constexpr std::size_t kEventHistory = 512;

}  // namespace

void Runtime::Impl::publish(EventData data) {
  std::vector<std::function<void(const HubEvent&)>> targets;
  HubEvent event;
  {
    std::lock_guard lock(events_mutex);
    event = HubEvent{++next_event_id, std::move(data), wall_ms()};
    events.push_back(event);
    if (events.size() > kEventHistory) events.pop_front();
    for (auto& [id, fn] : subscribers) targets.push_back(fn);
  }
  for (auto& fn : targets) fn(event);
}

// ---- HubApi: subscriptions ----

uint64_t Runtime::subscribe(uint64_t since_id, std::function<void(const HubEvent&)> on_event) {
  Impl& s = *impl_;
  std::lock_guard lock(s.events_mutex);
  for (const HubEvent& e : s.events)
    if (e.id > since_id) on_event(e);
  const uint64_t id = ++s.next_subscriber;
  s.subscribers[id] = std::move(on_event);
  return id;
}

void Runtime::unsubscribe(uint64_t subscription) {
  std::lock_guard lock(impl_->events_mutex);
  impl_->subscribers.erase(subscription);
}
}  // namespace latchkey::hub
