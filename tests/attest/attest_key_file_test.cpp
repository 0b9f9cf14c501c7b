// The device key file (C1: only the camera holds its key): created 0600 and
// exclusive, loaded only from a regular file the caller owns with no bits
// beyond 0600. Each refusal has its own code and a message that names the
// path and the problem.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "attest_test_support.hpp"

using namespace latchkey::attest_test;

namespace {

struct Outcome {
  lk_attest_result result;
  std::string message;
  Key key;
};

Outcome load(const std::string& path) {
  char message[LK_ATTEST_MESSAGE_SIZE] = "untouched";
  lk_attest_key* key = nullptr;
  const lk_attest_result result = lk_attest_key_load(path.c_str(), &key, message, sizeof message);
  return {result, message, Key(key)};
}

Outcome create(const std::string& path) {
  char message[LK_ATTEST_MESSAGE_SIZE] = "untouched";
  lk_attest_key* key = nullptr;
  const lk_attest_result result = lk_attest_key_create(path.c_str(), &key, message, sizeof message);
  return {result, message, Key(key)};
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  ASSERT_EQ(chmod(path.c_str(), mode), 0);
}

const std::string kHeader = "latchkey-ed25519-seed-v1\n";
const std::string kHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

unsigned mode_of(const std::string& path) {
  struct stat st{};
  EXPECT_EQ(lstat(path.c_str(), &st), 0);
  return static_cast<unsigned>(st.st_mode & 07777);
}

class KeyFile : public ::testing::Test {
 protected:
  ScratchDir dir;
  const std::string path = dir.path("device.key");
};

// The refusal is this code, and its message names the path and every fragment.
void expect_refused(const Outcome& outcome, lk_attest_result code, const std::string& path,
                    std::initializer_list<const char*> fragments) {
  EXPECT_EQ(outcome.result, code) << lk_attest_result_name(outcome.result) << ": " << outcome.message;
  EXPECT_EQ(outcome.key, nullptr);
  EXPECT_NE(outcome.message.find(path), std::string::npos) << outcome.message;
  for (const char* fragment : fragments) EXPECT_NE(outcome.message.find(fragment), std::string::npos) << outcome.message;
}

}  // namespace

TEST_F(KeyFile, C1_CreatedKeyIsMode0600AndLoadsAsTheSameKey) {
  const Outcome created = create(path);
  ASSERT_EQ(created.result, LK_ATTEST_OK) << created.message;
  EXPECT_EQ(mode_of(path), 0600u);
  const Outcome loaded = load(path);
  ASSERT_EQ(loaded.result, LK_ATTEST_OK) << loaded.message;
  EXPECT_EQ(public_key_of(loaded.key.get()), public_key_of(created.key.get()));
  EXPECT_NE(loaded.message.find(path), std::string::npos);
}

TEST_F(KeyFile, C1_FileHoldsTheDocumentedHeaderAndHexSeed) {
  ASSERT_EQ(create(path).result, LK_ATTEST_OK);
  std::ifstream in(path);
  std::string header, hex, rest;
  std::getline(in, header);
  std::getline(in, hex);
  EXPECT_EQ(header, "latchkey-ed25519-seed-v1");
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_FALSE(std::getline(in, rest));
}

TEST_F(KeyFile, C1_KnownSeedLoadsWithOrWithoutTheFinalNewline) {
  std::array<uint8_t, LK_ATTEST_SEED_SIZE> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i);
  const Key expected = key_from_seed(seed);
  for (const std::string& text : {kHeader + kHex + "\n", kHeader + kHex}) {
    write_file(path, text);
    const Outcome loaded = load(path);
    ASSERT_EQ(loaded.result, LK_ATTEST_OK) << loaded.message;
    EXPECT_EQ(public_key_of(loaded.key.get()), public_key_of(expected.get()));
  }
}

TEST_F(KeyFile, C1_NarrowerModesThan0600AreAccepted) {
  write_file(path, kHeader + kHex + "\n", 0400);
  EXPECT_EQ(load(path).result, LK_ATTEST_OK);
}

TEST_F(KeyFile, C1_Mode0644IsRefused) {
  write_file(path, kHeader + kHex + "\n", 0644);
  expect_refused(load(path), LK_ATTEST_ERR_KEY_MODE, path, {"mode 0644", "0600"});
}

TEST_F(KeyFile, C1_Mode0640IsRefused) {
  write_file(path, kHeader + kHex + "\n", 0640);
  expect_refused(load(path), LK_ATTEST_ERR_KEY_MODE, path, {"mode 0640"});
}

TEST_F(KeyFile, C1_ExecutableOrSetuidBitsAreRefused) {
  write_file(path, kHeader + kHex + "\n", 0700);
  expect_refused(load(path), LK_ATTEST_ERR_KEY_MODE, path, {"mode 0700"});
  write_file(path, kHeader + kHex + "\n", 04600);
  expect_refused(load(path), LK_ATTEST_ERR_KEY_MODE, path, {"mode 4600"});
}

