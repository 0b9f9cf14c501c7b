// SimWorld: a deterministic, seeded model of one hub's surroundings (cameras,
// a lock with its door, couriers, an issuer, the audit store) in virtual time,
// driving the real GateEngine. Unit tests script it; the simulation test lets
// it run hundreds of thousands of sessions with random faults.
#ifndef LATCHKEY_TESTS_GATE_SIM_WORLD_HPP
#define LATCHKEY_TESTS_GATE_SIM_WORLD_HPP

#include <latchkey/crypto/attestations.hpp>
#include <latchkey/crypto/grants.hpp>
#include <latchkey/audit/audit_log.hpp>
#include <latchkey/gate/gate_engine.hpp>

#include <filesystem>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace latchkey::sim {

using gate::MonoNs;
using gate::ms_to_ns;

// A camera that attests like the reference plugin, with faults.
struct SimCamera {
  std::string id;
  crypto::KeyPair key;
  crypto::KeyPair other_key;              // for the wrong-key fault
  std::string boot_id;
  uint64_t counter = 0;
  int64_t clock_offset_ns = 0;            // camera clock = hub clock + offset
  int64_t capture_lag_ns = 0;             // the frame signed was captured this long before it is sent
  std::string nonce;                      // latest nonce received
  std::string first_nonce;                // for the stale-nonce fault
  std::string recording_session;
  uint64_t frame = 0;
  std::vector<crypto::Bytes> history;     // for the replay fault
  MonoNs period_ns = ms_to_ns(250);
  // Faults
  bool frozen = false, offline = false, replay = false, stale_nonce = false, repeat_counter = false,
       wrong_key = false, ignore_recording = false;
  // C7: looped footage. While set, frames play again from `loop_back` frames
  // before the moment the loop began, well signed, fresh nonces, new counters.
  bool looped = false;
  uint64_t loop_back = 20;
  bool loop_started = false;
  uint64_t live_frame = 0;                // where the live scene is: the loop's end returns here
  // C8: the camera's own measurements of its view (healthy by default).
  bool measures_scene = true;
  uint32_t luminance = 128'000, sharpness = 20'000, similarity = 900;
  bool covered = false;                   // a hand or tape over the lens: dark, flat, unlike the reference
  std::string frozen_digest;

  crypto::Bytes attest(MonoNs now);
};

// A deadbolt with a door sensor, like the reference plugin, with faults.
struct SimLock {
  lk_lock_state bolt = LK_LOCK_STATE_LOCKED;
  lk_door_state door = LK_DOOR_STATE_CLOSED;
  MonoNs actuation_ns = ms_to_ns(50);
  bool jam = false, lie_locked = false, no_completion = false, no_self_relock = false;
  MonoNs relock_at = gate::kNever;        // U4, enforced by the lock itself
  lk_lock_state reported() const { return lie_locked ? LK_LOCK_STATE_LOCKED : bolt; }
};

struct AuditRecord {
  gate::AppendAudit entry;
  MonoNs at = 0;
  bool durable = false;
};

struct Grant {
  crypto::Bytes signed_grant;
  std::string grant_id;                   // raw
  crypto::KeyPair courier;
};

// Observed outcomes, for assertions.
struct Observed {
  std::vector<gate::Decision> decisions;
  std::vector<gate::RaiseAlarm> alarms;
  std::vector<std::pair<MonoNs, gate::CommandUnlock>> unlocks;
  std::vector<std::pair<MonoNs, gate::CommandLock>> locks;
  std::vector<std::pair<MonoNs, gate::RaiseAlarm>> timed_alarms;
  std::vector<std::pair<MonoNs, gate::LivenessChanged>> liveness;  // C4, as the engine says it
  // I1: unlock commands sent while a required camera was not LIVE, not
  // recording for the session, or without a durable decision before them.
  int i1_violations = 0;
  std::vector<std::string> i1_details;
  // I4: hub time from the last accepted attestation to the U5 alarm, per loss.
  std::vector<MonoNs> u5_delays;
};

class SimWorld {
 public:
  struct Options {
    uint64_t seed = 1;
    gate::GateConfig config{};
    int cameras = 1;
    MonoNs nonce_latency_ns = ms_to_ns(5);
    MonoNs attestation_latency_ns = ms_to_ns(10);
    bool authz_required = true;
    // When set, requests go in with a pending verdict (as latchkeyd makes
    // them) and the verdict follows this much later (on_authz_verdict).
    std::optional<MonoNs> authz_latency_ns;
    bool clock_synced = true;
    int64_t wall_start_ms = 1'800'000'000'000;
    std::set<std::string> consumed_grants;
    std::map<std::string, std::string> sessions_open_at_stop;
    std::map<std::string, gate::DoorHistory> door_history;  // G4 across a restart
    int64_t grants_not_before_ms = 0;                        // A2 recovery cut-off
    std::string audit_unverified;                            // A2: the log did not verify
    bool witness_required = false;                           // A2: [fleet], granting waits for the witness
    // When set, every audit record also goes to a real AuditLog at this path,
    // which is reopened if it exists (a restart). Records are group-committed
    // before each decision and when check_acknowledged_records() runs;
    // decisions go through commit_decision.
    std::filesystem::path audit_path;
    uint64_t hub_seed = 0;  // the hub's audit key; 0: derived from seed
    gate::SceneLimits scene{};  // C8, for every camera
  };

