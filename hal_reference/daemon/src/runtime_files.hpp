// The hub's own files in its data directory: the hub key (audit checkpoints)
// and the API bearer token, both created at first start with mode 0600.
//
// Nothing here trusts a file by its name. The data directory must be a real
// directory (not a symbolic link) owned by the daemon's user and writable by
// nobody else; a secret is opened without following a symbolic link
// (O_NOFOLLOW) and checked on the opened descriptor: a regular file, owned
// by the daemon's user, mode at most 0600. A new secret is created with
// O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 and written and fsynced through
// that descriptor. Every refusal throws FileTrustError naming the path and
// the problem, modes in octal.
#ifndef LATCHKEY_HUB_RUNTIME_FILES_HPP
#define LATCHKEY_HUB_RUNTIME_FILES_HPP

#include <latchkey/crypto/crypto.hpp>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace latchkey::hub {

class FileTrustError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Why `dir` is not fit to be the data directory, or "" when it is. A missing
// directory is a problem too ("does not exist").
std::string data_dir_problem(const std::filesystem::path& dir);
// Creates dir (mode 0700) if missing, then requires data_dir_problem() to be "".
void ensure_private_dir(const std::filesystem::path& dir);

// The content of a secret file, or nullopt when it does not exist. Throws
// FileTrustError when it is a link, not a regular file, someone else's, or
// readable or writable by group or others.
std::optional<std::string> read_secret_file(const std::filesystem::path& file);
// Creates `file`, which must not exist, with mode 0600 and `text`.
void create_secret_file(const std::filesystem::path& file, const std::string& text);

// Reads <dir>/hub.key (hex seed) or creates it with a fresh key, and writes <dir>/hub.pub.
crypto::KeyPair load_or_create_hub_key(const std::filesystem::path& dir);
// Reads <dir>/api-token or creates it (32 random bytes, hex) with mode 0600.
std::string load_or_create_token(const std::filesystem::path& dir);

// Read-only (latchkeyd --check): every problem of the data directory and of
// the hub key and token already in it; files not there yet are no problem.
// `hub_key` receives the hub key when it exists and is usable.
std::vector<std::string> check_runtime_files(const std::filesystem::path& dir,
                                             std::optional<crypto::KeyPair>* hub_key);

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_RUNTIME_FILES_HPP
