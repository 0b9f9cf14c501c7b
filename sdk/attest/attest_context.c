/* The per-boot state an attestation carries besides the frame: boot id,
 * counter, newest nonce, recording state, scene measurements (docs/rules.md
 * C1-C3, C8, U2). */
#include "attest_internal.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Printable without spaces: the grant's required camera ids are the same set. */
static int camera_id_is_valid(const char *camera_id, size_t *size) {
  size_t n = 0;
  while (n < LK_ATTEST_CAMERA_ID_MAX && camera_id[n] != '\0') {
    const unsigned char c = (unsigned char)camera_id[n];
    if (c < 0x21u || c > 0x7Eu) return 0;
    ++n;
  }
  *size = n;
  return n > 0 && n < LK_ATTEST_CAMERA_ID_MAX;
}

lk_attest_result lk_attest_context_create(const lk_attest_key *key, const char *camera_id,
                                          lk_attest_context **context) {
  if (key == NULL || camera_id == NULL || context == NULL) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  size_t camera_id_size = 0;
  if (!camera_id_is_valid(camera_id, &camera_id_size)) return LK_ATTEST_ERR_BAD_CAMERA_ID;
  const lk_attest_result init = lk__attest_init_sodium();
  if (init != LK_ATTEST_OK) return init;

  lk_attest_context *c = calloc(1, sizeof *c);
  if (c == NULL) return LK_ATTEST_ERR_NO_MEMORY;
  c->secret_key = lk__attest_secret_copy(key->secret_key);
  if (c->secret_key == NULL) {
    free(c);
    return LK_ATTEST_ERR_NO_MEMORY;
  }
  memcpy(c->camera_id, camera_id, camera_id_size);
  c->camera_id_size = camera_id_size;
  /* C3: a new boot id per start, so the hub can tell a restart from a replay. */
  randombytes_buf(c->boot_id, sizeof c->boot_id);
  *context = c;
  return LK_ATTEST_OK;
}

void lk_attest_context_free(lk_attest_context *context) {
  if (context == NULL) return;
  sodium_free(context->secret_key);
  sodium_memzero(context, sizeof *context);
  free(context);
}

void lk_attest_boot_id(const lk_attest_context *context, uint8_t boot_id[LK_ATTEST_BOOT_ID_SIZE]) {
  memcpy(boot_id, context->boot_id, LK_ATTEST_BOOT_ID_SIZE);
}

uint64_t lk_attest_counter(const lk_attest_context *context) { return context->counter; }

lk_attest_result lk_attest_set_nonce(lk_attest_context *context, const uint8_t *nonce, size_t nonce_size) {
  if (context == NULL || nonce == NULL) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  if (nonce_size < LK_ATTEST_NONCE_MIN || nonce_size > LK_ATTEST_NONCE_MAX) return LK_ATTEST_ERR_BAD_NONCE_SIZE;
  /* C2: only the newest nonce is worth echoing; older ones go stale first. */
  memcpy(context->nonce, nonce, nonce_size);
  context->nonce_size = nonce_size;
  return LK_ATTEST_OK;
}

lk_attest_result lk_attest_set_recording(lk_attest_context *context, int recording,
                                         const uint8_t session_id[LK_ATTEST_SESSION_ID_SIZE], uint64_t segment_id,
                                         uint64_t recorded_bytes) {
  if (context == NULL || (recording != 0 && recording != 1)) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  /* U2: a recording is always for a session; without one it is no evidence. */
  if (recording && session_id == NULL) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  context->recording = recording;
  if (session_id != NULL) memcpy(context->session_id, session_id, LK_ATTEST_SESSION_ID_SIZE);
  context->session_id_size = session_id != NULL ? LK_ATTEST_SESSION_ID_SIZE : 0u;
  context->segment_id = segment_id;
  context->recorded_bytes = recorded_bytes;
  return LK_ATTEST_OK;
}

lk_attest_result lk_attest_set_scene(lk_attest_context *context, const lk_attest_scene *scene) {
  if (context == NULL) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  if (scene == NULL) {
    /* C8: no measurements is said by leaving the field out, never by zeros. */
    context->has_scene = 0;
    memset(&context->scene, 0, sizeof context->scene);
    return LK_ATTEST_OK;
  }
  /* Bounds also keep each value's varint within the size attest_encode.c reserves. */
  if (scene->mean_luminance > LK_ATTEST_LUMINANCE_MAX || scene->sharpness > LK_ATTEST_SHARPNESS_MAX ||
      scene->reference_similarity > LK_ATTEST_SIMILARITY_MAX)
    return LK_ATTEST_ERR_BAD_SCENE;
  context->scene = *scene;
  context->has_scene = 1;
  return LK_ATTEST_OK;
}

void lk__attest_set_counter(lk_attest_context *context, uint64_t counter) { context->counter = counter; }
