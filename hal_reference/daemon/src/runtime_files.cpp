#include "runtime_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace latchkey::hub {
namespace {

// A secret is a line of hex; anything this long is not one of ours.
constexpr off_t kMaxSecretBytes = 4096;

std::string octal(mode_t mode) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a named pipe";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

[[noreturn]] void refuse(const std::filesystem::path& path, const std::string& why) {
  throw FileTrustError(path.string() + ": " + why);
}

std::string owner_problem(uid_t owner) {
  return "owned by uid " + std::to_string(owner) + ", expected uid " + std::to_string(::geteuid()) +
         " (the user latchkeyd runs as)";
}

std::string trim_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// Creates a new file through one descriptor: O_EXCL|O_NOFOLLOW so that
// nothing planted under the name is written through, the mode given at
// creation (never widened afterwards), the bytes fsynced before returning.
void create_file(const std::filesystem::path& file, const std::string& text, mode_t mode) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) refuse(file, std::string("cannot create: ") + std::strerror(errno));
  const std::string line = text + "\n";
  std::size_t written = 0;
  bool ok = true;
  while (ok && written < line.size()) {
    const ssize_t n = ::write(fd, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ok = false;
    else written += static_cast<std::size_t>(n);
  }
  const int saved = errno;
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) refuse(file, std::string("cannot write: ") + std::strerror(saved));
  // The new name itself must survive a crash too.
  const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

crypto::KeyPair hub_key_from(const std::filesystem::path& file, const std::string& text) {
  const auto bytes = crypto::from_hex(trim_line(text));
  if (!bytes || bytes->size() != 32) refuse(file, "must hold a 32-byte seed in hex (64 hex digits)");
  std::array<uint8_t, 32> seed{};
  std::copy(bytes->begin(), bytes->end(), seed.begin());
  return crypto::KeyPair::from_seed(seed);
}

std::string token_from(const std::filesystem::path& file, const std::string& text) {
  std::string token = trim_line(text);
  if (token.size() < 32) refuse(file, "holds no usable token (at least 32 characters expected)");
  return token;
}

}  // namespace

std::string data_dir_problem(const std::filesystem::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0)
    return "data directory " + dir.string() + ": " + (errno == ENOENT ? "does not exist" : std::strerror(errno));
  const std::string what = "data directory " + dir.string() + ": ";
  if (S_ISLNK(st.st_mode)) return what + "is a symbolic link; name the real directory in data_dir";
  if (!S_ISDIR(st.st_mode)) return what + "is " + file_kind(st.st_mode) + ", not a directory";
  if (st.st_uid != ::geteuid()) return what + owner_problem(st.st_uid);
  // Whoever may write here may replace the hub's key, token or audit log.
  if ((st.st_mode & 022) != 0)
    return what + "mode " + octal(st.st_mode) + " lets group or others write; expected at most 0755 (latchkeyd "
                  "creates it 0700)";
  return {};
}

void ensure_private_dir(const std::filesystem::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT) {
    std::error_code ec;
    std::filesystem::create_directories(dir.parent_path(), ec);
    // Created with its mode: no window in which it is wider than 0700.
    if (ec || (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST))
      refuse(dir, "cannot create the data directory: " + (ec ? ec.message() : std::string(std::strerror(errno))));
  }
  if (const std::string problem = data_dir_problem(dir); !problem.empty()) throw FileTrustError(problem);
}

std::optional<std::string> read_secret_file(const std::filesystem::path& file) {
  // O_NONBLOCK: a named pipe planted under the name must not hang the open.
  const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) refuse(file, "is a symbolic link; secrets are opened without following links");
    refuse(file, std::string("cannot open: ") + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  // Checked on the descriptor read from, not on the name.
  struct stat st {};
  if (::fstat(fd, &st) != 0) refuse(file, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) refuse(file, std::string("is ") + file_kind(st.st_mode) + ", expected a regular file");
  if (st.st_uid != ::geteuid()) refuse(file, owner_problem(st.st_uid));
  if ((st.st_mode & 077) != 0)
    refuse(file, "mode " + octal(st.st_mode) + ", expected at most 0600 (a secret); run chmod 600 on it");
  if (st.st_size > kMaxSecretBytes)
    refuse(file, std::to_string(st.st_size) + " bytes, expected at most " + std::to_string(kMaxSecretBytes));
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) refuse(file, std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

void create_secret_file(const std::filesystem::path& file, const std::string& text) { create_file(file, text, 0600); }

crypto::KeyPair load_or_create_hub_key(const std::filesystem::path& dir) {
  const auto key_file = dir / "hub.key";
  crypto::KeyPair pair;
  if (const auto text = read_secret_file(key_file)) {
    pair = hub_key_from(key_file, *text);
  } else {
    std::array<uint8_t, 32> seed{};
    crypto::random_bytes(std::span<uint8_t>(seed));
    create_secret_file(key_file, crypto::to_hex(seed));
    pair = crypto::KeyPair::from_seed(seed);
  }
  const auto pub_file = dir / "hub.pub";
  struct stat st {};
  if (::lstat(pub_file.c_str(), &st) != 0) create_file(pub_file, crypto::to_hex(pair.public_key), 0644);
  return pair;
}

std::string load_or_create_token(const std::filesystem::path& dir) {
  const auto file = dir / "api-token";
  if (const auto text = read_secret_file(file)) return token_from(file, *text);
  const std::string token = crypto::to_hex(crypto::random_bytes(32));
  create_secret_file(file, token);
  return token;
}

std::vector<std::string> check_runtime_files(const std::filesystem::path& dir,
                                             std::optional<crypto::KeyPair>* hub_key) {
  std::vector<std::string> problems;
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT) return problems;  // made at first start
  if (std::string problem = data_dir_problem(dir); !problem.empty()) {
    problems.push_back(std::move(problem));
    if (!S_ISDIR(st.st_mode)) return problems;
  }
  try {
    if (const auto text = read_secret_file(dir / "hub.key")) *hub_key = hub_key_from(dir / "hub.key", *text);
  } catch (const FileTrustError& e) {
    problems.emplace_back(e.what());
  }
  try {
    if (const auto text = read_secret_file(dir / "api-token")) token_from(dir / "api-token", *text);
  } catch (const FileTrustError& e) {
    problems.emplace_back(e.what());
  }
  return problems;
}

}  // namespace latchkey::hub
