// Refused messages on a camera's link, told to the hub
// (LK_CAMERA_STATUS_MESSAGE_REFUSED, docs/camera-link.md "Refused messages").
//
// Two sources: the plugin's own refusals (an attestation of no or too many
// bytes, a hello that is malformed or not this camera's, an unknown state)
// and the hub broker's guard, which refuses foreign and oversized publishes
// before anyone sees them and reports each on latchkey/broker/refused/<id>
// as "<kind> <count> <reason>" (hal_reference/broker_guard).
//
// RefusalPacer lets through at most one report per kind per interval: a
// sender who repeats a bad message at will costs the hub one audit record a
// second; the rest are counted into the next report. Thread-safe.
#ifndef LATCHKEY_NET_CAMERA_REFUSALS_HPP
#define LATCHKEY_NET_CAMERA_REFUSALS_HPP

#include <latchkey/lk_camera.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace latchkey::net_camera {

struct Refusal {
  lk_camera_refusal kind = LK_CAMERA_REFUSED_MALFORMED;
  uint64_t count = 1;   // refusals this stands for
  std::string reason;   // printable ASCII
};

// Parses a guard report. nullopt (and *error says why) for anything but
// "foreign|oversized <1..10^9> <printable reason>" of at most 256 bytes.
std::optional<Refusal> parse_broker_report(const uint8_t* data, std::size_t size, std::string* error);

// The text of a refusal event: its reason, the count when more than one,
// cut to LK_CAMERA_REFUSAL_TEXT_MAX bytes of printable ASCII.
std::string refusal_text(const Refusal& refusal);

class RefusalPacer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RefusalPacer(std::chrono::milliseconds interval = std::chrono::seconds(1)) : interval_(interval) {}

  // A refusal happened: returns what to report now, or nothing (it is counted).
  std::optional<Refusal> admit(Refusal refusal, Clock::time_point now = Clock::now());
  // Reports held back whose interval has passed (one per kind).
  std::vector<Refusal> due(Clock::time_point now = Clock::now());

 private:
  struct Slot {
    std::optional<Clock::time_point> last;
    uint64_t held = 0;       // refusals counted since the last report
    std::string reason;      // the latest held one's
  };
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::map<lk_camera_refusal, Slot> slots_;
};

}  // namespace latchkey::net_camera

#endif  // LATCHKEY_NET_CAMERA_REFUSALS_HPP
