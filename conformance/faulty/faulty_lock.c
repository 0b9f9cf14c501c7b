/*
 * A small lock driver that breaks exactly one contract, chosen at build time
 * (FAULTY_* below; none: a correct lock). Devices are "faulty://lock/<name>";
 * every operation finishes inside its start call, like examples/c_lock_driver,
 * except where a fault needs time: then a worker thread per device runs the
 * slow actuation or the relock timer. Compiled as C, and as C++ for
 * FAULTY_UNFENCED_EXCEPTION (the worker code is compiled in both, used only by
 * the timed faults).
 *
 *   FAULTY_EARLY_LOCKED       reports Locked when lock() starts, before the bolt moves (a jam shows the lie)
 *   FAULTY_NO_COMPLETION      lock() returns LK_OK and never completes
 *   FAULTY_DOUBLE_COMPLETION  every completion fires twice
 *   FAULTY_SHARED_SINK        keeps one event sink for all devices: the last opened gets everyone's events
 *   FAULTY_BLOCKING           get_door_state blocks for 1.2 s (budget 100 ms)
 *   FAULTY_EXTRA_EXPORTS      exports debugging symbols beside lk_plugin_negotiate
 *   FAULTY_UNFENCED_EXCEPTION a C++ driver without the wrapper: a NULL argument throws through the C boundary
 *   FAULTY_IGNORES_RELOCK     declares LK_LOCK_CAP_RELOCK_DEADLINE and never relocks
 *   FAULTY_RELOCKS_EARLY      declares LK_LOCK_CAP_RELOCK_DEADLINE and relocks at 60 % of the deadline
 *   FAULTY_RELOCKS_LATE       declares LK_LOCK_CAP_RELOCK_DEADLINE and relocks 1.5 s after the deadline
 *   FAULTY_SLOW_ACTUATION     declares max_actuation_ms 300 and takes 450 ms (1.5x) for every operation
 */
/* clock_gettime, CLOCK_MONOTONIC and pthread_condattr_setclock under a strict -std=c99 too. */
#if !defined(__cplusplus) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <latchkey/latchkey.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef FAULTY_UNFENCED_EXCEPTION
#include <stdexcept>
#endif

#ifdef FAULTY_EXTRA_EXPORTS
#define FAULTY_API LK_EXPORT
#else
#define FAULTY_API static
#endif

#define FAULTY_PREFIX "faulty://lock/"

#if defined(FAULTY_IGNORES_RELOCK) || defined(FAULTY_RELOCKS_EARLY) || defined(FAULTY_RELOCKS_LATE)
#define FAULTY_DECLARES_RELOCK 1
#else
#define FAULTY_DECLARES_RELOCK 0
#endif
#define FAULTY_MAX_RELOCK_MS 300000u

#ifdef FAULTY_SLOW_ACTUATION
#define FAULTY_DECLARED_ACTUATION_MS 300u
#define FAULTY_ACTUATION_MS 450u /* the bug: 1.5 times the declared maximum */
#else
#define FAULTY_DECLARED_ACTUATION_MS 100u
#define FAULTY_ACTUATION_MS 0u /* inside the start call */
#endif

/* The locks that relock by themselves (FAULTY_IGNORES_RELOCK only declares it). */
#if defined(FAULTY_RELOCKS_EARLY) || defined(FAULTY_RELOCKS_LATE)
#define FAULTY_RELOCKS 1
#else
#define FAULTY_RELOCKS 0
#endif

/* The faults that need time run on a worker thread per device. */
#if FAULTY_RELOCKS || defined(FAULTY_SLOW_ACTUATION)
#define FAULTY_TIMED 1
#else
#define FAULTY_TIMED 0
#endif

/* When a lock with a relock deadline relocks, counted from the bolt's retraction. */
static uint64_t faulty_relock_after_ms(uint32_t deadline_ms) {
#if defined(FAULTY_RELOCKS_EARLY)
  return (uint64_t)deadline_ms * 3u / 5u; /* the bug: at 60 % of the deadline */
#elif defined(FAULTY_RELOCKS_LATE)
  return (uint64_t)deadline_ms + 1500u; /* the bug: 1.5 s after it */
#else
  return deadline_ms;
#endif
}