  explicit SimWorld(Options options);

  // ---- Driving ----
  void run_for(int64_t ms);
  void run_until(MonoNs t);
  MonoNs now() const { return now_; }
  int64_t wall_ms() const { return options_.wall_start_ms + now_ / 1'000'000; }
  // Runs until every camera is LIVE (C4) or the timeout passes; returns success.
  bool warm_up(int64_t timeout_ms = 3'000);

  // ---- The people ----
  Grant mint(int64_t not_before_offset_ms = -60'000, int64_t not_after_offset_ms = 3'600'000,
             const std::string& door = "front", const std::string& hub = "hub-1");
  Grant forge();                          // signed by a key the hub does not pin
  crypto::Bytes challenge(const std::string& door = "front");
  crypto::Bytes request_bytes(const Grant& g, const crypto::Bytes& challenge, const std::string& door = "front");
  // Sends an unlock request with an authorization verdict mirroring the grant
  // (as the reference plugin would) unless one is given. Returns the request id.
  uint64_t request(const crypto::Bytes& request_bytes, std::optional<gate::AuthzVerdict> verdict = std::nullopt,
                   const std::string& door = "front");
  // One whole happy request: challenge, proof, request. Returns the request id.
  uint64_t request_with(const Grant& g, const std::string& door = "front");
  void open_door();
  void close_door();

  // ---- Faults ----
  SimCamera& camera(int i = 0) { return cameras_.at(static_cast<std::size_t>(i)); }
  SimLock& lock() { return lock_; }
  bool storage_fails = false;

  // ---- Observation ----
  gate::GateEngine& engine() { return *engine_; }
  const Observed& observed() const { return observed_; }
  const std::vector<AuditRecord>& audit() const { return audit_; }
  const std::set<std::string>& consumed() const { return consumed_; }
  std::optional<gate::Decision> decision(uint64_t request_id) const;
  int alarms_with(const std::string& rule) const;
  std::string camera_id(int i = 0) const { return cameras_.at(static_cast<std::size_t>(i)).id; }
  int grants_consumed_twice() const { return consumed_twice_; }
  uint64_t attestations_sent() const { return attestations_sent_; }
  std::mt19937_64& rng() { return rng_; }

  const crypto::KeyPair& issuer() const { return issuer_; }

  // I6 against the real audit log: every acknowledged record is present with
  // the content appended. Returns a description of the first problem, or "".
  std::string check_acknowledged_records();
  // Closes the real audit log (final checkpoint) and verifies the whole chain.
  std::string close_and_verify_audit();
  static crypto::KeyPair hub_key_for(uint64_t seed);

 private:
  struct WorldEvent {
    MonoNs at;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const WorldEvent& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void schedule(MonoNs at, std::function<void()> fn);
  void dispatch();
  void camera_tick(std::size_t i);
  void lock_finish(uint64_t op, bool unlock);
  void lock_self_relock();
  void check_unlock(const gate::CommandUnlock& cmd);

  Options options_;
  std::mt19937_64 rng_;
  MonoNs now_ = 0;
  uint64_t seq_ = 0;
  std::priority_queue<WorldEvent, std::vector<WorldEvent>, std::greater<>> events_;
  std::vector<SimCamera> cameras_;
  SimLock lock_;
  crypto::KeyPair issuer_;
  std::unique_ptr<gate::GateEngine> engine_;
  Observed observed_;
  std::vector<AuditRecord> audit_;
  std::set<std::string> consumed_;
  int consumed_twice_ = 0;
  uint64_t attestations_sent_ = 0;
  uint64_t grant_counter_ = 0;
  std::set<std::string> valid_grants_;  // raw ids the issuer minted validly for this hub and door
  std::set<std::string> minted_;        // the exact signed grants the issuer handed out
  crypto::KeyPair hub_key_;
  std::unique_ptr<audit::AuditLog> log_;
  std::vector<audit::AuditEntry> pending_;              // non-durable records awaiting the group commit
  std::map<uint64_t, audit::AuditEntry> acknowledged_;  // seq -> what was appended and acknowledged
  void flush_audit();
};

}  // namespace latchkey::sim

#endif  // LATCHKEY_TESTS_GATE_SIM_WORLD_HPP
