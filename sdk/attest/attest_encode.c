/* The protobuf wire encoding of Attestation and SignedAttestation
 * (sdk/proto/latchkey/attestation.proto), by hand so the camera needs no
 * protobuf runtime. Fields go in number order and proto3 defaults (0, empty)
 * are left out, as libprotobuf serializes them; the recording state is always
 * sent, so "not recording" is stated rather than implied; the scene (C8) is
 * sent exactly when the context has one. The hub verifies
 * the signature over the attestation bytes exactly as they arrive (C1), so
 * what matters is that they parse; matching libprotobuf byte for byte keeps
 * them easy to compare in tests. */
#include "attest_internal.h"

#include <string.h>

#include <sodium.h>

enum { kWireVarint = 0, kWireBytes = 2 };

/* Varints are at most 10 bytes (a uint64 in 7-bit groups). */
#define LK__VARINT_MAX 10u

typedef struct lk__attest_writer {
  uint8_t *at;
} lk__attest_writer;

static size_t varint_size(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80u) {
    value >>= 7;
    ++size;
  }
  return size;
}

static void put_varint(lk__attest_writer *w, uint64_t value) {
  while (value >= 0x80u) {
    *w->at++ = (uint8_t)(value | 0x80u);
    value >>= 7;
  }
  *w->at++ = (uint8_t)value;
}

static void put_tag(lk__attest_writer *w, unsigned field, unsigned wire_type) {
  put_varint(w, ((uint64_t)field << 3) | wire_type);
}

static void put_uint64(lk__attest_writer *w, unsigned field, uint64_t value) {
  if (value == 0) return;  /* proto3 default */
  put_tag(w, field, kWireVarint);
  put_varint(w, value);
}

static void put_bytes(lk__attest_writer *w, unsigned field, const void *data, size_t size) {
  if (size == 0) return;  /* proto3 default */
  put_tag(w, field, kWireBytes);
  put_varint(w, size);
  memcpy(w->at, data, size);
  w->at += size;
}

/* RecordingState, at most 2 + 18 + 11 + 11 = 42 bytes. */
static size_t encode_recording(const lk_attest_context *c, uint8_t *out) {
  lk__attest_writer w = {out};
  put_uint64(&w, 1, c->recording ? 1u : 0u);
  put_bytes(&w, 2, c->session_id, c->session_id_size);
  put_uint64(&w, 3, c->segment_id);
  put_uint64(&w, 4, c->recorded_bytes);
  return (size_t)(w.at - out);
}

#define LK__RECORDING_MAX (2u + (2u + LK_ATTEST_SESSION_ID_SIZE) + 2u * (1u + LK__VARINT_MAX))

/* SceneMeasurements (C8), at most (1 + 3) + (1 + 3) + (1 + 2) = 11 bytes:
 * lk_attest_set_scene keeps each value within the varint size below. */
static size_t encode_scene(const lk_attest_scene *scene, uint8_t *out) {
  lk__attest_writer w = {out};
  put_uint64(&w, 1, scene->mean_luminance);
  put_uint64(&w, 2, scene->sharpness);
  put_uint64(&w, 3, scene->reference_similarity);
  return (size_t)(w.at - out);
}

#define LK__SCENE_MAX ((1u + 3u) + (1u + 3u) + (1u + 2u))
typedef char lk__attest_scene_varints_fit[(LK_ATTEST_LUMINANCE_MAX < (1u << 21) && LK_ATTEST_SHARPNESS_MAX < (1u << 21) &&
                                           LK_ATTEST_SIMILARITY_MAX < (1u << 14))
                                              ? 1
                                              : -1];

/* Each length-delimited field of up to 127 bytes costs tag + 1 length byte. */
#define LK__BODY_MAX_SUM                                                                                 \
  ((2u + (LK_ATTEST_CAMERA_ID_MAX - 1u)) + (2u + LK_ATTEST_BOOT_ID_SIZE) + 2u * (1u + LK__VARINT_MAX) + \
   (2u + LK_ATTEST_DIGEST_SIZE) + (2u + LK_ATTEST_NONCE_MAX) + (2u + LK__RECORDING_MAX) + (2u + LK__SCENE_MAX))