static lk_host_services faulty_host;

struct lk_lock_device {
  lk_event_sink sink;
  lk_lock_state lock_state;
  lk_door_state door_state;
  int jammed;
  /* The timed faults: guarded by mutex, run by worker. Events and
   * completions are raised outside the mutex. */
  pthread_mutex_t mutex;
  pthread_cond_t wake;
  pthread_t worker;
  int worker_running;
  int stopping;
  int op_pending; /* an operation the worker completes at op_due_ns */
  lk_lock_state op_target;
  uint64_t op_id;
  lk_lock_completion_fn op_done;
  void *op_context;
  uint64_t op_due_ns;
  int relock_armed; /* the worker relocks at relock_due_ns */
  uint64_t relock_due_ns;
  int relock_when_closed; /* the deadline passed with the door open */
};

#ifdef FAULTY_SHARED_SINK
static lk_event_sink faulty_shared_sink; /* the bug: one sink for every device */
#endif

static uint64_t faulty_now(void) {
  return faulty_host.monotonic_ns != NULL ? faulty_host.monotonic_ns(faulty_host.context) : 0u;
}

static void faulty_emit(lk_lock_device *device, lk_event_kind kind, uint32_t value, uint32_t detail) {
  lk_event event;
#ifdef FAULTY_SHARED_SINK
  const lk_event_sink *sink = &faulty_shared_sink;
  (void)device;
#else
  const lk_event_sink *sink = &device->sink;
#endif
  if (sink->on_event == NULL) return;
  memset(&event, 0, sizeof event);
  event.struct_size = sizeof event;
  event.kind = kind;
  event.device_time_ns = faulty_now();
  event.value = value;
  event.detail = detail;
  sink->on_event(sink->context, &event);
}

static uint64_t faulty_clock_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Sets the bolt state under the device's mutex; the event is raised outside it. */
static void faulty_set_lock(lk_lock_device *device, lk_lock_state state, lk_operation_source source) {
  int changed;
  pthread_mutex_lock(&device->mutex);
  changed = device->lock_state != state;
  device->lock_state = state;
  pthread_mutex_unlock(&device->mutex);
  if (changed) faulty_emit(device, LK_EVENT_LOCK_STATE, state, source);
}

static lk_lock_state faulty_bolt(lk_lock_device *device) {
  lk_lock_state state;
  pthread_mutex_lock(&device->mutex);
  state = device->lock_state;
  pthread_mutex_unlock(&device->mutex);
  return state;
}

/* Moves the bolt to target, or jams half way. */
static lk_result faulty_move(lk_lock_device *device, lk_lock_state target, lk_operation_source source) {
  int jammed;
  pthread_mutex_lock(&device->mutex);
  jammed = device->jammed;
  pthread_mutex_unlock(&device->mutex);
  if (jammed) {
    faulty_set_lock(device, LK_LOCK_STATE_NOT_FULLY_LOCKED, source);
    faulty_emit(device, LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, 0u);
    return LK_ERR_JAMMED;
  }
  faulty_set_lock(device, target, source);
  return LK_OK;
}

static void faulty_complete(lk_lock_completion_fn done, void *context, uint64_t operation_id, lk_result result,
                            lk_lock_state state) {
  lk_lock_completion completion;
  memset(&completion, 0, sizeof completion);
  completion.struct_size = sizeof completion;
  completion.result = result;
  completion.operation_id = operation_id;
  completion.lock_state = state;
  done(context, &completion);
#ifdef FAULTY_DOUBLE_COMPLETION
  done(context, &completion);
#endif
}

static void faulty_arm_relock(lk_lock_device *device, uint32_t deadline_ms) {
  pthread_mutex_lock(&device->mutex);
  device->relock_armed = 1;
  device->relock_due_ns = faulty_clock_ns() + faulty_relock_after_ms(deadline_ms) * 1000000u;
  device->relock_when_closed = 0;
  pthread_cond_signal(&device->wake);
  pthread_mutex_unlock(&device->mutex);
}

