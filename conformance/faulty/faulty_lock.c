/*
 * A small lock driver that breaks exactly one contract, chosen at build time
 * (FAULTY_* below; none: a correct lock). Devices are "faulty://lock/<name>";
 * every operation finishes inside its start call, like examples/c_lock_driver.
 * Compiled as C, and as C++ for FAULTY_UNFENCED_EXCEPTION.
 *
 *   FAULTY_EARLY_LOCKED       reports Locked when lock() starts, before the bolt moves (a jam shows the lie)
 *   FAULTY_NO_COMPLETION      lock() returns LK_OK and never completes
 *   FAULTY_DOUBLE_COMPLETION  every completion fires twice
 *   FAULTY_SHARED_SINK        keeps one event sink for all devices: the last opened gets everyone's events
 *   FAULTY_BLOCKING           get_door_state blocks for 1.2 s (budget 100 ms)
 *   FAULTY_EXTRA_EXPORTS      exports debugging symbols beside lk_plugin_negotiate
 *   FAULTY_UNFENCED_EXCEPTION a C++ driver without the wrapper: a NULL argument throws through the C boundary
 *   FAULTY_IGNORES_RELOCK     declares LK_LOCK_CAP_RELOCK_DEADLINE and never relocks
 */
#include <latchkey/latchkey.h>

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

static lk_host_services faulty_host;

struct lk_lock_device {
  lk_event_sink sink;
  lk_lock_state lock_state;
  lk_door_state door_state;
  int jammed;
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

static void faulty_set_lock(lk_lock_device *device, lk_lock_state state, lk_operation_source source) {
  if (device->lock_state == state) return;
  device->lock_state = state;
  faulty_emit(device, LK_EVENT_LOCK_STATE, state, source);
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
  *device = opened;
  return LK_OK;
}

FAULTY_API void faulty_close(lk_lock_device *device) { free(device); }

static lk_result faulty_describe(lk_lock_device *device, lk_lock_description *description) {
  lk_lock_description mine;
  uint32_t caller_size;
  if (device == NULL || description == NULL || description->struct_size < sizeof(uint32_t)) return LK_ERR_INVALID_ARGUMENT;
  memset(&mine, 0, sizeof mine);
  mine.struct_size = sizeof mine;
  mine.flags = LK_LOCK_CAP_DOOR_SENSOR;
#ifdef FAULTY_IGNORES_RELOCK
  mine.flags |= LK_LOCK_CAP_RELOCK_DEADLINE;
  mine.max_relock_deadline_ms = 300000u;
#endif
  mine.max_actuation_ms = 100u;
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
  *state = device->lock_state;
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
  *state = device->door_state;
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

static lk_result faulty_actuate(lk_lock_device *device, lk_lock_state target, uint64_t operation_id,
                                lk_lock_completion_fn done, void *context) {
  lk_result result = LK_OK;
  if (device->jammed) {
    faulty_set_lock(device, LK_LOCK_STATE_NOT_FULLY_LOCKED, LK_SOURCE_REMOTE);
    faulty_emit(device, LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, 0u);
    result = LK_ERR_JAMMED;
  } else {
    faulty_set_lock(device, target, LK_SOURCE_REMOTE);
  }
#ifdef FAULTY_NO_COMPLETION
  if (target == LK_LOCK_STATE_LOCKED) return LK_OK; /* the bug: the completion is forgotten */
#endif
  faulty_complete(done, context, operation_id, result, device->lock_state);
  return LK_OK;
}

static lk_result faulty_lock(lk_lock_device *device, uint64_t operation_id, lk_lock_completion_fn done, void *context) {
  if (device == NULL || done == NULL) return LK_ERR_INVALID_ARGUMENT;
#ifdef FAULTY_EARLY_LOCKED
  faulty_set_lock(device, LK_LOCK_STATE_LOCKED, LK_SOURCE_REMOTE); /* the bug: before the bolt has moved */
#endif
  return faulty_actuate(device, LK_LOCK_STATE_LOCKED, operation_id, done, context);
}

static lk_result faulty_unlock(lk_lock_device *device, const lk_unlock_params *params, lk_lock_completion_fn done,
                               void *context) {
  if (device == NULL || params == NULL || done == NULL || params->struct_size < sizeof(lk_unlock_params))
    return LK_ERR_INVALID_ARGUMENT;
  if (params->unlatch != 0u) return LK_ERR_UNSUPPORTED;
#ifdef FAULTY_IGNORES_RELOCK
  if (params->relock_deadline_ms > 300000u) return LK_ERR_INVALID_ARGUMENT;
  /* the bug: the deadline is accepted and then forgotten */
#endif
  return faulty_actuate(device, LK_LOCK_STATE_UNLOCKED, params->operation_id, done, context);
}

static const lk_lock_interface_v1 faulty_lock_interface = {
    sizeof(lk_lock_interface_v1), 0u, faulty_open, faulty_close, faulty_describe, faulty_get_lock_state,
    faulty_get_door_state, faulty_lock, faulty_unlock};

static lk_result faulty_inject_fault(void *device, lk_device_kind kind, lk_fault fault, int64_t parameter) {
  lk_lock_device *lock = (lk_lock_device *)device;
  (void)parameter;
  if (lock == NULL || kind != LK_DEVICE_KIND_LOCK) return LK_ERR_INVALID_ARGUMENT;
  if (fault != LK_FAULT_LOCK_JAM) return LK_ERR_UNSUPPORTED;
  lock->jammed = 1;
  return LK_OK;
}

static lk_result faulty_clear_faults(void *device, lk_device_kind kind) {
  lk_lock_device *lock = (lk_lock_device *)device;
  if (lock == NULL || kind != LK_DEVICE_KIND_LOCK) return LK_ERR_INVALID_ARGUMENT;
  lock->jammed = 0;
  return LK_OK;
}

static lk_result faulty_physical_action(void *device, lk_device_kind kind, lk_physical_action action) {
  lk_lock_device *lock = (lk_lock_device *)device;
  if (lock == NULL || kind != LK_DEVICE_KIND_LOCK) return LK_ERR_INVALID_ARGUMENT;
  switch (action) {
    case LK_ACTION_DOOR_OPEN:
    case LK_ACTION_DOOR_CLOSE: {
      const lk_door_state door = action == LK_ACTION_DOOR_OPEN ? LK_DOOR_STATE_OPEN : LK_DOOR_STATE_CLOSED;
      if (lock->door_state != door) {
        lock->door_state = door;
        faulty_emit(lock, LK_EVENT_DOOR_STATE, door, 0u);
      }
      return LK_OK;
    }
    case LK_ACTION_MANUAL_LOCK:
      faulty_set_lock(lock, LK_LOCK_STATE_LOCKED, LK_SOURCE_MANUAL);
      return LK_OK;
    case LK_ACTION_MANUAL_UNLOCK:
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
