#include "timeline.hpp"

#include <latchkey/client/api_json.hpp>
#include <latchkey/client/event_text.hpp>

#include <cstdio>

namespace lkdemo {

namespace client = latchkey::client;

Timeline::Timeline() : start_(std::chrono::steady_clock::now()) {}

double Timeline::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Timeline::line(const std::string& tag, const std::string& text) {
  std::lock_guard lock(mutex_);
  std::printf("[%7.3f s] %-9s %s\n", seconds(), tag.c_str(), text.c_str());
  std::fflush(stdout);
}

void Timeline::step(const std::string& title) {
  std::lock_guard lock(mutex_);
  std::printf("\n== %s ==\n", title.c_str());
  std::fflush(stdout);
}

void Timeline::act(const std::string& who, const std::string& what) { line(who, what); }

void Timeline::note(const std::string& text) {
  std::lock_guard lock(mutex_);
  std::printf("            %s\n", text.c_str());
  std::fflush(stdout);
}

void Timeline::hub_event(const client::SseEvent& event) {
  // Audit records repeat what the other events say (and every rejected
  // attestation is one): the timeline shows only those with a rule that no
  // other event carries.
  // A frozen camera has every attestation rejected: one line, then a count.
  if (event.name == "audit") {
    const auto json = event.json();
    const std::string type = client::json_text(json, "type");
    if (type != "attestation_rejected" && type != "plugin_fault") return;
    const std::string key = type + "/" + client::json_text(json, "subject") + "/" + client::json_text(json, "rule");
    std::lock_guard lock(mutex_);
    if (key == last_repeated_) {
      ++repeats_;
      return;
    }
  }
  std::string text = client::describe_event_data(event);
  {
    std::lock_guard lock(mutex_);
    if (repeats_ > 0) {
      std::printf("            (%d more like it)\n", repeats_);
    }
    repeats_ = 0;
    last_repeated_.clear();
    if (event.name == "audit") {
      const auto json = event.json();
      last_repeated_ = client::json_text(json, "type") + "/" + client::json_text(json, "subject") + "/" +
                       client::json_text(json, "rule");
    }
  }
  line("hub:" + event.name, text);
}

bool Timeline::check(bool ok, const std::string& expectation, const std::string& detail) {
  {
    std::lock_guard lock(mutex_);
    ++checks_;
    if (!ok) failures_.push_back(expectation + (detail.empty() ? "" : " (" + detail + ")"));
  }
  line(ok ? "ok" : "FAIL", expectation + (detail.empty() ? "" : " (" + detail + ")"));
  return ok;
}

int Timeline::checks() const {
  std::lock_guard lock(mutex_);
  return checks_;
}

std::vector<std::string> Timeline::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

}  // namespace lkdemo
