/*
 * Latchkey ABI v1 - the optional test control interface
 * "latchkey.test_control", major 1.
 *
 * Simulated and bench devices offer it so that certification can inject
 * faults and play the physical world (open the door, turn the key). A
 * production driver need not offer it; the host never uses it outside tests.
 * Released in ABI 1.0.
 */
#ifndef LATCHKEY_LK_TEST_CONTROL_H
#define LATCHKEY_LK_TEST_CONTROL_H

#include "lk_base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LK_TEST_CONTROL_INTERFACE_NAME "latchkey.test_control"
#define LK_TEST_CONTROL_INTERFACE_MAJOR 1u

/* Which kind of handle a test control call addresses. */
typedef uint32_t lk_device_kind;
#define LK_DEVICE_KIND_LOCK 1u      /* handle is an lk_lock_device* */
#define LK_DEVICE_KIND_CAMERA 2u    /* handle is an lk_camera_device* */

/* Faults. parameter is described per fault; 0 where unused. */
typedef uint32_t lk_fault;
#define LK_FAULT_LOCK_JAM 0x101u              /* the bolt stops moving; operations complete LK_ERR_JAMMED */
#define LK_FAULT_LOCK_LIE_STATE 0x102u        /* reports parameter (an lk_lock_state) whatever the bolt does */
#define LK_FAULT_LOCK_UNRESPONSIVE 0x103u     /* every lock call but close fails LK_ERR_TIMEOUT after parameter ms (capped at 100) */
#define LK_FAULT_LOCK_LATE_COMPLETION 0x104u  /* completions fire parameter ms late */
#define LK_FAULT_LOCK_NO_COMPLETION 0x105u    /* operations start but hold; clearing faults resumes them, close fires LK_ERR_CLOSED */
#define LK_FAULT_CAMERA_FREEZE 0x201u         /* the frame digest stops changing */
#define LK_FAULT_CAMERA_OFFLINE 0x202u        /* no attestations at all */
#define LK_FAULT_CAMERA_REPLAY 0x203u         /* resends earlier attestations instead of new ones */
#define LK_FAULT_CAMERA_IGNORE_NONCE 0x204u   /* keeps echoing the first nonce it got */
#define LK_FAULT_CAMERA_REPEAT_COUNTER 0x205u /* the counter stops increasing */
#define LK_FAULT_CAMERA_WRONG_KEY 0x206u      /* signs with a key other than the described one */
#define LK_FAULT_CAMERA_CLOCK_JUMP 0x207u     /* capture time jumps by parameter ms (may be negative) */
#define LK_FAULT_CAMERA_COVERED 0x208u        /* the lens is covered: the scene measurements (C8) say dark, flat, unlike the reference */

/* Physical actions a simulated device plays. */
typedef uint32_t lk_physical_action;
#define LK_ACTION_DOOR_OPEN 1u
#define LK_ACTION_DOOR_CLOSE 2u
#define LK_ACTION_MANUAL_LOCK 3u      /* someone turns the thumb-turn to locked */
#define LK_ACTION_MANUAL_UNLOCK 4u

typedef struct lk_test_control_interface_v1 {
  uint32_t struct_size;
  uint32_t reserved;
  /* Injects a fault into an open device. LK_ERR_UNSUPPORTED for faults it cannot play. */
  lk_result (*inject_fault)(void *device, lk_device_kind kind, lk_fault fault, int64_t parameter);
  /* Clears every injected fault; the device behaves normally again. */
  lk_result (*clear_faults)(void *device, lk_device_kind kind);
  /* Plays a physical action. LK_ERR_UNSUPPORTED for actions it cannot play. */
  lk_result (*physical_action)(void *device, lk_device_kind kind, lk_physical_action action);
} lk_test_control_interface_v1;

#define LK_TEST_CONTROL_INTERFACE_V1_MIN_SIZE sizeof(lk_test_control_interface_v1)

LK_STATIC_ASSERT(sizeof(lk_test_control_interface_v1) == 8 + 3 * sizeof(void *), lk_test_control_interface_size);

#ifdef __cplusplus
}
#endif

#endif /* LATCHKEY_LK_TEST_CONTROL_H */
