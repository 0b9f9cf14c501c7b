// The isolated runner against real lk-plugin-host processes: the same device
// interface as in-process, supervision of crashes, hangs and garbage,
// restart with backoff, quarantine, and the host's least privilege.
// A list of cases over one runner: long by nature.
#include <latchkey/common/log.hpp>
#include <latchkey/host/devices.hpp>
#include <latchkey/isolation/frame.hpp>
#include <latchkey/isolation/plugin_runner.hpp>

#include "fault_plugins/process_faults.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace fs = std::filesystem;
using namespace latchkey;
using namespace std::chrono_literals;
using isolation::PluginNotice;
using isolation::PluginState;

namespace {

const std::string kSeed(64, '5');

struct Notices {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<PluginNotice> seen;

  isolation::NoticeHandler handler() {
    return [this](const PluginNotice& n) {
      std::lock_guard lock(mutex);
      seen.push_back(n);
      cv.notify_all();
    };
  }
  // Waits for the n-th notice of a kind (1-based).
  std::optional<PluginNotice> wait(PluginNotice::Kind kind, std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    std::optional<PluginNotice> found;
    cv.wait_for(lock, timeout, [&] {
      std::size_t count = 0;
      for (const auto& s : seen)
        if (s.kind == kind && ++count == n) found = s;
      return found.has_value();
    });
    return found;
  }
};

class IsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("latchkey-isolation-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    config.host_program = isolation::default_host_program();
    config.work_dir = dir / "host";
    config.call_deadline_ms = 500;
    config.heartbeat_interval_ms = 100;
    config.restart_backoff_ms = 50;
    config.quarantine_failures = 100;
  }
  void TearDown() override { fs::remove_all(dir); }

  std::unique_ptr<isolation::PluginRunner> run(const fs::path& file) {
    return isolation::run_isolated("p", file, config, notices.handler());
  }

  fs::path dir;
  isolation::SupervisionConfig config;
  Notices notices;
};

const fs::path kPlugins = LATCHKEY_PLUGIN_DIR;
const fs::path kFaultPlugins = LATCHKEY_FAULT_PLUGIN_DIR;

}  // namespace

TEST(Frame, CutsMessagesAndRefusesOversizedHeaders) {
  std::string stream;
  isolation::append_frame("hello", &stream);
  isolation::append_frame("", &stream);
  isolation::append_frame(std::string(70000, 'x'), &stream);
  isolation::FrameReader reader;
  for (char c : stream) reader.feed(&c, 1);  // byte by byte: every split point
  EXPECT_EQ(reader.next(), "hello");
  EXPECT_EQ(reader.next(), "");
  EXPECT_EQ(reader.next()->size(), 70000u);
  EXPECT_FALSE(reader.next().has_value());
  const char oversized[] = {0x40, 0, 0, 0};
  reader.feed(oversized, 4);
  EXPECT_FALSE(reader.next().has_value());
  EXPECT_TRUE(reader.failed());
  EXPECT_NE(reader.error().find("over the limit"), std::string::npos);
}

