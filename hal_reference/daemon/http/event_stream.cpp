#include "event_stream.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <ostream>

#include "complete_request.hpp"
#include "json_reply.hpp"
#include "latchkey/http/api_json.hpp"
#include "request_target.hpp"

namespace latchkey::hub::http {
namespace {

// How often an idle stream looks whether its client is still there.
constexpr int kClientCheckMs = 500;

// Removes the stream from the core and unsubscribes, however the handler ends.
class StreamRegistration {
 public:
  StreamRegistration(ServerCore& core, std::shared_ptr<EventQueue> queue)
      : core_(core), queue_(std::move(queue)) {}
  ~StreamRegistration() {
    if (subscribed_) {
      try {
        core_.api.unsubscribe(subscription_);
      } catch (...) {
        // The hub may be going down; nothing more can be done for this stream.
      }
    }
    core_.remove_stream(queue_);
  }
  StreamRegistration(const StreamRegistration&) = delete;
  StreamRegistration& operator=(const StreamRegistration&) = delete;

  void subscribed(uint64_t id) {
    subscription_ = id;
    subscribed_ = true;
  }

 private:
  ServerCore& core_;
  std::shared_ptr<EventQueue> queue_;
  uint64_t subscription_ = 0;
  bool subscribed_ = false;
};

// True when the client closed its side or sent anything (a client of an event
// stream has nothing more to say; bytes there mean it gave up or misbehaves).
bool client_gone(Poco::Net::HTTPServerRequest& request) {
  auto* complete = dynamic_cast<CompleteRequest*>(&request);
  return complete != nullptr && complete->client_gone();
}

std::string clean_event_name(const std::string& name) {
  std::string clean;
  for (char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
        c == '-' || c == '.')
      clean.push_back(c);
  }
  return clean.empty() ? "message" : clean;
}

}  // namespace

std::string format_event(uint64_t id, const std::string& name, const std::string& data) {
  std::string out = "id: " + std::to_string(id) + "\nevent: " + clean_event_name(name) + "\n";
  std::size_t start = 0;
  while (true) {
    std::size_t end = data.find_first_of("\r\n", start);
    std::string_view line(data.data() + start,
                          (end == std::string::npos ? data.size() : end) - start);
    out += "data: ";
    out += line;
    out += '\n';
    if (end == std::string::npos) break;
    start = end + 1;
    if (data[end] == '\r' && start < data.size() && data[start] == '\n') ++start;
  }
  out += '\n';
  return out;
}

std::string format_event(const HubEvent& event) {
  return format_event(event.id, event_name(event.data), event_json(event));
}

void serve_event_stream(ServerCore& core, Poco::Net::HTTPServerRequest& request,
                        Poco::Net::HTTPServerResponse& response) {
  uint64_t since_id = 0;
  if (request.has("Last-Event-ID")) {
    auto parsed = parse_decimal_u64(request.get("Last-Event-ID"));
    if (!parsed) {
      send_error(response, 400, "Last-Event-ID must be a decimal event id");
      return;
    }
    since_id = *parsed;
  }

  auto queue = std::make_shared<EventQueue>(core.options.event_queue_limit);
  if (!core.add_stream(queue)) {
    response.set("Retry-After", "5");
    send_error(response, 503, core.stopping() ? "server stopping" : "too many event streams");
    return;
  }
  StreamRegistration registration(core, queue);
  // The callback holds the queue, not this frame: the hub may call it once
  // more while unsubscribe is on its way.
  registration.subscribed(core.api.subscribe(since_id, [queue](const HubEvent& e) { queue->push(e); }));

  response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
  set_common_headers(response);
  response.setContentType("text/event-stream");
  response.setChunkedTransferEncoding(true);
  response.setKeepAlive(false);
  std::ostream& out = response.send();
  out << "retry: 2000\n: stream open\n\n";
  out.flush();

  const int heartbeat_ms = std::max(1, core.options.heartbeat_ms);
  auto next_heartbeat = std::chrono::steady_clock::now() + std::chrono::milliseconds(heartbeat_ms);
  std::deque<HubEvent> events;
  while (out.good()) {
    auto until_heartbeat = std::chrono::duration_cast<std::chrono::milliseconds>(
                               next_heartbeat - std::chrono::steady_clock::now())
                               .count();
    int wait_ms = static_cast<int>(std::clamp<long long>(until_heartbeat, 0, kClientCheckMs));
    events.clear();
    auto wake = queue->wait(wait_ms, events);
    if (wake == EventQueue::Wake::Closed) break;
    if (wake == EventQueue::Wake::Overflowed) {
      out << ": dropped, too far behind; resume with Last-Event-ID\n\n";
      out.flush();
      break;
    }
    if (wake == EventQueue::Wake::Events) {
      for (const auto& event : events) out << format_event(event);
      out.flush();
    }
    if (std::chrono::steady_clock::now() >= next_heartbeat) {
      out << ": heartbeat\n\n";
      out.flush();
      next_heartbeat = std::chrono::steady_clock::now() + std::chrono::milliseconds(heartbeat_ms);
    }
    if (client_gone(request)) break;
  }
}

}  // namespace latchkey::hub::http
