// Faults of an isolated plugin, end to end through the runtime (latchkeyd's
// loop, gate engine, audit log): a segfault, an abort, an endless loop, a
// deadlock, a slow call (deadline + 1 s), runaway memory, garbage and an
// oversized frame on the socket, and the host killed from outside - in the
// camera plugin and in the lock plugin, each 20 times in a row in one hub.
//
// Every run: a delivery session is open (unlocked); the fault fires; the hub
// keeps answering its API; the plugin's device is Unknown within the call
// deadline + 100 ms of the failing call; an unlock is denied meanwhile; the
// open session ends compromised with a relock or an alarm; the audit log
// holds the fault; the host restarts and the device works again (the next
// run's unlock needs it).
#include <latchkey/crypto/grants.hpp>
#include <latchkey/host/devices.hpp>
#include <latchkey/host/plugin.hpp>
#include <latchkey/hub/runtime.hpp>

#include "fault_plugins/process_faults.h"
#include "hub_test_support.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

namespace fs = std::filesystem;
namespace crypto = latchkey::crypto;
using latchkey::hub::ApiResult;
using latchkey::hub::LockState;
using latchkey::hub::UnlockOutcome;
using latchkey::testing::allowed;
using latchkey::testing::denied;
using latchkey::testing::describe;
using latchkey::hub::DaemonConfig;
using latchkey::hub::Runtime;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRuns = 20;
constexpr int64_t kDeadlineMs = 1000;  // [isolation] call_deadline_ms for these tests
constexpr int64_t kNoncePeriodMs = 100;
const std::string kSeed(64, '3');

std::string camera_key() { return latchkey::testing::sim_camera_key(LATCHKEY_PLUGIN_DIR, kSeed); }

enum class Target { kCamera, kLock };

struct Fault {
  const char* name;
  uint32_t code;        // 0: SIGKILL from outside
  int64_t parameter;
  const char* detected_by;  // what notices it, for the printed summary
};

const Fault kFaults[] = {
    {"segfault", LK_PROCESS_FAULT_SEGFAULT, 0, "the host's exit"},
    {"abort", LK_PROCESS_FAULT_ABORT, 0, "the host's exit"},
    {"endless_loop", LK_PROCESS_FAULT_ENDLESS_LOOP, 0, "the call deadline"},
    {"deadlock", LK_PROCESS_FAULT_DEADLOCK, 0, "the call deadline"},
    {"slow_call", LK_PROCESS_FAULT_SLOW, kDeadlineMs + 1000, "the call deadline"},
    // Dies when the address-space limit stops it (a few hundred ms of page touching).
    {"runaway_memory", LK_PROCESS_FAULT_RUNAWAY_MEMORY, 0, "the host's exit"},
    // Random bytes: usually an over-long frame header at once; a header that
    // happens to announce a plausible length leaves the reply stuck behind it
    // until the call deadline.
    {"garbage", LK_PROCESS_FAULT_GARBAGE, 0, "the framing, or the deadline"},
    {"oversized_frame", LK_PROCESS_FAULT_OVERSIZED, 0, "the framing"},
    {"sigkill", 0, 0, "the host's exit"},
};

// Readable parameters in test listings.
void PrintTo(const Fault& f, std::ostream* out) { *out << f.name; }
void PrintTo(Target t, std::ostream* out) { *out << (t == Target::kCamera ? "camera" : "lock"); }