static void faulty_cancel_relock(lk_lock_device *device) {
  pthread_mutex_lock(&device->mutex);
  device->relock_armed = 0;
  device->relock_when_closed = 0;
  pthread_mutex_unlock(&device->mutex);
}

/* The relock timer ran out: lock, unless the door is open (then when it closes). */
static void faulty_relock_due(lk_lock_device *device) {
  int now;
  pthread_mutex_lock(&device->mutex);
  now = device->lock_state == LK_LOCK_STATE_UNLOCKED && device->door_state == LK_DOOR_STATE_CLOSED;
  device->relock_when_closed = device->lock_state == LK_LOCK_STATE_UNLOCKED && !now;
  pthread_mutex_unlock(&device->mutex);
  if (now) faulty_move(device, LK_LOCK_STATE_LOCKED, LK_SOURCE_AUTO);
}

/* The worker of the timed faults: completes the slow operation and runs the relock timer. */
static void *faulty_worker(void *argument) {
  lk_lock_device *device = (lk_lock_device *)argument;
  pthread_mutex_lock(&device->mutex);
  while (!device->stopping) {
    const uint64_t now = faulty_clock_ns();
    uint64_t due = 0;
    if (device->op_pending && device->op_due_ns <= now) {
      const lk_lock_state target = device->op_target;
      const uint64_t operation_id = device->op_id;
      const lk_lock_completion_fn done = device->op_done;
      void *const context = device->op_context;
      lk_result result;
      device->op_pending = 0;
      pthread_mutex_unlock(&device->mutex);
      result = faulty_move(device, target, LK_SOURCE_REMOTE);
      faulty_complete(done, context, operation_id, result, faulty_bolt(device));
      pthread_mutex_lock(&device->mutex);
      continue;
    }
    if (device->relock_armed && device->relock_due_ns <= now) {
      device->relock_armed = 0;
      pthread_mutex_unlock(&device->mutex);
      faulty_relock_due(device);
      pthread_mutex_lock(&device->mutex);
      continue;
    }
    if (device->op_pending) due = device->op_due_ns;
    if (device->relock_armed && (due == 0 || device->relock_due_ns < due)) due = device->relock_due_ns;
    if (due == 0) {
      pthread_cond_wait(&device->wake, &device->mutex);
    } else {
      struct timespec until;
      until.tv_sec = (time_t)(due / 1000000000u);
      until.tv_nsec = (long)(due % 1000000000u);
      pthread_cond_timedwait(&device->wake, &device->mutex, &until);
    }
  }
  pthread_mutex_unlock(&device->mutex);
  return NULL;
}

static int faulty_start_worker(lk_lock_device *device) {
  pthread_condattr_t attributes;
  int failed;
  if (pthread_mutex_init(&device->mutex, NULL) != 0) return -1;
  if (pthread_condattr_init(&attributes) != 0) {
    pthread_mutex_destroy(&device->mutex);
    return -1;
  }
  failed = pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC) != 0 ||
           pthread_cond_init(&device->wake, &attributes) != 0;
  pthread_condattr_destroy(&attributes);
  if (failed) {
    pthread_mutex_destroy(&device->mutex);
    return -1;
  }
  if (FAULTY_TIMED) {
    if (pthread_create(&device->worker, NULL, faulty_worker, device) != 0) {
      pthread_cond_destroy(&device->wake);
      pthread_mutex_destroy(&device->mutex);
      return -1;
    }
    device->worker_running = 1;
  }
  return 0;
}

