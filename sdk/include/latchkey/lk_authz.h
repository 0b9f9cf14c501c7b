/*
 * Latchkey ABI v1 - the authorization interface "latchkey.authz", major 1.
 *
 * An authorization provider checks a presented credential and returns a
 * normalized grant. Its verdict is necessary, never sufficient: the hub
 * re-checks G1-G3 itself (docs/rules.md F3). Released in ABI 1.0.
 */
#ifndef LATCHKEY_LK_AUTHZ_H
#define LATCHKEY_LK_AUTHZ_H

#include "lk_base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LK_AUTHZ_INTERFACE_NAME "latchkey.authz"
#define LK_AUTHZ_INTERFACE_MAJOR 1u

#define LK_GRANT_ID_SIZE 16u
#define LK_ID_MAX 64u                 /* text ids, including the terminating NUL */
#define LK_GRANT_MAX_CAMERAS 8u
#define LK_REASON_MAX 160u

typedef struct lk_authz_provider lk_authz_provider;   /* opaque, owned by the plugin */

/* What the hub asks about: the door the credential was presented at. */
typedef struct lk_authz_context {
  uint32_t struct_size;
  uint32_t reserved;
  const char *hub_id;                  /* borrowed for the call */
  const char *door_id;                 /* borrowed for the call */
  int64_t now_unix_ms;                 /* the hub's wall-clock time */
} lk_authz_context;

/* A normalized grant (filled on LK_OK). */
typedef struct lk_grant_info {
  uint32_t struct_size;                /* set by the host */
  uint32_t uses;                       /* how many unlocks it allows (G3: the hub allows one) */
  uint8_t grant_id[LK_GRANT_ID_SIZE];
  char issuer_key_id[LK_ID_MAX];
  char hub_id[LK_ID_MAX];
  char door_id[LK_ID_MAX];
  char courier_id[LK_ID_MAX];
  uint8_t courier_public_key[32];
  int64_t not_before_unix_ms;
  int64_t not_after_unix_ms;
  uint32_t required_camera_count;      /* at most LK_GRANT_MAX_CAMERAS */
  uint32_t reserved;
  char required_camera_ids[LK_GRANT_MAX_CAMERAS][LK_ID_MAX];
} lk_grant_info;

/* Refusal codes of lk_authz_refusal.code. */
typedef uint32_t lk_authz_refusal_code;
#define LK_REFUSAL_NONE 0u
#define LK_REFUSAL_MALFORMED 1u         /* cannot be parsed */
#define LK_REFUSAL_UNKNOWN_ISSUER 2u     /* key id not pinned */
#define LK_REFUSAL_BAD_SIGNATURE 3u
#define LK_REFUSAL_NOT_YET_VALID 4u
#define LK_REFUSAL_EXPIRED 5u
#define LK_REFUSAL_WRONG_HUB 6u
#define LK_REFUSAL_WRONG_DOOR 7u
#define LK_REFUSAL_LIFETIME 8u           /* not_after - not_before too long */
#define LK_REFUSAL_REVOKED 9u
#define LK_REFUSAL_OTHER 10u

typedef struct lk_authz_refusal {
  uint32_t struct_size;                /* set by the host */
  lk_authz_refusal_code code;
  char message[LK_REASON_MAX];         /* NUL-terminated, for people */
} lk_authz_refusal;

/* Calls on one provider are serialised by the host; verify returns within 100 ms. */
typedef struct lk_authz_interface_v1 {
  uint32_t struct_size;
  uint32_t reserved;
  /* Opens a provider with its configuration (borrowed bytes, format defined by
   * the provider; for the reference provider "issuer <key id> <hex pubkey>",
   * "skew_ms <n>" and "revoke <hex grant id>" lines).
   * LK_ERR_INVALID_ARGUMENT names nothing: the plugin logs why. */
  lk_result (*open)(const uint8_t *config, size_t config_size, lk_authz_provider **provider);
  void (*close)(lk_authz_provider *provider);
  /* Verifies a credential (borrowed). LK_OK fills *grant. LK_ERR_DENIED fills
   * *refusal with a code and message. Other errors mean the check failed. */
  lk_result (*verify)(lk_authz_provider *provider, const lk_authz_context *context, const uint8_t *credential,
                      size_t credential_size, lk_grant_info *grant, lk_authz_refusal *refusal);
} lk_authz_interface_v1;

#define LK_AUTHZ_INTERFACE_V1_MIN_SIZE sizeof(lk_authz_interface_v1)

LK_STATIC_ASSERT(offsetof(lk_authz_context, hub_id) == 8, lk_authz_context_hub_offset);
LK_STATIC_ASSERT(offsetof(lk_grant_info, grant_id) == 8, lk_grant_info_grant_id_offset);
LK_STATIC_ASSERT(offsetof(lk_grant_info, courier_public_key) == 280, lk_grant_info_courier_key_offset);
LK_STATIC_ASSERT(offsetof(lk_grant_info, not_before_unix_ms) == 312, lk_grant_info_window_offset);
LK_STATIC_ASSERT(sizeof(lk_grant_info) == 336 + LK_GRANT_MAX_CAMERAS * LK_ID_MAX, lk_grant_info_size);
LK_STATIC_ASSERT(sizeof(lk_authz_refusal) == 168, lk_authz_refusal_size);
LK_STATIC_ASSERT(sizeof(lk_authz_interface_v1) == 8 + 3 * sizeof(void *), lk_authz_interface_size);

#ifdef __cplusplus
}
#endif

#endif /* LATCHKEY_LK_AUTHZ_H */
