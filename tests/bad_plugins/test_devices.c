/*
 * The test plugins' devices: a lock, a camera and an authorization provider
 * that behave as lk_lock.h, lk_camera.h and lk_authz.h say, except where an
 * LKT_VARIANT_* asks for a specific contract violation.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_plugin.h"

/* ---- Helpers --------------------------------------------------------------- */

static uint64_t now_ns(void) {
  if (lkt_host != NULL && lkt_host->monotonic_ns != NULL) return lkt_host->monotonic_ns(lkt_host->context);
  return 0;
}

static void sleep_us(long microseconds) {
  struct timespec pause;
  pause.tv_sec = microseconds / 1000000;
  pause.tv_nsec = (microseconds % 1000000) * 1000;
  nanosleep(&pause, NULL);
}

static void emit(const lk_event_sink *sink, lk_event_kind kind, uint32_t value, uint32_t detail) {
  lk_event event;
  memset(&event, 0, sizeof event);
  event.struct_size = sizeof event;
  event.kind = kind;
  event.device_time_ns = now_ns();
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
static void emit_lent(const lk_event_sink *sink, lk_event_kind kind, const uint8_t *bytes, size_t size) {
  uint8_t *copy = malloc(size);
  lk_event event;
  if (copy == NULL) return;
  memcpy(copy, bytes, size);
  memset(&event, 0, sizeof event);
  event.struct_size = sizeof event;
  event.kind = kind;
  event.device_time_ns = now_ns();
  event.data = copy;
  event.data_size = size;
  event.release = release_bytes;
  event.release_context = copy;
  sink->on_event(sink->context, &event);
}

/* ---- Lock ------------------------------------------------------------------ */

struct lk_lock_device {
  lk_event_sink sink;
  pthread_mutex_t mutex; /* guards the state below against the completion thread */
  lk_lock_state lock_state;
  lk_door_state door_state;
  int jammed;
  int in_call; /* atomic: detects calls the host failed to serialise */
  /* an LKT_OP_DEFER operation, completed by close */
  int deferred;
  lk_lock_completion_fn deferred_done;
  void *deferred_context;
  uint64_t deferred_operation;
  /* an LKT_OP_THREAD operation */
  int thread_started;
  pthread_t thread;
  lk_lock_completion_fn thread_done;
  void *thread_context;
  uint64_t thread_operation;
  lk_lock_state thread_target;
};

#if defined(LKT_VARIANT_EVENT_AFTER_CLOSE)
/* The sink of the last closed lock, wrongly kept and used by the next open. */
static lk_event_sink stale_sink;
static int have_stale_sink;
#endif

static void enter(lk_lock_device *device) {
  if (__atomic_fetch_add(&device->in_call, 1, __ATOMIC_SEQ_CST) != 0) lkt_log(LK_LOG_ERROR, LKT_LOG_OVERLAP);
}
static void leave(lk_lock_device *device) { __atomic_fetch_sub(&device->in_call, 1, __ATOMIC_SEQ_CST); }

static void fire(lk_lock_completion_fn done, void *context, uint64_t operation_id, lk_result result,
                 lk_lock_state state) {
  lk_lock_completion completion;
  memset(&completion, 0, sizeof completion);
  completion.struct_size = sizeof completion;
  completion.result = result;
  completion.operation_id = operation_id;
  completion.lock_state = state;
  done(context, &completion);
}

/* Moves the bolt (or not, when jammed); returns the result of the operation. */
static lk_result actuate(lk_lock_device *device, lk_lock_state target, lk_lock_state *after) {
  lk_result result;
  pthread_mutex_lock(&device->mutex);
  result = device->jammed ? LK_ERR_JAMMED : LK_OK;
  if (result == LK_OK) device->lock_state = target;
  *after = device->lock_state;
  pthread_mutex_unlock(&device->mutex);
  return result;
}

static void *completion_thread(void *argument) {
  lk_lock_device *device = argument;
  lk_lock_state after;
  lk_result result;
  sleep_us(2000);
  result = actuate(device, device->thread_target, &after);
  fire(device->thread_done, device->thread_context, device->thread_operation, result, after);
  emit(&device->sink, LK_EVENT_LOCK_STATE, after, LK_SOURCE_REMOTE);
  return NULL;
}

static void join_thread(lk_lock_device *device) {
  if (!device->thread_started) return;
  pthread_join(device->thread, NULL);
  device->thread_started = 0;
}

static lk_result start_thread(lk_lock_device *device, uint64_t operation_id, lk_lock_state target,
                              lk_lock_completion_fn done, void *context) {
  join_thread(device);
  device->thread_done = done;
  device->thread_context = context;
  device->thread_operation = operation_id;
  device->thread_target = target;
  if (pthread_create(&device->thread, NULL, completion_thread, device) != 0) return LK_ERR_NO_MEMORY;
  device->thread_started = 1;
  return LK_OK;
}

static lk_result start_operation(lk_lock_device *device, uint64_t operation_id, lk_lock_state target,
                                 lk_lock_completion_fn done, void *context) {
  lk_lock_state after;
  lk_result result;
  if (done == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (operation_id & LKT_OP_DEFER) {
    if (device->deferred) return LK_ERR_BUSY;
    device->deferred = 1;
    device->deferred_done = done;
    device->deferred_context = context;
    device->deferred_operation = operation_id;
    return LK_OK;
  }
  if (operation_id & LKT_OP_THREAD) return start_thread(device, operation_id, target, done, context);
#if defined(LKT_VARIANT_COMPLETION_THEN_FAIL)
  if (target == LK_LOCK_STATE_UNLOCKED) {
    /* Fails the start, then completes anyway from a thread. */
    start_thread(device, operation_id, target, done, context);
    return LK_ERR_BUSY;
  }
  /* Completes inside the start call, then fails it. */
  fire(done, context, operation_id, LK_OK, target);
  return LK_ERR_BUSY;
#endif
#if defined(LKT_VARIANT_UNKNOWN_COMPLETION)
  /* A context the host never handed out. */
  fire(done, (void *)((uintptr_t)context + 1), operation_id, LK_OK, target);
#endif
  result = actuate(device, target, &after);
  fire(done, context, operation_id, result, after);
#if defined(LKT_VARIANT_DOUBLE_COMPLETION)
  fire(done, context, operation_id, result, after);
#endif
  emit(&device->sink, LK_EVENT_LOCK_STATE, after, LK_SOURCE_REMOTE);
  return LK_OK;
}

lk_result lkt_lock_open(const char *uri, const lk_event_sink *sink, lk_lock_device **out) {
  lk_lock_device *device;
  if (uri == NULL || sink == NULL || sink->on_event == NULL || out == NULL) return LK_ERR_INVALID_ARGUMENT;
#if defined(LKT_VARIANT_EVENT_AFTER_CLOSE)
  if (have_stale_sink) {
    static const uint8_t alarm_bytes[4] = {1, 2, 3, 4};
    have_stale_sink = 0;
    emit_lent(&stale_sink, LK_EVENT_LOCK_ALARM, alarm_bytes, sizeof alarm_bytes);
  }
#endif
  if (strstr(uri, "missing") != NULL) return LK_ERR_NOT_FOUND;
  device = calloc(1, sizeof *device);
  if (device == NULL) return LK_ERR_NO_MEMORY;
  device->sink = *sink;
  pthread_mutex_init(&device->mutex, NULL);
  device->lock_state = LK_LOCK_STATE_LOCKED;
  device->door_state = LK_DOOR_STATE_CLOSED;
  *out = device;
  emit(&device->sink, LK_EVENT_LOCK_STATE, device->lock_state, LK_SOURCE_UNSPECIFIED);
  return LK_OK;
}

void lkt_lock_close(lk_lock_device *device) {
  if (device == NULL) return;
  enter(device);
  join_thread(device);
  if (device->deferred) {
#if !defined(LKT_VARIANT_FORGETS_ON_CLOSE)
    fire(device->deferred_done, device->deferred_context, device->deferred_operation, LK_ERR_CLOSED,
         device->lock_state);
#endif
    device->deferred = 0;
  }
#if defined(LKT_VARIANT_EVENT_AFTER_CLOSE)
  stale_sink = device->sink;
  have_stale_sink = 1;
#endif
  leave(device);
  pthread_mutex_destroy(&device->mutex);
  free(device);
}

lk_result lkt_lock_describe(lk_lock_device *device, lk_lock_description *description) {
  if (device == NULL || description == NULL || description->struct_size < sizeof *description) {
    return LK_ERR_INVALID_ARGUMENT;
  }
  description->flags = LK_LOCK_CAP_DOOR_SENSOR;
  description->max_actuation_ms = 50;
  description->max_relock_deadline_ms = 0;
  return LK_OK;
}

lk_result lkt_lock_get_lock_state(lk_lock_device *device, lk_lock_state *state) {
  if (device == NULL || state == NULL) return LK_ERR_INVALID_ARGUMENT;
  enter(device);
  sleep_us(200); /* widens the window in which an unserialised call would overlap */
  pthread_mutex_lock(&device->mutex);
  *state = device->lock_state;
  pthread_mutex_unlock(&device->mutex);
  leave(device);
  return LK_OK;
}

lk_result lkt_lock_get_door_state(lk_lock_device *device, lk_door_state *state) {
  if (device == NULL || state == NULL) return LK_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&device->mutex);
  *state = device->door_state;
  pthread_mutex_unlock(&device->mutex);
  return LK_OK;
}

lk_result lkt_lock_lock(lk_lock_device *device, uint64_t operation_id, lk_lock_completion_fn done, void *context) {
  lk_result result;
  if (device == NULL) return LK_ERR_INVALID_ARGUMENT;
  enter(device);
  result = start_operation(device, operation_id, LK_LOCK_STATE_LOCKED, done, context);
  leave(device);
  return result;
}

lk_result lkt_lock_unlock(lk_lock_device *device, const lk_unlock_params *params, lk_lock_completion_fn done,
                          void *context) {
  lk_result result;
  if (device == NULL || params == NULL || params->struct_size < sizeof *params) return LK_ERR_INVALID_ARGUMENT;
  enter(device);
  result = start_operation(device, params->operation_id, LK_LOCK_STATE_UNLOCKED, done, context);
  leave(device);
  return result;
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
  emit(&device->sink, LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_ONLINE, 0);
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
    event.device_time_ns = now_ns();
    event.data = borrowed;
    event.data_size = nonce_size;
    device->sink.on_event(device->sink.context, &event);
    memset(borrowed, 0, sizeof borrowed);
    return LK_OK;
  }
  /* Stands in for a signed attestation echoing the nonce. */
  emit_lent(&device->sink, LK_EVENT_ATTESTATION, nonce, nonce_size);
  return LK_OK;
}

