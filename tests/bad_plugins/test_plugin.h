/* Internal to the test plugins: the device functions test_plugin.c puts in its tables. */
#ifndef LATCHKEY_TESTS_TEST_PLUGIN_H
#define LATCHKEY_TESTS_TEST_PLUGIN_H

#include <latchkey/latchkey.h>

#include "test_plugin_protocol.h"

/* The host services from negotiation (valid until the library is unloaded). */
extern const lk_host_services *lkt_host;
void lkt_log(lk_log_level level, const char *message);

lk_result lkt_lock_open(const char *uri, const lk_event_sink *sink, lk_lock_device **device);
void lkt_lock_close(lk_lock_device *device);
lk_result lkt_lock_describe(lk_lock_device *device, lk_lock_description *description);
lk_result lkt_lock_get_lock_state(lk_lock_device *device, lk_lock_state *state);
lk_result lkt_lock_get_door_state(lk_lock_device *device, lk_door_state *state);
lk_result lkt_lock_lock(lk_lock_device *device, uint64_t operation_id, lk_lock_completion_fn done, void *context);
lk_result lkt_lock_unlock(lk_lock_device *device, const lk_unlock_params *params, lk_lock_completion_fn done,
                          void *context);

lk_result lkt_camera_open(const char *uri, const lk_event_sink *sink, lk_camera_device **device);
void lkt_camera_close(lk_camera_device *device);
lk_result lkt_camera_describe(lk_camera_device *device, lk_camera_description *description);
lk_result lkt_camera_deliver_nonce(lk_camera_device *device, const uint8_t *nonce, size_t nonce_size);
lk_result lkt_camera_start_recording(lk_camera_device *device, const uint8_t session_id[LK_SESSION_ID_SIZE]);
lk_result lkt_camera_stop_recording(lk_camera_device *device);
lk_result lkt_camera_snapshot(lk_camera_device *device, uint8_t *buffer, size_t *size, lk_snapshot_info *info);

lk_result lkt_authz_open(const uint8_t *config, size_t config_size, lk_authz_provider **provider);
void lkt_authz_close(lk_authz_provider *provider);
lk_result lkt_authz_verify(lk_authz_provider *provider, const lk_authz_context *context, const uint8_t *credential,
                           size_t credential_size, lk_grant_info *grant, lk_authz_refusal *refusal);

lk_result lkt_inject_fault(void *device, lk_device_kind kind, lk_fault fault, int64_t parameter);
lk_result lkt_clear_faults(void *device, lk_device_kind kind);
lk_result lkt_physical_action(void *device, lk_device_kind kind, lk_physical_action action);

/* Lock-side test control (test_lock.c). */
lk_result lkt_lock_jam(lk_lock_device *device, int jammed);
lk_result lkt_lock_physical_action(lk_lock_device *device, lk_physical_action action);

/* Helpers shared by the devices (test_devices.c). */
uint64_t lkt_now_ns(void);
void lkt_sleep_us(long microseconds);
void lkt_emit(const lk_event_sink *sink, lk_event_kind kind, uint32_t value, uint32_t detail);
/* Lends a heap copy of bytes; the host's release frees it and logs LKT_LOG_RELEASED. */
void lkt_emit_lent(const lk_event_sink *sink, lk_event_kind kind, const uint8_t *bytes, size_t size);

/* Stops plugin threads (info->shutdown). */
void lkt_shutdown(void);

#endif /* LATCHKEY_TESTS_TEST_PLUGIN_H */
