/*
 * A complete Latchkey lock driver in plain C99.
 *
 * It drives pretend locks, one per device URI "example://lock/<name>", and
 * shows everything a real driver needs: the one exported entry point, version
 * negotiation, the lock interface table, events, completions and the optional
 * test control interface. Replace the "hardware" below (two fields in a
 * struct) with your radio protocol and the rest stays.
 *
 * Build (see README.md): latchkey_add_plugin() with CMake, or a single cc
 * command with the headers alone. The plugin needs nothing but the C library.
 *
 * Design choices worth copying:
 * - The driver creates no threads. Every operation finishes inside the call
 *   that starts it, so the completion fires from inside lock()/unlock(),
 *   which the ABI allows (lk_lock.h). A driver whose hardware answers later
 *   fires the completion from its own thread instead; exactly once either way.
 * - It does not claim LK_LOCK_CAP_RELOCK_DEADLINE: it has no timer to relock
 *   by itself, so it says so and the hub enforces the relock (docs/rules.md U4).
 *   Claiming a capability you do not honour is the worst thing a driver can do.
 * - Structs that can grow are copied with min(their size, our size), so hosts
 *   built against older or newer headers work with this driver.
 */
#include <latchkey/latchkey.h>

#include <stdlib.h>
#include <string.h>

/* ---- Host services ------------------------------------------------------ */

/* The host's services, copied at negotiation. Zeroed entries are absent. */
static lk_host_services example_host;

static uint64_t example_now_ns(void) {
  return example_host.monotonic_ns != NULL ? example_host.monotonic_ns(example_host.context) : 0u;
}

static void example_log(lk_log_level level, const char *message) {
  if (example_host.log != NULL) example_host.log(example_host.context, level, message);
}

/* ---- The device --------------------------------------------------------- */

#define EXAMPLE_URI_PREFIX "example://lock/"
#define EXAMPLE_NAME_MAX 32

/*
 * lk_lock.h declares struct lk_lock_device as opaque; the plugin defines it.
 * The host only ever holds a pointer to it.
 */
struct lk_lock_device {
  lk_event_sink sink;                 /* copied at open; where events go */
  char name[EXAMPLE_NAME_MAX + 1];
  lk_lock_state lock_state;           /* the pretend bolt */
  lk_door_state door_state;           /* the pretend door sensor */
  int jammed;                         /* LK_FAULT_LOCK_JAM injected */
};

/* Sends one event without data. The host's on_event never blocks. */
static void example_emit(lk_lock_device *device, lk_event_kind kind, uint32_t value, uint32_t detail) {
  lk_event event;
  if (device->sink.on_event == NULL) return;
  memset(&event, 0, sizeof event);
  event.struct_size = sizeof event;
  event.kind = kind;
  event.device_time_ns = example_now_ns();
  event.value = value;
  event.detail = detail;
  device->sink.on_event(device->sink.context, &event);
}

/* Moves the bolt and reports the change; no event when nothing changed. */
static void example_set_lock_state(lk_lock_device *device, lk_lock_state state, lk_operation_source source) {
  if (device->lock_state == state) return;
  device->lock_state = state;
  example_emit(device, LK_EVENT_LOCK_STATE, state, source);
}

static void example_set_door_state(lk_lock_device *device, lk_door_state state) {
  if (device->door_state == state) return;
  device->door_state = state;
  example_emit(device, LK_EVENT_DOOR_STATE, state, 0u);
}

/* Names are 1 to EXAMPLE_NAME_MAX characters of [A-Za-z0-9._-]. */
static int example_valid_name(const char *name) {
  size_t length = 0;
  for (; name[length] != '\0'; ++length) {
    const char c = name[length];
    const int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                   c == '_' || c == '-';
    if (!ok || length == EXAMPLE_NAME_MAX) return 0;
  }
  return length > 0;
}

/* ---- The lock interface ------------------------------------------------- */

static lk_result example_open(const char *device_uri, const lk_event_sink *sink, lk_lock_device **device) {
  const size_t prefix_length = sizeof EXAMPLE_URI_PREFIX - 1;
  lk_lock_device *opened;
  size_t sink_size;
  if (device_uri == NULL || sink == NULL || device == NULL || sink->struct_size < sizeof(uint32_t))
    return LK_ERR_INVALID_ARGUMENT;
  *device = NULL;
  if (strncmp(device_uri, EXAMPLE_URI_PREFIX, prefix_length) != 0 ||
      !example_valid_name(device_uri + prefix_length)) {
    example_log(LK_LOG_WARNING, "example lock: device URI is not example://lock/<name>");
    return LK_ERR_NOT_FOUND;
  }
  opened = (lk_lock_device *)calloc(1, sizeof *opened);
  if (opened == NULL) return LK_ERR_NO_MEMORY;
  /* The sink is borrowed for this call: keep a copy, as much as both know. */
  sink_size = sink->struct_size < sizeof opened->sink ? sink->struct_size : sizeof opened->sink;
  memcpy(&opened->sink, sink, sink_size);
  strcpy(opened->name, device_uri + prefix_length);
  opened->lock_state = LK_LOCK_STATE_LOCKED;
  opened->door_state = LK_DOOR_STATE_CLOSED;
  *device = opened;
  return LK_OK;
}

