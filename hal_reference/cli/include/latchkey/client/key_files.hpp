// Key and token files as lkctl, lk-demo and the tests keep them.
//
// - A secret key file holds the 32-byte Ed25519 seed as 64 hex digits and a
//   newline; it is created with mode 0600 (O_CREAT|O_EXCL|O_NOFOLLOW, the
//   mode set at creation). Secrets (key files, the API token) are read
//   without following a symbolic link and refused unless the opened file is
//   a regular file of the caller's own with mode at most 0600.
// - A public key file (".pub") holds the 32-byte public key as 64 hex digits.
// - A hex file (a grant, a request) holds hex digits; whitespace is ignored.
// - The API token file (<data_dir>/api-token) holds the token; surrounding
//   whitespace is ignored.
// Every failure throws KeyFileError naming the file and what is wrong.
#ifndef LATCHKEY_CLIENT_KEY_FILES_HPP
#define LATCHKEY_CLIENT_KEY_FILES_HPP

#include <latchkey/crypto/crypto.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace latchkey::client {

class KeyFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The seed a key pair was made from (libsodium keeps it in the first half of
// the secret key).
std::array<uint8_t, 32> seed_of(const crypto::KeyPair& key);

// Creates `path` (which must not exist) with mode 0600 holding the seed.
void write_secret_key(const std::filesystem::path& path, const crypto::KeyPair& key);
crypto::KeyPair read_secret_key(const std::filesystem::path& path);

// Creates or replaces `path` (mode 0644) holding the public key.
void write_public_key(const std::filesystem::path& path, const crypto::PublicKey& key);
crypto::PublicKey read_public_key(const std::filesystem::path& path);

// Creates or replaces `path` holding the bytes as hex and a newline.
void write_hex_file(const std::filesystem::path& path, crypto::ByteView bytes);
crypto::Bytes read_hex_file(const std::filesystem::path& path);

std::string read_token_file(const std::filesystem::path& path);

}  // namespace latchkey::client

#endif  // LATCHKEY_CLIENT_KEY_FILES_HPP
