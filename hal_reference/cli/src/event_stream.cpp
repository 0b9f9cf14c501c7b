#include <latchkey/client/api_client.hpp>
#include <latchkey/client/api_json.hpp>
#include <latchkey/client/event_stream.hpp>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>

#include <charconv>
#include <istream>

namespace latchkey::client {

Poco::JSON::Object::Ptr SseEvent::json() const {
  try {
    return parse_json_object(data);
  } catch (const std::runtime_error&) {
    return nullptr;
  }
}

EventStream::EventStream(ApiEndpoint endpoint, std::string token)
    : endpoint_(std::move(endpoint)), token_(std::move(token)) {}

EventStream::~EventStream() = default;

void EventStream::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  if (session_) {
    try {
      session_->socket().shutdown();
    } catch (const Poco::Exception&) {
      // Not connected (yet or any more): read() sees stopped_.
    }
  }
}

void EventStream::read(const std::function<bool(const SseEvent&)>& handler, uint64_t last_event_id,
                       const std::function<void()>& on_open) {
  const std::string what = "GET " + endpoint_.url() + "/v1/events";
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    session_ = std::make_unique<Poco::Net::HTTPClientSession>(endpoint_.host, endpoint_.port);
    // Events may be minutes apart: no receive timeout; stop() ends the wait.
    session_->setTimeout(Poco::Timespan(2, 0), Poco::Timespan(2, 0), Poco::Timespan(0, 0));
  }
  try {
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/v1/events", Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + token_);
    request.set("Accept", "text/event-stream");
    if (last_event_id > 0) request.set("Last-Event-ID", std::to_string(last_event_id));
    session_->sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session_->receiveResponse(response);
    if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK ||
        response.getContentType().rfind("text/event-stream", 0) != 0) {
      std::string body;
      Poco::StreamCopier::copyToString(in, body);
      throw ApiError(what + ": HTTP " + std::to_string(static_cast<int>(response.getStatus())) + " " +
                         response.getContentType() + ": " + body.substr(0, 200),
                     static_cast<int>(response.getStatus()));
    }
    if (on_open) on_open();
    SseEvent event;
    bool has_data = false;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (has_data || !event.name.empty()) {
          event.received = std::chrono::steady_clock::now();
          if (!handler(event)) break;
        }
        event = SseEvent{};
        has_data = false;
        continue;
      }
      if (line[0] == ':') continue;
      const std::size_t colon = line.find(':');
      const std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      if (field == "id") {
        uint64_t id = 0;
        std::from_chars(value.data(), value.data() + value.size(), id);
        event.id = id;
      } else if (field == "event") {
        event.name = value;
      } else if (field == "data") {
        if (has_data) event.data += '\n';
        event.data += value;
        has_data = true;
      }
    }
  } catch (const Poco::Exception& e) {
    std::lock_guard lock(mutex_);
    if (!stopped_) throw ApiError(what + ": " + e.displayText());
  }
  std::lock_guard lock(mutex_);
  session_.reset();
}

}  // namespace latchkey::client