TEST_F(IsolationTest, LockRoundTripMatchesTheInProcessInterface) {
  auto runner = run(kPlugins / "lk_sim_lock.so");
  EXPECT_EQ(runner->identity().driver_id, "org.latchkey.sim-lock");
  EXPECT_TRUE(runner->offers_lock());
  EXPECT_FALSE(runner->offers_camera());
  EXPECT_EQ(runner->status().state, PluginState::kRunning);
  EXPECT_GT(runner->status().pid, 0);

  std::mutex m;
  std::condition_variable cv;
  std::vector<host::DeviceEvent> events;
  std::optional<lk_lock_completion> done;
  host::DeviceHooks hooks;
  hooks.on_event = [&](const host::DeviceEvent& e) {
    std::lock_guard lock(m);
    events.push_back(e);
    cv.notify_all();
  };
  std::unique_ptr<host::LockDevice> lock;
  ASSERT_EQ(runner->open_lock("sim://lock/front?actuation_ms=20", hooks, &lock), LK_OK);
  lk_lock_description d{};
  d.struct_size = sizeof d;
  ASSERT_EQ(lock->describe(&d), LK_OK);
  EXPECT_GT(d.max_actuation_ms, 0u);
  lk_lock_state ls = LK_LOCK_STATE_UNKNOWN;
  ASSERT_EQ(lock->lock_state(&ls), LK_OK);
  EXPECT_EQ(ls, LK_LOCK_STATE_LOCKED);

  lk_unlock_params p{};
  p.struct_size = sizeof p;
  p.operation_id = 7;
  p.relock_deadline_ms = 30'000;
  ASSERT_EQ(lock->unlock(p, [&](const lk_lock_completion& c) {
    std::lock_guard l(m);
    done = c;
    cv.notify_all();
  }), LK_OK);
  {
    std::unique_lock l(m);
    ASSERT_TRUE(cv.wait_for(l, 2s, [&] { return done.has_value(); }));
  }
  EXPECT_EQ(done->operation_id, 7u);
  EXPECT_EQ(done->result, LK_OK);
  EXPECT_EQ(done->lock_state, LK_LOCK_STATE_UNLOCKED);
  ASSERT_EQ(lock->physical_action(LK_ACTION_DOOR_OPEN), LK_OK);
  {
    std::unique_lock l(m);
    ASSERT_TRUE(cv.wait_for(l, 2s, [&] {
      for (const auto& e : events)
        if (e.kind == LK_EVENT_DOOR_STATE && e.value == LK_DOOR_STATE_OPEN) return true;
      return false;
    }));
  }
  EXPECT_EQ(lock->pending_operations(), 0u);
  EXPECT_EQ(lock->violations().duplicate_completions, 0u);
  lock->close();
  EXPECT_EQ(lock->lock_state(&ls), LK_ERR_CLOSED);
}

