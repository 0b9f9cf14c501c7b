// Reads the hub's broker password from its file (the device URI's
// password_file): one line, the final newline dropped. The password never
// appears in a URI or a log line.
#ifndef LATCHKEY_Z2M_LOCK_PASSWORD_FILE_HPP
#define LATCHKEY_Z2M_LOCK_PASSWORD_FILE_HPP

#include <string>

namespace latchkey::z2m {

// Throws plugin::Error(LK_ERR_INVALID_ARGUMENT) naming the path and the problem.
std::string read_password_file(const std::string& path);

}  // namespace latchkey::z2m

#endif  // LATCHKEY_Z2M_LOCK_PASSWORD_FILE_HPP