TEST_F(KeyFile, C1_ASymlinkIsRefusedEvenToAGoodKey) {
  const std::string real = dir.path("real.key");
  write_file(real, kHeader + kHex + "\n");
  ASSERT_EQ(symlink(real.c_str(), path.c_str()), 0);
  expect_refused(load(path), LK_ATTEST_ERR_KEY_SYMLINK, path, {"symbolic link"});
}

TEST_F(KeyFile, C1_AFileOwnedByAnotherUserIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "giving a file to another user needs root";
  const passwd* nobody = getpwnam("nobody");
  const uid_t other = nobody != nullptr ? nobody->pw_uid : 65534;
  write_file(path, kHeader + kHex + "\n");
  ASSERT_EQ(chown(path.c_str(), other, static_cast<gid_t>(-1)), 0);
  expect_refused(load(path), LK_ATTEST_ERR_KEY_OWNER, path, {"owned by uid", std::to_string(other).c_str()});
}

TEST_F(KeyFile, C1_ADirectoryIsRefused) {
  ASSERT_EQ(mkdir(path.c_str(), 0700), 0);
  expect_refused(load(path), LK_ATTEST_ERR_KEY_NOT_REGULAR, path, {"a directory"});
}

TEST_F(KeyFile, C1_AFifoIsRefusedWithoutWaitingForAWriter) {
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  expect_refused(load(path), LK_ATTEST_ERR_KEY_NOT_REGULAR, path, {"a FIFO"});
}

TEST_F(KeyFile, C1_AShortFileIsRefused) {
  write_file(path, kHeader + kHex.substr(0, 20));
  expect_refused(load(path), LK_ATTEST_ERR_KEY_FORMAT, path, {"not a latchkey device key", "45 bytes"});
  write_file(path, "");
  expect_refused(load(path), LK_ATTEST_ERR_KEY_FORMAT, path, {"0 bytes"});
}

TEST_F(KeyFile, C1_ALongerFileIsRefused) {
  write_file(path, kHeader + kHex + "\n\n");
  expect_refused(load(path), LK_ATTEST_ERR_KEY_FORMAT, path, {"more than 90 bytes"});
}

TEST_F(KeyFile, C1_AGarbledSeedIsRefused) {
  std::string garbled = kHex;
  garbled[40] = 'g';
  write_file(path, kHeader + garbled + "\n");
  expect_refused(load(path), LK_ATTEST_ERR_KEY_FORMAT, path, {"64 hex digits"});
  write_file(path, kHeader + kHex + "x");
  expect_refused(load(path), LK_ATTEST_ERR_KEY_FORMAT, path, {"64 hex digits"});
}

TEST_F(KeyFile, C1_AWrongHeaderIsRefused) {
  write_file(path, "latchkey-ed25519-seed-v2\n" + kHex + "\n");
  expect_refused(load(path), LK_ATTEST_ERR_KEY_FORMAT, path, {"first line"});
}

TEST_F(KeyFile, C1_AMissingFileIsReportedAsNotFound) {
  expect_refused(load(path), LK_ATTEST_ERR_KEY_NOT_FOUND, path, {"does not exist"});
}

TEST_F(KeyFile, C1_CreateNeverReplacesAnExistingKey) {
  ASSERT_EQ(create(path).result, LK_ATTEST_OK);
  std::ifstream before_in(path);
  const std::string before((std::istreambuf_iterator<char>(before_in)), {});
  expect_refused(create(path), LK_ATTEST_ERR_KEY_EXISTS, path, {"already exists"});
  std::ifstream after_in(path);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(after_in)), {}), before);
}

TEST_F(KeyFile, C1_CreateDoesNotFollowASymlink) {
  const std::string target = dir.path("elsewhere.key");
  ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0);
  expect_refused(create(path), LK_ATTEST_ERR_KEY_EXISTS, path, {"already exists"});
  EXPECT_NE(access(target.c_str(), F_OK), 0) << "nothing was written through the link";
}

TEST_F(KeyFile, C1_CreateInAMissingFolderIsAnIoError) {
  const std::string missing = dir.path("no-such-folder/device.key");
  expect_refused(create(missing), LK_ATTEST_ERR_IO, missing, {"cannot be created"});
}

TEST_F(KeyFile, AnEmptyOrNullPathIsRefused) {
  char message[LK_ATTEST_MESSAGE_SIZE] = "";
  lk_attest_key* key = nullptr;
  EXPECT_EQ(lk_attest_key_load("", &key, message, sizeof message), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_STRNE(message, "");
  EXPECT_EQ(lk_attest_key_load(nullptr, &key, nullptr, 0), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(lk_attest_key_create(path.c_str(), nullptr, nullptr, 0), LK_ATTEST_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(key, nullptr);
}

TEST_F(KeyFile, AShortMessageBufferIsTruncatedAndTerminated) {
  char message[8];
  memset(message, 'X', sizeof message);
  lk_attest_key* key = nullptr;
  EXPECT_EQ(lk_attest_key_load(path.c_str(), &key, message, sizeof message), LK_ATTEST_ERR_KEY_NOT_FOUND);
  EXPECT_EQ(std::string(message), "key fil");
}
