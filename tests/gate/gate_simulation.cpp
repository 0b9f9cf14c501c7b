// gate_simulation: the deterministic simulation of issue "Gate engine".
//
// Runs N delivery sessions through the real GateEngine in SimWorld, each with
// a fault drawn at random, and asserts the invariants I1-I4 and I6 (docs/rules.md)
// on every one. Sessions run in blocks of 100 that share one world; a block's
// world is seeded from (seed, block), so a failing block reproduces alone:
//
//   gate_simulation --seed S --block B
//
// Prints the seed, the count per fault, and the U5 detection delays (I4).
// The fault catalogue and its oracle stay together (hence the length).
#include "sim_world.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <filesystem>
#include <thread>
#include <unistd.h>
#include <vector>

using latchkey::gate::MonoNs;
using latchkey::gate::ms_to_ns;
using latchkey::sim::SimWorld;

namespace {

enum class Fault {
  kNone,
  kCameraFreeze,
  kCameraOffline,
  kCameraReplay,
  kCameraStaleNonce,
  kCameraCounterRepeat,
  kCameraWrongKey,
  kCameraLoop,
  kCameraCovered,
  kCameraClockJump,
  kLockJam,
  kLockLyingState,
  kLockMissingCompletion,
  kDoorOpenedTwice,
  kGrantReplayed,
  kGrantExpired,
  kGrantOtherDoor,
  kGrantForged,
  kStaleChallenge,
  kStorageFailure,
  kCount
};

const char* name(Fault f) {
  static const char* names[] = {"none",          "camera freeze",     "camera offline",     "camera replay",
                                "stale nonce",   "counter repeat",    "wrong key",          "looped footage",     "covered lens",       "clock jump",
                                "lock jam",      "lying lock state",  "missing completion", "door opened twice",
                                "grant replayed", "grant expired",    "grant other door",   "grant forged",
                                "stale challenge", "storage failure"};
  return names[static_cast<int>(f)];
}

bool is_camera_fault(Fault f) { return f >= Fault::kCameraFreeze && f <= Fault::kCameraClockJump; }

constexpr int kBlockSize = 100;

struct BlockResult {
  int sessions = 0;
  int unlocks = 0;
  int failed_sessions = 0;
  bool trace = false;
  uint64_t attestations = 0;
  double virtual_seconds = 0;
  std::map<Fault, int> faults;
  std::vector<MonoNs> u5_delays;
  std::vector<std::string> failures;
};

void inject_camera_fault(SimWorld& w, Fault f) {
  auto& cam = w.camera();
  switch (f) {
    case Fault::kCameraFreeze: cam.frozen = true; break;
    case Fault::kCameraOffline: cam.offline = true; break;
    case Fault::kCameraReplay: cam.replay = true; break;
    case Fault::kCameraStaleNonce: cam.stale_nonce = true; cam.first_nonce = cam.nonce; break;
    case Fault::kCameraCounterRepeat: cam.repeat_counter = true; break;
    case Fault::kCameraWrongKey: cam.wrong_key = true; break;
    case Fault::kCameraLoop: cam.looped = true; break;
    case Fault::kCameraCovered: cam.covered = true; break;
    case Fault::kCameraClockJump: cam.clock_offset_ns += ms_to_ns(1'000 + static_cast<int64_t>(w.rng()() % 5'000)); break;
    default: break;
  }
}

void clear_faults(SimWorld& w) {
  auto& cam = w.camera();
  cam.frozen = cam.offline = cam.replay = cam.stale_nonce = cam.repeat_counter = cam.wrong_key = cam.looped = cam.covered = false;
  auto& lock = w.lock();
  const bool repair = lock.jam || lock.lie_locked || lock.no_completion;
  lock.jam = lock.lie_locked = lock.no_completion = false;
  w.storage_fails = false;
  w.engine().on_storage_recovered(w.now());
  if (lock.door != LK_DOOR_STATE_CLOSED) w.close_door();
  if (repair || lock.bolt != LK_LOCK_STATE_LOCKED) {
    // A technician puts the lock right; the device reports its true state.
    lock.bolt = LK_LOCK_STATE_LOCKED;
    lock.relock_at = latchkey::gate::kNever;
    w.engine().on_lock_state("front", lock.reported(), w.now());
  }
}

// Runs the world in 10 ms steps while `more` holds, for at most max_ms.
template <class More>
void run_while(SimWorld& w, int64_t max_ms, More more) {
  for (int64_t t = 0; t < max_ms && more(); t += 10) w.run_for(10);
}

