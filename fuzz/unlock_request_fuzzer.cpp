// Fuzzes GateEngine::request_unlock (hal_reference/gate/src/gate_engine.cpp):
// the UnlockRequest envelope, the signed grant inside it (G1) and the
// presence statement (G2), as the hub meets them from the HTTP API.
//
// Each input gets a fresh engine in the fixed world of support/gate_world.hpp,
// one challenge issued. Input: one mode byte, then
//   mode even: a serialized UnlockRequest, presented as is;
//   mode odd:  a counted Grant body, then a PresenceStatement body; the
//              harness signs the grant with the pinned issuer key and the
//              presence with the courier key, so mutations reach the checks
//              behind both signatures. Seeds carry the challenge the hub
//              issues (it repeats).
// Properties: I1's order: no CommandUnlock before a committed AppendAudit
// that consumes a grant, and no more than one unlock per input (G3).
#include <latchkey/crypto/grants.hpp>

#include "support/gate_world.hpp"

#include <google/protobuf/stubs/logging.h>

using namespace latchkey;

namespace {

std::string request_from(fuzz::InputCursor& in) {
  const uint8_t mode = in.byte();
  if ((mode & 1) == 0) return in.rest();
  const std::string grant_body = in.counted();
  const std::string presence_body = in.rest();
  v1::SignedGrant signed_grant;
  signed_grant.set_grant(grant_body);
  signed_grant.set_key_id(std::string(fuzz::kIssuerKeyId));
  signed_grant.set_signature(fuzz::signature_over(crypto::kGrantDomain, grant_body, fuzz::issuer_key().secret_key));
  v1::UnlockRequest request;
  request.set_signed_grant(signed_grant.SerializeAsString());
  request.set_presence(presence_body);
  request.set_presence_signature(
      fuzz::signature_over(crypto::kPresenceDomain, presence_body, fuzz::courier_key().secret_key));
  return request.SerializeAsString();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::InputCursor in(data, size);
  const std::string request = request_from(in);

  fuzz::GateWorld w;
  w.prepare();

  w.engine.request_unlock(std::string(fuzz::kDoorId), fuzz::view(request), gate::AuthzVerdict{}, fuzz::kWallMs, w.now);
  w.settle();
  w.advance(4);  // U2: the camera acknowledges recording; U3: the decision commits
  if (fuzz::tracing()) std::fprintf(stderr, "unlock_request: %s\n", w.trace.c_str());
  LK_FUZZ_CHECK(w.unlocks <= 1, "G3: one request unlocked more than once");
  return 0;
}