class FaultTest : public ::testing::TestWithParam<std::tuple<Target, Fault>> {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("latchkey-fault-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    issuer = crypto::KeyPair::generate();
    courier = crypto::KeyPair::generate();
    const bool camera = std::get<0>(GetParam()) == Target::kCamera;
    const std::string fault_dir = LATCHKEY_FAULT_PLUGIN_DIR;
    const std::string text =
        "[hub]\nid = hub-1\ndata_dir = " + (dir / "data").string() + "\nplugin_dir = " LATCHKEY_PLUGIN_DIR
        "\ntest_control = true\nclock_synced = trust\n"
        "[gate]\nnonce_period_ms = " + std::to_string(kNoncePeriodMs) + "\nhealth_timeout_ms = 60000\n"
        "[isolation]\ncall_deadline_ms = " + std::to_string(kDeadlineMs) +
        "\nheartbeat_interval_ms = 200\nrestart_backoff_ms = 100\nrestart_backoff_max_ms = 200\n"
        "quarantine_failures = 1000\naddress_space_mb = 256\n"
        "[plugin.lock]\nfile = " + (camera ? std::string("lk_sim_lock.so") : fault_dir + "/lk_fault_lock.so") +
        "\n[plugin.camera]\nfile = " + (camera ? fault_dir + "/lk_fault_camera.so" : std::string("lk_sim_camera.so")) +
        "\n[plugin.authz]\nfile = lk_ref_authz.so\n"
        "[lock.front]\nplugin = lock\nuri = sim://lock/front?actuation_ms=20\n"
        "[camera.porch]\nplugin = camera\nuri = sim://camera/porch?rate_hz=20&seed=" + kSeed +
        "\nkey = " + camera_key() + "\n[door.front]\nlock = front\ncameras = porch\n"
        "[authz]\nplugin = authz\nconfig = issuer iss-1 " + crypto::to_hex(issuer.public_key) +
        "\n[issuer.iss-1]\nkey = " + crypto::to_hex(issuer.public_key) + "\n";
    runtime = std::make_unique<Runtime>(DaemonConfig::parse(text, dir));
    loop = std::thread([this] { runtime->run(); });
    subscription = runtime->subscribe(0, [this](const latchkey::hub::HubEvent& e) {
      const auto t = Clock::now();
      std::lock_guard lock(mutex);
      const auto* plugin = std::get_if<latchkey::hub::PluginChanged>(&e.data);
      if (plugin && plugin->state != latchkey::hub::PluginState::kRunning) failed_at.push_back(t);
      const auto* command = std::get_if<latchkey::hub::DoorCommand>(&e.data);
      if (command && !command->unlock) lock_commands.push_back(t);
    });
  }
  void TearDown() override {
    runtime->unsubscribe(subscription);
    runtime->stop();
    loop.join();
    runtime->shutdown();
    runtime.reset();
    fs::remove_all(dir);
  }

  latchkey::hub::DoorStatus door() { return runtime->doors().value().at(0); }
  bool camera_live() { return door().cameras.at(0).live; }

