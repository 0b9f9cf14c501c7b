// latchkeyd trusts no file by its name (issue 13): the data directory must be
// its own and writable by nobody else, secrets are opened without following
// links and checked on the opened file (modes printed in octal), lkctl reads
// the token the same way; fatal start-up errors and the warning about an API
// reachable from the network reach stderr even when a log file is set.
#include "daemon_fixture.hpp"
#include "latchkeyd_command.hpp"

#include <latchkey/client/key_files.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace latchkey::tests {
namespace {

namespace fs = std::filesystem;

class Files : public ::testing::Test {
 protected:
  void SetUp() override { hub_ = std::make_unique<demo::SimHub>(daemon_test_options()); }
  LatchkeydRun start() { return run_latchkeyd({"--config", hub_->config_file().string()}); }
  fs::path data(const std::string& name) const { return hub_->data_dir() / name; }
  // A file elsewhere that holds what a planted secret would.
  fs::path plant(const std::string& name, const std::string& text) {
    const fs::path file = hub_->data_dir().parent_path() / (hub_->data_dir().filename().string() + "-" + name);
    std::ofstream(file) << text << "\n";
    ::chmod(file.c_str(), 0600);
    planted_.push_back(file);
    return file;
  }
  void TearDown() override {
    for (const fs::path& file : planted_) fs::remove(file);
  }
  // The refusal reached stderr and names what it must.
  static void expect_refused(const LatchkeydRun& run, const std::vector<std::string>& named) {
    EXPECT_FALSE(run.listened) << "latchkeyd started; stderr:\n" << run.err;
    EXPECT_EQ(run.exit_code, 1) << run.err;
    for (const std::string& text : named) EXPECT_NE(run.err.find(text), std::string::npos) << "stderr:\n" << run.err;
  }

  std::unique_ptr<demo::SimHub> hub_;
  std::vector<fs::path> planted_;
};

TEST_F(Files, Files_DataDirectoryWritableByOthersIsRefused) {
  ASSERT_EQ(::chmod(hub_->data_dir().c_str(), 0777), 0);
  expect_refused(start(), {hub_->data_dir().string(), "mode 0777"});
  ASSERT_EQ(::chmod(hub_->data_dir().c_str(), 0770), 0);
  expect_refused(start(), {hub_->data_dir().string(), "mode 0770"});
  EXPECT_FALSE(fs::exists(data("api-token"))) << "a secret was written into a directory others may write";
}

TEST_F(Files, Files_DataDirectoryOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "giving the data directory to another user needs root";
  ASSERT_EQ(::chown(hub_->data_dir().c_str(), 65534, 65534), 0);
  expect_refused(start(), {hub_->data_dir().string(), "owned by uid 65534"});
}

TEST_F(Files, Files_TokenSymlinkIsNotFollowed) {
  const fs::path planted = plant("token", std::string(64, 'a'));
  fs::create_symlink(planted, data("api-token"));
  expect_refused(start(), {data("api-token").string(), "symbolic link"});
}

TEST_F(Files, Files_HubKeySymlinkIsNotFollowed) {
  const fs::path planted = plant("hub.key", crypto::to_hex(crypto::random_bytes(32)));
  fs::create_symlink(planted, data("hub.key"));
  expect_refused(start(), {data("hub.key").string(), "symbolic link"});
}

TEST_F(Files, Files_SecretReadableByOthersIsRefusedNamingTheModeInOctal) {
  std::ofstream(data("api-token")) << std::string(64, 'b') << "\n";
  ASSERT_EQ(::chmod(data("api-token").c_str(), 0640), 0);
  expect_refused(start(), {data("api-token").string(), "mode 0640, expected at most 0600"});
}

TEST_F(Files, Files_SecretThatIsNotARegularFileIsRefused) {
  ASSERT_EQ(::mkfifo(data("hub.key").c_str(), 0600), 0);
  expect_refused(start(), {data("hub.key").string(), "named pipe"});
}

TEST_F(Files, Files_FirstStartCreatesSecrets0600AndStopsCleanly) {
  ::umask(0);  // the modes must not depend on whoever started the daemon
  const LatchkeydRun run = start();
  ::umask(022);
  ASSERT_TRUE(run.listened) << run.err;
  EXPECT_EQ(run.exit_code, 0) << run.err;
  for (const char* name : {"hub.key", "api-token"}) {
    struct stat st {};
    ASSERT_EQ(::lstat(data(name).c_str(), &st), 0) << name;
    EXPECT_TRUE(S_ISREG(st.st_mode)) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
}

TEST_F(Files, Files_LkctlTokenSymlinkIsNotFollowed) {
  const fs::path planted = plant("token", std::string(64, 'c'));
  fs::create_symlink(planted, data("api-token"));
  try {
    client::read_token_file(data("api-token"));
    FAIL() << "the token was read through a symbolic link";
  } catch (const client::KeyFileError& e) {
    EXPECT_NE(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
  }
  fs::remove(data("api-token"));
  std::ofstream(data("api-token")) << std::string(64, 'c') << "\n";
  ::chmod(data("api-token").c_str(), 0644);
  EXPECT_THROW(client::read_token_file(data("api-token")), client::KeyFileError) << "a token others may read";
  ::chmod(data("api-token").c_str(), 0600);
  EXPECT_EQ(client::read_token_file(data("api-token")), std::string(64, 'c'));
}

TEST_F(Files, StartupErrors_ReachStderrAndTheLogWhenALogFileIsSet) {
  // A fatal error at start (a plugin file that is not there) with [hub] log_file set.
  std::string ini = read_file(hub_->config_file());
  const std::string lock_file = "file = lk_sim_lock.so";
  ASSERT_NE(ini.find(lock_file), std::string::npos);
  ini.replace(ini.find(lock_file), lock_file.size(), "file = no_such_plugin.so");
  std::ofstream(hub_->config_file()) << ini;
  const LatchkeydRun run = start();
  expect_refused(run, {"no_such_plugin.so"});
  EXPECT_NE(read_file(hub_->log_file()).find("no_such_plugin.so"), std::string::npos)
      << "the log misses the fatal error:\n" << read_file(hub_->log_file());
}

TEST_F(Files, ApiAddress_EveryInterfaceIsWarnedAboutOnStderrAndInTheLog) {
  set_hub_key(hub_->config_file(), "api_address", "0.0.0.0:0");
  const LatchkeydRun run = start();
  ASSERT_TRUE(run.listened) << run.err;
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("warning: api_address 0.0.0.0:0 listens on every network interface"), std::string::npos)
      << "stderr:\n" << run.err;
  EXPECT_NE(read_file(hub_->log_file()).find("reachable from the network"), std::string::npos)
      << read_file(hub_->log_file());
}

}  // namespace
}  // namespace latchkey::tests
