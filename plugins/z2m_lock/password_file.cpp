#include "password_file.hpp"

#include <latchkey/cpp/plugin.hpp>

#include <sys/stat.h>

#include <fstream>
#include <iterator>

namespace latchkey::z2m {
namespace {

constexpr std::size_t kMaxBytes = 1024;

[[noreturn]] void refuse(const std::string& path, const std::string& problem) {
  throw plugin::Error(LK_ERR_INVALID_ARGUMENT, "password_file " + path + ": " + problem);
}

}  // namespace

std::string read_password_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) refuse(path, "cannot be read (missing?)");
  if (!S_ISREG(st.st_mode)) refuse(path, "not a regular file");
  if (st.st_size > static_cast<off_t>(kMaxBytes)) refuse(path, "longer than " + std::to_string(kMaxBytes) + " bytes");
  if ((st.st_mode & 0077) != 0)
    plugin::log(LK_LOG_WARNING, "z2m_lock: password_file " + path + " can be read by others (chmod 600 it)");
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(path, "cannot be opened");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > kMaxBytes) refuse(path, "longer than " + std::to_string(kMaxBytes) + " bytes");
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) refuse(path, "empty");
  if (text.find('\n') != std::string::npos) refuse(path, "more than one line");
  if (text.find('\0') != std::string::npos) refuse(path, "holds a NUL byte");
  return text;
}

}  // namespace latchkey::z2m