TEST_F(IsolationTest, CameraAttestationsCrossTheProcessBoundary) {
  auto runner = run(kPlugins / "lk_sim_camera.so");
  std::atomic<int> attestations{0};
  host::DeviceHooks hooks;
  hooks.on_event = [&](const host::DeviceEvent& e) {
    if (e.kind == LK_EVENT_ATTESTATION && e.data && e.data->size() > 64) ++attestations;
  };
  std::unique_ptr<host::CameraDevice> cam;
  ASSERT_EQ(runner->open_camera("sim://camera/porch?rate_hz=20&seed=" + kSeed, hooks, &cam), LK_OK);
  lk_camera_description d{};
  d.struct_size = sizeof d;
  ASSERT_EQ(cam->describe(&d), LK_OK);
  EXPECT_STREQ(d.camera_id, "porch");
  const uint8_t nonce[16] = {1, 2, 3};
  for (int i = 0; i < 20 && attestations < 3; ++i) {
    ASSERT_EQ(cam->deliver_nonce(nonce, sizeof nonce), LK_OK);
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(attestations.load(), 3);
  EXPECT_TRUE(cam->supports_snapshot());
  std::vector<uint8_t> frame;
  lk_snapshot_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(cam->snapshot(&frame, &info), LK_OK);
  EXPECT_FALSE(frame.empty());
  EXPECT_GT(info.width, 0u);
}

TEST_F(IsolationTest, ARefusedPluginIsAStartErrorNamingTheReason) {
  try {
    run(dir / "no-such-plugin.so");
    FAIL() << "a missing plugin started";
  } catch (const isolation::StartError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-plugin.so"), std::string::npos) << e.what();
  }
}

TEST_F(IsolationTest, TheHostInheritsOnlyItsSocketAndRunsInItsOwnDirectory) {
  // A descriptor this process holds without close-on-exec must not reach the host.
  const fs::path secret = dir / "secret";
  fs::create_directories(dir);
  std::ofstream(secret) << "key";
  const int leaked = ::open(secret.c_str(), O_RDONLY);  // no O_CLOEXEC on purpose
  ASSERT_GE(leaked, 0);
  auto runner = run(kPlugins / "lk_sim_lock.so");
  const int pid = runner->status().pid;
  ::close(leaked);
  std::set<int> sockets;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    const std::string target = fs::read_symlink(entry.path()).string();
    EXPECT_EQ(target.find(secret.string()), std::string::npos) << "the host holds " << target;
    if (target.rfind("socket:", 0) == 0) sockets.insert(std::stoi(entry.path().filename().string()));
  }
  // 3 and 4: the protocol sockets; 2: the stderr relay to the hub's log (a socket pair in libuv).
  EXPECT_EQ(sockets, (std::set<int>{2, 3, 4}));
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/0"), "/dev/null");
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/1"), "/dev/null");
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd"), config.work_dir);
  // Nothing the plugin may exec inherits the sockets.
  for (int fd : {3, 4}) {
    std::ifstream fdinfo("/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(fd));
    std::string key;
    unsigned long flags = 0;
    while (fdinfo >> key)
      if (key == "flags:") fdinfo >> std::oct >> flags;
    EXPECT_NE(flags & O_CLOEXEC, 0u) << "descriptor " << fd;
  }
  std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
  std::string text((std::istreambuf_iterator<char>(limits)), {});
  EXPECT_NE(text.find("Max open files            64"), std::string::npos) << text;
  std::ifstream environ("/proc/" + std::to_string(pid) + "/environ");
  std::string env((std::istreambuf_iterator<char>(environ)), {});
  EXPECT_EQ(env.find("HOME="), std::string::npos);
}

TEST_F(IsolationTest, TheHostLogsAtTheHubsLevel) {
  // The level of this process's log (latchkeyd's --log-level) is the host's.
  const logging::LogLevel before = logging::log_threshold();
  logging::set_log_threshold(logging::LogLevel::kWarning);
  auto runner = run(kPlugins / "lk_sim_lock.so");
  logging::set_log_threshold(before);
  std::ifstream cmdline("/proc/" + std::to_string(runner->status().pid) + "/cmdline");
  std::string args((std::istreambuf_iterator<char>(cmdline)), {});
  std::replace(args.begin(), args.end(), '\0', ' ');
  EXPECT_NE(args.find(" --log-level warning"), std::string::npos) << args;
}

TEST_F(IsolationTest, APluginsReasonsForNotLoadingReachTheHubAtTheirLevel) {
  // While it loads, a plugin logs through the host's stderr (there is no
  // socket yet); at latchkeyd --log-level warning its warning and error
  // lines must still reach the hub, once, at the level the plugin gave, with
  // no time stamp of the host's own, under the plugin's name.
  struct Line {
    lk_log_level level;
    std::string driver;
    std::string message;
  };
  std::mutex m;
  std::vector<Line> lines;
  auto log = [&](lk_log_level level, const std::string& driver, const std::string& message) {
    std::lock_guard lock(m);
    lines.push_back({level, driver, message});
  };
  const logging::LogLevel before = logging::log_threshold();
  logging::set_log_threshold(logging::LogLevel::kWarning);
  EXPECT_ANY_THROW(isolation::run_isolated("refuser", kFaultPlugins / "lk_fault_refuse.so", config, notices.handler(), log));
  logging::set_log_threshold(before);
  std::lock_guard lock(m);
  std::vector<std::pair<lk_log_level, std::string>> from_plugin;
  for (const Line& l : lines) {
    EXPECT_EQ(l.driver, "refuser");
    EXPECT_EQ(l.message.find("host stderr"), std::string::npos) << l.message;
    if (l.message.find("refuse-load") != std::string::npos) from_plugin.emplace_back(l.level, l.message);
  }
  const std::vector<std::pair<lk_log_level, std::string>> expected{
      {LK_LOG_WARNING, "refuse-load warning: no ABI version in common"},
      {LK_LOG_ERROR, "refuse-load error: this plugin never loads"}};
  EXPECT_EQ(from_plugin, expected);
}

TEST(HostLogLines, TheJournalFormReadsBackIntoLevelTagAndMessage) {
  const auto at = std::chrono::system_clock::now();
  for (auto level : {logging::LogLevel::kDebug, logging::LogLevel::kInfo, logging::LogLevel::kWarning,
                     logging::LogLevel::kError}) {
    const auto back = logging::parse_journal_line(logging::format_log_line(at, level, "a: b\nc", "", true));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->level, level);
    EXPECT_EQ(back->tag, logging::log_level_name(level));
    EXPECT_EQ(back->message, "a: b | c");
  }
  const auto plugin = logging::parse_journal_line("<4>plugin: why");
  ASSERT_TRUE(plugin);
  EXPECT_EQ(plugin->tag, "plugin");
  EXPECT_EQ(plugin->message, "why");
  // A crash report, a sanitizer's line, a timestamped line: not the form.
  for (const char* other : {"==123==ERROR: AddressSanitizer", "2026-12-07T19:45:12.345Z lk-plugin-host info: x",
                            "<9>info: x", "<3>two words: x", "<3>", "<6>: x"})
    EXPECT_FALSE(logging::parse_journal_line(other)) << other;
}

