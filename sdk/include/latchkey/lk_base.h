/*
 * Latchkey ABI v1 - base types, result codes, versions and events.
 *
 * Every public header of the Latchkey binary interface is plain C99 with
 * fixed-width types. It compiles alone as C99 and as C++11 and later.
 * Released in ABI 1.0 unless a declaration says otherwise.
 */
#ifndef LATCHKEY_LK_BASE_H
#define LATCHKEY_LK_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Symbol visibility ------------------------------------------------- */

/* Marks the one symbol a plugin exports (lk_plugin_negotiate). */
#if defined(_WIN32)
#define LK_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define LK_EXPORT __attribute__((visibility("default")))
#else
#define LK_EXPORT
#endif

/* ---- Compile-time layout checks ---------------------------------------- */

/* C99 has no _Static_assert; a negative array size stops the build instead. */
#if defined(__cplusplus)
#define LK_STATIC_ASSERT(cond, name) static_assert(cond, #name)
#else
#define LK_STATIC_ASSERT(cond, name) typedef char lk__static_assert_##name[(cond) ? 1 : -1]
#endif

/* ---- Versions ----------------------------------------------------------- */

/* A conversion to uint32_t that is a C cast in C and a static_cast in C++, so
 * the macros below stay clean under -Wold-style-cast. */
#if defined(__cplusplus)
#define LK__U32(x) static_cast<uint32_t>(x)
#else
#define LK__U32(x) ((uint32_t)(x))
#endif

/* A version packs a major (high 16 bits) and a minor (low 16 bits). */
#define LK_MAKE_VERSION(major, minor) ((LK__U32(major) << 16) | (LK__U32(minor) & 0xFFFFu))
#define LK_VERSION_MAJOR(version) (LK__U32(version) >> 16)
#define LK_VERSION_MINOR(version) (LK__U32(version) & 0xFFFFu)

/* The ABI version these headers describe. */
#define LK_ABI_VERSION_1_0 LK_MAKE_VERSION(1, 0)
#define LK_ABI_VERSION_CURRENT LK_ABI_VERSION_1_0

/* ---- Results ------------------------------------------------------------ */

/*
 * Every fallible function returns an lk_result: 0 is success, errors are
 * negative. Codes are never renumbered; new ones are only appended.
 * Vendors may use [LK_ERR_VENDOR_LAST, LK_ERR_VENDOR_FIRST] for their own
 * codes; the host treats any such code as a generic failure.
 */
typedef int32_t lk_result;

#define LK_OK 0
#define LK_ERR_INVALID_ARGUMENT (-1)   /* NULL pointer, bad size, unknown enum value */
#define LK_ERR_UNSUPPORTED (-2)        /* capability not offered by this driver */
#define LK_ERR_BUFFER_TOO_SMALL (-3)   /* caller buffer short; required size returned */
#define LK_ERR_NOT_FOUND (-4)          /* unknown device URI, interface or key */
#define LK_ERR_BUSY (-5)               /* an operation is already in progress */
#define LK_ERR_IO (-6)                 /* the device could not be reached */
#define LK_ERR_TIMEOUT (-7)            /* the device did not answer in time */
#define LK_ERR_JAMMED (-8)             /* the bolt could not move */
#define LK_ERR_VERSION (-9)            /* no common ABI or interface version */
#define LK_ERR_NO_MEMORY (-10)         /* allocation failed */
#define LK_ERR_INTERNAL (-11)          /* driver bug, e.g. an exception caught at the boundary */
#define LK_ERR_STATE (-12)             /* call not valid in the current state */
#define LK_ERR_DENIED (-13)            /* authorization refused the credential */
#define LK_ERR_CLOSED (-14)            /* device closed or shutting down */
#define LK_ERR_VENDOR_FIRST (-1000)
#define LK_ERR_VENDOR_LAST (-1999)

/* ---- Log levels (host services) ----------------------------------------- */

typedef uint32_t lk_log_level;
#define LK_LOG_DEBUG 0u
#define LK_LOG_INFO 1u
#define LK_LOG_WARNING 2u
#define LK_LOG_ERROR 3u

/* ---- Events ------------------------------------------------------------- */

/*
 * Events flow from a device to the host through the lk_event_sink the host
 * gave when it opened the device. Receivers tolerate unknown kinds and values.
 */
typedef uint32_t lk_event_kind;
#define LK_EVENT_LOCK_STATE 1u      /* value: lk_lock_state; detail: lk_operation_source */
#define LK_EVENT_DOOR_STATE 2u      /* value: lk_door_state */
#define LK_EVENT_LOCK_ALARM 3u      /* value: lk_alarm_code */
#define LK_EVENT_ATTESTATION 4u     /* data: a SignedAttestation (sdk/proto), lent */
#define LK_EVENT_CAMERA_STATUS 5u   /* value: lk_camera_status */

/*
 * Releases data lent with an event. The host calls it exactly once for each
 * event whose release is non-NULL, from any thread: possibly inside on_event
 * (so a plugin must not hold, across on_event, a lock its release takes),
 * possibly after on_event returned and after the device was closed, but
 * always before the library is unloaded.
 */
typedef void (*lk_release_fn)(void *release_context, const uint8_t *data);

typedef struct lk_event {
  uint32_t struct_size;        /* sizeof(lk_event) as the plugin knows it */
  lk_event_kind kind;
  uint64_t device_time_ns;     /* the device's monotonic time of the event */
  uint32_t value;              /* state, alarm or status code, per kind */
  uint32_t detail;             /* secondary code, per kind (0 when none) */
  const uint8_t *data;         /* lent bytes, per kind (NULL when none) */
  size_t data_size;
  lk_release_fn release;       /* NULL: data is valid only during on_event */
  void *release_context;
} lk_event;

/*
 * Where a device delivers its events. [host imp] on_event may be called from
 * any plugin thread, including from inside a call into the plugin; it never
 * blocks and never calls back into the plugin. The plugin stops calling it
 * before close() returns.
 */
typedef struct lk_event_sink {
  uint32_t struct_size;
  void *context;
  void (*on_event)(void *context, const lk_event *event);
} lk_event_sink;

LK_STATIC_ASSERT(sizeof(lk_event_sink) == 3 * sizeof(void *), lk_event_sink_size);
LK_STATIC_ASSERT(offsetof(lk_event, device_time_ns) == 8, lk_event_time_offset);
LK_STATIC_ASSERT(offsetof(lk_event, data) == 24, lk_event_data_offset);
LK_STATIC_ASSERT(offsetof(lk_event, release) == 24 + 2 * sizeof(void *), lk_event_release_offset);

#ifdef __cplusplus
}
#endif

#endif /* LATCHKEY_LK_BASE_H */