FAULTY_API lk_result faulty_open(const char *uri, const lk_event_sink *sink, lk_lock_device **device) {
  lk_lock_device *opened;
  if (uri == NULL || sink == NULL || device == NULL || sink->struct_size < sizeof(uint32_t)) return LK_ERR_INVALID_ARGUMENT;
  *device = NULL;
  if (strncmp(uri, FAULTY_PREFIX, sizeof FAULTY_PREFIX - 1) != 0 || uri[sizeof FAULTY_PREFIX - 1] == '\0')
    return LK_ERR_NOT_FOUND;
  opened = (lk_lock_device *)calloc(1, sizeof *opened);
  if (opened == NULL) return LK_ERR_NO_MEMORY;
  memcpy(&opened->sink, sink, sink->struct_size < sizeof opened->sink ? sink->struct_size : sizeof opened->sink);
#ifdef FAULTY_SHARED_SINK
  faulty_shared_sink = opened->sink;
#endif
  opened->lock_state = LK_LOCK_STATE_LOCKED;
  opened->door_state = LK_DOOR_STATE_CLOSED;
  if (faulty_start_worker(opened) != 0) {
    free(opened);
    return LK_ERR_NO_MEMORY;
  }
  *device = opened;
  return LK_OK;
}

/* Stops the worker first, so that nothing it raises follows close; a pending
 * operation then completes LK_ERR_CLOSED before close returns. */
FAULTY_API void faulty_close(lk_lock_device *device) {
  if (device == NULL) return;
  if (device->worker_running) {
    pthread_mutex_lock(&device->mutex);
    device->stopping = 1;
    pthread_cond_signal(&device->wake);
    pthread_mutex_unlock(&device->mutex);
    pthread_join(device->worker, NULL);
  }
  if (device->op_pending) {
    device->op_pending = 0;
    faulty_complete(device->op_done, device->op_context, device->op_id, LK_ERR_CLOSED, device->lock_state);
  }
  pthread_cond_destroy(&device->wake);
  pthread_mutex_destroy(&device->mutex);
  free(device);
}

static lk_result faulty_describe(lk_lock_device *device, lk_lock_description *description) {
  lk_lock_description mine;
  uint32_t caller_size;
  if (device == NULL || description == NULL || description->struct_size < sizeof(uint32_t)) return LK_ERR_INVALID_ARGUMENT;
  memset(&mine, 0, sizeof mine);
  mine.struct_size = sizeof mine;
  mine.flags = LK_LOCK_CAP_DOOR_SENSOR;
  if (FAULTY_DECLARES_RELOCK) {
    mine.flags |= LK_LOCK_CAP_RELOCK_DEADLINE;
    mine.max_relock_deadline_ms = FAULTY_MAX_RELOCK_MS;
  }
  mine.max_actuation_ms = FAULTY_DECLARED_ACTUATION_MS;
  caller_size = description->struct_size;
  memcpy(description, &mine, caller_size < sizeof mine ? caller_size : sizeof mine);
  description->struct_size = caller_size;
  return LK_OK;
}

static lk_result faulty_get_lock_state(lk_lock_device *device, lk_lock_state *state) {
#ifdef FAULTY_UNFENCED_EXCEPTION
  if (state == NULL) throw std::invalid_argument("get_lock_state: state is NULL");
#endif
  if (device == NULL || state == NULL) return LK_ERR_INVALID_ARGUMENT;
  *state = faulty_bolt(device);
  return LK_OK;
}

static lk_result faulty_get_door_state(lk_lock_device *device, lk_door_state *state) {
  if (device == NULL || state == NULL) return LK_ERR_INVALID_ARGUMENT;
#ifdef FAULTY_BLOCKING
  {
    struct timespec pause = {1, 200000000L};
    nanosleep(&pause, NULL);
  }
#endif
  pthread_mutex_lock(&device->mutex);
  *state = device->door_state;
  pthread_mutex_unlock(&device->mutex);
  return LK_OK;
}

/* Moves the bolt: inside the call, or (FAULTY_ACTUATION_MS > 0) on the worker
 * after that long. An unlock with a relock deadline arms the relock once the
 * bolt is retracted, on a lock that declares the capability. */
