// The camera's Ed25519 device key (docs/rules.md C1), through latchkey_attest:
// loaded from its file, or created there (mode 0600) at first start. The
// library refuses a file anyone else could read or replace; the agent then
// stops with the library's message.
#pragma once

#include <latchkey/lk_attest.h>

#include <array>
#include <memory>
#include <string>

namespace latchkey::camera {

struct KeyDeleter {
  void operator()(lk_attest_key* key) const { lk_attest_key_free(key); }
};
using KeyPtr = std::unique_ptr<lk_attest_key, KeyDeleter>;

using PublicKey = std::array<uint8_t, LK_ATTEST_PUBLIC_KEY_SIZE>;

struct LoadedKey {
  KeyPtr key;          // null when refused
  bool created = false;
  std::string message;  // the library's sentence: what was loaded or created, or why not
};

LoadedKey load_or_create_key(const std::string& path);

PublicKey public_key_of(const lk_attest_key& key);

}  // namespace latchkey::camera
