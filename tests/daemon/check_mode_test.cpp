// latchkeyd --check is read-only and complete (issue 13): it changes nothing
// in the data directory (names, contents, modes and mtimes compared, the
// directory's own mtime too), refuses an api_address no start could use,
// and names every problem it finds on stderr with a non-zero exit.
#include "daemon_fixture.hpp"
#include "latchkeyd_command.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace latchkey::tests {
namespace {

namespace fs = std::filesystem;

// Everything about a tree that a write would change.
using TreeSnapshot = std::map<std::string, std::string>;

std::string describe(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "gone";
  std::string text = "mode " + std::to_string(st.st_mode) + " size " + std::to_string(st.st_size) + " mtime " +
                     std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  if (S_ISREG(st.st_mode)) text += " content " + crypto::to_hex(crypto::blake2b256(crypto::view(read_file(path))));
  return text;
}

TreeSnapshot snapshot(const fs::path& dir) {
  TreeSnapshot tree;
  tree["."] = describe(dir);
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir))
    tree[fs::relative(entry.path(), dir).string()] = describe(entry.path());
  return tree;
}

void expect_same(const TreeSnapshot& before, const TreeSnapshot& after) {
  for (const auto& [name, was] : before) {
    auto it = after.find(name);
    if (it == after.end()) ADD_FAILURE() << name << " was removed";
    else EXPECT_EQ(it->second, was) << name << " changed";
  }
  for (const auto& [name, now] : after)
    if (!before.count(name)) ADD_FAILURE() << name << " was created: " << now;
}

class Check : public ::testing::Test {
 protected:
  void SetUp() override { hub_ = std::make_unique<demo::SimHub>(daemon_test_options()); }
  LatchkeydRun check() { return run_latchkeyd({"--config", hub_->config_file().string(), "--check"}); }
  std::unique_ptr<demo::SimHub> hub_;
};

TEST_F(Check, Check_IsReadOnly) {
  // A hub that ran once: hub key, token, audit log and log file exist.
  ASSERT_NO_FATAL_FAILURE(hub_->start());
  ASSERT_EQ(hub_->stop(), 0);
  const TreeSnapshot before = snapshot(hub_->data_dir());
  const LatchkeydRun run = check();
  EXPECT_EQ(run.exit_code, 0) << "stderr:\n" << run.err;
  EXPECT_NE(run.out.find("usable"), std::string::npos) << run.out;
  expect_same(before, snapshot(hub_->data_dir()));
}

TEST_F(Check, Check_CreatesNothingBeforeTheFirstStart) {
  const TreeSnapshot before = snapshot(hub_->data_dir());
  const LatchkeydRun run = check();
  EXPECT_EQ(run.exit_code, 0) << "stderr:\n" << run.err;
  expect_same(before, snapshot(hub_->data_dir()));
}

TEST_F(Check, Check_RefusesImpossibleApiAddress) {
  for (const std::string address :
       {"127.0.0.1:70000", "127.0.0.1:-1", "127.0.0.1:", "127.0.0.1", "256.0.0.1:80", "localhost:80", "::1:80",
        "[::1:80", "[nonsense]:80", "127.0.0.1:80x"}) {
    set_hub_key(hub_->config_file(), "api_address", address);
    const LatchkeydRun run = check();
    EXPECT_NE(run.exit_code, 0) << address << " was accepted";
    EXPECT_NE(run.err.find("api_address = '" + address + "'"), std::string::npos) << address << ":\n" << run.err;
  }
  for (const std::string address : {"127.0.0.1:0", "127.0.0.1:65535", "[::1]:7380"}) {
    set_hub_key(hub_->config_file(), "api_address", address);
    const LatchkeydRun run = check();
    EXPECT_EQ(run.exit_code, 0) << address << " was refused:\n" << run.err;
  }
}

TEST_F(Check, Check_ReportsEveryProblemNotJustTheFirst) {
  set_hub_key(hub_->config_file(), "api_address", "127.0.0.1:99999");
  set_hub_key(hub_->config_file(), "checkpoint_interval_ms", "5");
  std::string ini = read_file(hub_->config_file());
  const std::string lock_file = "file = lk_sim_lock.so";
  ini.replace(ini.find(lock_file), lock_file.size(), "file = no_such_plugin.so");
  ini += "[door.side]\nlock = nowhere\ncameras = porch\n";
  std::ofstream(hub_->config_file()) << ini;
  ASSERT_EQ(::chmod(hub_->data_dir().c_str(), 0777), 0);
  const fs::path planted = hub_->data_dir().string() + "-planted";
  std::ofstream(planted) << std::string(64, 'a') << "\n";
  fs::create_symlink(planted, hub_->data_dir() / "api-token");
  const LatchkeydRun run = check();
  fs::remove(planted);
  EXPECT_EQ(run.exit_code, 1);
  for (const std::string expected :
       {"api_address = '127.0.0.1:99999'", "checkpoint_interval_ms", "lock 'nowhere'", "camera 'porch' is already bound",
        "mode 0777", "api-token: is a symbolic link", "no_such_plugin.so"})
    EXPECT_NE(run.err.find(expected), std::string::npos) << "missing '" << expected << "' in stderr:\n" << run.err;
  EXPECT_NE(run.err.find("7 problem(s) found"), std::string::npos) << run.err;
}

// U4: a lock that takes relock deadlines only up to 30 s, behind a hub that
// sends 60 s with every unlock, would refuse every delivery; --check says so
// at configuration time, naming the lock and both values.
TEST_F(Check, Check_RefusesALockThatWouldRefuseTheRelockDeadline) {
  demo::SimHubOptions options = daemon_test_options();
  options.gate["relock_deadline_ms"] = "60000";
  hub_ = std::make_unique<demo::SimHub>(options);
  std::string ini = read_file(hub_->config_file());
  const std::string uri = "uri = sim://lock/front?";
  ASSERT_NE(ini.find(uri), std::string::npos) << ini;
  ini.replace(ini.find(uri), uri.size(), uri + "max_relock_ms=30000&");
  std::ofstream(hub_->config_file()) << ini;
  LatchkeydRun run = check();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("[lock.front]: the lock accepts relock deadlines up to 30000 ms, but [gate] relock_deadline_ms is 60000"),
            std::string::npos) << run.err;
  const std::string deadline = "relock_deadline_ms = 60000";
  ASSERT_NE(ini.find(deadline), std::string::npos) << ini;
  ini.replace(ini.find(deadline), deadline.size(), "relock_deadline_ms = 30000");
  std::ofstream(hub_->config_file()) << ini;
  run = check();
  EXPECT_EQ(run.exit_code, 0) << run.err;
}

}  // namespace
}  // namespace latchkey::tests
