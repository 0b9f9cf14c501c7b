#include <latchkey/fleet/revocation.hpp>

#include <latchkey/fleet/protocol.hpp>

#include <latchkey/fleet.pb.h>

#include <stdexcept>

namespace latchkey::fleet {
namespace {

namespace pb = latchkey::fleet::v1;

std::string bytes_text(crypto::ByteView b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

// Key ids travel in protobuf strings and name [issuer <id>] sections:
// printable ASCII without spaces, 1-64 characters (as lkctl mint takes them).
std::string key_id_problem(std::string_view id) {
  if (id.empty()) return "is empty";
  if (id.size() > 64) return "is longer than 64 characters";
  for (char c : id)
    if (c <= ' ' || c > '~') return "may hold printable ASCII without spaces only";
  return "";
}

std::string list_name(const pb::RevocationList& m) {
  return "list " + m.issuer_key_id() + " #" + std::to_string(m.sequence());
}

}  // namespace

std::string revocations_topic(std::string_view hub_id, std::string_view issuer_key_id) {
  if (issuer_key_id.empty() || issuer_key_id.find_first_of("/+#") != std::string_view::npos)
    throw std::invalid_argument("issuer key id '" + std::string(issuer_key_id) +
                                "' cannot name a revocations topic (empty, or holds '/', '+' or '#')");
  return std::string(kTopicRoot) + "/" + std::string(hub_id) + "/down/revocations/" + std::string(issuer_key_id);
}

std::string revocations_subscription(std::string_view hub_id) {
  return std::string(kTopicRoot) + "/" + std::string(hub_id) + "/down/revocations/+";
}

std::optional<std::string> revocations_topic_issuer(std::string_view hub_id, std::string_view topic) {
  const std::string prefix = std::string(kTopicRoot) + "/" + std::string(hub_id) + "/down/revocations/";
  if (topic.size() <= prefix.size() || topic.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view last = topic.substr(prefix.size());
  if (last.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(last);
}

std::string revocations_applied_topic(std::string_view hub_id) {
  return std::string(kTopicRoot) + "/" + std::string(hub_id) + "/up/revocations_applied";
}

std::string revocations_applied_subscription() { return revocations_applied_topic("+"); }

std::string revocation_list_problem(const RevocationList& list) {
  if (std::string p = hub_id_problem(list.hub_id); !p.empty()) return "hub id '" + list.hub_id + "' " + p;
  if (std::string p = key_id_problem(list.issuer_key_id); !p.empty())
    return "issuer key id '" + list.issuer_key_id + "' " + p;
  if (list.sequence == 0) return "sequence 0 (the first list of an issuer is 1)";
  if (list.grant_ids.size() > kMaxRevokedGrants)
    return std::to_string(list.grant_ids.size()) + " grants, more than " + std::to_string(kMaxRevokedGrants);
  for (const std::string& id : list.grant_ids) {
    const auto bytes = crypto::from_hex(id);
    if (!bytes || bytes->size() != kGrantIdBytes || crypto::to_hex(*bytes) != id)
      return "grant id '" + id + "' is not 32 lower-case hex digits";
  }
  return "";
}

std::string encode_signed_revocation_list(const RevocationList& list, const crypto::SecretKey& issuer_key) {
  if (std::string p = revocation_list_problem(list); !p.empty()) throw std::invalid_argument("revocation list: " + p);
  pb::RevocationList m;
  m.set_hub_id(list.hub_id);
  m.set_issuer_key_id(list.issuer_key_id);
  m.set_sequence(list.sequence);
  for (const std::string& id : list.grant_ids) m.add_grant_ids(bytes_text(*crypto::from_hex(id)));
  m.set_issued_wall_ms(list.issued_wall_ms);
  pb::SignedRevocationList s;
  s.set_list(m.SerializeAsString());
  const crypto::Signature sig = crypto::sign(kRevocationDomain, crypto::view(s.list()), issuer_key);
  s.set_signature(bytes_text(sig));
  return s.SerializeAsString();
}

namespace {

// The shape of the inner list (no signature): its fields as RevocationList.
std::variant<RevocationList, std::string> from_message(const pb::RevocationList& m) {
  RevocationList out;
  out.hub_id = m.hub_id();
  out.issuer_key_id = m.issuer_key_id();
  out.sequence = m.sequence();
  out.issued_wall_ms = m.issued_wall_ms();
  if (std::string p = hub_id_problem(out.hub_id); !p.empty()) return list_name(m) + ": hub id " + p;
  if (std::string p = key_id_problem(out.issuer_key_id); !p.empty()) return "revocation list: issuer key id " + p;
  if (out.sequence == 0) return list_name(m) + ": sequence 0 (the first list of an issuer is 1)";
  if (static_cast<std::size_t>(m.grant_ids_size()) > kMaxRevokedGrants)
    return list_name(m) + ": " + std::to_string(m.grant_ids_size()) + " grants, more than " +
           std::to_string(kMaxRevokedGrants);
  for (int i = 0; i < m.grant_ids_size(); ++i) {
    const std::string& id = m.grant_ids(i);
    if (id.size() != kGrantIdBytes)
      return list_name(m) + ": grant id #" + std::to_string(i + 1) + " is " + std::to_string(id.size()) +
             " bytes, not " + std::to_string(kGrantIdBytes);
    out.grant_ids.insert(crypto::to_hex(crypto::view(id)));
  }
  return out;
}

}  // namespace

std::variant<RevocationList, std::string> peek_revocation_list(const uint8_t* data, std::size_t size) {
  pb::SignedRevocationList s;
  if (!s.ParseFromArray(data, static_cast<int>(size)))
    return std::string("revocation list: not a protobuf SignedRevocationList");
  pb::RevocationList m;
  if (!m.ParseFromString(s.list())) return std::string("revocation list: the signed bytes are not a RevocationList");
  return from_message(m);
}

std::variant<RevocationList, std::string> decode_signed_revocation_list(const uint8_t* data, std::size_t size,
                                                                        std::string_view expected_hub_id,
                                                                        const IssuerKeyLookup& issuer_key) {
  pb::SignedRevocationList s;
  if (size == 0 || !s.ParseFromArray(data, static_cast<int>(size)) || s.list().empty())
    return std::string("revocation list: not a protobuf SignedRevocationList");
  pb::RevocationList m;
  if (!m.ParseFromString(s.list())) return std::string("revocation list: the signed bytes are not a RevocationList");
  if (std::string p = key_id_problem(m.issuer_key_id()); !p.empty()) return "revocation list: issuer key id " + p;
  const std::optional<crypto::PublicKey> key = issuer_key(m.issuer_key_id());
  if (!key) return list_name(m) + ": unknown issuer '" + m.issuer_key_id() + "' (no [issuer] pins that key id)";
  if (s.signature().size() != 64)
    return list_name(m) + ": signature is " + std::to_string(s.signature().size()) + " bytes, not 64";
  if (!crypto::verify(kRevocationDomain, crypto::view(s.list()), crypto::view(s.signature()), *key))
    return list_name(m) + ": bad signature (not signed by the pinned key of issuer '" + m.issuer_key_id() + "')";
  if (m.hub_id() != expected_hub_id)
    return list_name(m) + ": for hub '" + m.hub_id() + "', not this hub '" + std::string(expected_hub_id) + "'";
  return from_message(m);
}

SequenceVerdict judge_sequence(std::optional<uint64_t> held, uint64_t incoming) {
  if (!held || incoming > *held) return SequenceVerdict::kNewer;
  return incoming == *held ? SequenceVerdict::kSame : SequenceVerdict::kOlder;
}

std::set<std::string> newly_revoked(const std::set<std::string>& before, const std::set<std::string>& next) {
  std::set<std::string> out;
  for (const std::string& id : next)
    if (!before.count(id)) out.insert(id);
  return out;
}

std::string encode_revocations_applied(const RevocationsApplied& ack) {
  pb::RevocationsApplied m;
  m.set_hub_id(ack.hub_id);
  m.set_issuer_key_id(ack.issuer_key_id);
  m.set_sequence(ack.sequence);
  m.set_applied_wall_ms(ack.applied_wall_ms);
  return m.SerializeAsString();
}

std::variant<RevocationsApplied, std::string> decode_revocations_applied(const uint8_t* data, std::size_t size) {
  pb::RevocationsApplied m;
  if (!m.ParseFromArray(data, static_cast<int>(size)))
    return std::string("revocations applied: not a protobuf RevocationsApplied");
  if (std::string p = hub_id_problem(m.hub_id()); !p.empty()) return "revocations applied: hub id " + p;
  if (std::string p = key_id_problem(m.issuer_key_id()); !p.empty()) return "revocations applied: issuer key id " + p;
  if (m.sequence() == 0) return std::string("revocations applied: sequence 0");
  return RevocationsApplied{m.hub_id(), m.issuer_key_id(), m.sequence(), m.applied_wall_ms()};
}

std::string encode_stored_revocation_lists(const std::vector<std::string>& signed_lists) {
  pb::StoredRevocationLists m;
  for (const std::string& one : signed_lists) {
    pb::SignedRevocationList s;
    if (!s.ParseFromString(one)) throw std::invalid_argument("stored revocation lists: not a SignedRevocationList");
    *m.add_lists() = std::move(s);
  }
  return m.SerializeAsString();
}

std::variant<std::vector<std::string>, std::string> decode_stored_revocation_lists(const std::string& bytes) {
  pb::StoredRevocationLists m;
  if (!m.ParseFromString(bytes)) return std::string("not a protobuf StoredRevocationLists");
  std::vector<std::string> out;
  for (const pb::SignedRevocationList& s : m.lists()) out.push_back(s.SerializeAsString());
  return out;
}

}  // namespace latchkey::fleet
