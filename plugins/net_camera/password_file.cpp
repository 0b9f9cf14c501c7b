#include "password_file.hpp"

#include <latchkey/cpp/plugin.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace latchkey::net_camera {
namespace {

constexpr std::size_t kMaxPasswordBytes = 1024;

[[noreturn]] void refuse(const std::string& path, const std::string& problem) {
  throw plugin::Error(LK_ERR_INVALID_ARGUMENT, "password_file " + path + ": " + problem);
}

}  // namespace

std::string read_password_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) refuse(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    refuse(path, "not a regular file");
  }
  if ((st.st_mode & 0077) != 0)
    plugin::log(LK_LOG_WARNING, "net_camera: password_file " + path + " can be read by others (chmod 600 it)");
  std::string text(kMaxPasswordBytes + 1, '\0');
  std::size_t used = 0;
  while (used < text.size()) {
    const ssize_t n = ::read(fd, text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      refuse(path, std::string("cannot read: ") + std::strerror(error));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (used > kMaxPasswordBytes) refuse(path, "longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  text.resize(used);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) refuse(path, "empty");
  if (text.find('\n') != std::string::npos) refuse(path, "more than one line");
  // libmosquitto takes the password as a C string: it would send only what comes before a NUL.
  if (text.find('\0') != std::string::npos) refuse(path, "holds a NUL byte");
  return text;
}

}  // namespace latchkey::net_camera
