// lkctl against files and against the real latchkeyd: keys, grants, proofs,
// enrolment, unlock (exit 0 allow, 3 deny), the tables, audit verification,
// and exit 2 with the culprit named for every bad argument or file.
#include "daemon_fixture.hpp"

#include <latchkey/client/key_files.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>

namespace latchkey::tests {
namespace {

namespace fs = std::filesystem;

struct CommandRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

CommandRun lkctl(const std::string& args) {
  CommandRun run;
  const std::string command = std::string(LATCHKEY_TEST_LKCTL) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class Lkctl : public DaemonTest {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lkctl-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    DaemonTest::TearDown();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string api_args() const {
    return "--api " + hub_->endpoint().url() + " --data-dir " + hub_->data_dir().string();
  }
  fs::path dir_;
};

TEST_F(Lkctl, Keygen_WritesSecretKey0600AndPublicKey_RefusesToOverwrite) {
  const CommandRun run = lkctl("keygen --out " + path("courier"));
  ASSERT_EQ(run.status, 0) << run.output;
  struct stat info {};
  ASSERT_EQ(::stat(path("courier.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const auto key = client::read_secret_key(path("courier.key"));
  EXPECT_EQ(crypto::to_hex(client::read_public_key(path("courier.pub"))), crypto::to_hex(key.public_key));
  EXPECT_NE(run.output.find(crypto::to_hex(key.public_key)), std::string::npos);
  const CommandRun again = lkctl("keygen --out " + path("courier"));
  EXPECT_EQ(again.status, 2);
  EXPECT_NE(again.output.find("courier.key already exists"), std::string::npos) << again.output;
}

TEST_F(Lkctl, BadArgumentsAndFiles_Exit2NamingTheCulprit) {
  ASSERT_EQ(lkctl("keygen --out " + path("k")).status, 0);
  ::chmod(path("k.key").c_str(), 0644);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"frobnicate", "unknown command 'frobnicate'"},
      {"keygen", "--out is required"},
      {"keygen --out", "--out needs a value"},
      {"mint --issuer " + path("nope.key") + " --key-id a --hub h --door d --courier c --courier-pub " + path("k.pub"),
       "nope.key: no such file"},
      {"mint --issuer " + path("k.key") + " --key-id a --hub h --door d --courier c --courier-pub " + path("k.pub"),
       "may be read by others"},
      {"mint --bogus 1", "unknown option '--bogus'"},
      {"prove --grant " + path("k.pub") + " --courier " + path("k.key") + " --door d --challenge 00",
       "not a serialized SignedGrant"},
      {"enrol --plugin " + path("none.so") + " --uri sim://camera/x", "none.so: no such file"},
      {"verify --db " + path("none.db") + " --hub-pub " + path("k.pub"), "none.db: no such file"},
      {"doors", "--token FILE or --data-dir DIR"},
      {"doors --api ftp://x --token " + path("k.pub"), "must start with http://"},
      {"alarms --from -3 --token " + path("k.pub"), "--from '-3' is not a whole number"},
  };
  for (const auto& [args, expected] : cases) {
    const CommandRun run = lkctl(args);
    EXPECT_EQ(run.status, 2) << "lkctl " << args << "\n" << run.output;
    EXPECT_NE(run.output.find(expected), std::string::npos) << "lkctl " << args << "\n" << run.output;
  }
}

TEST_F(Lkctl, MintProveUnlock_AgainstTheDaemon_Exit0ThenDeniedG3Exit3) {
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::string issuer = (hub_->data_dir() / "issuer.key").string();
  ASSERT_EQ(lkctl("keygen --out " + path("courier")).status, 0);
  const CommandRun mint = lkctl("mint --issuer " + issuer + " --key-id " + hub_->issuer_key_id() + " --hub " +
                         hub_->hub_id() + " --door front --courier c-1 --courier-pub " + path("courier.pub") +
                         " --camera porch --out " + path("grant.hex"));
  ASSERT_EQ(mint.status, 0) << mint.output;

  // prove gives the same request format the daemon accepts: through the API by hand.
  const std::vector<uint8_t> challenge = api_->challenge("front");
  const CommandRun prove = lkctl("prove --grant " + path("grant.hex") + " --courier " + path("courier.key") +
                          " --door front --challenge " + crypto::to_hex(challenge));
  ASSERT_EQ(prove.status, 0) << prove.output;
  const auto request = crypto::from_hex(prove.output.substr(0, prove.output.find('\n')));
  ASSERT_TRUE(request);
  const client::UnlockAnswer answer = api_->unlock("front", *request);
  EXPECT_TRUE(answer.allowed) << answer.rule << ": " << answer.error;
  act("front", "open");
  act("front", "close");
  ASSERT_TRUE(demo::wait_session_end(*api_, answer.session, "completed", 5s));

  const CommandRun replay = lkctl("unlock " + api_args() + " --door front --grant " + path("grant.hex") + " --courier " +
                           path("courier.key"));
  EXPECT_EQ(replay.status, 3) << replay.output;
  EXPECT_NE(replay.output.find("G3"), std::string::npos) << replay.output;

  ASSERT_EQ(lkctl("mint --issuer " + issuer + " --key-id " + hub_->issuer_key_id() + " --hub " + hub_->hub_id() +
                  " --door back --courier c-1 --courier-pub " + path("courier.pub") + " --out " + path("back.hex"))
                .status,
            0);
  const CommandRun unlock = lkctl("unlock " + api_args() + " --door back --grant " + path("back.hex") + " --courier " +
                           path("courier.key"));
  EXPECT_EQ(unlock.status, 0) << unlock.output;
  EXPECT_NE(unlock.output.find("decision allow"), std::string::npos) << unlock.output;

  const CommandRun doors = lkctl("doors " + api_args());
  EXPECT_EQ(doors.status, 0) << doors.output;
  EXPECT_NE(doors.output.find("porch"), std::string::npos) << doors.output;
  const CommandRun sessions = lkctl("sessions " + api_args());
  EXPECT_NE(sessions.output.find("completed"), std::string::npos) << sessions.output;
  const CommandRun audit = lkctl("audit " + api_args());
  EXPECT_NE(audit.output.find("decision"), std::string::npos) << audit.output;
  const CommandRun unknown = lkctl("unlock " + api_args() + " --door cellar --grant " + path("back.hex") + " --courier " +
                            path("courier.key"));
  EXPECT_EQ(unknown.status, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("cellar"), std::string::npos) << unknown.output;
  client::write_hex_file(path("wrong-token"), crypto::random_bytes(32));
  std::filesystem::permissions(path("wrong-token"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace);
  const CommandRun refused = lkctl("doors --api " + hub_->endpoint().url() + " --token " + path("wrong-token"));
  EXPECT_EQ(refused.status, 2) << refused.output;
  EXPECT_NE(refused.output.find("401"), std::string::npos) << refused.output;

  events_.reset();
  ASSERT_EQ(hub_->stop(), 0);
  const CommandRun verify = lkctl("verify --db " + hub_->audit_db().string() + " --hub-pub " +
                           (hub_->data_dir() / "hub.pub").string());
  EXPECT_EQ(verify.status, 0) << verify.output;
  const CommandRun forged = lkctl("verify --db " + hub_->audit_db().string() + " --hub-pub " + path("courier.pub"));
  EXPECT_EQ(forged.status, 1) << "a log checked against another key must not verify\n" << forged.output;
}

TEST_F(Lkctl, Enrol_PrintsTheCameraIdAndTheKeyItsSeedGives) {
  const std::string seed(64, '7');
  const std::string plugin = (fs::path(LATCHKEY_TEST_PLUGIN_DIR) / "lk_sim_camera.so").string();
  const CommandRun run = lkctl("enrol --plugin " + plugin + " --uri 'sim://camera/porch?rate_hz=4&seed=" + seed + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  std::array<uint8_t, 32> seed_bytes{};
  seed_bytes.fill(0x77);
  EXPECT_NE(run.output.find("key = " + crypto::to_hex(crypto::KeyPair::from_seed(seed_bytes).public_key)),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("[camera.porch]"), std::string::npos) << run.output;
  const CommandRun bad = lkctl("enrol --plugin " + plugin + " --uri 'sim://camera/porch?rate=4'");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.output.find("sim://camera/porch?rate=4"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace latchkey::tests
