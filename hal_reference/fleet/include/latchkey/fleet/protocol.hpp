// The fleet link's topics and messages (sdk/proto/latchkey/fleet.proto,
// docs/fleet.md): building and checking them, without any I/O. Parsers
// return an error text naming what was wrong instead of throwing.
#ifndef LATCHKEY_FLEET_PROTOCOL_HPP
#define LATCHKEY_FLEET_PROTOCOL_HPP

#include <latchkey/audit/checkpoint.hpp>
#include <latchkey/crypto/crypto.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace latchkey::fleet {

inline constexpr std::string_view kTopicRoot = "latchkey/fleet/v1";
inline constexpr std::string_view kAnswerDomain = "latchkey.fleet.witness_answer.v1";
inline constexpr std::size_t kNonceBytes = 16;
inline constexpr std::size_t kMaxHubIdBytes = 64;

// Hub ids are 1-64 letters, digits, '.', '_' or '-' (an MQTT topic level
// without wildcards). "" when `hub_id` is one, else the problem.
std::string hub_id_problem(std::string_view hub_id);

enum class Channel { kCheckpoint, kQuery, kAnswer };
// latchkey/fleet/v1/<hub_id>/up/checkpoint, .../witness/query, .../witness/answer
std::string topic(std::string_view hub_id, Channel channel);
// What the witness subscribes to: latchkey/fleet/v1/+/up/checkpoint and .../+/witness/query.
std::string subscription(Channel channel);
struct ParsedTopic {
  std::string hub_id;
  Channel channel;
};
// nullopt for a topic that is not one of the three with a valid hub id.
std::optional<ParsedTopic> parse_topic(std::string_view topic);

// ---- AuditCheckpoint ----
std::string encode_checkpoint(std::string_view hub_id, const audit::Checkpoint& cp);
struct HubCheckpoint {
  std::string hub_id;
  audit::Checkpoint checkpoint;
};
// Shape only (sizes of head and signature, hub id); the signature is checked
// by whoever knows the hub key.
std::variant<HubCheckpoint, std::string> decode_checkpoint(const uint8_t* data, std::size_t size);

// ---- WitnessQuery ----
std::string encode_query(std::string_view hub_id, crypto::ByteView nonce);
struct Query {
  std::string hub_id;
  crypto::Bytes nonce;
};
std::variant<Query, std::string> decode_query(const uint8_t* data, std::size_t size);

// ---- SignedWitnessAnswer ----
struct Answer {
  std::string hub_id;
  crypto::Bytes nonce;
  std::optional<audit::Checkpoint> checkpoint;  // nullopt: the witness holds none for this hub
  int64_t witness_wall_ms = 0;
  bool fork_seen = false;
};
// Serializes `answer` and signs it with the witness key.
std::string encode_signed_answer(const Answer& answer, const crypto::SecretKey& witness_secret);
// Checks the witness's signature with the pinned key, then the shape.
std::variant<Answer, std::string> decode_signed_answer(const uint8_t* data, std::size_t size,
                                                       const crypto::PublicKey& witness_key);

}  // namespace latchkey::fleet

#endif  // LATCHKEY_FLEET_PROTOCOL_HPP
