// Fuzzes check_signed_grant (sdk/src/crypto/grants.cpp), the G1 decoder a
// grant from any issuer, courier or network goes through.
//
// Input: one mode byte, then
//   mode even: a serialized SignedGrant, checked as presented;
//   mode odd:  a serialized Grant body, which the harness signs with the
//              pinned issuer key first, so the checks behind the signature
//              see every mutation.
// Properties: a grant that passes names this hub and door, the pinned key id,
// a 16-byte id, a 32-byte courier key and a window of at most 24 h around now.
#include <latchkey/crypto/grants.hpp>

#include "support/fixed_world.hpp"

#include <google/protobuf/stubs/logging.h>

using namespace latchkey;

namespace {

crypto::GrantExpectations expectations() {
  crypto::GrantExpectations e;
  e.hub_id = std::string(fuzz::kHubId);
  e.door_id = std::string(fuzz::kDoorId);
  e.now_unix_ms = fuzz::kWallMs;
  return e;
}

std::optional<crypto::PublicKey> pinned(const std::string& key_id) {
  if (key_id != fuzz::kIssuerKeyId) return std::nullopt;
  return fuzz::issuer_key().public_key;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // invalid UTF-8 warnings would drown the output
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::InputCursor in(data, size);
  const uint8_t mode = in.byte();
  std::string presented = in.rest();
  if (mode & 1) {
    v1::SignedGrant signed_grant;
    signed_grant.set_grant(presented);
    signed_grant.set_key_id(std::string(fuzz::kIssuerKeyId));
    signed_grant.set_signature(fuzz::signature_over(crypto::kGrantDomain, presented, fuzz::issuer_key().secret_key));
    presented = signed_grant.SerializeAsString();
  }

  const crypto::GrantExpectations expect = expectations();
  const crypto::GrantCheck check = crypto::check_signed_grant(fuzz::view(presented), pinned, expect);
  if (fuzz::tracing()) std::fprintf(stderr, "grant: %s: %s\n", crypto::to_string(check.refusal), check.message.c_str());
  LK_FUZZ_CHECK(check.ok() == (check.refusal == crypto::GrantRefusal::kNone), "ok() disagrees with the refusal");
  if (!check.ok()) {
    LK_FUZZ_CHECK(!check.message.empty(), "a refusal without a message");
    return 0;
  }
  const v1::Grant& g = check.grant;
  LK_FUZZ_CHECK(g.hub_id() == expect.hub_id && g.door_id() == expect.door_id, "accepted for another hub or door");
  LK_FUZZ_CHECK(g.issuer_key_id() == fuzz::kIssuerKeyId, "accepted under another key id");
  LK_FUZZ_CHECK(g.grant_id().size() == 16 && g.courier_public_key().size() == 32, "accepted with bad field sizes");
  LK_FUZZ_CHECK(g.not_before_unix_ms() <= g.not_after_unix_ms(), "accepted with an inverted window");
  LK_FUZZ_CHECK(g.not_after_unix_ms() - g.not_before_unix_ms() <= crypto::kMaxGrantLifetimeMs,
                "accepted with a lifetime over 24 h");
  LK_FUZZ_CHECK(g.not_before_unix_ms() - expect.skew_ms <= expect.now_unix_ms &&
                    expect.now_unix_ms <= g.not_after_unix_ms() + expect.skew_ms,
                "accepted outside its window");
  return 0;
}
