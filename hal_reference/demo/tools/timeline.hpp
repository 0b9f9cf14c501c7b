// Timeline: what lk-demo prints, one line per thing that happened, with the
// time since the demo started. Lines come from the demo's own thread (steps,
// actions, checks) and from the event stream's thread (the hub's events);
// a mutex keeps them whole.
#ifndef LATCHKEY_DEMO_TIMELINE_HPP
#define LATCHKEY_DEMO_TIMELINE_HPP

#include <latchkey/client/event_stream.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace lkdemo {

class Timeline {
 public:
  Timeline();

  // A heading for one part of the demo.
  void step(const std::string& title);
  // Something the demo (the courier, the issuer, the physical world) does.
  void act(const std::string& who, const std::string& what);
  // One of the hub's events (from /v1/events).
  void hub_event(const latchkey::client::SseEvent& event);
  // An expected outcome: prints ok or FAIL and remembers failures.
  bool check(bool ok, const std::string& expectation, const std::string& detail = "");
  // A plain indented line.
  void note(const std::string& text);

  double seconds() const;
  int checks() const;
  std::vector<std::string> failures() const;

 private:
  void line(const std::string& tag, const std::string& text);

  const std::chrono::steady_clock::time_point start_;
  mutable std::mutex mutex_;
  int checks_ = 0;
  std::vector<std::string> failures_;
  std::string last_repeated_;  // the last audit line shown, to fold repeats
  int repeats_ = 0;
};

}  // namespace lkdemo

#endif  // LATCHKEY_DEMO_TIMELINE_HPP
