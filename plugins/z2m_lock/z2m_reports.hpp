// Zigbee2MQTT's state messages, as the driver reads them (README.md,
// "What the driver reads"): the lock's on <base>/<lock>, the contact
// sensor's on <base>/<sensor>. Pure parsing with Poco::JSON, so the rules are
// tested (and fuzzed) without a broker. Anything that is not a JSON object of
// at most kMaxPayloadBytes, or holds a known field of the wrong type or with
// a value Zigbee2MQTT does not document, is refused with the reason.
#ifndef LATCHKEY_Z2M_LOCK_Z2M_REPORTS_HPP
#define LATCHKEY_Z2M_LOCK_Z2M_REPORTS_HPP

#include <latchkey/latchkey.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace latchkey::z2m {

inline constexpr std::size_t kMaxPayloadBytes = 4096;

struct LockReport {
  std::optional<lk_lock_state> lock_state;  // lock_state: locked, unlocked, not_fully_locked
  std::optional<bool> state_locked;         // state: LOCK / UNLOCK (the last command, not the bolt)
  bool jammed = false;                      // action error_jammed, or the lock's door_state error_jammed
  std::optional<lk_operation_source> source;  // who moved the bolt, from action / action_source_name
  std::optional<uint32_t> auto_relock_time_s;  // present: the lock can relock by itself
  std::string action;                       // as given ("" when absent or null)
};

struct SensorReport {
  std::optional<bool> contact;  // true: closed
};

// Empty optional and *error set when refused.
std::optional<LockReport> parse_lock_report(const uint8_t* data, std::size_t size, std::string* error);
std::optional<SensorReport> parse_sensor_report(const uint8_t* data, std::size_t size, std::string* error);

}  // namespace latchkey::z2m

#endif  // LATCHKEY_Z2M_LOCK_Z2M_REPORTS_HPP
