#include <latchkey/fleet/protocol.hpp>

#include <latchkey/fleet.pb.h>

#include <algorithm>

namespace latchkey::fleet {
namespace {

namespace pb = latchkey::fleet::v1;

constexpr std::string_view kCheckpointLeaf = "up/checkpoint";
constexpr std::string_view kQueryLeaf = "witness/query";
constexpr std::string_view kAnswerLeaf = "witness/answer";

std::string_view leaf(Channel channel) {
  switch (channel) {
    case Channel::kCheckpoint: return kCheckpointLeaf;
    case Channel::kQuery: return kQueryLeaf;
    case Channel::kAnswer: return kAnswerLeaf;
  }
  return kAnswerLeaf;
}

std::string bytes_text(crypto::ByteView b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

template <std::size_t N>
bool copy_exact(const std::string& from, std::array<uint8_t, N>& to) {
  if (from.size() != N) return false;
  std::copy(from.begin(), from.end(), to.begin());
  return true;
}

void fill(pb::AuditCheckpoint& m, std::string_view hub_id, const audit::Checkpoint& cp) {
  m.set_hub_id(std::string(hub_id));
  m.set_size(cp.size);
  m.set_head(bytes_text(cp.head));
  m.set_wall_ms(cp.wall_ms);
  m.set_mono_ns(cp.mono_ns);
  m.set_signature(bytes_text(cp.signature));
}

std::variant<HubCheckpoint, std::string> from_message(const pb::AuditCheckpoint& m) {
  HubCheckpoint out;
  out.hub_id = m.hub_id();
  if (std::string p = hub_id_problem(out.hub_id); !p.empty()) return "checkpoint: hub_id " + p;
  out.checkpoint.size = m.size();
  out.checkpoint.wall_ms = m.wall_ms();
  out.checkpoint.mono_ns = m.mono_ns();
  if (!copy_exact(m.head(), out.checkpoint.head))
    return "checkpoint: head must be 32 bytes, not " + std::to_string(m.head().size());
  if (!copy_exact(m.signature(), out.checkpoint.signature))
    return "checkpoint: signature must be 64 bytes, not " + std::to_string(m.signature().size());
  if (m.size() == 0) return std::string("checkpoint: size 0 (a checkpoint covers at least one record)");
  return out;
}

}  // namespace

std::string hub_id_problem(std::string_view hub_id) {
  if (hub_id.empty()) return "is empty";
  if (hub_id.size() > kMaxHubIdBytes) return "is longer than " + std::to_string(kMaxHubIdBytes) + " bytes";
  for (char c : hub_id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return "may hold only letters, digits, '.', '_' and '-'";
  return "";
}

std::string topic(std::string_view hub_id, Channel channel) {
  return std::string(kTopicRoot) + "/" + std::string(hub_id) + "/" + std::string(leaf(channel));
}

std::string subscription(Channel channel) { return topic("+", channel); }

std::optional<ParsedTopic> parse_topic(std::string_view t) {
  const std::string root = std::string(kTopicRoot) + "/";
  if (t.substr(0, root.size()) != root) return std::nullopt;
  t.remove_prefix(root.size());
  const std::size_t slash = t.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  ParsedTopic out{std::string(t.substr(0, slash)), Channel::kAnswer};
  if (!hub_id_problem(out.hub_id).empty()) return std::nullopt;
  const std::string_view rest = t.substr(slash + 1);
  if (rest == kCheckpointLeaf) out.channel = Channel::kCheckpoint;
  else if (rest == kQueryLeaf) out.channel = Channel::kQuery;
  else if (rest == kAnswerLeaf) out.channel = Channel::kAnswer;
  else return std::nullopt;
  return out;
}

std::string encode_checkpoint(std::string_view hub_id, const audit::Checkpoint& cp) {
  pb::AuditCheckpoint m;
  fill(m, hub_id, cp);
  return m.SerializeAsString();
}

std::variant<HubCheckpoint, std::string> decode_checkpoint(const uint8_t* data, std::size_t size) {
  pb::AuditCheckpoint m;
  if (!m.ParseFromArray(data, static_cast<int>(size))) return std::string("checkpoint: not a protobuf AuditCheckpoint");
  return from_message(m);
}

std::string encode_query(std::string_view hub_id, crypto::ByteView nonce) {
  pb::WitnessQuery m;
  m.set_hub_id(std::string(hub_id));
  m.set_nonce(bytes_text(nonce));
  return m.SerializeAsString();
}

std::variant<Query, std::string> decode_query(const uint8_t* data, std::size_t size) {
  pb::WitnessQuery m;
  if (!m.ParseFromArray(data, static_cast<int>(size))) return std::string("query: not a protobuf WitnessQuery");
  if (std::string p = hub_id_problem(m.hub_id()); !p.empty()) return "query: hub_id " + p;
  if (m.nonce().size() != kNonceBytes)
    return "query: nonce must be " + std::to_string(kNonceBytes) + " bytes, not " + std::to_string(m.nonce().size());
  return Query{m.hub_id(), crypto::Bytes(m.nonce().begin(), m.nonce().end())};
}

std::string encode_signed_answer(const Answer& answer, const crypto::SecretKey& witness_secret) {
  pb::WitnessAnswer a;
  a.set_hub_id(answer.hub_id);
  a.set_nonce(bytes_text(answer.nonce));
  if (answer.checkpoint) fill(*a.mutable_checkpoint(), answer.hub_id, *answer.checkpoint);
  a.set_witness_wall_ms(answer.witness_wall_ms);
  a.set_fork_seen(answer.fork_seen);
  pb::SignedWitnessAnswer s;
  s.set_answer(a.SerializeAsString());
  const crypto::Signature sig = crypto::sign(kAnswerDomain, crypto::view(s.answer()), witness_secret);
  s.set_signature(bytes_text(sig));
  return s.SerializeAsString();
}

std::variant<Answer, std::string> decode_signed_answer(const uint8_t* data, std::size_t size,
                                                       const crypto::PublicKey& witness_key) {
  pb::SignedWitnessAnswer s;
  if (!s.ParseFromArray(data, static_cast<int>(size))) return std::string("answer: not a protobuf SignedWitnessAnswer");
  if (s.signature().size() != 64) return std::string("answer: signature must be 64 bytes");
  if (!crypto::verify(kAnswerDomain, crypto::view(s.answer()), crypto::view(s.signature()), witness_key))
    return std::string("answer: not signed by the pinned witness key");
  pb::WitnessAnswer a;
  if (!a.ParseFromString(s.answer())) return std::string("answer: the signed bytes are not a WitnessAnswer");
  Answer out;
  out.hub_id = a.hub_id();
  out.nonce.assign(a.nonce().begin(), a.nonce().end());
  out.witness_wall_ms = a.witness_wall_ms();
  out.fork_seen = a.fork_seen();
  if (a.has_checkpoint()) {
    auto cp = from_message(a.checkpoint());
    if (auto* problem = std::get_if<std::string>(&cp)) return "answer: " + *problem;
    const HubCheckpoint& hc = std::get<HubCheckpoint>(cp);
    if (hc.hub_id != out.hub_id) return std::string("answer: the checkpoint names another hub than the answer");
    out.checkpoint = hc.checkpoint;
  }
  return out;
}

}  // namespace latchkey::fleet