typedef char lk__attest_body_max_matches[(LK__BODY_MAX_SUM == LK__ATTEST_BODY_MAX) ? 1 : -1];

size_t lk__attest_encode_body(const lk_attest_context *c, uint64_t counter, uint64_t capture_time_ns,
                              const uint8_t frame_digest[LK_ATTEST_DIGEST_SIZE], uint8_t *body) {
  uint8_t recording[LK__RECORDING_MAX];
  const size_t recording_size = encode_recording(c, recording);
  lk__attest_writer w = {body};
  put_bytes(&w, 1, c->camera_id, c->camera_id_size);
  put_bytes(&w, 2, c->boot_id, sizeof c->boot_id);
  put_uint64(&w, 3, counter);
  put_uint64(&w, 4, capture_time_ns);
  put_bytes(&w, 5, frame_digest, LK_ATTEST_DIGEST_SIZE);
  put_bytes(&w, 6, c->nonce, c->nonce_size);
  /* A message field is sent even when empty: it is present, with defaults. */
  put_tag(&w, 7, kWireBytes);
  put_varint(&w, recording_size);
  memcpy(w.at, recording, recording_size);
  w.at += recording_size;
  if (c->has_scene) {
    /* Present whenever set, so all-zero measurements (a black, flat frame
     * unlike the reference) are sent as a field of length 0, not left out. */
    uint8_t scene[LK__SCENE_MAX];
    const size_t scene_size = encode_scene(&c->scene, scene);
    put_tag(&w, 8, kWireBytes);
    put_varint(&w, scene_size);
    memcpy(w.at, scene, scene_size);
    w.at += scene_size;
  }
  return (size_t)(w.at - body);
}

size_t lk__attest_signed_size(size_t body_size) {
  return 1u + varint_size(body_size) + body_size + 1u + varint_size(LK__ATTEST_SIGNATURE_SIZE) +
         LK__ATTEST_SIGNATURE_SIZE;
}

/* A body of LK__ATTEST_BODY_MAX (230) bytes needs a 2-byte length. */
typedef char lk__attest_signed_max_matches[(1u + 2u + LK__ATTEST_BODY_MAX + 2u + LK__ATTEST_SIGNATURE_SIZE ==
                                            LK_ATTEST_SIGNED_MAX)
                                               ? 1
                                               : -1];

lk_attest_result lk_attest_sign(lk_attest_context *context, uint64_t capture_time_ns,
                                const uint8_t frame_digest[LK_ATTEST_DIGEST_SIZE], uint8_t *buffer, size_t *size) {
  /* The domain, its NUL and the body: exactly the bytes the hub's verify() covers. */
  uint8_t signed_bytes[sizeof LK__ATTEST_DOMAIN + LK__ATTEST_BODY_MAX];
  uint8_t *const body = signed_bytes + sizeof LK__ATTEST_DOMAIN;
  uint8_t signature[LK__ATTEST_SIGNATURE_SIZE];
  if (context == NULL || frame_digest == NULL || size == NULL) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  /* C3: the counter never repeats within a boot, so it never wraps. */
  if (context->counter == UINT64_MAX) return LK_ATTEST_ERR_COUNTER_EXHAUSTED;

  const uint64_t counter = context->counter + 1u;
  const size_t body_size = lk__attest_encode_body(context, counter, capture_time_ns, frame_digest, body);
  const size_t needed = lk__attest_signed_size(body_size);
  if (buffer == NULL || *size < needed) {
    const int query = buffer == NULL;
    *size = needed;
    return query ? LK_ATTEST_OK : LK_ATTEST_ERR_BUFFER_TOO_SMALL;
  }

  memcpy(signed_bytes, LK__ATTEST_DOMAIN, sizeof LK__ATTEST_DOMAIN);  /* with its NUL */
  if (crypto_sign_ed25519_detached(signature, NULL, signed_bytes, sizeof LK__ATTEST_DOMAIN + body_size,
                                   context->secret_key) != 0)
    return LK_ATTEST_ERR_CRYPTO;

  lk__attest_writer w = {buffer};
  put_bytes(&w, 1, body, body_size);
  put_bytes(&w, 2, signature, sizeof signature);
  *size = (size_t)(w.at - buffer);
  context->counter = counter;
  return LK_ATTEST_OK;
}
