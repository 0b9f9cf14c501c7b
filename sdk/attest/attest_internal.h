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
  int has_scene;         /* 0: the scene field is left out */
  lk_attest_scene scene;
};

/* The Attestation message's longest encoding: see attest_encode.c. */
#define LK__ATTEST_BODY_MAX 230u

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

/* Writes size bytes to path atomically (a temporary file in the same
 * directory, fsynced, given mode, renamed over path, the directory fsynced);
 * what names the file in messages, e.g. "reference file". On failure path
 * is unchanged and the temporary file removed. */
lk_attest_result lk__attest_replace_file(const char *path, const void *data, size_t size, unsigned mode,
                                         const char *what, char *message, size_t message_size);

/* Opens path's parent directory and fsyncs it; 0 or -1 with errno set. */
int lk__attest_sync_parent_directory(const char *path);

/* A thumbnail's standard deviation in tenths of a grey level (rounded down),
 * and whether it is below LK_ATTEST_REFERENCE_CONTRAST_MIN (attest_scene.c). */
uint32_t lk__attest_thumbnail_deviation_x10(const uint8_t thumbnail[LK_ATTEST_THUMB_SIZE]);
int lk__attest_thumbnail_is_flat(const uint8_t thumbnail[LK_ATTEST_THUMB_SIZE]);

/* sodium_init, once; LK_ATTEST_ERR_CRYPTO when libsodium cannot start. */
lk_attest_result lk__attest_init_sodium(void);

/* A copy of a secret key in sodium_malloc memory, or NULL. */
uint8_t *lk__attest_secret_copy(const uint8_t *secret_key);

/* Test hook: sets the counter of the last attestation signed. */
void lk__attest_set_counter(lk_attest_context *context, uint64_t counter);

#endif /* LATCHKEY_ATTEST_INTERNAL_H */
