/*
 * Latchkey ABI v1 - the plugin entry point and version negotiation.
 *
 * A plugin exports exactly one symbol, lk_plugin_negotiate. The host offers
 * the range of ABI versions it speaks; the plugin picks one inside it and
 * answers with its identity and an interface lookup. Released in ABI 1.0.
 */
#ifndef LATCHKEY_LK_PLUGIN_H
#define LATCHKEY_LK_PLUGIN_H

#include "lk_base.h"
#include "lk_host.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LK_PLUGIN_ENTRY_SYMBOL "lk_plugin_negotiate"

/* Identity strings are printable ASCII, non-empty, at most this long. */
#define LK_IDENTITY_MAX 127u

typedef struct lk_negotiate_request {
  uint32_t struct_size;
  uint32_t min_abi_version;            /* lowest ABI version the host speaks */
  uint32_t max_abi_version;            /* highest ABI version the host speaks */
  const lk_host_services *host;        /* valid until the library is unloaded */
} lk_negotiate_request;

/*
 * Looks up an interface table by name (e.g. LK_LOCK_INTERFACE_NAME) and major
 * version. On success *table points at a static table that begins with its
 * struct_size and lives as long as the library. Returns LK_ERR_NOT_FOUND when
 * the plugin does not offer that name, LK_ERR_VERSION when it does not offer
 * that major. [plug imp][any thread]
 */
typedef lk_result (*lk_get_interface_fn)(const char *name, uint32_t major, const void **table);

typedef struct lk_plugin_info {
  uint32_t struct_size;
  uint32_t abi_version;                /* chosen by the plugin, inside the host's range */
  const char *vendor;                  /* e.g. "Acme Locks" */
  const char *driver_id;               /* e.g. "com.acme.deadbolt" */
  const char *driver_version;          /* e.g. "2.4.1" */
  const char *description;             /* may be NULL */
  lk_get_interface_fn get_interface;   /* mandatory */
  /* Optional. Called once, after every device is closed and before the
   * library is unloaded; the plugin stops its threads here. */
  void (*shutdown)(void);
} lk_plugin_info;

LK_STATIC_ASSERT(offsetof(lk_plugin_info, vendor) == 8, lk_plugin_info_vendor_offset);
LK_STATIC_ASSERT(offsetof(lk_plugin_info, get_interface) == 8 + 4 * sizeof(void *), lk_plugin_info_get_interface_offset);
LK_STATIC_ASSERT(sizeof(lk_plugin_info) == 8 + 6 * sizeof(void *), lk_plugin_info_size);
LK_STATIC_ASSERT(offsetof(lk_negotiate_request, host) == 16 || offsetof(lk_negotiate_request, host) == 12, lk_negotiate_request_host_offset);

/*
 * The plugin's one exported function. [plug imp][host's loading thread, once
 * per load of the library]
 * On success *info points at a static lk_plugin_info that lives as long as the
 * library; the host copies min(info->struct_size, its own size) of it into a
 * zeroed struct. Returns LK_ERR_VERSION when the ranges do not overlap and
 * LK_ERR_INVALID_ARGUMENT on a NULL or short request. Must not block.
 */
typedef lk_result (*lk_plugin_negotiate_fn)(const lk_negotiate_request *request, const lk_plugin_info **info);

LK_EXPORT lk_result lk_plugin_negotiate(const lk_negotiate_request *request, const lk_plugin_info **info);

#ifdef __cplusplus
}
#endif

#endif /* LATCHKEY_LK_PLUGIN_H */
