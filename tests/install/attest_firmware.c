/* A camera's firmware as a camera maker builds it against the installed SDK:
 * C99, the camera-side library from pkg-config (latchkey-attest), nothing
 * else. Signs one attestation and checks its size; exit 0 on success. */
#include <latchkey/lk_attest.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  uint8_t seed[LK_ATTEST_SEED_SIZE];
  memset(seed, 7, sizeof seed);
  lk_attest_key *key = NULL;
  lk_attest_context *context = NULL;
  lk_attest_result r = lk_attest_key_from_seed(seed, &key);
  if (r == LK_ATTEST_OK) r = lk_attest_context_create(key, "porch", &context);
  uint8_t nonce[16];
  memset(nonce, 1, sizeof nonce);
  if (r == LK_ATTEST_OK) r = lk_attest_set_nonce(context, nonce, sizeof nonce);
  uint8_t digest[LK_ATTEST_DIGEST_SIZE];
  memset(digest, 2, sizeof digest);
  uint8_t signed_attestation[LK_ATTEST_SIGNED_MAX];
  size_t size = sizeof signed_attestation;
  if (r == LK_ATTEST_OK) r = lk_attest_sign(context, 1000, digest, signed_attestation, &size);
  lk_attest_context_free(context);
  lk_attest_key_free(key);
  if (r != LK_ATTEST_OK) {
    fprintf(stderr, "attest_firmware: %s\n", lk_attest_result_name(r));
    return 1;
  }
  printf("attest_firmware: signed attestation of %zu bytes\n", size);
  return size > 64 ? 0 : 1;
}
