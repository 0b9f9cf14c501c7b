// AttackWorld: the 2017 attack on a real path (docs/attack-path.md).
//
// A camera namespace joined to the hub side by a veth (NetnsLink); the
// hub's Mosquitto bound on the hub side's address; lk-camera-agent inside
// the camera namespace on an FFmpeg test source; a real latchkeyd with the
// simulated lock and the net_camera plugin relaying the agent's
// attestations, its door bound to that camera; an attacker namespace on the
// same segment, holding the hub's and the camera's broker passwords (the
// worst case), which records every attestation it can read.
//
// A trial opens a delivery session (grant, challenge, unlock allowed, the
// door opened or left closed), breaks the camera in one way and reads, from
// the hub's own event stream, the hub-monotonic times of
//   - the last accepted attestation (camera event, last_accepted_mono_us),
//   - the relock command (door event, door closed) or the alarm (alarm
//     event, door open) the U5 supervision raised (mono_us),
// and the detection delay = action - last accepted, to hold to
// live_timeout + 50 ms (docs/rules.md U5, I4). No wall-clock sleeps are measured.
//
// Used by attack_path_test (a few trials each, under ctest) and
// lk-attack-path (the soak, tools/soak-camera-link.sh). No gtest here.
#ifndef LATCHKEY_TESTS_ATTACK_PATH_ATTACK_WORLD_HPP
#define LATCHKEY_TESTS_ATTACK_PATH_ATTACK_WORLD_HPP

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace latchkey::attack {

enum class Fault { kLinkDown, kLoss, kDelay, kReplay, kFrozen, kLooped };
inline constexpr Fault kAllFaults[] = {Fault::kLinkDown, Fault::kLoss,   Fault::kDelay,
                                       Fault::kReplay,   Fault::kFrozen, Fault::kLooped};
const char* fault_name(Fault fault);  // link_down, loss, delay, replay, frozen, looped
std::optional<Fault> parse_fault(const std::string& name);

struct WorldOptions {
  std::filesystem::path latchkeyd;   // the build's latchkeyd
  std::filesystem::path plugin_dir;  // lk_sim_lock.so, lk_sim_camera.so, lk_ref_authz.so, lk_net_camera.so
  std::filesystem::path agent;       // lk-camera-agent
  // [gate]: C2 and C4 at their defaults; C5's freeze_window at its lower
  // bound (default 3000) so that frozen trials are short.
  int64_t nonce_period_ms = 250;
  int64_t live_timeout_ms = 1000;
  int64_t freeze_window_ms = 1000;
  // The agent: lavfi testsrc2 at source_rate frames/s, one attestation per period.
  int agent_period_ms = 100;
  int source_rate = 10;
  std::chrono::milliseconds delay{1500};  // fault (c): beyond live_timeout
  int replay_count = 15;                  // (d): attestations replayed, one per agent period
  int freeze_after_s = 5;                 // (e): the agent freezes this long after it starts
  int clip_seconds = 6;                   // (f): the looped clip's length ...
  int clip_rate = 5;                      // ... and frame rate
  std::function<void(const std::string&)> log;  // progress lines; may be empty
};

// The build's latchkeyd, plugin folder and lk-camera-agent (from CMake),
// everything else at the defaults above.
WorldOptions default_world_options();

struct TrialResult {
  Fault fault = Fault::kLinkDown;
  bool door_open = false;
  int attempts = 0;
  // Valid: the session was open (unlocked) when the camera stopped being
  // LIVE, and the loss followed the fault. Invalid trials are retried and
  // never count as a detection or a miss.
  bool valid = false;
  std::string invalid_reason;
  // Detected: the camera stopped being LIVE and the hub relocked (door
  // closed) or alarmed (door open) for U5.
  bool detected = false;
  std::string failure;  // why not detected, or what else went wrong
  std::string cause;    // "timeout" (silence past live_timeout) or "rejected Cn: reason"
  // Hub monotonic times, microseconds.
  int64_t fault_us = 0;          // when the test applied the fault (same clock, test side)
  int64_t last_accepted_us = 0;  // the last accepted attestation before the loss
  int64_t loss_us = 0;           // when the hub ended LIVE
  int64_t alarm_us = 0;          // U5 alarm
  int64_t relock_us = 0;         // U5 relock command (door closed)
  int64_t action_us = 0;         // relock (door closed) or alarm (door open)
  int64_t delay_us = 0;          // action_us - last_accepted_us
  bool within_target = false;    // delay_us <= live_timeout + 50 ms
  // Replay (d).
  int replay_published = 0;
  int64_t replay_rejected = 0;           // rejected attestations counted by the hub meanwhile
  std::set<std::string> replay_rules;    // rules of those rejections (C2, C3)
  bool replay_accepted = false;          // an attestation was accepted after the cut
  bool replay_made_live = false;         // a "live": true event after the cut

  std::string describe() const;
};

struct FaultStats {
  int trials = 0;    // valid trials
  int invalid = 0;   // retried away (see TrialResult::valid)
  int misses = 0;    // valid, and not detected or later than the target
  double p50_ms = 0, p99_ms = 0, max_ms = 0;  // detection delay of the detected ones
};
// Nearest-rank percentiles over the detected trials.
FaultStats summarize(const std::vector<TrialResult>& results);

class AttackWorld {
 public:
  // Builds everything and waits for the camera to be LIVE. Throws
  // testing::NetnsError when namespaces cannot be made, std::runtime_error
  // for anything else.
  explicit AttackWorld(WorldOptions options);
  ~AttackWorld();
  AttackWorld(const AttackWorld&) = delete;
  AttackWorld& operator=(const AttackWorld&) = delete;

  // One trial of `fault` (up to 3 attempts while invalid).
  TrialResult run(Fault fault, bool door_open);

  const WorldOptions& options() const { return options_; }
  int64_t target_us() const { return (options_.live_timeout_ms + 50) * 1000; }
  // How the faults are made (netem or the fallbacks) and where things are.
  std::string describe_setup() const;
  // The camera's key file (on the camera's side) and the hub's data directory.
  std::filesystem::path camera_key_file() const;
  std::filesystem::path hub_data_dir() const;
  // Bad input on the camera's attestation topic, from the attacker's
  // namespace: a publish with the hub's stolen password (foreign) and one of
  // 2000 bytes with the camera's (oversized). Returns the hub's audit
  // records of type message_refused that followed ("rule: detail" each),
  // waiting up to 5 s for both kinds.
  std::vector<std::string> send_bad_messages();
  // The agent's and the hub's log tails, for failure messages.
  std::string diagnostics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  WorldOptions options_;
};

}  // namespace latchkey::attack

#endif  // LATCHKEY_TESTS_ATTACK_PATH_ATTACK_WORLD_HPP