namespace {

std::unique_ptr<host::CameraDevice> open_fault_camera(isolation::PluginRunner& runner) {
  std::unique_ptr<host::CameraDevice> cam;
  EXPECT_EQ(runner.open_camera("sim://camera/porch?rate_hz=20&seed=" + kSeed, {}, &cam), LK_OK);
  return cam;
}

// Arms a crash and lets the next deliver_nonce fire it.
void crash(host::CameraDevice& cam) {
  ASSERT_EQ(cam.inject_fault(LK_PROCESS_FAULT_SEGFAULT, 0), LK_OK);
  const uint8_t nonce[16] = {};
  cam.deliver_nonce(nonce, sizeof nonce);
}

}  // namespace

TEST_F(IsolationTest, RestartsWithExponentialBackoffAndReopensTheDevices) {
  config.restart_backoff_ms = 40;
  config.restart_backoff_max_ms = 1000;
  auto runner = run(kFaultPlugins / "lk_fault_camera.so");
  auto cam = open_fault_camera(*runner);
  const int first_pid = runner->status().pid;
  std::vector<int64_t> delays;
  for (std::size_t n = 1; n <= 4; ++n) {
    if (n > 1) {
      ASSERT_TRUE(notices.wait(PluginNotice::Kind::kRestored, n - 1, 5s));
    }
    crash(*cam);
    auto failed = notices.wait(PluginNotice::Kind::kFailed, n, 5s);
    ASSERT_TRUE(failed);
    // SIGSEGV; under AddressSanitizer its report and exit status instead.
    EXPECT_TRUE(failed->reason.find("the host died of signal") != std::string::npos ||
                failed->reason.find("the host exited with status") != std::string::npos)
        << failed->reason;
    delays.push_back(failed->status.restart_in_ms);
    ASSERT_TRUE(notices.wait(PluginNotice::Kind::kRestored, n, 5s));
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{40, 80, 160, 320}));
  // The same device object works again, served by a new process.
  lk_camera_description d{};
  d.struct_size = sizeof d;
  EXPECT_EQ(cam->describe(&d), LK_OK);
  EXPECT_EQ(cam->clear_faults(), LK_OK);
  EXPECT_NE(runner->status().pid, first_pid);
  EXPECT_EQ(runner->status().restarts, 4u);
  EXPECT_EQ(runner->status().failures, 4u);
}

