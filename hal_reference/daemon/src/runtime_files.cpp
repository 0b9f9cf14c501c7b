#include "runtime_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace latchkey::hub {
namespace {

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// Writes a new file with the given mode; refuses to overwrite.
void write_new_file(const std::filesystem::path& file, const std::string& text, mode_t mode) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + file.string() + ": " + std::strerror(errno));
  ::fchmod(fd, mode);  // whatever the umask said
  const std::string line = text + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + file.string());
}

void require_private(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + file.string());
  if ((st.st_mode & 077) != 0)
    throw std::runtime_error(file.string() + " is readable by others (mode " + std::to_string(st.st_mode & 0777) +
                             "); it must be 0600");
}

}  // namespace

void ensure_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) return;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create data directory " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
}

crypto::KeyPair load_or_create_hub_key(const std::filesystem::path& dir) {
  const auto key_file = dir / "hub.key";
  std::array<uint8_t, 32> seed{};
  if (std::filesystem::exists(key_file)) {
    require_private(key_file);
    const auto bytes = crypto::from_hex(read_text(key_file));
    if (!bytes || bytes->size() != 32) throw std::runtime_error(key_file.string() + " must hold a 32-byte seed in hex");
    std::copy(bytes->begin(), bytes->end(), seed.begin());
  } else {
    crypto::random_bytes(std::span<uint8_t>(seed));
    write_new_file(key_file, crypto::to_hex(seed), 0600);
  }
  const crypto::KeyPair pair = crypto::KeyPair::from_seed(seed);
  const auto pub_file = dir / "hub.pub";
  if (!std::filesystem::exists(pub_file)) write_new_file(pub_file, crypto::to_hex(pair.public_key), 0644);
  return pair;
}

std::string load_or_create_token(const std::filesystem::path& dir) {
  const auto file = dir / "api-token";
  if (std::filesystem::exists(file)) {
    require_private(file);
    const std::string token = read_text(file);
    if (token.size() < 32) throw std::runtime_error(file.string() + " holds no usable token");
    return token;
  }
  const std::string token = crypto::to_hex(crypto::random_bytes(32));
  write_new_file(file, token, 0600);
  return token;
}

}  // namespace latchkey::hub
