/*
 * The test plugins' entry point, identity and interface tables. Built once
 * per variant: without definitions it is a small valid lock + camera + authz
 * + test control plugin; each LKT_DEFECT_* breaks exactly one thing the
 * loader checks, each LKT_VARIANT_* is a valid plugin with an unusual shape.
 */
#define _POSIX_C_SOURCE 200809L

#include <stddef.h>
#include <string.h>

#include "test_plugin.h"

/* Some variants leave a table or function unreferenced on purpose. */
#define LKT_MAYBE_UNUSED __attribute__((unused))

const lk_host_services *lkt_host = NULL;

void lkt_log(lk_log_level level, const char *message) {
  if (lkt_host != NULL && lkt_host->struct_size >= offsetof(lk_host_services, monotonic_ns) &&
      lkt_host->log != NULL) {
    lkt_host->log(lkt_host->context, level, message);
  }
}

/* ---- Interface tables ---------------------------------------------------- */

#if defined(LKT_VARIANT_FUTURE_MINOR)
/* A lock table from a later minor: two entries appended, a larger struct_size. */
typedef struct lkt_lock_interface_v1_9 {
  lk_lock_interface_v1 v1;
  lk_result (*future_self_test)(lk_lock_device *device);
  lk_result (*future_calibrate)(lk_lock_device *device, uint32_t mode);
} lkt_lock_interface_v1_9;

static lk_result lkt_future_self_test(lk_lock_device *device) {
  (void)device;
  return LK_OK;
}
static lk_result lkt_future_calibrate(lk_lock_device *device, uint32_t mode) {
  (void)device;
  (void)mode;
  return LK_OK;
}

LKT_MAYBE_UNUSED static const lkt_lock_interface_v1_9 lock_table_storage = {
    {sizeof(lkt_lock_interface_v1_9), 0, lkt_lock_open, lkt_lock_close, lkt_lock_describe, lkt_lock_get_lock_state,
     lkt_lock_get_door_state, lkt_lock_lock, lkt_lock_unlock},
    lkt_future_self_test,
    lkt_future_calibrate};
#define LKT_LOCK_TABLE (&lock_table_storage.v1)
#else
LKT_MAYBE_UNUSED static const lk_lock_interface_v1 lock_table_storage = {
#if defined(LKT_DEFECT_LOCK_TABLE_TOO_SMALL)
    offsetof(lk_lock_interface_v1, unlock),
#else
    sizeof(lk_lock_interface_v1),
#endif
    0,
    lkt_lock_open,
    lkt_lock_close,
    lkt_lock_describe,
    lkt_lock_get_lock_state,
    lkt_lock_get_door_state,
    lkt_lock_lock,
#if defined(LKT_DEFECT_LOCK_NO_UNLOCK)
    NULL,
#else
    lkt_lock_unlock,
#endif
};
#define LKT_LOCK_TABLE (&lock_table_storage)
#endif

LKT_MAYBE_UNUSED static const lk_camera_interface_v1 camera_table = {
#if defined(LKT_VARIANT_CAMERA_NO_SNAPSHOT)
    /* Built against a minor without snapshot: the table stops before it. The
     * pointer stored beyond struct_size must not be used by the host. */
    offsetof(lk_camera_interface_v1, snapshot),
#elif defined(LKT_DEFECT_CAMERA_TABLE_TOO_SMALL)
    offsetof(lk_camera_interface_v1, stop_recording),
#else
    sizeof(lk_camera_interface_v1),
#endif
    0,
    lkt_camera_open,
    lkt_camera_close,
    lkt_camera_describe,
#if defined(LKT_DEFECT_CAMERA_NO_DELIVER_NONCE)
    NULL,
#else
    lkt_camera_deliver_nonce,
#endif
    lkt_camera_start_recording,
    lkt_camera_stop_recording,
    lkt_camera_snapshot,
};

LKT_MAYBE_UNUSED static const lk_authz_interface_v1 authz_table = {
    sizeof(lk_authz_interface_v1), 0, lkt_authz_open, lkt_authz_close,
#if defined(LKT_DEFECT_AUTHZ_NO_VERIFY)
    NULL,
#else
    lkt_authz_verify,
#endif
};

static const lk_test_control_interface_v1 test_control_table = {
#if defined(LKT_DEFECT_TEST_CONTROL_TOO_SMALL)
    offsetof(lk_test_control_interface_v1, physical_action),
#else
    sizeof(lk_test_control_interface_v1),
#endif
    0, lkt_inject_fault, lkt_clear_faults, lkt_physical_action};

LKT_MAYBE_UNUSED static lk_result answer(uint32_t wanted_major, uint32_t major, const void *table, const void **out) {
  if (major != wanted_major) return LK_ERR_VERSION;
  *out = table;
  return LK_OK;
}

