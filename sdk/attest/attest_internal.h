/* Internals of latchkey_attest shared by its source files; not installed. */
#ifndef LATCHKEY_ATTEST_INTERNAL_H
#define LATCHKEY_ATTEST_INTERNAL_H

#include <latchkey/lk_attest.h>

#define LK__ATTEST_SECRET_KEY_SIZE 64u   /* libsodium's Ed25519 secret key: seed || public key */
#define LK__ATTEST_SIGNATURE_SIZE 64u
#define LK__ATTEST_DOMAIN "latchkey.attestation.v1"   /* as kAttestationDomain in sdk crypto */

struct lk_attest_key {
  uint8_t *secret_key;   /* LK__ATTEST_SECRET_KEY_SIZE bytes of sodium_malloc memory */
  uint8_t public_key[LK_ATTEST_PUBLIC_KEY_SIZE];
};

/* Everything an Attestation carries apart from what lk_attest_sign passes in. */
struct lk_attest_context {
  uint8_t *secret_key;   /* sodium_malloc memory, wiped on free */
  char camera_id[LK_ATTEST_CAMERA_ID_MAX];
  size_t camera_id_size;
  uint8_t boot_id[LK_ATTEST_BOOT_ID_SIZE];
  uint64_t counter;      /* of the last attestation signed */
  uint8_t nonce[LK_ATTEST_NONCE_MAX];
  size_t nonce_size;     /* 0 until the first nonce */
  int recording;
  uint8_t session_id[LK_ATTEST_SESSION_ID_SIZE];
  size_t session_id_size;  /* 0 or LK_ATTEST_SESSION_ID_SIZE */
  uint64_t segment_id;
  uint64_t recorded_bytes;
};

/* The Attestation message's longest encoding: see attest_encode.c. */
#define LK__ATTEST_BODY_MAX 217u

/* Encodes the Attestation for counter, capture time and digest into body
 * (LK__ATTEST_BODY_MAX bytes); returns the bytes written. */
size_t lk__attest_encode_body(const lk_attest_context *context, uint64_t counter, uint64_t capture_time_ns,
                              const uint8_t frame_digest[LK_ATTEST_DIGEST_SIZE], uint8_t *body);

/* The SignedAttestation's size around a body of body_size bytes. */
size_t lk__attest_signed_size(size_t body_size);

/* Formats a NUL-terminated message into message (when not NULL and
 * message_size > 0), truncating to fit. Returns result, for tail calls. */
lk_attest_result lk__attest_say(lk_attest_result result, char *message, size_t message_size, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* sodium_init, once; LK_ATTEST_ERR_CRYPTO when libsodium cannot start. */
lk_attest_result lk__attest_init_sodium(void);

/* A copy of a secret key in sodium_malloc memory, or NULL. */
uint8_t *lk__attest_secret_copy(const uint8_t *secret_key);

/* Test hook: sets the counter of the last attestation signed. */
void lk__attest_set_counter(lk_attest_context *context, uint64_t counter);

#endif /* LATCHKEY_ATTEST_INTERNAL_H */
