/*
 * The test plugins' camera, authorization provider, test control dispatch
 * and the event helpers every device uses.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_plugin.h"

/* ---- Helpers --------------------------------------------------------------- */

uint64_t lkt_now_ns(void) {
  if (lkt_host != NULL && lkt_host->monotonic_ns != NULL) return lkt_host->monotonic_ns(lkt_host->context);
  return 0;
}

void lkt_sleep_us(long microseconds) {
  struct timespec pause;
  pause.tv_sec = microseconds / 1000000;
  pause.tv_nsec = (microseconds % 1000000) * 1000;
  nanosleep(&pause, NULL);
}

void lkt_emit(const lk_event_sink *sink, lk_event_kind kind, uint32_t value, uint32_t detail) {
  lk_event event;
  memset(&event, 0, sizeof event);
  event.struct_size = sizeof event;
  event.kind = kind;
  event.device_time_ns = lkt_now_ns();
  event.value = value;
  event.detail = detail;
  sink->on_event(sink->context, &event);
}

static void release_bytes(void *context, const uint8_t *data) {
  (void)data;
  free(context);
  lkt_log(LK_LOG_DEBUG, LKT_LOG_RELEASED);
}

/* Emits an event lending a heap copy of bytes; released by release_bytes. */
void lkt_emit_lent(const lk_event_sink *sink, lk_event_kind kind, const uint8_t *bytes, size_t size) {
  uint8_t *copy = malloc(size);
  lk_event event;
  if (copy == NULL) return;
  memcpy(copy, bytes, size);
  memset(&event, 0, sizeof event);
  event.struct_size = sizeof event;
  event.kind = kind;
  event.device_time_ns = lkt_now_ns();
  event.data = copy;
  event.data_size = size;
  event.release = release_bytes;
  event.release_context = copy;
  sink->on_event(sink->context, &event);
}

/* ---- Camera ---------------------------------------------------------------- */

struct lk_camera_device {
  lk_event_sink sink;
  int recording;
};