static lk_result faulty_actuate(lk_lock_device *device, lk_lock_state target, uint64_t operation_id,
                                lk_lock_completion_fn done, void *context, uint32_t relock_deadline_ms) {
  lk_result result;
  if (FAULTY_ACTUATION_MS > 0u) {
    pthread_mutex_lock(&device->mutex);
    if (device->op_pending) {
      pthread_mutex_unlock(&device->mutex);
      return LK_ERR_BUSY;
    }
    device->op_pending = 1;
    device->op_target = target;
    device->op_id = operation_id;
    device->op_done = done;
    device->op_context = context;
    device->op_due_ns = faulty_clock_ns() + (uint64_t)FAULTY_ACTUATION_MS * 1000000u;
    pthread_cond_signal(&device->wake);
    pthread_mutex_unlock(&device->mutex);
    return LK_OK;
  }
  result = faulty_move(device, target, LK_SOURCE_REMOTE);
#ifdef FAULTY_NO_COMPLETION
  if (target == LK_LOCK_STATE_LOCKED) return LK_OK; /* the bug: the completion is forgotten */
#endif
  /* FAULTY_IGNORES_RELOCK: the bug, the deadline is accepted and then forgotten. */
  if (FAULTY_RELOCKS && result == LK_OK && target == LK_LOCK_STATE_UNLOCKED && relock_deadline_ms > 0u)
    faulty_arm_relock(device, relock_deadline_ms);
  faulty_complete(done, context, operation_id, result, faulty_bolt(device));
  return LK_OK;
}

static lk_result faulty_lock(lk_lock_device *device, uint64_t operation_id, lk_lock_completion_fn done, void *context) {
  if (device == NULL || done == NULL) return LK_ERR_INVALID_ARGUMENT;
  faulty_cancel_relock(device); /* a remote lock supersedes a pending relock */
#ifdef FAULTY_EARLY_LOCKED
  faulty_set_lock(device, LK_LOCK_STATE_LOCKED, LK_SOURCE_REMOTE); /* the bug: before the bolt has moved */
#endif
  return faulty_actuate(device, LK_LOCK_STATE_LOCKED, operation_id, done, context, 0u);
}

static lk_result faulty_unlock(lk_lock_device *device, const lk_unlock_params *params, lk_lock_completion_fn done,
                               void *context) {
  if (device == NULL || params == NULL || done == NULL || params->struct_size < sizeof(lk_unlock_params))
    return LK_ERR_INVALID_ARGUMENT;
  if (params->unlatch != 0u) return LK_ERR_UNSUPPORTED;
  if (FAULTY_DECLARES_RELOCK && params->relock_deadline_ms > FAULTY_MAX_RELOCK_MS) return LK_ERR_INVALID_ARGUMENT;
  faulty_cancel_relock(device);
  return faulty_actuate(device, LK_LOCK_STATE_UNLOCKED, params->operation_id, done, context,
                        FAULTY_DECLARES_RELOCK ? params->relock_deadline_ms : 0u);
}

static const lk_lock_interface_v1 faulty_lock_interface = {
    sizeof(lk_lock_interface_v1), 0u, faulty_open, faulty_close, faulty_describe, faulty_get_lock_state,
    faulty_get_door_state, faulty_lock, faulty_unlock};

static lk_result faulty_inject_fault(void *device, lk_device_kind kind, lk_fault fault, int64_t parameter) {
  lk_lock_device *lock = (lk_lock_device *)device;
  (void)parameter;
  if (lock == NULL || kind != LK_DEVICE_KIND_LOCK) return LK_ERR_INVALID_ARGUMENT;
  if (fault != LK_FAULT_LOCK_JAM) return LK_ERR_UNSUPPORTED;
  pthread_mutex_lock(&lock->mutex);
  lock->jammed = 1;
  pthread_mutex_unlock(&lock->mutex);
  return LK_OK;
}

static lk_result faulty_clear_faults(void *device, lk_device_kind kind) {
  lk_lock_device *lock = (lk_lock_device *)device;
  if (lock == NULL || kind != LK_DEVICE_KIND_LOCK) return LK_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&lock->mutex);
  lock->jammed = 0;
  pthread_mutex_unlock(&lock->mutex);
  return LK_OK;
}