lk_result lkt_camera_start_recording(lk_camera_device *device, const uint8_t session_id[LK_SESSION_ID_SIZE]) {
  if (device == NULL || session_id == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (device->recording) return LK_ERR_STATE;
  device->recording = 1;
  emit(&device->sink, LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_RECORDING_STARTED, 0);
  return LK_OK;
}

lk_result lkt_camera_stop_recording(lk_camera_device *device) {
  if (device == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (!device->recording) return LK_ERR_STATE;
  device->recording = 0;
  emit(&device->sink, LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_RECORDING_STOPPED, 0);
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
    info->device_time_ns = now_ns();
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
  if (kind == LK_DEVICE_KIND_LOCK && fault == LK_FAULT_LOCK_JAM) {
    lk_lock_device *device = handle;
    pthread_mutex_lock(&device->mutex);
    device->jammed = 1;
    pthread_mutex_unlock(&device->mutex);
    emit(&device->sink, LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, 0);
    return LK_OK;
  }
  if (kind == LK_DEVICE_KIND_CAMERA && fault == LK_FAULT_CAMERA_OFFLINE) {
    lk_camera_device *device = handle;
    emit(&device->sink, LK_EVENT_CAMERA_STATUS, LK_CAMERA_STATUS_OFFLINE, 0);
    return LK_OK;
  }
  return LK_ERR_UNSUPPORTED;
}

lk_result lkt_clear_faults(void *handle, lk_device_kind kind) {
  if (handle == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (kind == LK_DEVICE_KIND_LOCK) {
    lk_lock_device *device = handle;
    pthread_mutex_lock(&device->mutex);
    device->jammed = 0;
    pthread_mutex_unlock(&device->mutex);
  }
  return LK_OK;
}

lk_result lkt_physical_action(void *handle, lk_device_kind kind, lk_physical_action action) {
  lk_lock_device *device = handle;
  if (handle == NULL) return LK_ERR_INVALID_ARGUMENT;
  if (kind != LK_DEVICE_KIND_LOCK) return LK_ERR_UNSUPPORTED;
  pthread_mutex_lock(&device->mutex);
  switch (action) {
    case LK_ACTION_DOOR_OPEN: device->door_state = LK_DOOR_STATE_OPEN; break;
    case LK_ACTION_DOOR_CLOSE: device->door_state = LK_DOOR_STATE_CLOSED; break;
    case LK_ACTION_MANUAL_LOCK: device->lock_state = LK_LOCK_STATE_LOCKED; break;
    case LK_ACTION_MANUAL_UNLOCK: device->lock_state = LK_LOCK_STATE_UNLOCKED; break;
    default: pthread_mutex_unlock(&device->mutex); return LK_ERR_UNSUPPORTED;
  }
  pthread_mutex_unlock(&device->mutex);
  if (action == LK_ACTION_DOOR_OPEN || action == LK_ACTION_DOOR_CLOSE) {
    emit(&device->sink, LK_EVENT_DOOR_STATE, device->door_state, 0);
  } else {
    emit(&device->sink, LK_EVENT_LOCK_STATE, device->lock_state, LK_SOURCE_MANUAL);
  }
  return LK_OK;
}

void lkt_shutdown(void) {
  /* Every device thread is joined by close; nothing is left running. */
}