  template <typename Pred>
  bool wait_for(Pred pred, std::chrono::milliseconds timeout) {
    const auto end = Clock::now() + timeout;
    while (Clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  crypto::Bytes grant() { return latchkey::testing::mint_grant(issuer, courier, "front"); }

  ApiResult<UnlockOutcome> unlock() {
    const crypto::Bytes challenge = runtime->challenge("front").value().challenge;
    return runtime->unlock("front", crypto::make_unlock_request(grant(), "front", challenge, courier.secret_key));
  }

  std::string last_session_end() {
    return latchkey::testing::first_session_end(runtime->sessions().value());
  }

  int plugin_failures(const std::string& plugin) {
    for (const auto& p : runtime->plugins().value())
      if (p.name == plugin) return static_cast<int>(p.failures);
    return -1;
  }

  bool audit_has(const std::string& type, const std::string& text, uint64_t from) {
    for (const auto& r : runtime->audit(from, 1000).value())
      if (r.type == type && r.detail.find(text) != std::string::npos) return true;
    return false;
  }

  uint64_t audit_head() { return runtime->health().value().audit_records; }

  fs::path dir;
  crypto::KeyPair issuer, courier;
  std::unique_ptr<Runtime> runtime;
  std::thread loop;
  uint64_t subscription = 0;
  std::mutex mutex;
  std::vector<Clock::time_point> failed_at;
  std::vector<Clock::time_point> lock_commands;
};

}  // namespace

TEST_P(FaultTest, DeviceUnknownSessionCompromisedAuditedRestartedTwentyTimes) {
  const auto [target, fault] = GetParam();
  const bool camera = target == Target::kCamera;
  const std::string plugin = camera ? "camera" : "lock";
#if defined(__SANITIZE_ADDRESS__)
  if (fault.code == LK_PROCESS_FAULT_RUNAWAY_MEMORY)
    GTEST_SKIP() << "AddressSanitizer builds run hosts without an address-space limit, which this fault needs";
#endif
  std::vector<double> latencies_ms;
  for (int run = 0; run < kRuns; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    // The device works (again): a delivery is let in.
    ASSERT_TRUE(wait_for([&] { return camera_live(); }, 10s)) << "the camera never became LIVE";
    ASSERT_TRUE(wait_for([&] { return door().lock_state == LockState::kLocked; }, 10s));
    const auto let_in = unlock();
    ASSERT_TRUE(allowed(let_in)) << describe(let_in);
    ASSERT_TRUE(wait_for([&] { return door().lock_state == LockState::kUnlocked; }, 5s));
    const uint64_t audit_from = audit_head();
    const int failures_before = plugin_failures(plugin);
    std::size_t failures_seen, commands_seen;
    {
      std::lock_guard lock(mutex);
      failures_seen = failed_at.size();
      commands_seen = lock_commands.size();
    }

    // The fault fires.
    Clock::time_point fired;
    if (fault.code == 0) {
      const int pid = runtime->plugin_pid(plugin);
      ASSERT_GT(pid, 0);
      fired = Clock::now();
      ASSERT_EQ(::kill(pid, SIGKILL), 0);
    } else {
      ASSERT_TRUE(runtime->test_device_fault(camera ? "camera" : "lock", camera ? "porch" : "front", fault.code,
                                             fault.parameter).ok());
      fired = Clock::now();  // the camera's next deliver_nonce, at most one nonce period later
      if (!camera) {
        // The lock's next call is the relock after the door opens and closes.
        ASSERT_TRUE(runtime->test_door_action("front", "open").ok());
        std::this_thread::sleep_for(50ms);
        ASSERT_TRUE(runtime->test_door_action("front", "close").ok());
      }
    }

    // Unknown: the failure notice reached the engine.
    ASSERT_TRUE(wait_for([&] {
      std::lock_guard lock(mutex);
      return failed_at.size() > failures_seen;
    }, std::chrono::milliseconds(kDeadlineMs + 5000))) << "the plugin's failure was never noticed";
    Clock::time_point noticed;
    {
      std::lock_guard lock(mutex);
      noticed = failed_at[failures_seen];
      if (!camera && fault.code != 0) {
        ASSERT_GT(lock_commands.size(), commands_seen) << "no relock was commanded";
        fired = lock_commands[commands_seen];  // the failing call left here
      }
    }
    const double latency = std::chrono::duration<double, std::milli>(noticed - fired).count();
    latencies_ms.push_back(latency);
    // Unknown within the deadline + 100 ms of the failing call. Camera faults
    // fire in the next deliver_nonce, up to one nonce period after arming.
    const double allowed_ms = kDeadlineMs + 100 + (camera && fault.code ? kNoncePeriodMs : 0);
    EXPECT_LE(latency, allowed_ms) << fault.name;

    // The hub keeps serving; the device is Unknown; unlock is denied.
    EXPECT_TRUE(runtime->health().ok());
    if (camera) {
      EXPECT_FALSE(camera_live());
    } else {
      const auto d = door();
      EXPECT_TRUE(d.lock_state == LockState::kUnknown || d.lock_faulted) << static_cast<int>(d.lock_state);
    }
    if (run % 7 == 0) {  // a few only: five refusals would lock the door out (G4)
      const auto refused = unlock();
      EXPECT_TRUE(denied(refused)) << describe(refused);
    }

    // The open session ends compromised; the audit log holds the fault.
    ASSERT_TRUE(wait_for([&] { return last_session_end() == "compromised"; }, 5s)) << last_session_end();
    EXPECT_TRUE(audit_has("plugin_fault", "plugin '" + plugin + "' failed", audit_from));
    EXPECT_GE(plugin_failures(plugin), failures_before + 1);
    // Closing the door lets the relock finish (the lock plugin itself may be restarting).
    runtime->test_door_action("front", "close");
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::printf("%s in the %s plugin, %d runs: Unknown after p50 %.1f ms, max %.1f ms (deadline %lld ms; %s)\n",
              fault.name, plugin.c_str(), kRuns, latencies_ms[latencies_ms.size() / 2], latencies_ms.back(),
              static_cast<long long>(kDeadlineMs), fault.detected_by);
}

INSTANTIATE_TEST_SUITE_P(Isolation, FaultTest,
                         ::testing::Combine(::testing::Values(Target::kCamera, Target::kLock),
                                            ::testing::ValuesIn(kFaults)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) == Target::kCamera ? "camera_" : "lock_") +
                                  std::get<1>(info.param).name;
                         });
