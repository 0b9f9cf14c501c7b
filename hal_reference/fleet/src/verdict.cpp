#include <latchkey/fleet/verdict.hpp>

namespace latchkey::fleet {
namespace {

std::string describe(const audit::Checkpoint& cp) {
  return "size " + std::to_string(cp.size) + " head " + crypto::to_hex(cp.head);
}

}  // namespace

std::string_view name(WitnessVerdict::Kind kind) {
  switch (kind) {
    case WitnessVerdict::Kind::kOk: return "ok";
    case WitnessVerdict::Kind::kBehind: return "behind";
    case WitnessVerdict::Kind::kDiverged: return "diverged";
    case WitnessVerdict::Kind::kBadAnswer: return "bad_answer";
  }
  return "bad_answer";
}

WitnessVerdict witness_verdict(const LocalLogView& log, const Answer& answer, std::string_view hub_id,
                               crypto::ByteView nonce, const crypto::PublicKey& hub_key) {
  using Kind = WitnessVerdict::Kind;
  if (answer.hub_id != hub_id) return {Kind::kBadAnswer, "the answer is for hub '" + answer.hub_id + "'"};
  if (nonce.empty() || !crypto::equal_constant_time(answer.nonce, nonce))
    return {Kind::kBadAnswer, "the answer does not echo this query's nonce"};
  if (!answer.checkpoint) return {Kind::kOk, "the witness holds no checkpoint of this hub; the log has " +
                                                 std::to_string(log.size) + " records"};
  const audit::Checkpoint& cp = *answer.checkpoint;
  if (!audit::verify_checkpoint(cp, hub_key))
    return {Kind::kBadAnswer, "the witness's checkpoint (" + describe(cp) + ") is not signed by this hub's key"};
  const std::string held = "the witness holds " + describe(cp);
  if (log.size < cp.size)
    return {Kind::kBehind, held + "; the log has only " + std::to_string(log.size) + " records"};
  const std::optional<audit::Digest> local = log.hash_at ? log.hash_at(cp.size) : std::nullopt;
  if (!local) return {Kind::kDiverged, held + "; the log's record " + std::to_string(cp.size) + " cannot be read"};
  if (!crypto::equal_constant_time(*local, cp.head))
    return {Kind::kDiverged, held + "; the log's record " + std::to_string(cp.size) + " has hash " +
                                 crypto::to_hex(*local)};
  return {Kind::kOk, held + "; the log extends it to " + std::to_string(log.size) + " records"};
}

}  // namespace latchkey::fleet
