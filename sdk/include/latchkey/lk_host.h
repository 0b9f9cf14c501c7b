/*
 * Latchkey ABI v1 - services the host offers to every plugin.
 * Released in ABI 1.0.
 */
#ifndef LATCHKEY_LK_HOST_H
#define LATCHKEY_LK_HOST_H

#include "lk_base.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The host fills this table and passes it to lk_plugin_negotiate. It stays
 * valid until the library is unloaded. A plugin built against a later minor
 * reads only the first struct_size bytes and treats what lies beyond as NULL.
 */
typedef struct lk_host_services {
  uint32_t struct_size;
  void *context;                       /* pass back to every function below */
  /* [host imp][any thread] Writes one line to the host's log. message is
   * borrowed for the call and need not end in a newline. */
  void (*log)(void *context, lk_log_level level, const char *message);
  /* [host imp][any thread] The host's monotonic clock in nanoseconds. */
  uint64_t (*monotonic_ns)(void *context);
} lk_host_services;

LK_STATIC_ASSERT(offsetof(lk_host_services, context) == sizeof(void *), lk_host_services_context_offset);
LK_STATIC_ASSERT(sizeof(lk_host_services) == 4 * sizeof(void *), lk_host_services_size);

#ifdef __cplusplus
}
#endif

#endif /* LATCHKEY_LK_HOST_H */
