/* BLAKE2b-256 of a decoded frame, fed in pieces (C5, C7 compare these). */
#define _POSIX_C_SOURCE 200809L
#include "attest_internal.h"

#include <stdlib.h>

#include <sodium.h>

struct lk_attest_digest {
  crypto_generichash_blake2b_state state;
};

lk_attest_result lk_attest_digest_create(lk_attest_digest **digest) {
  if (digest == NULL) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  const lk_attest_result init = lk__attest_init_sodium();
  if (init != LK_ATTEST_OK) return init;
  /* libsodium's state wants 64-byte alignment, more than malloc promises. */
  void *memory = NULL;
  if (posix_memalign(&memory, 64, sizeof(lk_attest_digest)) != 0) return LK_ATTEST_ERR_NO_MEMORY;
  lk_attest_digest *d = memory;
  if (crypto_generichash_blake2b_init(&d->state, NULL, 0, LK_ATTEST_DIGEST_SIZE) != 0) {
    free(d);
    return LK_ATTEST_ERR_CRYPTO;
  }
  *digest = d;
  return LK_ATTEST_OK;
}

lk_attest_result lk_attest_digest_update(lk_attest_digest *digest, const void *data, size_t size) {
  if (digest == NULL || (data == NULL && size > 0)) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  if (size == 0) return LK_ATTEST_OK;
  crypto_generichash_blake2b_update(&digest->state, data, size);
  return LK_ATTEST_OK;
}

lk_attest_result lk_attest_digest_final(lk_attest_digest *digest, uint8_t out[LK_ATTEST_DIGEST_SIZE]) {
  if (digest == NULL || out == NULL) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  if (crypto_generichash_blake2b_final(&digest->state, out, LK_ATTEST_DIGEST_SIZE) != 0 ||
      crypto_generichash_blake2b_init(&digest->state, NULL, 0, LK_ATTEST_DIGEST_SIZE) != 0)
    return LK_ATTEST_ERR_CRYPTO;
  return LK_ATTEST_OK;
}

void lk_attest_digest_free(lk_attest_digest *digest) { free(digest); }