lk_result lkt_camera_open(const char *uri, const lk_event_sink *sink, lk_camera_device **out) {
  lk_camera_device *device;
  if (uri == NULL || sink == NULL || sink->on_event == NULL || out == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (strstr(uri, "missing") != NULL) return LK_ERR_NOT_FOUND;
  device = calloc(1, sizeof *device);
  if (device == NULL) return LK_ERR_NO_MEMORY;
  device->sink = *sink;
  *out = device;
  lkt_emit(&device->sink, LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_ONLINE, 0);
  return LK_OK;
}

void lkt_camera_close(lk_camera_device *device) { free(device); }

lk_result lkt_camera_describe(lk_camera_device *device, lk_camera_description *description) {
  if (device == NULL || description == NULL || description->struct_size < sizeof *description) {
    return LK_ERR_INVALID_ARGUMENT;
  }
  description->flags = LK_CAMERA_CAP_SNAPSHOT | LK_CAMERA_CAP_RECORDING;
  strcpy(description->camera_id, "lkt-camera-1");
  memset(description->public_key, 0x42, sizeof description->public_key);
  description->attestation_period_ms = 1000;
  description->max_snapshot_bytes = LKT_SNAPSHOT_SIZE;
  return LK_OK;
}

lk_result lkt_camera_deliver_nonce(lk_camera_device *device, const uint8_t *nonce, size_t nonce_size) {
  if (device == NULL || nonce == NULL || nonce_size < 16 || nonce_size > LK_NONCE_MAX) return LK_ERR_INVALID_ARGUMENT;
  if (nonce[0] == LKT_NONCE_BORROWED) {
    /* Data valid during on_event only: a stack copy the host must not keep. */
    uint8_t borrowed[LK_NONCE_MAX];
    lk_event event;
    memcpy(borrowed, nonce, nonce_size);
    memset(&event, 0, sizeof event);
    event.struct_size = sizeof event;
    event.kind = LK_EVENT_ATTESTATION;
    event.device_time_ns = lkt_now_ns();
    event.data = borrowed;
    event.data_size = nonce_size;
    device->sink.on_event(device->sink.context, &event);
    memset(borrowed, 0, sizeof borrowed);
    return LK_OK;
  }
  /* Stands in for a signed attestation echoing the nonce. */
  lkt_emit_lent(&device->sink, LK_EVENT_ATTESTATION, nonce, nonce_size);
  return LK_OK;
}

lk_result lkt_camera_start_recording(lk_camera_device *device, const uint8_t session_id[LK_SESSION_ID_SIZE]) {
  if (device == NULL || session_id == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (device->recording) return LK_ERR_STATE;
  device->recording = 1;
  lkt_emit(&device->sink, LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_RECORDING_STARTED, 0);
  return LK_OK;
}

lk_result lkt_camera_stop_recording(lk_camera_device *device) {
  if (device == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (!device->recording) return LK_ERR_STATE;
  device->recording = 0;
  lkt_emit(&device->sink, LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_RECORDING_STOPPED, 0);
  return LK_OK;
}

lk_result lkt_camera_snapshot(lk_camera_device *device, uint8_t *buffer, size_t *size, lk_snapshot_info *info) {
  size_t capacity;
  size_t i;
  if (device == NULL || size == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (info != NULL) {
    if (info->struct_size < sizeof *info) return LK_ERR_INVALID_ARGUMENT;
    info->format = LK_SNAPSHOT_FORMAT_PPM;
    info->width = 10;
    info->height = 10;
    info->device_time_ns = lkt_now_ns();
  }
  capacity = *size;
  *size = LKT_SNAPSHOT_SIZE;
  if (buffer == NULL) return LK_OK;
  if (capacity < LKT_SNAPSHOT_SIZE) return LK_ERR_BUFFER_TOO_SMALL;
  for (i = 0; i < LKT_SNAPSHOT_SIZE; ++i) buffer[i] = (uint8_t)(i & 0xFFu);
  return LK_OK;
}

/* ---- Authorization ------------------------------------------------------- */

struct lk_authz_provider {
  int verifications;
};

lk_result lkt_authz_open(const uint8_t *config, size_t config_size, lk_authz_provider **out) {
  lk_authz_provider *provider;
  const size_t ok_size = sizeof LKT_AUTHZ_CONFIG_OK - 1;
  if (out == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (config == NULL || config_size != ok_size || memcmp(config, LKT_AUTHZ_CONFIG_OK, ok_size) != 0) {
    lkt_log(LK_LOG_WARNING, "lkt: authz configuration must be \"" LKT_AUTHZ_CONFIG_OK "\"");
    return LK_ERR_INVALID_ARGUMENT;
  }
  provider = calloc(1, sizeof *provider);
  if (provider == NULL) return LK_ERR_NO_MEMORY;
  *out = provider;
  return LK_OK;
}

void lkt_authz_close(lk_authz_provider *provider) { free(provider); }

static void copy_text(char *out, size_t capacity, const char *text) {
  strncpy(out, text, capacity - 1);
  out[capacity - 1] = '\0';
}

lk_result lkt_authz_verify(lk_authz_provider *provider, const lk_authz_context *context, const uint8_t *credential,
                           size_t credential_size, lk_grant_info *grant, lk_authz_refusal *refusal) {
  const size_t good_size = sizeof LKT_CREDENTIAL_GOOD - 1;
  if (provider == NULL || context == NULL || grant == NULL || refusal == NULL ||
      grant->struct_size < sizeof *grant || refusal->struct_size < sizeof *refusal) {
    return LK_ERR_INVALID_ARGUMENT;
  }
  ++provider->verifications;
  if (credential != NULL && credential_size == good_size && memcmp(credential, LKT_CREDENTIAL_GOOD, good_size) == 0) {
    grant->uses = 1;
    memset(grant->grant_id, 0x11, sizeof grant->grant_id);
    copy_text(grant->issuer_key_id, sizeof grant->issuer_key_id, "lkt-issuer");
    copy_text(grant->hub_id, sizeof grant->hub_id, context->hub_id);
    copy_text(grant->door_id, sizeof grant->door_id, context->door_id);
    copy_text(grant->courier_id, sizeof grant->courier_id, "lkt-courier");
    grant->not_before_unix_ms = context->now_unix_ms - 1000;
    grant->not_after_unix_ms = context->now_unix_ms + 60000;
    return LK_OK;
  }
  refusal->code = LK_REFUSAL_BAD_SIGNATURE;
  copy_text(refusal->message, sizeof refusal->message, "lkt: the credential's signature does not verify");
  return LK_ERR_DENIED;
}

/* ---- Test control -------------------------------------------------------- */

lk_result lkt_inject_fault(void *handle, lk_device_kind kind, lk_fault fault, int64_t parameter) {
  (void)parameter;
  if (handle == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (kind == LK_DEVICE_KIND_LOCK && fault == LK_FAULT_LOCK_JAM) return lkt_lock_jam(handle, 1);
  if (kind == LK_DEVICE_KIND_CAMERA && fault == LK_FAULT_CAMERA_OFFLINE) {
    lk_camera_device *device = handle;
    lkt_emit(&device->sink, LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_OFFLINE, 0);
    return LK_OK;
  }
  return LK_ERR_UNSUPPORTED;
}

lk_result lkt_clear_faults(void *handle, lk_device_kind kind) {
  if (handle == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (kind == LK_DEVICE_KIND_LOCK) return lkt_lock_jam(handle, 0);
  return LK_OK;
}

lk_result lkt_physical_action(void *handle, lk_device_kind kind, lk_physical_action action) {
  if (handle == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (kind != LK_DEVICE_KIND_LOCK) return LK_ERR_UNSUPPORTED;
  return lkt_lock_physical_action(handle, action);
}

void lkt_shutdown(void) {
  /* Every device thread is joined by close; nothing is left running. */
}