/* Nothing is pending (operations finish inside their start call), so no
 * completion is owed; free the device and never touch the sink again. */
static void example_close(lk_lock_device *device) {
  free(device);
}

static lk_result example_describe(lk_lock_device *device, lk_lock_description *description) {
  lk_lock_description mine;
  uint32_t caller_size;
  if (device == NULL || description == NULL || description->struct_size < sizeof(uint32_t))
    return LK_ERR_INVALID_ARGUMENT;
  memset(&mine, 0, sizeof mine);
  mine.struct_size = sizeof mine;
  mine.flags = LK_LOCK_CAP_DOOR_SENSOR;   /* no RELOCK_DEADLINE, no UNLATCH: see the top */
  mine.max_actuation_ms = 100u;
  mine.max_relock_deadline_ms = 0u;
  /* Hand over what both sides know; struct_size keeps the caller's value. */
  caller_size = description->struct_size;
  memcpy(description, &mine, caller_size < sizeof mine ? caller_size : sizeof mine);
  description->struct_size = caller_size;
  return LK_OK;
}

static lk_result example_get_lock_state(lk_lock_device *device, lk_lock_state *state) {
  if (device == NULL || state == NULL) return LK_ERR_INVALID_ARGUMENT;
  *state = device->lock_state;
  return LK_OK;
}

static lk_result example_get_door_state(lk_lock_device *device, lk_door_state *state) {
  if (device == NULL || state == NULL) return LK_ERR_INVALID_ARGUMENT;
  *state = device->door_state;
  return LK_OK;
}

/*
 * Runs one bolt movement to its end and fires the completion. Called only
 * after the start call has decided to return LK_OK: a failed start call must
 * never fire the completion.
 */
static void example_actuate(lk_lock_device *device, lk_lock_state target, uint64_t operation_id,
                            lk_lock_completion_fn done, void *context) {
  lk_lock_completion completion;
  memset(&completion, 0, sizeof completion);
  completion.struct_size = sizeof completion;
  completion.operation_id = operation_id;
  if (device->jammed) {
    /* The bolt stuck halfway: say so (Matter reports NotFullyLocked and a
     * LockJammed alarm) and fail the operation. */
    example_set_lock_state(device, LK_LOCK_STATE_NOT_FULLY_LOCKED, LK_SOURCE_REMOTE);
    example_emit(device, LK_EVENT_LOCK_ALARM, LK_ALARM_LOCK_JAMMED, 0u);
    completion.result = LK_ERR_JAMMED;
  } else {
    example_set_lock_state(device, target, LK_SOURCE_REMOTE);
    completion.result = LK_OK;
  }
  completion.lock_state = device->lock_state;
  done(context, &completion);
}

static lk_result example_lock(lk_lock_device *device, uint64_t operation_id, lk_lock_completion_fn done,
                              void *context) {
  if (device == NULL || done == NULL) return LK_ERR_INVALID_ARGUMENT;
  /* From here on the call succeeds, so the completion fires exactly once. */
  example_actuate(device, LK_LOCK_STATE_LOCKED, operation_id, done, context);
  return LK_OK;
}

static lk_result example_unlock(lk_lock_device *device, const lk_unlock_params *params, lk_lock_completion_fn done,
                                void *context) {
  if (device == NULL || params == NULL || done == NULL || params->struct_size < sizeof(lk_unlock_params))
    return LK_ERR_INVALID_ARGUMENT;
  if (params->unlatch != 0u) return LK_ERR_UNSUPPORTED;   /* LK_LOCK_CAP_UNLATCH not claimed */
  /* params->relock_deadline_ms is ignored on purpose: without
   * LK_LOCK_CAP_RELOCK_DEADLINE the hub relocks (U4), not the lock. */
  example_actuate(device, LK_LOCK_STATE_UNLOCKED, params->operation_id, done, context);
  return LK_OK;
}

static const lk_lock_interface_v1 example_lock_interface = {
    sizeof(lk_lock_interface_v1), 0u,
    example_open,  example_close, example_describe, example_get_lock_state, example_get_door_state,
    example_lock,  example_unlock};