TEST_F(IsolationTest, APluginFailingFiveTimesInTheWindowIsQuarantined) {
  config.quarantine_failures = 5;
  config.quarantine_window_ms = 600'000;
  config.restart_backoff_max_ms = 100;
  auto runner = run(kFaultPlugins / "lk_fault_camera.so");
  auto cam = open_fault_camera(*runner);
  for (std::size_t n = 1; n <= 5; ++n) {
    if (n > 1) {
      ASSERT_TRUE(notices.wait(PluginNotice::Kind::kRestored, n - 1, 5s));
    }
    crash(*cam);
    ASSERT_TRUE(notices.wait(PluginNotice::Kind::kFailed, n, 5s));
  }
  auto quarantined = notices.wait(PluginNotice::Kind::kQuarantined, 1, 5s);
  ASSERT_TRUE(quarantined);
  EXPECT_NE(quarantined->reason.find("5 failures"), std::string::npos) << quarantined->reason;
  std::this_thread::sleep_for(500ms);  // well past any backoff: nothing restarts
  EXPECT_EQ(runner->status().state, PluginState::kQuarantined);
  EXPECT_EQ(runner->status().pid, 0);
  EXPECT_FALSE(notices.wait(PluginNotice::Kind::kRestored, 5, 10ms));
  const uint8_t nonce[16] = {};
  EXPECT_EQ(cam->deliver_nonce(nonce, sizeof nonce), LK_ERR_CLOSED);
  EXPECT_EQ(cam->clear_faults(), LK_ERR_CLOSED);
}

TEST_F(IsolationTest, AHungCallFailsAtItsDeadlineAndTheHostIsReplaced) {
  auto runner = run(kFaultPlugins / "lk_fault_lock.so");
  std::unique_ptr<host::LockDevice> lock;
  ASSERT_EQ(runner->open_lock("sim://lock/front", {}, &lock), LK_OK);
  ASSERT_EQ(lock->inject_fault(LK_PROCESS_FAULT_ENDLESS_LOOP, 0), LK_OK);
  lk_lock_state state = LK_LOCK_STATE_LOCKED;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(lock->lock_state(&state), LK_ERR_TIMEOUT);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(state, LK_LOCK_STATE_UNKNOWN);
  EXPECT_GE(elapsed, std::chrono::milliseconds(config.call_deadline_ms));
  EXPECT_LE(elapsed, std::chrono::milliseconds(config.call_deadline_ms + 100));
  auto failed = notices.wait(PluginNotice::Kind::kFailed, 1, 1s);
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->reason.find("LOCK_STATE"), std::string::npos) << failed->reason;
  ASSERT_TRUE(notices.wait(PluginNotice::Kind::kRestored, 1, 5s));
  EXPECT_EQ(lock->lock_state(&state), LK_OK);
  EXPECT_EQ(state, LK_LOCK_STATE_LOCKED);
}

TEST_F(IsolationTest, TheHeartbeatCatchesAStoppedHostWithNoCallOutstanding) {
  auto runner = run(kPlugins / "lk_sim_lock.so");
  const int pid = runner->status().pid;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  auto failed = notices.wait(PluginNotice::Kind::kFailed, 1, 5s);
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->reason.find("heartbeat"), std::string::npos) << failed->reason;
  EXPECT_LE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(config.heartbeat_interval_ms + config.call_deadline_ms + 100));
  ASSERT_TRUE(notices.wait(PluginNotice::Kind::kRestored, 1, 5s));
  EXPECT_NE(runner->status().pid, pid);
}

TEST_F(IsolationTest, AuthzVerifiesInTheHostAndRefusesGarbageCredentials) {
  auto runner = run(kPlugins / "lk_ref_authz.so");
  std::unique_ptr<host::AuthzDevice> authz;
  ASSERT_EQ(runner->open_authz("issuer iss-1 " + std::string(64, '0'), &authz), LK_OK);
  lk_grant_info grant{};
  grant.struct_size = sizeof grant;
  lk_authz_refusal refusal{};
  refusal.struct_size = sizeof refusal;
  const lk_result r = authz->verify("hub-1", "front", 0, {1, 2, 3}, &grant, &refusal);
  EXPECT_EQ(r, LK_ERR_DENIED);
  EXPECT_GT(std::strlen(refusal.message), 0u);
}