static lk_result faulty_physical_action(void *device, lk_device_kind kind, lk_physical_action action) {
  lk_lock_device *lock = (lk_lock_device *)device;
  if (lock == NULL || kind != LK_DEVICE_KIND_LOCK) return LK_ERR_INVALID_ARGUMENT;
  switch (action) {
    case LK_ACTION_DOOR_OPEN:
    case LK_ACTION_DOOR_CLOSE: {
      const lk_door_state door = action == LK_ACTION_DOOR_OPEN ? LK_DOOR_STATE_OPEN : LK_DOOR_STATE_CLOSED;
      int changed, relock = 0;
      pthread_mutex_lock(&lock->mutex);
      changed = lock->door_state != door;
      lock->door_state = door;
      if (changed && door == LK_DOOR_STATE_CLOSED && lock->relock_when_closed) {
        lock->relock_when_closed = 0;
        relock = 1;
      }
      pthread_mutex_unlock(&lock->mutex);
      if (changed) faulty_emit(lock, LK_EVENT_DOOR_STATE, door, 0u);
      if (relock) faulty_move(lock, LK_LOCK_STATE_LOCKED, LK_SOURCE_AUTO);
      return LK_OK;
    }
    case LK_ACTION_MANUAL_LOCK:
      faulty_set_lock(lock, LK_LOCK_STATE_LOCKED, LK_SOURCE_MANUAL);
      return LK_OK;
    case LK_ACTION_MANUAL_UNLOCK:
      faulty_cancel_relock(lock); /* a person inside chose to leave it unlocked */
      faulty_set_lock(lock, LK_LOCK_STATE_UNLOCKED, LK_SOURCE_MANUAL);
      return LK_OK;
    default:
      return LK_ERR_UNSUPPORTED;
  }
}

static const lk_test_control_interface_v1 faulty_test_control = {
    sizeof(lk_test_control_interface_v1), 0u, faulty_inject_fault, faulty_clear_faults, faulty_physical_action};

static lk_result faulty_get_interface(const char *name, uint32_t major, const void **table) {
  if (name == NULL || table == NULL) return LK_ERR_INVALID_ARGUMENT;
  *table = NULL;
  if (strcmp(name, LK_LOCK_INTERFACE_NAME) == 0) {
    if (major != LK_LOCK_INTERFACE_MAJOR) return LK_ERR_VERSION;
    *table = &faulty_lock_interface;
    return LK_OK;
  }
  if (strcmp(name, LK_TEST_CONTROL_INTERFACE_NAME) == 0) {
    if (major != LK_TEST_CONTROL_INTERFACE_MAJOR) return LK_ERR_VERSION;
    *table = &faulty_test_control;
    return LK_OK;
  }
  return LK_ERR_NOT_FOUND;
}

#define FAULTY_STRING2(x) #x
#define FAULTY_STRING(x) FAULTY_STRING2(x)

static const lk_plugin_info faulty_info = {sizeof(lk_plugin_info), LK_ABI_VERSION_1_0, "Latchkey conformance",
                                           "org.latchkey.conformance.faulty." FAULTY_STRING(FAULTY_NAME), "1.0.0",
                                           "A lock that breaks one contract on purpose", faulty_get_interface, NULL};

LK_EXPORT lk_result lk_plugin_negotiate(const lk_negotiate_request *request, const lk_plugin_info **info) {
  if (request == NULL || info == NULL || request->struct_size < sizeof(lk_negotiate_request)) return LK_ERR_INVALID_ARGUMENT;
  *info = NULL;
  if (request->min_abi_version > LK_ABI_VERSION_1_0 || request->max_abi_version < LK_ABI_VERSION_1_0) return LK_ERR_VERSION;
  memset(&faulty_host, 0, sizeof faulty_host);
  if (request->host != NULL)
    memcpy(&faulty_host, request->host,
           request->host->struct_size < sizeof faulty_host ? request->host->struct_size : sizeof faulty_host);
  *info = &faulty_info;
  return LK_OK;
}

#ifdef FAULTY_EXTRA_EXPORTS
/* More exported symbols: a debugging hook and a version string. */
LK_EXPORT const char *faulty_lock_version(void) { return "1.0.0"; }
LK_EXPORT int faulty_lock_debug_level = 0;
#endif