/* ---- The test control interface (optional) ------------------------------ */

/*
 * Lets certification play the physical world: open and close the door, turn
 * the thumb-turn, jam the bolt. A production driver usually leaves it out.
 * The test harness calls it between device calls, never concurrently.
 */
static lk_result example_inject_fault(void *device, lk_device_kind kind, lk_fault fault, int64_t parameter) {
  lk_lock_device *lock = (lk_lock_device *)device;
  (void)parameter;
  if (lock == NULL || kind != LK_DEVICE_KIND_LOCK) return LK_ERR_INVALID_ARGUMENT;
  if (fault != LK_FAULT_LOCK_JAM) return LK_ERR_UNSUPPORTED;
  lock->jammed = 1;
  return LK_OK;
}

static lk_result example_clear_faults(void *device, lk_device_kind kind) {
  lk_lock_device *lock = (lk_lock_device *)device;
  if (lock == NULL || kind != LK_DEVICE_KIND_LOCK) return LK_ERR_INVALID_ARGUMENT;
  lock->jammed = 0;
  return LK_OK;
}

static lk_result example_physical_action(void *device, lk_device_kind kind, lk_physical_action action) {
  lk_lock_device *lock = (lk_lock_device *)device;
  if (lock == NULL || kind != LK_DEVICE_KIND_LOCK) return LK_ERR_INVALID_ARGUMENT;
  switch (action) {
    case LK_ACTION_DOOR_OPEN:
      example_set_door_state(lock, LK_DOOR_STATE_OPEN);
      return LK_OK;
    case LK_ACTION_DOOR_CLOSE:
      example_set_door_state(lock, LK_DOOR_STATE_CLOSED);
      return LK_OK;
    case LK_ACTION_MANUAL_LOCK:
      example_set_lock_state(lock, LK_LOCK_STATE_LOCKED, LK_SOURCE_MANUAL);
      return LK_OK;
    case LK_ACTION_MANUAL_UNLOCK:
      example_set_lock_state(lock, LK_LOCK_STATE_UNLOCKED, LK_SOURCE_MANUAL);
      return LK_OK;
    default:
      return LK_ERR_UNSUPPORTED;   /* receivers tolerate unknown values */
  }
}

static const lk_test_control_interface_v1 example_test_control_interface = {
    sizeof(lk_test_control_interface_v1), 0u, example_inject_fault, example_clear_faults,
    example_physical_action};

/* ---- Negotiation: the one exported symbol -------------------------------- */

static lk_result example_get_interface(const char *name, uint32_t major, const void **table) {
  if (name == NULL || table == NULL) return LK_ERR_INVALID_ARGUMENT;
  *table = NULL;
  if (strcmp(name, LK_LOCK_INTERFACE_NAME) == 0) {
    if (major != LK_LOCK_INTERFACE_MAJOR) return LK_ERR_VERSION;
    *table = &example_lock_interface;
    return LK_OK;
  }
  if (strcmp(name, LK_TEST_CONTROL_INTERFACE_NAME) == 0) {
    if (major != LK_TEST_CONTROL_INTERFACE_MAJOR) return LK_ERR_VERSION;
    *table = &example_test_control_interface;
    return LK_OK;
  }
  return LK_ERR_NOT_FOUND;
}

static const lk_plugin_info example_plugin_info = {
    sizeof(lk_plugin_info),
    LK_ABI_VERSION_1_0,                       /* the only version this driver speaks */
    "Latchkey examples",
    "org.latchkey.example.c_lock",
    "1.0.0",
    "Pretend locks at example://lock/<name>, written in plain C99",
    example_get_interface,
    NULL};                                    /* no shutdown: no threads to stop */

/*
 * The entry point. Chooses ABI 1.0 when the host's range contains it, keeps a
 * copy of the host services and answers with the plugin's identity.
 */
LK_EXPORT lk_result lk_plugin_negotiate(const lk_negotiate_request *request, const lk_plugin_info **info) {
  if (request == NULL || info == NULL || request->struct_size < sizeof(lk_negotiate_request))
    return LK_ERR_INVALID_ARGUMENT;
  *info = NULL;
  if (request->min_abi_version > LK_ABI_VERSION_1_0 || request->max_abi_version < LK_ABI_VERSION_1_0)
    return LK_ERR_VERSION;
  memset(&example_host, 0, sizeof example_host);
  if (request->host != NULL) {
    const uint32_t size = request->host->struct_size;
    memcpy(&example_host, request->host, size < sizeof example_host ? size : sizeof example_host);
  }
  *info = &example_plugin_info;
  return LK_OK;
}
