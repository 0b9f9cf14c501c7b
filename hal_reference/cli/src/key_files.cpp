#include <latchkey/client/key_files.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace latchkey::client {

namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& why) {
  throw KeyFileError(path.string() + ": " + why);
}

std::string read_text(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path, "no such file");
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string without_whitespace(const std::string& text) {
  std::string out;
  std::copy_if(text.begin(), text.end(), std::back_inserter(out),
               [](char c) { return !std::isspace(static_cast<unsigned char>(c)); });
  return out;
}

std::string octal(mode_t mode) {
  std::ostringstream text;
  text << '0' << std::oct << (mode & 0777);
  return text.str();
}

// A secret (a key seed, the API token) is read without following a symbolic
// link and checked on the descriptor read from, not on the name: a regular
// file, the caller's own, mode at most 0600. O_NONBLOCK: a named pipe planted
// under the name must not hang the open.
std::string read_secret_text(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) fail(path, "no such file");
    if (errno == ELOOP) fail(path, "is a symbolic link; secrets are opened without following links");
    fail(path, std::string("cannot open: ") + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) fail(path, std::string("cannot stat: ") + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) fail(path, "is a directory, not a file");
  if (!S_ISREG(info.st_mode)) fail(path, "is not a regular file");
  if (info.st_uid != ::geteuid())
    fail(path, "owned by uid " + std::to_string(info.st_uid) + ", expected uid " + std::to_string(::geteuid()) +
                   " (yours): a secret must be your own");
  if ((info.st_mode & 077) != 0)
    fail(path, "a secret that may be read by others (mode " + octal(info.st_mode) +
                   ", expected at most 0600); run chmod 600 on it");
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path, std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > 65536) fail(path, "is larger than 64 KiB; not a key or token file");
  }
  return text;
}

crypto::Bytes parse_hex(const std::filesystem::path& path, const std::string& text, std::size_t expected_size,
                        const char* what) {
  const std::string digits = without_whitespace(text);
  const auto bytes = crypto::from_hex(digits);
  if (!bytes) fail(path, std::string("does not hold ") + what + " in hex (found characters other than hex digits or an odd count)");
  if (expected_size != 0 && bytes->size() != expected_size) {
    fail(path, std::string("holds ") + std::to_string(bytes->size()) + " bytes; " + what + " is " +
                   std::to_string(expected_size) + " bytes (" + std::to_string(2 * expected_size) + " hex digits)");
  }
  if (bytes->empty()) fail(path, std::string("is empty; expected ") + what + " in hex");
  return *bytes;
}

// New files get their mode at creation (O_EXCL: never widened afterwards);
// a replaced public file is made 0644 again.
void write_file(const std::filesystem::path& path, const std::string& text, int flags, mode_t mode) {
  const int fd = ::open(path.c_str(), flags | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0 && (errno == ELOOP || errno == EEXIST) && (flags & O_NOFOLLOW) != 0)
    fail(path, "already exists (or is a symbolic link); a new secret is never written over anything");
  if (fd < 0) fail(path, std::string("cannot create: ") + std::strerror(errno));
  bool ok = (flags & O_EXCL) != 0 || ::fchmod(fd, mode) == 0;
  std::size_t written = 0;
  while (ok && written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ok = false;
    else written += static_cast<std::size_t>(n);
  }
  const int saved = errno;
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) fail(path, std::string("cannot write: ") + std::strerror(saved));
}

}  // namespace

std::array<uint8_t, 32> seed_of(const crypto::KeyPair& key) {
  std::array<uint8_t, 32> seed{};
  std::copy_n(key.secret_key.begin(), seed.size(), seed.begin());
  return seed;
}

void write_secret_key(const std::filesystem::path& path, const crypto::KeyPair& key) {
  const auto seed = seed_of(key);
  write_file(path, crypto::to_hex(seed) + "\n", O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
}

crypto::KeyPair read_secret_key(const std::filesystem::path& path) {
  const std::string text = read_secret_text(path);
  const crypto::Bytes seed = parse_hex(path, text, 32, "a secret key seed");
  std::array<uint8_t, 32> array{};
  std::copy(seed.begin(), seed.end(), array.begin());
  return crypto::KeyPair::from_seed(array);
}

void write_public_key(const std::filesystem::path& path, const crypto::PublicKey& key) {
  write_file(path, crypto::to_hex(key) + "\n", O_CREAT | O_TRUNC, 0644);
}

crypto::PublicKey read_public_key(const std::filesystem::path& path) {
  const crypto::Bytes bytes = parse_hex(path, read_text(path), 32, "an Ed25519 public key");
  crypto::PublicKey key{};
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

void write_hex_file(const std::filesystem::path& path, crypto::ByteView bytes) {
  write_file(path, crypto::to_hex(bytes) + "\n", O_CREAT | O_TRUNC, 0644);
}

crypto::Bytes read_hex_file(const std::filesystem::path& path) {
  return parse_hex(path, read_text(path), 0, "bytes");
}

std::string read_token_file(const std::filesystem::path& path) {
  const std::string token = without_whitespace(read_secret_text(path));
  if (token.empty()) fail(path, "is empty; expected the API token");
  return token;
}

}  // namespace latchkey::client
