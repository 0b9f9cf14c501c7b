// The fleet link's fixed world for fleet_down's harness and its seeds: the
// witness's and the hub's keys, the nonce of the hub's query and a local
// audit log of ten records whose hashes are derived from their numbers.
#ifndef LATCHKEY_FUZZ_FLEET_WORLD_HPP
#define LATCHKEY_FUZZ_FLEET_WORLD_HPP

#include "support/fixed_world.hpp"

#include <latchkey/audit/checkpoint.hpp>

#include <string>

namespace latchkey::fuzz {

inline constexpr uint64_t kLocalRecords = 10;

inline const crypto::KeyPair& witness_key() {
  static const crypto::KeyPair k = key_from(7);
  return k;
}
inline const crypto::KeyPair& hub_key() {
  static const crypto::KeyPair k = key_from(8);
  return k;
}
inline const crypto::Bytes& query_nonce() {
  static const crypto::Bytes n(16, 0x4e);
  return n;
}
inline audit::Digest local_hash(uint64_t seq) {
  const std::string text = "record " + std::to_string(seq);
  return crypto::blake2b256(view(text));
}

}  // namespace latchkey::fuzz

#endif  // LATCHKEY_FUZZ_FLEET_WORLD_HPP
