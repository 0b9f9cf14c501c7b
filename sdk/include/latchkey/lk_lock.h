/*
 * Latchkey ABI v1 - the lock interface "latchkey.lock", major 1.
 *
 * A lock device is a bolt and, where fitted, a door-position sensor. The
 * vocabulary follows the Matter Door Lock cluster (LockState, DoorState,
 * AlarmCode, OperationSource) with an added Unknown. Released in ABI 1.0.
 */
#ifndef LATCHKEY_LK_LOCK_H
#define LATCHKEY_LK_LOCK_H

#include "lk_base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LK_LOCK_INTERFACE_NAME "latchkey.lock"
#define LK_LOCK_INTERFACE_MAJOR 1u

/* Matter DlLockState values, plus Unknown. */
typedef uint32_t lk_lock_state;
#define LK_LOCK_STATE_NOT_FULLY_LOCKED 0u
#define LK_LOCK_STATE_LOCKED 1u
#define LK_LOCK_STATE_UNLOCKED 2u
#define LK_LOCK_STATE_UNLATCHED 3u
#define LK_LOCK_STATE_UNKNOWN 0xFFu

/* Matter DoorStateEnum values, plus Unknown. */
typedef uint32_t lk_door_state;
#define LK_DOOR_STATE_OPEN 0u
#define LK_DOOR_STATE_CLOSED 1u
#define LK_DOOR_STATE_JAMMED 2u
#define LK_DOOR_STATE_FORCED_OPEN 3u
#define LK_DOOR_STATE_UNSPECIFIED_ERROR 4u
#define LK_DOOR_STATE_AJAR 5u
#define LK_DOOR_STATE_UNKNOWN 0xFFu

/* Matter AlarmCodeEnum values. */
typedef uint32_t lk_alarm_code;
#define LK_ALARM_LOCK_JAMMED 0u
#define LK_ALARM_LOCK_FACTORY_RESET 1u
#define LK_ALARM_LOCK_RADIO_POWER_CYCLED 3u
#define LK_ALARM_WRONG_CODE_ENTRY_LIMIT 4u
#define LK_ALARM_FRONT_ESCUTCHEON_REMOVED 5u
#define LK_ALARM_DOOR_FORCED_OPEN 6u
#define LK_ALARM_DOOR_AJAR 7u
#define LK_ALARM_FORCED_USER 8u

/* Matter OperationSourceEnum values (event detail of LK_EVENT_LOCK_STATE). */
typedef uint32_t lk_operation_source;
#define LK_SOURCE_UNSPECIFIED 0u
#define LK_SOURCE_MANUAL 1u
#define LK_SOURCE_PROPRIETARY_REMOTE 2u
#define LK_SOURCE_KEYPAD 3u
#define LK_SOURCE_AUTO 4u
#define LK_SOURCE_BUTTON 5u
#define LK_SOURCE_SCHEDULE 6u
#define LK_SOURCE_REMOTE 7u

typedef struct lk_lock_device lk_lock_device;   /* opaque, owned by the plugin */

/* Capability flags of lk_lock_description.flags. */
#define LK_LOCK_CAP_DOOR_SENSOR 0x1u        /* reports door position */
#define LK_LOCK_CAP_RELOCK_DEADLINE 0x2u    /* enforces lk_unlock_params.relock_deadline_ms itself (U4) */
#define LK_LOCK_CAP_UNLATCH 0x4u            /* can pull the latch as well as the bolt */

typedef struct lk_lock_description {
  uint32_t struct_size;                /* set by the host to the size it knows */
  uint32_t flags;                      /* LK_LOCK_CAP_* */
  uint32_t max_actuation_ms;           /* longest lock or unlock the device takes */
  uint32_t max_relock_deadline_ms;     /* longest relock deadline it accepts, 0 if none */
} lk_lock_description;

typedef struct lk_unlock_params {
  uint32_t struct_size;
  uint32_t relock_deadline_ms;         /* the lock relocks by itself this long after unlocking (U4); 0: none */
  uint64_t operation_id;               /* echoed in the completion */
  uint32_t unlatch;                    /* non-zero: also pull the latch (needs LK_LOCK_CAP_UNLATCH) */
  uint32_t reserved;                   /* zero */
} lk_unlock_params;

typedef struct lk_lock_completion {
  uint32_t struct_size;
  lk_result result;                    /* LK_OK, LK_ERR_JAMMED, LK_ERR_TIMEOUT, ... */
  uint64_t operation_id;
  lk_lock_state lock_state;            /* the state the device reports after the operation */
  uint32_t reserved;
} lk_lock_completion;

/*
 * Completion of an asynchronous lock or unlock. Fires exactly once for every
 * start call that returned LK_OK, from any plugin thread (possibly before the
 * start call returns), and never when the start call failed. [host imp] It
 * never calls back into the plugin; the host queues the result instead.
 */
typedef void (*lk_lock_completion_fn)(void *context, const lk_lock_completion *completion);

/*
 * Calls on one device handle are serialised by the host. Unless stated, every
 * function returns within 100 ms; lock and unlock only start the operation.
 */
typedef struct lk_lock_interface_v1 {
  uint32_t struct_size;
  uint32_t reserved;
  /* Opens the device at device_uri (borrowed). sink is copied. */
  lk_result (*open)(const char *device_uri, const lk_event_sink *sink, lk_lock_device **device);
  /* Closes the device. Pending completions fire (LK_ERR_CLOSED) before it
   * returns; no event or completion follows it. */
  void (*close)(lk_lock_device *device);
  /* Fills *description; the host sets description->struct_size first. */
  lk_result (*describe)(lk_lock_device *device, lk_lock_description *description);
  /* Current bolt state; LK_LOCK_STATE_UNKNOWN when the device cannot tell. */
  lk_result (*get_lock_state)(lk_lock_device *device, lk_lock_state *state);
  /* Current door state; LK_DOOR_STATE_UNKNOWN without a sensor. */
  lk_result (*get_door_state)(lk_lock_device *device, lk_door_state *state);
  /* Starts throwing the bolt. Locking a locked door completes with LK_OK. */
  lk_result (*lock)(lk_lock_device *device, uint64_t operation_id, lk_lock_completion_fn done, void *context);
  /* Starts retracting the bolt with a relock deadline (U4). params borrowed. */
  lk_result (*unlock)(lk_lock_device *device, const lk_unlock_params *params, lk_lock_completion_fn done,
                      void *context);
} lk_lock_interface_v1;

/* The smallest table a host accepts for lock major 1. */
#define LK_LOCK_INTERFACE_V1_MIN_SIZE sizeof(lk_lock_interface_v1)

LK_STATIC_ASSERT(sizeof(lk_lock_description) == 16, lk_lock_description_size);
LK_STATIC_ASSERT(sizeof(lk_unlock_params) == 24, lk_unlock_params_size);
LK_STATIC_ASSERT(offsetof(lk_unlock_params, operation_id) == 8, lk_unlock_params_operation_offset);
LK_STATIC_ASSERT(sizeof(lk_lock_completion) == 24, lk_lock_completion_size);
LK_STATIC_ASSERT(offsetof(lk_lock_interface_v1, open) == 8, lk_lock_interface_open_offset);
LK_STATIC_ASSERT(sizeof(lk_lock_interface_v1) == 8 + 7 * sizeof(void *), lk_lock_interface_size);

#ifdef __cplusplus
}
#endif

#endif /* LATCHKEY_LK_LOCK_H */