// One session with one fault. Appends failures (invariant violations) to `out`.
void run_session(SimWorld& w, Fault fault, std::vector<latchkey::sim::Grant>& used, BlockResult& out,
                 const std::string& where) {
  auto& rng = w.rng();
  auto fail = [&](const std::string& why) { out.failures.push_back(where + " [" + name(fault) + "]: " + why); };
  const std::size_t failures_at_start = out.failures.size();
  clear_faults(w);
  if (!w.warm_up(5'000)) return fail("cameras did not become LIVE after clearing faults");

  const std::size_t unlocks_before = w.observed().unlocks.size();
  const std::size_t alarms_before = w.observed().alarms.size();
  const std::size_t delays_before = w.observed().u5_delays.size();
  const std::size_t audit_before = w.audit().size();

  // Build the request.
  latchkey::sim::Grant g = w.mint();
  latchkey::crypto::Bytes challenge = w.challenge();
  bool expect_deny = false;
  switch (fault) {
    case Fault::kGrantReplayed:
      if (!used.empty()) g = used[rng() % used.size()], expect_deny = true;
      break;
    case Fault::kGrantExpired: g = w.mint(-7'200'000, -3'600'000); expect_deny = true; break;
    case Fault::kGrantOtherDoor: g = w.mint(-60'000, 3'600'000, "back"); expect_deny = true; break;
    case Fault::kGrantForged: g = w.forge(); expect_deny = true; break;
    case Fault::kStaleChallenge:
      if (rng() % 8 == 0) {
        w.run_for(31'000);  // expired
        if (!w.warm_up(5'000)) return fail("cameras not LIVE");
      } else {
        w.request(w.request_bytes(w.mint(), challenge));  // used by someone else first
        w.run_for(2'000);
        clear_faults(w);
        w.run_for(600);  // let that session's relock settle
      }
      expect_deny = true;
      break;
    case Fault::kStorageFailure: w.storage_fails = true; expect_deny = true; break;
    default: break;
  }
  // Camera faults strike before the request, or during the session.
  const bool camera_fault_before = is_camera_fault(fault) && rng() % 4 == 0;
  if (camera_fault_before) {
    inject_camera_fault(w, fault);
    w.run_for(static_cast<int64_t>(rng() % 1'500));
  }
  if (fault == Fault::kLockMissingCompletion) w.lock().no_completion = true;
  if (fault == Fault::kLockJam && rng() % 2 == 0) w.lock().jam = true;  // jams on the unlock

  const uint64_t id = w.request(w.request_bytes(g, challenge));
  run_while(w, 2'000, [&] { return !w.decision(id); });
  const auto decision = w.decision(id);
  const bool allowed = decision && decision->allowed;
  if (expect_deny && allowed) fail("a bad request was allowed");
  if (!decision) fail("no decision within 2 s");
  if (allowed) used.push_back(g);

  // The door cycle, with the faults that strike during the session.
  const bool in_session = w.observed().unlocks.size() > unlocks_before;
  MonoNs lost_at = 0;
  if (in_session) {
    ++out.unlocks;
    auto session_open = [&] { return w.engine().door("front")->session.has_value(); };
    w.run_for(60);  // the bolt moves
    if (fault == Fault::kLockLyingState) {
      w.lock().lie_locked = true;  // claims Locked while the bolt is out
      w.engine().on_lock_state("front", w.lock().reported(), w.now());
      w.run_for(50);
    }
    const bool camera_during = is_camera_fault(fault) && !camera_fault_before;
    const bool door_open_at_fault = rng() % 2 == 0;
    if (camera_during && !door_open_at_fault) {
      inject_camera_fault(w, fault);  // door still closed: U5 relocks at once
      lost_at = w.now();
      run_while(w, 4'000, session_open);
    }
    w.open_door();
    w.run_for(static_cast<int64_t>(100 + rng() % 900));
    if (camera_during && door_open_at_fault) {
      inject_camera_fault(w, fault);  // door open: U5 alarms at once, relocks on close
      lost_at = w.now();
      run_while(w, 4'000, session_open);
    }
    if (fault == Fault::kLockJam) w.lock().jam = true;  // jams on the relock (if not already)
    w.close_door();
    if (fault == Fault::kDoorOpenedTwice) {
      w.run_for(static_cast<int64_t>(rng() % 40));  // before the bolt is home
      w.open_door();
      w.run_for(300);
      w.close_door();
    }
    run_while(w, fault == Fault::kLockMissingCompletion ? 7'000 : 1'500, session_open);
    w.run_for(100);
  }

  // ---- Invariants ----
  const auto& obs = w.observed();
  // I1: checked at every unlock command by SimWorld.
  if (obs.i1_violations > 0) fail("I1: " + obs.i1_details.back());
  // I2: no grant consumed twice.
  if (w.grants_consumed_twice() > 0) fail("I2: a grant was consumed twice");
  // I3: every session that unlocked ended exactly once; compromised ones raised an alarm.
  for (std::size_t i = unlocks_before; i < obs.unlocks.size(); ++i) {
    const std::string sid = latchkey::crypto::to_hex(latchkey::crypto::view(obs.unlocks[i].second.session_id));
    int ends = 0;
    bool compromised = false;
    for (std::size_t r = audit_before; r < w.audit().size(); ++r) {
      const auto& e = w.audit()[r].entry;
      if (e.type != "session" || e.subject != sid) continue;
      if (e.detail.rfind("completed", 0) == 0) ++ends;
      if (e.detail.rfind("ended compromised", 0) == 0) ++ends, compromised = true;
    }
    if (ends != 1) fail("I3: session " + sid + " ended " + std::to_string(ends) + " times");
    if (compromised && obs.alarms.size() == alarms_before) fail("I3: compromised session without an alarm");
  }
  // I4: a camera lost during an open session gives relock or alarm within live_timeout + 50 ms.
  if (in_session && lost_at != 0) {
    if (obs.u5_delays.size() == delays_before) {
      // The loss must have been noticed unless the session had ended before it struck.
      bool session_open_at_loss = false;
      for (std::size_t r = audit_before; r < w.audit().size(); ++r) {
        const auto& rec = w.audit()[r];
        if (rec.entry.type == "session" && rec.entry.detail.rfind("opened", 0) != 0 && rec.at >= lost_at)
          session_open_at_loss = true;
      }
      if (session_open_at_loss && w.alarms_with("U5") == 0) fail("I4: camera loss during a session raised no U5");
    }
    for (std::size_t i = delays_before; i < obs.u5_delays.size(); ++i) {
      out.u5_delays.push_back(obs.u5_delays[i]);
      if (obs.u5_delays[i] > ms_to_ns(w.engine().config().live_timeout_ms + 50))
        fail("I4: U5 took " + std::to_string(obs.u5_delays[i] / 1'000'000) + " ms from the last accepted attestation");
    }
  }
  // I6: every record the audit log acknowledged is there, as appended (the
  // chain itself is verified when the block's log closes).
  if (const std::string problem = w.check_acknowledged_records(); !problem.empty()) fail("I6: " + problem);
  // Reproducing one block prints the failing session's audit trail.
  if (out.trace && out.failures.size() > failures_at_start) {
    for (std::size_t r = audit_before; r < w.audit().size(); ++r) {
      const auto& rec = w.audit()[r];
      std::printf("    %9.3f s  %-20s %-3s %s %s\n", static_cast<double>(rec.at) / 1e9, rec.entry.type.c_str(),
                  std::string(latchkey::name(rec.entry.rule)).c_str(), rec.entry.subject.substr(0, 12).c_str(), rec.entry.detail.c_str());
    }
    std::printf("    fault injected at %.3f s\n", static_cast<double>(lost_at) / 1e9);
  }
  ++out.faults[fault];
  ++out.sessions;
}

// Where a block keeps its audit log: tmpfs when there is one (the chain, the
// transactions and the verifier are all real; only the fsync is free there).
std::filesystem::path audit_path_for(uint64_t seed, uint64_t block) {
  std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                                   : std::filesystem::temp_directory_path();
  return dir / ("latchkey-sim-" + std::to_string(::getpid()) + "-" + std::to_string(seed) + "-" +
                std::to_string(block) + ".db");
}

void remove_audit_files(const std::filesystem::path& db) {
  for (const char* suffix : {"", "-wal", "-shm", ".head", "-journal"}) {
    std::error_code ec;
    std::filesystem::remove(db.string() + suffix, ec);
  }
}

BlockResult run_block(uint64_t seed, uint64_t block, int sessions, bool trace) {
  BlockResult result;
  result.trace = trace;
  SimWorld::Options o;
  o.seed = seed * 1'000'003 + block;
  o.audit_path = audit_path_for(seed, block);
  o.hub_seed = o.seed;
  // Odd blocks run as latchkeyd does: the plugin's verdict follows the request.
  if (block % 2 == 1) o.authz_latency_ns = latchkey::gate::ms_to_ns(static_cast<int64_t>(block * 37 % 300));
  remove_audit_files(o.audit_path);
  auto world = std::make_unique<SimWorld>(o);
  std::vector<latchkey::sim::Grant> used;
  std::mt19937_64 pick(o.seed ^ 0x9e3779b97f4a7c15ULL);
  for (int i = 0; i < sessions; ++i) {
    const Fault fault = static_cast<Fault>(pick() % static_cast<uint64_t>(Fault::kCount));
    const std::string where = "seed " + std::to_string(seed) + " block " + std::to_string(block) + " session " +
                              std::to_string(i);
    const std::size_t failures_before = result.failures.size();
    try {
      run_session(*world, fault, used, result, where);
    } catch (const std::exception& e) {
      result.failures.push_back(where + " [" + name(fault) + "]: exception: " + e.what());
    }
    if (result.failures.size() > failures_before) ++result.failed_sessions;
    // A G4 lockout (rejections pile up in a block) gets a fresh hub with the same audit: a restart.
    const auto door = world->engine().door("front");
    if (door && door->lockout_until > world->now()) {
      if (const std::string problem = world->close_and_verify_audit(); !problem.empty())
        result.failures.push_back(where + ": I6: " + problem);
      SimWorld::Options again = o;  // same hub key and log: a restart
      again.seed = o.seed + static_cast<uint64_t>(i) + 1;
      result.attestations += world->attestations_sent();
      result.virtual_seconds += static_cast<double>(world->now()) / 1e9;
      world = std::make_unique<SimWorld>(again);
      used.clear();
    }
  }
  result.attestations += world->attestations_sent();
  result.virtual_seconds += static_cast<double>(world->now()) / 1e9;
  if (const std::string problem = world->close_and_verify_audit(); !problem.empty())
    result.failures.push_back("seed " + std::to_string(seed) + " block " + std::to_string(block) + ": I6: " + problem);
  world.reset();
  remove_audit_files(o.audit_path);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1'000'000'007;
  if (const char* env = std::getenv("LATCHKEY_SIM_SEED")) seed = std::strtoull(env, nullptr, 10);
  long sessions = 100'000;
  long only_block = -1;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--seed") seed = std::stoull(next());
    else if (a == "--sessions") sessions = std::stol(next());
    else if (a == "--block") only_block = std::stol(next());
    else if (a == "--threads") threads = std::stoi(next());
    else {
      std::fprintf(stderr, "usage: %s [--seed S] [--sessions N] [--block B] [--threads T]\n", argv[0]);
      return 2;
    }
  }
  const long blocks = (sessions + kBlockSize - 1) / kBlockSize;
  std::printf("gate_simulation: seed %llu, %ld sessions in %ld blocks of %d, %d threads\n",
              static_cast<unsigned long long>(seed), only_block >= 0 ? kBlockSize : sessions,
              only_block >= 0 ? 1 : blocks, kBlockSize, threads);
  std::fflush(stdout);

  const auto started = std::chrono::steady_clock::now();
  BlockResult total;
  std::mutex merge;
  std::atomic<long> next_block{only_block >= 0 ? only_block : 0};
  const long end_block = only_block >= 0 ? only_block + 1 : blocks;
  auto worker = [&] {
    for (long b = next_block++; b < end_block; b = next_block++) {
      const int n = only_block >= 0 ? kBlockSize : static_cast<int>(std::min<long>(kBlockSize, sessions - b * kBlockSize));
      BlockResult r = run_block(seed, static_cast<uint64_t>(b), n, only_block >= 0);
      std::lock_guard lock(merge);
      total.sessions += r.sessions;
      total.unlocks += r.unlocks;
      total.failed_sessions += r.failed_sessions;
      total.attestations += r.attestations;
      total.virtual_seconds += r.virtual_seconds;
      for (auto [f, c] : r.faults) total.faults[f] += c;
      total.u5_delays.insert(total.u5_delays.end(), r.u5_delays.begin(), r.u5_delays.end());
      for (auto& f : r.failures) total.failures.push_back(f + "\n    reproduce: gate_simulation --seed " +
                                                          std::to_string(seed) + " --block " + std::to_string(b));
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::printf("\nsessions per fault:\n");
  for (int f = 0; f < static_cast<int>(Fault::kCount); ++f)
    std::printf("  %-20s %7d\n", name(static_cast<Fault>(f)), total.faults[static_cast<Fault>(f)]);
  std::printf("unlocks: %d of %d sessions; %.0f s simulated, %llu attestations signed and verified\n", total.unlocks,
              total.sessions, total.virtual_seconds, static_cast<unsigned long long>(total.attestations));
  auto& d = total.u5_delays;
  std::sort(d.begin(), d.end());
  if (!d.empty()) {
    const MonoNs p99 = d[std::min(d.size() - 1, d.size() * 99 / 100)];
    std::printf("U5 (I4): %zu camera losses during sessions; last accepted attestation -> relock or alarm: "
                "max %.1f ms, p99 %.1f ms (target <= live_timeout + 50 = 1050 ms)\n",
                d.size(), static_cast<double>(d.back()) / 1e6, static_cast<double>(p99) / 1e6);
  }
  std::printf("elapsed: %.1f s\n", seconds);
  const std::size_t shown = std::min<std::size_t>(total.failures.size(), 20);
  for (std::size_t i = 0; i < shown; ++i) std::printf("FAIL %s\n", total.failures[i].c_str());
  if (total.sessions == 0) return 1;
  std::printf("%d passed, %d failed\n", total.sessions - total.failed_sessions, total.failed_sessions);
  return total.failures.empty() ? 0 : 1;
}
