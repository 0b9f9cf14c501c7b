/*
 * Latchkey ABI v1 - the camera interface "latchkey.camera", major 1.
 *
 * A camera proves it is live with attestations (docs/rules.md C1): each a
 * SignedAttestation message (sdk/proto/latchkey/attestation.proto) signed with
 * the camera's own Ed25519 device key, delivered as LK_EVENT_ATTESTATION with
 * the bytes lent until the host calls the event's release function.
 * Released in ABI 1.0.
 */
#ifndef LATCHKEY_LK_CAMERA_H
#define LATCHKEY_LK_CAMERA_H

#include "lk_base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LK_CAMERA_INTERFACE_NAME "latchkey.camera"
#define LK_CAMERA_INTERFACE_MAJOR 1u

#define LK_CAMERA_ID_MAX 64u          /* bytes, including the terminating NUL */
#define LK_ED25519_PUBLIC_KEY_SIZE 32u
#define LK_NONCE_MAX 32u              /* hub nonces are 16 to 32 bytes */
#define LK_SESSION_ID_SIZE 16u

/* Status values of LK_EVENT_CAMERA_STATUS. */
typedef uint32_t lk_camera_status;
#define LK_CAMERA_STATUS_ONLINE 1u
#define LK_CAMERA_STATUS_OFFLINE 2u
#define LK_CAMERA_STATUS_RECORDING_STARTED 3u
#define LK_CAMERA_STATUS_RECORDING_STOPPED 4u
/* Appended in ABI 1.0 (receivers ignore values they do not know): messages on
 * the camera's link were refused - malformed, oversized, or not from the
 * camera. detail: lk_camera_refusal; data: the reason, printable ASCII without
 * a NUL, at most LK_CAMERA_REFUSAL_TEXT_MAX bytes, valid during on_event
 * (release NULL). The host audits it; a plugin sends at most one per kind
 * per second, naming in the text how many refusals it stands for. */
#define LK_CAMERA_STATUS_MESSAGE_REFUSED 5u

/* Why messages were refused (detail of LK_CAMERA_STATUS_MESSAGE_REFUSED). */
typedef uint32_t lk_camera_refusal;
#define LK_CAMERA_REFUSED_MALFORMED 1u  /* does not parse, or says what it may not */
#define LK_CAMERA_REFUSED_OVERSIZED 2u  /* larger than its kind allows */
#define LK_CAMERA_REFUSED_FOREIGN 3u    /* sent by someone other than this camera */
#define LK_CAMERA_REFUSAL_TEXT_MAX 256u

typedef struct lk_camera_device lk_camera_device;   /* opaque, owned by the plugin */

/* Capability flags of lk_camera_description.flags. */
#define LK_CAMERA_CAP_SNAPSHOT 0x1u       /* snapshot() is supported */
#define LK_CAMERA_CAP_RECORDING 0x2u      /* start_recording()/stop_recording() are supported */

typedef struct lk_camera_description {
  uint32_t struct_size;                            /* set by the host */
  uint32_t flags;                                  /* LK_CAMERA_CAP_* */
  char camera_id[LK_CAMERA_ID_MAX];                /* NUL-terminated, printable ASCII */
  uint8_t public_key[LK_ED25519_PUBLIC_KEY_SIZE];  /* Ed25519 device key */
  uint32_t attestation_period_ms;                  /* longest gap between two attestations */
  uint32_t max_snapshot_bytes;                     /* 0 without LK_CAMERA_CAP_SNAPSHOT */
} lk_camera_description;

typedef struct lk_snapshot_info {
  uint32_t struct_size;
  uint32_t format;                                 /* LK_SNAPSHOT_FORMAT_* */
  uint32_t width;
  uint32_t height;
  uint64_t device_time_ns;
} lk_snapshot_info;

#define LK_SNAPSHOT_FORMAT_JPEG 1u
#define LK_SNAPSHOT_FORMAT_PPM 2u

/* Calls on one device handle are serialised by the host; each returns within 100 ms. */
typedef struct lk_camera_interface_v1 {
  uint32_t struct_size;
  uint32_t reserved;
  /* Opens the camera at device_uri (borrowed). sink is copied. */
  lk_result (*open)(const char *device_uri, const lk_event_sink *sink, lk_camera_device **device);
  /* Closes the camera. Every lent attestation stays valid until released. */
  void (*close)(lk_camera_device *device);
  /* Fills *description; the host sets description->struct_size first. */
  lk_result (*describe)(lk_camera_device *device, lk_camera_description *description);
  /* Hands the camera the hub's newest nonce (C2); later attestations echo it.
   * nonce is borrowed; nonce_size is 16 to LK_NONCE_MAX. */
  lk_result (*deliver_nonce)(lk_camera_device *device, const uint8_t *nonce, size_t nonce_size);
  /* Starts recording for a session; attestations then carry the session id (U2).
   * While recording for another session it switches to the new one (a new
   * segment): the hub keeps a compromised session's recording running until
   * the next session begins. The same session again is LK_OK. */
  lk_result (*start_recording)(lk_camera_device *device, const uint8_t session_id[LK_SESSION_ID_SIZE]);
  /* Stops recording. LK_ERR_STATE when not recording. */
  lk_result (*stop_recording)(lk_camera_device *device);
  /* Optional (NULL when unsupported). Copies the latest frame into buffer.
   * buffer NULL: *size receives the size needed and LK_OK is returned. Short
   * buffer: *size receives the size needed, LK_ERR_BUFFER_TOO_SMALL. info may
   * be NULL. */
  lk_result (*snapshot)(lk_camera_device *device, uint8_t *buffer, size_t *size, lk_snapshot_info *info);
} lk_camera_interface_v1;

/* The smallest table a host accepts for camera major 1 (snapshot may be NULL). */
#define LK_CAMERA_INTERFACE_V1_MIN_SIZE offsetof(lk_camera_interface_v1, snapshot)

LK_STATIC_ASSERT(offsetof(lk_camera_description, camera_id) == 8, lk_camera_description_id_offset);
LK_STATIC_ASSERT(offsetof(lk_camera_description, public_key) == 72, lk_camera_description_key_offset);
LK_STATIC_ASSERT(sizeof(lk_camera_description) == 112, lk_camera_description_size);
LK_STATIC_ASSERT(sizeof(lk_snapshot_info) == 24, lk_snapshot_info_size);
LK_STATIC_ASSERT(sizeof(lk_camera_interface_v1) == 8 + 7 * sizeof(void *), lk_camera_interface_size);

#ifdef __cplusplus
}
#endif

#endif /* LATCHKEY_LK_CAMERA_H */
