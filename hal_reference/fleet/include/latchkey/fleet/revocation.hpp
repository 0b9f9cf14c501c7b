// Signed revocation lists down the fleet link (sdk/proto/latchkey/fleet.proto,
// docs/fleet.md "Revocations"): their topics, building, checking and the
// sequence rule, without any I/O. Parsers return an error text naming what
// was wrong instead of throwing.
#ifndef LATCHKEY_FLEET_REVOCATION_HPP
#define LATCHKEY_FLEET_REVOCATION_HPP

#include <latchkey/crypto/crypto.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace latchkey::fleet {

inline constexpr std::string_view kRevocationDomain = "latchkey.fleet.revocations.v1";
inline constexpr std::size_t kGrantIdBytes = 16;          // Grant.grant_id
inline constexpr std::size_t kMaxRevokedGrants = 100000;  // per list: about 1.8 MB on the wire

// latchkey/fleet/v1/<hub_id>/down/revocations/<issuer_key_id> (issuer ->
// hub, retained): one retained list per issuer, so a hub connecting later
// receives every issuer's newest list. Throws std::invalid_argument when the
// key id cannot be one MQTT topic level (empty, or holds '/', '+' or '#').
std::string revocations_topic(std::string_view hub_id, std::string_view issuer_key_id);
// What a hub subscribes to: latchkey/fleet/v1/<hub_id>/down/revocations/+
std::string revocations_subscription(std::string_view hub_id);
// The issuer key id a topic of revocations_subscription(hub_id) names (its
// last level); nullopt for any other topic.
std::optional<std::string> revocations_topic_issuer(std::string_view hub_id, std::string_view topic);
// latchkey/fleet/v1/<hub_id>/up/revocations_applied (hub -> issuer)
std::string revocations_applied_topic(std::string_view hub_id);
// What an issuer subscribes to for every hub's acknowledgements.
std::string revocations_applied_subscription();

struct RevocationList {
  std::string hub_id;
  std::string issuer_key_id;
  uint64_t sequence = 0;
  std::set<std::string> grant_ids;  // hex, lower case, 32 digits each
  int64_t issued_wall_ms = 0;
};

// "" when `list` can be signed, else what is wrong (hub id, key id, sequence
// 0, a grant id that is not 32 hex digits, too many grants).
std::string revocation_list_problem(const RevocationList& list);

// A serialized SignedRevocationList signed by the issuer key. Throws
// std::invalid_argument with revocation_list_problem's text.
std::string encode_signed_revocation_list(const RevocationList& list, const crypto::SecretKey& issuer_key);

using IssuerKeyLookup = std::function<std::optional<crypto::PublicKey>(const std::string& key_id)>;

// Checks a SignedRevocationList as a hub does: the protobuf shape, an
// issuer the hub pins (`issuer_key`), that issuer's signature in
// kRevocationDomain, the hub id (`expected_hub_id`), sequence >= 1 and every
// grant id 16 bytes. Error texts name the issuer and sequence once known.
std::variant<RevocationList, std::string> decode_signed_revocation_list(const uint8_t* data, std::size_t size,
                                                                        std::string_view expected_hub_id,
                                                                        const IssuerKeyLookup& issuer_key);

// The list's shape only, no signature check (lkctl shows what it publishes).
std::variant<RevocationList, std::string> peek_revocation_list(const uint8_t* data, std::size_t size);

// The sequence rule: a list replaces the one held for its (hub, issuer) only
// when its sequence is larger. nullopt: none held yet.
enum class SequenceVerdict { kNewer, kSame, kOlder };
SequenceVerdict judge_sequence(std::optional<uint64_t> held, uint64_t incoming);

// The grants `next` revokes that `before` did not.
std::set<std::string> newly_revoked(const std::set<std::string>& before, const std::set<std::string>& next);

// ---- RevocationsApplied ----
struct RevocationsApplied {
  std::string hub_id;
  std::string issuer_key_id;
  uint64_t sequence = 0;
  int64_t applied_wall_ms = 0;
};
std::string encode_revocations_applied(const RevocationsApplied& ack);
std::variant<RevocationsApplied, std::string> decode_revocations_applied(const uint8_t* data, std::size_t size);

// ---- The hub's file of kept lists (StoredRevocationLists) ----
// Each element is a serialized SignedRevocationList as received.
std::string encode_stored_revocation_lists(const std::vector<std::string>& signed_lists);
std::variant<std::vector<std::string>, std::string> decode_stored_revocation_lists(const std::string& bytes);

}  // namespace latchkey::fleet

#endif  // LATCHKEY_FLEET_REVOCATION_HPP
