// Reads the hub's broker password from its file (the device URI's
// password_file): one line, the final newline dropped. The password never
// appears in a URI or a log line.
#ifndef LATCHKEY_NET_CAMERA_PASSWORD_FILE_HPP
#define LATCHKEY_NET_CAMERA_PASSWORD_FILE_HPP

#include <string>

namespace latchkey::net_camera {

// Throws plugin::Error(LK_ERR_INVALID_ARGUMENT) naming the path and the problem.
std::string read_password_file(const std::string& path);

}  // namespace latchkey::net_camera

#endif  // LATCHKEY_NET_CAMERA_PASSWORD_FILE_HPP
