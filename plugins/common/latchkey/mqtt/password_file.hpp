// Reads a plugin's broker password from its file (the device URI's
// password_file), for the plugins that reach an MQTT broker (net_camera,
// z2m_lock): one line, the final newline dropped. The file is opened once
// and checked on the opened descriptor (a regular file, at most 1 KiB); a
// file others can read is used with a warning in the log. The password
// never appears in a URI or a log line. Header-only: plugin side.
#ifndef LATCHKEY_MQTT_PASSWORD_FILE_HPP
#define LATCHKEY_MQTT_PASSWORD_FILE_HPP

#include <latchkey/cpp/plugin.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace latchkey::mqtt {
namespace password_detail {

constexpr std::size_t kMaxBytes = 1024;

[[noreturn]] inline void refuse(const std::string& path, const std::string& problem) {
  throw plugin::Error(LK_ERR_INVALID_ARGUMENT, "password_file " + path + ": " + problem);
}

}  // namespace password_detail

// Throws plugin::Error(LK_ERR_INVALID_ARGUMENT) naming the path and the
// problem; `driver` names the plugin in the warning.
inline std::string read_password_file(const std::string& path, const std::string& driver) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) password_detail::refuse(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    password_detail::refuse(path, "not a regular file");
  }
  if ((st.st_mode & 0077) != 0)
    plugin::log(LK_LOG_WARNING, driver + ": password_file " + path + " can be read by others (chmod 600 it)");
  std::string text(password_detail::kMaxBytes + 1, '\0');
  std::size_t used = 0;
  while (used < text.size()) {
    const ssize_t n = ::read(fd, text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      password_detail::refuse(path, std::string("cannot read: ") + std::strerror(error));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (used > password_detail::kMaxBytes) password_detail::refuse(path, "longer than " + std::to_string(password_detail::kMaxBytes) + " bytes");
  text.resize(used);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) password_detail::refuse(path, "empty");
  if (text.find('\n') != std::string::npos) password_detail::refuse(path, "more than one line");
  // libmosquitto takes the password as a C string: it would send only what comes before a NUL.
  if (text.find('\0') != std::string::npos) password_detail::refuse(path, "holds a NUL byte");
  return text;
}

}  // namespace latchkey::mqtt

#endif  // LATCHKEY_MQTT_PASSWORD_FILE_HPP
