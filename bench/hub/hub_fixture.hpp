// The hub under test: latchkey's Runtime in this process with the real
// plugins (sim lock, ref authz, sim or bench cameras) and its audit log on
// a real disk, plus what a benchmark needs around it: grants, unlock
// requests, and a timestamped record of the hub's events.
#ifndef LATCHKEY_BENCH_HUB_HUB_FIXTURE_HPP
#define LATCHKEY_BENCH_HUB_HUB_FIXTURE_HPP

#include <latchkey/crypto/crypto.hpp>
#include <latchkey/hub/runtime.hpp>

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace latchkey::bench {

struct HubOptions {
  std::filesystem::path data_dir;       // created; must be on a real disk
  std::size_t cameras = 1;              // the door's camera "porch" plus cameras-1 unbound ones
  bool bench_cameras = false;           // lk_bench_camera (one thread) instead of lk_sim_camera
  int probe_fd = -1;                    // bench cameras: the porch camera's emission probe
  uint32_t lock_actuation_ms = 1;
  std::string extra_config;             // appended to the config (e.g. a [fleet] section)
};

// One hub event as the benchmark saw it, stamped on the hub's loop thread.
struct SeenEvent {
  int64_t at_ns = 0;                    // CLOCK_MONOTONIC when published
  hub::EventData data;
};

// The hub's answer to an unlock request, for a message: "allowed",
// "denied by <rule>: <why>" or "no decision: <why>".
std::string describe(const hub::ApiResult<hub::UnlockOutcome>& answer);

// Which events wait_for looks for.
using EventMatch = std::function<bool(const hub::EventData&)>;
EventMatch lock_state_is(hub::LockState state);
EventMatch door_state_is(hub::DoorState state);
EventMatch session_ends(hub::SessionEnd end);

class HubFixture;
// Ends the open session at "front" (its events from `from` on) the way a
// delivery does: the lock unlocked, the door opened and closed, the verified
// relock (U8). False when a step does not come within 5 s.
bool finish_session(HubFixture& hub, std::size_t from);
// A lock (unlock = false) or unlock command; with a rule, only for that rule.
EventMatch lock_command(bool unlock, const std::string& rule = "");

class HubFixture {
 public:
  explicit HubFixture(HubOptions options);
  ~HubFixture();  // stops the hub

  void start();
  void stop();
  hub::Runtime& runtime() { return *runtime_; }
  pthread_t loop_thread() { return loop_.native_handle(); }

  // A fresh single-use grant for door "front", signed by the pinned issuer.
  crypto::Bytes grant();
  // Asks the hub for a challenge and builds the courier's UnlockRequest.
  std::vector<uint8_t> unlock_request(const crypto::Bytes& signed_grant);

  // Events from `from` on (an index into the record).
  std::size_t mark();
  // Waits for the first event at index >= from that matches; returns it or
  // nullptr after the timeout.
  std::unique_ptr<SeenEvent> wait_for(std::size_t from, const EventMatch& match, std::chrono::milliseconds timeout);
  // Liveness changes seen so far to LIVE minus those to not LIVE.
  long live_cameras();

  // Polls until the door's camera is LIVE.
  bool wait_porch_live(std::chrono::milliseconds timeout);

  static std::string camera_name(std::size_t index);

 private:
  std::string config_text() const;
  void on_event(const hub::HubEvent& event);

  HubOptions options_;
  crypto::KeyPair issuer_;
  crypto::KeyPair courier_;
  std::unique_ptr<hub::Runtime> runtime_;
  std::thread loop_;
  uint64_t subscription_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<SeenEvent> events_;
  long live_ = 0;
};

}  // namespace latchkey::bench

#endif  // LATCHKEY_BENCH_HUB_HUB_FIXTURE_HPP
