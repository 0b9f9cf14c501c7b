// The hub's own files in its data directory: the hub key (audit checkpoints)
// and the API bearer token, both created at first start with mode 0600.
#ifndef LATCHKEY_HUB_RUNTIME_FILES_HPP
#define LATCHKEY_HUB_RUNTIME_FILES_HPP

#include <latchkey/crypto/crypto.hpp>

#include <filesystem>
#include <string>

namespace latchkey::hub {

// Creates dir (mode 0700) if missing; throws naming it on failure.
void ensure_private_dir(const std::filesystem::path& dir);
// Reads <dir>/hub.key (hex seed) or creates it with a fresh key, and writes <dir>/hub.pub.
crypto::KeyPair load_or_create_hub_key(const std::filesystem::path& dir);
// Reads <dir>/api-token or creates it (32 random bytes, hex) with mode 0600.
std::string load_or_create_token(const std::filesystem::path& dir);

}  // namespace latchkey::hub

#endif  // LATCHKEY_HUB_RUNTIME_FILES_HPP
