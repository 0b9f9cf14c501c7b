// lk-witness's work, without the broker (docs/fleet.md): what to do with
// each message that arrives, the hub keys it knows, the store, and the
// answer to send. hal_reference/fleet/tools/lk_witness_main.cpp wires it to
// an MQTT link; tests drive it directly too.
#ifndef LATCHKEY_FLEET_WITNESS_HPP
#define LATCHKEY_FLEET_WITNESS_HPP

#include <latchkey/fleet/protocol.hpp>
#include <latchkey/fleet/witness_store.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace latchkey::fleet {

// Hub keys: a file of `<hub_id> <64 hex digits>` lines ('#' starts a
// comment, blank lines skipped), or a directory of such files (every
// regular file in it, sorted by name). Throws std::runtime_error naming the
// file, the line and what is wrong; a hub id given twice is an error.
std::map<std::string, crypto::PublicKey> load_hub_keys(const std::filesystem::path& file_or_dir);

struct Reply {
  std::string topic;
  std::string payload;
};

class Witness {
 public:
  Witness(std::map<std::string, crypto::PublicKey> hub_keys, WitnessStore& store, crypto::KeyPair witness_key,
          std::function<void(const std::string&)> log, std::function<int64_t()> wall_ms);

  // One message from the broker. Returns the answer to publish for a valid
  // query; logs and ignores anything else (unknown hub, bad signature,
  // malformed payload, hub id that differs from the topic's). A checkpoint
  // is on disk before this returns; an answer is built only from what is.
  std::optional<Reply> handle(std::string_view topic, const uint8_t* data, std::size_t size);

 private:
  std::map<std::string, crypto::PublicKey> hub_keys_;
  WitnessStore& store_;
  crypto::KeyPair key_;
  std::function<void(const std::string&)> log_;
  std::function<int64_t()> wall_ms_;
};

}  // namespace latchkey::fleet

#endif  // LATCHKEY_FLEET_WITNESS_HPP
