#include "device_key.hpp"

namespace latchkey::camera {

LoadedKey load_or_create_key(const std::string& path) {
  LoadedKey out;
  char message[LK_ATTEST_MESSAGE_SIZE] = {};
  lk_attest_key* key = nullptr;
  lk_attest_result r = lk_attest_key_load(path.c_str(), &key, message, sizeof message);
  if (r == LK_ATTEST_ERR_KEY_NOT_FOUND) {
    // First start: a new identity, to be enrolled at the hub. Never over an
    // existing file (the library opens with O_EXCL).
    r = lk_attest_key_create(path.c_str(), &key, message, sizeof message);
    out.created = r == LK_ATTEST_OK;
  }
  out.message = message;
  if (r == LK_ATTEST_OK) out.key.reset(key);
  return out;
}

PublicKey public_key_of(const lk_attest_key& key) {
  PublicKey pk{};
  lk_attest_key_public_key(&key, pk.data());
  return pk;
}

}  // namespace latchkey::camera
