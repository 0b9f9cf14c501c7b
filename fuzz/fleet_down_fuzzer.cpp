// Fuzzes what a hub reads from the fleet broker (docs/fleet.md): the
// witness's answer (decode_signed_answer, hal_reference/fleet/src/protocol.cpp,
// then witness_verdict, verdict.cpp) and a revocation list
// (decode_signed_revocation_list, revocation.cpp), as anyone able to publish
// on the hub's witness/answer or down/revocations/+ topics could send them.
//
// Input: one mode byte, then
//   mode % 4 == 0: a SignedWitnessAnswer as is;
//   mode % 4 == 1: a WitnessAnswer body the harness signs with the pinned witness key;
//   mode % 4 == 2: a SignedRevocationList as is;
//   mode % 4 == 3: a RevocationList body the harness signs with the pinned issuer key.
// Properties: a refusal names what was wrong (non-empty); an answer judged
// ok with a checkpoint is one the local log extends (its size within the log,
// its head the log's hash there), behind only when the checkpoint is longer
// than the log, diverged only when the log holds that record with another
// hash; an accepted revocation list names this hub and the pinned issuer,
// has a sequence of at least 1 and grant ids of 32 lower-case hex digits.
#include <latchkey/fleet/protocol.hpp>
#include <latchkey/fleet/revocation.hpp>
#include <latchkey/fleet/verdict.hpp>

#include "latchkey/fleet.pb.h"
#include "support/fleet_world.hpp"
#include "support/fuzz_input.hpp"

#include <google/protobuf/stubs/logging.h>

#include <cstdlib>

using namespace latchkey;

namespace {

using fuzz::hub_key;
using fuzz::kLocalRecords;
using fuzz::local_hash;
using fuzz::witness_key;

void check(bool ok) {
  if (!ok) std::abort();
}

void answer(const std::string& presented) {
  auto decoded = fleet::decode_signed_answer(reinterpret_cast<const uint8_t*>(presented.data()), presented.size(),
                                             witness_key().public_key);
  if (auto* problem = std::get_if<std::string>(&decoded)) return check(!problem->empty());
  const fleet::Answer& a = std::get<fleet::Answer>(decoded);
  fleet::LocalLogView log;
  log.size = kLocalRecords;
  log.hash_at = [](uint64_t seq) -> std::optional<audit::Digest> {
    if (seq < 1 || seq > kLocalRecords) std::abort();  // the verdict asks only for records the log has
    return local_hash(seq);
  };
  const fleet::WitnessVerdict v = fleet::witness_verdict(log, a, fuzz::kHubId, fuzz::query_nonce(), hub_key().public_key);
  check(!v.detail.empty() || v.kind == fleet::WitnessVerdict::Kind::kOk);
  using Kind = fleet::WitnessVerdict::Kind;
  if (v.kind == Kind::kBadAnswer) return;
  // Anything judged answers this hub's query with a checkpoint signed by this hub, or none.
  check(a.hub_id == fuzz::kHubId && a.nonce == fuzz::query_nonce());
  if (a.checkpoint) check(audit::verify_checkpoint(*a.checkpoint, hub_key().public_key));
  if (!a.checkpoint) return check(v.kind == Kind::kOk);
  const uint64_t size = a.checkpoint->size;
  switch (v.kind) {
    case Kind::kOk:
      check(size >= 1 && size <= kLocalRecords && local_hash(size) == a.checkpoint->head);
      break;
    case Kind::kBehind:
      check(size > kLocalRecords);
      break;
    case Kind::kDiverged:
      check(size >= 1 && size <= kLocalRecords && local_hash(size) != a.checkpoint->head);
      break;
    case Kind::kBadAnswer:
      break;
  }
}

void revocations(const std::string& presented) {
  const fleet::IssuerKeyLookup pinned = [](const std::string& key_id) -> std::optional<crypto::PublicKey> {
    if (key_id != fuzz::kIssuerKeyId) return std::nullopt;
    return fuzz::issuer_key().public_key;
  };
  auto decoded = fleet::decode_signed_revocation_list(reinterpret_cast<const uint8_t*>(presented.data()),
                                                      presented.size(), fuzz::kHubId, pinned);
  if (auto* problem = std::get_if<std::string>(&decoded)) return check(!problem->empty());
  const fleet::RevocationList& list = std::get<fleet::RevocationList>(decoded);
  check(list.hub_id == fuzz::kHubId && list.issuer_key_id == fuzz::kIssuerKeyId && list.sequence >= 1);
  check(list.grant_ids.size() <= fleet::kMaxRevokedGrants);
  for (const std::string& id : list.grant_ids) {
    check(id.size() == 2 * fleet::kGrantIdBytes);
    for (char c : id) check((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
  check(fleet::revocation_list_problem(list).empty());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::InputCursor in(data, size);
  const uint8_t mode = in.byte();
  std::string body = in.rest();
  switch (mode % 4) {
    case 0:
      answer(body);
      break;
    case 1: {
      fleet::v1::SignedWitnessAnswer s;
      s.set_answer(body);
      s.set_signature(fuzz::signature_over(fleet::kAnswerDomain, body, witness_key().secret_key));
      answer(s.SerializeAsString());
      break;
    }
    case 2:
      revocations(body);
      break;
    case 3: {
      fleet::v1::SignedRevocationList s;
      s.set_list(body);
      s.set_signature(fuzz::signature_over(fleet::kRevocationDomain, body, fuzz::issuer_key().secret_key));
      revocations(s.SerializeAsString());
      break;
    }
  }
  return 0;
}