LKT_MAYBE_UNUSED static lk_result get_interface(const char *name, uint32_t major, const void **table) {
  if (name == NULL || table == NULL) return LK_ERR_INVALID_ARGUMENT;
  *table = NULL;
#if !defined(LKT_DEFECT_NO_INTERFACES)
  if (strcmp(name, LK_LOCK_INTERFACE_NAME) == 0) {
#if defined(LKT_DEFECT_NULL_TABLE)
    return LK_OK; /* "offered", but no table */
#else
    return answer(LK_LOCK_INTERFACE_MAJOR, major, LKT_LOCK_TABLE, table);
#endif
  }
  if (strcmp(name, LK_CAMERA_INTERFACE_NAME) == 0) return answer(LK_CAMERA_INTERFACE_MAJOR, major, &camera_table, table);
  if (strcmp(name, LK_AUTHZ_INTERFACE_NAME) == 0) return answer(LK_AUTHZ_INTERFACE_MAJOR, major, &authz_table, table);
#else
  /* Only the optional test control interface: not enough to be a driver. */
#endif
  if (strcmp(name, LK_TEST_CONTROL_INTERFACE_NAME) == 0) {
    return answer(LK_TEST_CONTROL_INTERFACE_MAJOR, major, &test_control_table, table);
  }
  return LK_ERR_NOT_FOUND;
}

/* ---- Identity ------------------------------------------------------------- */

#if defined(LKT_DEFECT_EMPTY_VENDOR)
#define LKT_INFO_VENDOR ""
#else
#define LKT_INFO_VENDOR LKT_VENDOR
#endif

#if defined(LKT_DEFECT_UNPRINTABLE_DRIVER_ID)
#define LKT_INFO_DRIVER_ID "org.latchkey\atest"
#elif defined(LKT_DEFECT_NULL_DRIVER_ID)
#define LKT_INFO_DRIVER_ID NULL
#else
#define LKT_INFO_DRIVER_ID LKT_DRIVER_ID
#endif

#if defined(LKT_DEFECT_LONG_DRIVER_VERSION)
/* 130 characters: three over LK_IDENTITY_MAX. */
#define LKT_TEN "0123456789"
#define LKT_INFO_DRIVER_VERSION \
  LKT_TEN LKT_TEN LKT_TEN LKT_TEN LKT_TEN LKT_TEN LKT_TEN LKT_TEN LKT_TEN LKT_TEN LKT_TEN LKT_TEN LKT_TEN
#else
#define LKT_INFO_DRIVER_VERSION LKT_DRIVER_VERSION
#endif

#if defined(LKT_DEFECT_BAD_DESCRIPTION)
#define LKT_INFO_DESCRIPTION "first line\nsecond line"
#else
#define LKT_INFO_DESCRIPTION "Test plugin of the Latchkey loader tests"
#endif

#if defined(LKT_DEFECT_VERSION_OUT_OF_RANGE)
#define LKT_INFO_ABI_VERSION LK_MAKE_VERSION(2, 0)
#else
#define LKT_INFO_ABI_VERSION LK_ABI_VERSION_1_0
#endif

static void shutdown_plugin(void) {
  lkt_shutdown();
  lkt_log(LK_LOG_INFO, LKT_LOG_SHUTDOWN);
}

#if defined(LKT_VARIANT_FUTURE_MINOR)
/* A plugin_info from a later minor, one field longer. */
typedef struct lkt_plugin_info_v1_9 {
  lk_plugin_info v1;
  const char *future_homepage;
} lkt_plugin_info_v1_9;
LKT_MAYBE_UNUSED static const lkt_plugin_info_v1_9 info_storage = {
    {sizeof(lkt_plugin_info_v1_9), LKT_INFO_ABI_VERSION, LKT_INFO_VENDOR, LKT_INFO_DRIVER_ID, LKT_INFO_DRIVER_VERSION,
     LKT_INFO_DESCRIPTION, get_interface, shutdown_plugin},
    "https://example.org"};
#define LKT_INFO (&info_storage.v1)
#else
LKT_MAYBE_UNUSED static const lk_plugin_info info_storage = {
#if defined(LKT_DEFECT_INFO_TOO_SMALL)
    8,
#else
    sizeof(lk_plugin_info),
#endif
    LKT_INFO_ABI_VERSION,
    LKT_INFO_VENDOR,
    LKT_INFO_DRIVER_ID,
    LKT_INFO_DRIVER_VERSION,
    LKT_INFO_DESCRIPTION,
#if defined(LKT_DEFECT_NULL_GET_INTERFACE)
    NULL,
#else
    get_interface,
#endif
    shutdown_plugin};
#define LKT_INFO (&info_storage)
#endif

/* ---- Entry point ---------------------------------------------------------- */

#if defined(LKT_DEFECT_NO_ENTRY)
/* Exported under a wrong name: the library loads but has no entry point. */
LK_EXPORT lk_result lk_plugin_negotiate_v0(const lk_negotiate_request *request, const lk_plugin_info **info);
LK_EXPORT lk_result lk_plugin_negotiate_v0(const lk_negotiate_request *request, const lk_plugin_info **info)
#else
LK_EXPORT lk_result lk_plugin_negotiate(const lk_negotiate_request *request, const lk_plugin_info **info)
#endif
{
  if (request == NULL || info == NULL || request->struct_size < sizeof(lk_negotiate_request)) {
    return LK_ERR_INVALID_ARGUMENT;
  }
  *info = NULL;
  lkt_host = request->host;
#if defined(LKT_DEFECT_REFUSES)
  lkt_log(LK_LOG_WARNING, "lkt: refusing every ABI version");
  return LK_ERR_VERSION;
#else
  if (request->min_abi_version > LK_ABI_VERSION_1_0 || request->max_abi_version < LK_ABI_VERSION_1_0) {
    return LK_ERR_VERSION;
  }
#if defined(LKT_DEFECT_NULL_INFO)
  return LK_OK;
#else
  *info = LKT_INFO;
  return LK_OK;
#endif
#endif
}
