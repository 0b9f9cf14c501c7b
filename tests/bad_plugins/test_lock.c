/*
 * The test plugins' lock: behaves as lk_lock.h says, except where an
 * LKT_VARIANT_* asks for a specific contract violation.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "test_plugin.h"

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
  lkt_sleep_us(2000);
  result = actuate(device, device->thread_target, &after);
  fire(device->thread_done, device->thread_context, device->thread_operation, result, after);
  lkt_emit(&device->sink, LK_EVENT_LOCK_STATE, after, LK_SOURCE_REMOTE);
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
  lkt_emit(&device->sink, LK_EVENT_LOCK_STATE, after, LK_SOURCE_REMOTE);
  return LK_OK;
}

lk_result lkt_lock_open(const char *uri, const lk_event_sink *sink, lk_lock_device **out) {
  lk_lock_device *device;
  if (uri == NULL || sink == NULL || sink->on_event == NULL || out == NULL) return LK_ERR_INVALID_ARGUMENT;
#if defined(LKT_VARIANT_EVENT_AFTER_CLOSE)
  if (have_stale_sink) {
    static const uint8_t alarm_bytes[4] = {1, 2, 3, 4};
    have_stale_sink = 0;
    lkt_emit_lent(&stale_sink, LK_EVENT_LOCK_ALARM, alarm_bytes, sizeof alarm_bytes);
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
  lkt_emit(&device->sink, LK_EVENT_LOCK_STATE, device->lock_state, LK_SOURCE_UNSPECIFIED);
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
  lkt_sleep_us(200); /* widens the window in which an unserialised call would overlap */
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


/* ---- Lock test control ------------------------------------------------------ */

lk_result lkt_lock_jam(lk_lock_device *device, int jammed) {
  pthread_mutex_lock(&device->mutex);
  device->jammed = jammed;
  pthread_mutex_unlock(&device->mutex);
  if (jammed) lkt_emit(&device->sink, LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, 0);
  return LK_OK;
}

lk_result lkt_lock_physical_action(lk_lock_device *device, lk_physical_action action) {
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
    lkt_emit(&device->sink, LK_EVENT_DOOR_STATE, device->door_state, 0);
  } else {
    lkt_emit(&device->sink, LK_EVENT_LOCK_STATE, device->lock_state, LK_SOURCE_MANUAL);
  }
  return LK_OK;
}
