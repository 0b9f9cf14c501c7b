// Every tunable parameter of docs/rules.md with its default and bounds. A value out
// of bounds is refused with a message naming the key, the value and the bounds.
#ifndef LATCHKEY_GATE_CONFIG_HPP
#define LATCHKEY_GATE_CONFIG_HPP

#include <latchkey/rules/rule.hpp>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::gate {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// C8: what a camera's frames must look like, set per camera at enrolment.
// Units are those of the attestation's SceneMeasurements (fixed point).
struct SceneLimits {
  // A camera whose attestations carry no measurements is out of limits
  // when this is set; when it is not, such a camera is not checked for C8
  // (a camera that measures is always checked).
  bool required = false;
  uint32_t min_luminance = 8'000;      // mean GRAY8 level x 1000: below is a covered or dark lens
  uint32_t max_luminance = 247'000;    // above is a blinded sensor
  uint32_t min_sharpness = 300;        // mean |Laplacian| x 1000: below is a smeared or defocused lens
  uint32_t min_similarity = 300;       // 0-1000 likeness to the reference view: below is a turned camera

  // Throws std::invalid_argument naming the limit and its bounds: luminance
  // 0-255000 with min < max, sharpness 0-1020000, similarity 0-1000.
  void validate() const;
};

struct GateConfig {
  // G1: accepted clock skew on a grant's window.
  int64_t grant_skew_ms = 60'000;
  // G2: how long a hub challenge stays valid.
  int64_t challenge_ttl_ms = 30'000;
  // C2: nonce period; an echoed nonce may be at most nonce_window_periods periods old.
  int64_t nonce_period_ms = 250;
  // C4: a camera is LIVE while its last accepted attestation is younger than this.
  int64_t live_timeout_ms = 1'000;
  // C5: identical frame digests for longer than this make a camera not LIVE.
  int64_t freeze_window_ms = 3'000;
  // C7: a frame digest that returns to one accepted within this window (other
  // than the run just before it) means looped footage: not LIVE.
  int64_t loop_window_ms = 60'000;
  // C8: a camera's own scene measurements out of its limits for longer
  // than this make it not LIVE and raise a camera-tamper alarm.
  int64_t tamper_window_ms = 2'000;
  // C6: a bound camera not LIVE this long raises a camera-offline alarm.
  int64_t health_timeout_ms = 10'000;
  // U4: the relock deadline carried by every unlock command.
  int64_t relock_deadline_ms = 60'000;
  // U7: the door must be closed and locked this long after the unlock.
  int64_t session_max_ms = 300'000;
  // U2: how long the hub waits for every required camera to acknowledge recording.
  int64_t recording_ack_timeout_ms = 3'000;
  // F1: how long a lock or unlock command may take before the lock is in doubt.
  int64_t lock_command_timeout_ms = 5'000;

  // Fixed by docs/rules.md (not configurable).
  static constexpr int64_t kNonceWindowPeriods = 3;                // C2
  static constexpr int64_t kLiveMinConsecutive = 4;                // C4
  static constexpr int64_t kDriftWindowMs = 5'000;                 // C3
  static constexpr int64_t kMaxArrivalLagMs = 1'000;               // C8: how far back a window may start
  static constexpr int64_t kDriftPercent = 10;                     // C3
  static constexpr int64_t kLockoutThreshold = 5;                  // G4
  static constexpr int64_t kLockoutWindowMs = 10 * 60'000;         // G4
  static constexpr int64_t kLockoutBaseMs = 60'000;                // G4
  static constexpr int64_t kLockoutMaxMs = 60 * 60'000;            // G4
  static constexpr int64_t kMaxGrantLifetimeMs = 24 * 3'600'000LL; // G1
  static constexpr int64_t kClockSyncMaxAgeMs = 24 * 3'600'000LL;  // F1
  static constexpr int64_t kRelockAfterCloseMs = 1'000;            // U8
  static constexpr int kMaxChallengesPerDoor = 64;                 // bounds memory under a challenge flood
  static constexpr int kMaxEvictedChallengesPerDoor = 4096;        // G4: dropped challenges remembered (32 B each)

  struct Bound {
    std::string_view key;
    int64_t GateConfig::*field;
    int64_t min;
    int64_t max;
    Rule rule;
  };
  static const std::vector<Bound>& bounds();

  // Throws ConfigError naming the first key out of bounds.
  void validate() const;
  // Sets one key from text ("250"); throws ConfigError for an unknown key,
  // a value that is not an integer, or one out of bounds.
  void set(std::string_view key, std::string_view value);
  // Reads "key = value" lines ('#' comments). Throws ConfigError with the line number.
  static GateConfig parse(std::string_view text);
  // key -> value of every parameter, for the audit log and status.
  std::map<std::string, int64_t> to_map() const;
};

}  // namespace latchkey::gate

#endif  // LATCHKEY_GATE_CONFIG_HPP
