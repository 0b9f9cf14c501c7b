// Fuzzes read_password_file (plugins/common/latchkey/mqtt/password_file.hpp,
// used by net_camera and z2m_lock), which reads the hub's broker password
// from the device URI's password_file, a file an installer or an
// administrator writes (or generates: head -c 32 /dev/urandom, a copy with
// Windows line ends, an empty file).
//
// Input: a mode byte (bit 0: the file is group-readable, 0640, else 0600),
// then the file's contents, written to a memory file read by path.
// Properties: the password is the one line the README describes: the file
// without one final "\n" and then one final "\r", refused when over 1024
// bytes, empty or of more than one line; it never holds a NUL (libmosquitto
// takes the password as a C string and would cut it there). A refusal is
// plugin::Error(LK_ERR_INVALID_ARGUMENT) naming the path and the problem and
// nothing of the file's contents; a warning is logged exactly when the file
// can be read by others, and it names the path only.
#include <latchkey/mqtt/password_file.hpp>

#include "support/scratch_file.hpp"

#include <latchkey/cpp/plugin.hpp>

#include <vector>

namespace {

constexpr std::size_t kMaxPasswordBytes = 1024;  // password_file.hpp

std::vector<std::string>& logged() {
  static std::vector<std::string> lines;
  return lines;
}

void capture_log(void*, lk_log_level, const char* message) { logged().emplace_back(message); }

// The README's rule, written again: the problem, or "" and the password.
std::string expected_problem(const std::string& contents, std::string& password) {
  if (contents.size() > kMaxPasswordBytes) return "longer than 1024 bytes";
  password = contents;
  if (!password.empty() && password.back() == '\n') password.pop_back();
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) return "empty";
  if (password.find('\n') != std::string::npos) return "more than one line";
  if (password.find('\0') != std::string::npos) return "a NUL byte in the password";
  return "";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  latchkey::plugin::detail::host_services().log = capture_log;  // as a host would; plugin::log writes here
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static latchkey::fuzz::ScratchFile file;
  latchkey::fuzz::InputCursor in(data, size);
  const bool shared = (in.byte() & 1) != 0;
  const std::string contents = in.rest();
  file.write(contents, shared ? 0640 : 0600);
  logged().clear();

  std::string expected_password;
  const std::string problem = expected_problem(contents, expected_password);
  try {
    const std::string password = latchkey::mqtt::read_password_file(file.path(), "net_camera");
    if (latchkey::fuzz::tracing()) std::fprintf(stderr, "password_file: accepted %zu bytes\n", password.size());
    LK_FUZZ_CHECK(password.find('\0') == std::string::npos, "a password with a NUL (the broker would see less)");
    LK_FUZZ_CHECK(problem.empty(), "a password accepted that the README refuses");
    LK_FUZZ_CHECK(password == expected_password, "a password other than the file's one line");
  } catch (const latchkey::plugin::Error& e) {
    if (latchkey::fuzz::tracing()) std::fprintf(stderr, "password_file: refused: %s\n", e.what());
    LK_FUZZ_CHECK(e.code() == LK_ERR_INVALID_ARGUMENT, "a refusal with another code than LK_ERR_INVALID_ARGUMENT");
    LK_FUZZ_CHECK(!problem.empty(), "a password refused that the README accepts");
    // The message is the path and a fixed sentence: nothing of the contents.
    const std::string prefix = "password_file " + file.path() + ": ";
    const std::string message = e.what();
    LK_FUZZ_CHECK(message.compare(0, prefix.size(), prefix) == 0, "a refusal that does not name the path");
    const std::string said = message.substr(prefix.size());
    LK_FUZZ_CHECK(said == "longer than 1024 bytes" || said == "empty" || said == "more than one line" ||
                      said == "holds a NUL byte",
                  "a refusal that is not one of the fixed problems (it may quote the file)");
    if (problem == "a NUL byte in the password")
      LK_FUZZ_CHECK(said == "holds a NUL byte", "a NUL refused under another name");
    else
      LK_FUZZ_CHECK(said == problem, "refused, but for another problem than the one the file has");
  }
  // The one line logged is the warning, word for word: no room for the password.
  LK_FUZZ_CHECK(logged().size() == (shared ? 1u : 0u), "a warning for a shared file missing, or a line for a private one");
  if (shared)
    LK_FUZZ_CHECK(logged()[0] == "net_camera: password_file " + file.path() + " can be read by others (chmod 600 it)",
                  "the warning says more than the path");
  return 0;
}
