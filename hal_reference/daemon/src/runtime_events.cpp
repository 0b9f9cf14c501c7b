// The runtime's event hub: the events published to subscribers (the API's
// event stream), the recent history a new subscriber catches up from, and
// the camera liveness changes the runtime publishes.
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
    event = HubEvent{++next_event_id, std::move(data)};
    events.push_back(event);
    if (events.size() > kEventHistory) events.pop_front();
    for (auto& [id, fn] : subscribers) targets.push_back(fn);
  }
  for (auto& fn : targets) fn(event);
}

// Publishes a change of one camera's liveness (after its attestation).
void Runtime::Impl::publish_liveness(const std::string& id) {
  auto it = camera_live.find(id);
  if (it == camera_live.end()) return;
  const bool live = engine->camera_live(id, now());
  if (live == it->second) return;
  it->second = live;
  CameraLiveness change{id, live, mono_us(), std::nullopt};
  // The hub time of the last accepted attestation: where U5's
  // live_timeout + 50 ms is counted from.
  const gate::LivenessMonitor* m = engine->monitor(id);
  if (m && m->last_accepted()) change.last_accepted_mono_us = static_cast<int64_t>(*m->last_accepted() / 1000);
  publish(change);
}

// Every camera, on the engine's timer: liveness also ends by time.
void Runtime::Impl::publish_liveness() {
  for (const auto& [id, was] : camera_live) publish_liveness(id);
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