TEST_F(IsolationTest, ClosingADeviceWithAnOperationPendingLeavesTheHostAndItsOtherDevicesAlone) {
  auto runner = run(kPlugins / "lk_sim_lock.so");
  std::unique_ptr<host::LockDevice> a, b;
  ASSERT_EQ(runner->open_lock("sim://lock/a?actuation_ms=400", {}, &a), LK_OK);
  ASSERT_EQ(runner->open_lock("sim://lock/b?actuation_ms=10", {}, &b), LK_OK);
  std::promise<lk_lock_completion> done;
  lk_unlock_params p{};
  p.struct_size = sizeof p;
  p.operation_id = 1;
  ASSERT_EQ(a->unlock(p, [&](const lk_lock_completion& c) { done.set_value(c); }), LK_OK);
  std::this_thread::sleep_for(50ms);
  a->close();  // the host completes the pending unlock as it closes; that completion must not count as garbage
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(future.get().result, LK_ERR_CLOSED);
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(notices.wait(PluginNotice::Kind::kFailed, 1, 10ms)) << notices.seen.front().reason;
  lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
  EXPECT_EQ(b->lock_state(&state), LK_OK);
  EXPECT_EQ(state, LK_LOCK_STATE_LOCKED);
}

TEST_F(IsolationTest, LegalCallsQueuedBehindEachOtherDoNotCountAsAHang) {
  // Two slow but answering calls from two threads; together longer than the deadline.
  config.call_deadline_ms = 500;
  auto runner = run(kFaultPlugins / "lk_fault_lock.so");
  std::unique_ptr<host::LockDevice> a, b;
  ASSERT_EQ(runner->open_lock("sim://lock/a", {}, &a), LK_OK);
  ASSERT_EQ(runner->open_lock("sim://lock/b", {}, &b), LK_OK);
  ASSERT_EQ(a->inject_fault(LK_PROCESS_FAULT_SLOW, 350), LK_OK);
  ASSERT_EQ(b->inject_fault(LK_PROCESS_FAULT_SLOW, 350), LK_OK);
  // Both unlocks leave on the supervisor's socket at once; the host runs them
  // one after the other, so the second is answered 700 ms after it was sent.
  std::promise<lk_result> da, db;
  lk_unlock_params p{};
  p.struct_size = sizeof p;
  p.operation_id = 1;
  ASSERT_EQ(a->unlock(p, [&](const lk_lock_completion& c) { da.set_value(c.result); }), LK_OK);
  ASSERT_EQ(b->unlock(p, [&](const lk_lock_completion& c) { db.set_value(c.result); }), LK_OK);
  auto fa = da.get_future(), fb = db.get_future();
  ASSERT_EQ(fa.wait_for(3s), std::future_status::ready);
  ASSERT_EQ(fb.wait_for(3s), std::future_status::ready);
  EXPECT_EQ(fa.get(), LK_OK);
  EXPECT_EQ(fb.get(), LK_OK);
  EXPECT_FALSE(notices.wait(PluginNotice::Kind::kFailed, 1, 10ms)) << notices.seen.front().reason;
}

TEST_F(IsolationTest, BothModesRefuseAnUnlatchTheLockCannotDo) {
  auto isolated = run(kPlugins / "lk_sim_lock.so");
  auto in_process = isolation::run_in_process("p", kPlugins / "lk_sim_lock.so");
  std::vector<lk_result> outcomes;
  for (auto* runner : {isolated.get(), in_process.get()}) {
    std::unique_ptr<host::LockDevice> lock;
    ASSERT_EQ(runner->open_lock("sim://lock/u", {}, &lock), LK_OK);
    lk_unlock_params p{};
    p.struct_size = sizeof p;
    p.operation_id = 9;
    p.unlatch = 1;  // the simulated lock has no latch
    std::promise<lk_result> completed;
    const lk_result r = lock->unlock(p, [&](const lk_lock_completion& c) { completed.set_value(c.result); });
    // In-process the refusal is the call's result; isolated, unlock only sends and the
    // refusal arrives as the completion.
    if (r != LK_OK) {
      outcomes.push_back(r);
    } else {
      auto f = completed.get_future();
      ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
      outcomes.push_back(f.get());
    }
    lk_lock_state state = LK_LOCK_STATE_UNKNOWN;
    EXPECT_EQ(lock->lock_state(&state), LK_OK);
    EXPECT_EQ(state, LK_LOCK_STATE_LOCKED);
  }
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_NE(outcomes[0], LK_OK);
  EXPECT_EQ(outcomes[0], outcomes[1]);
}
