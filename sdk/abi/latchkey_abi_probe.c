/*
 * The ABI probe: one exported function per type of Latchkey ABI v1, each
 * taking a pointer to it, so that the library's debug info describes every
 * struct, table, function pointer and enum typedef of the public headers.
 * abidw turns it into sdk/abi/latchkey-abi-v1.xml; tests/abi compares a fresh
 * build with that baseline. The functions do nothing and nobody calls them.
 *
 * Adding a type to the headers: add an LK_ABI_PROBE line here, then
 * regenerate the baseline (tools/update-abi-baseline.sh) in the same change.
 */
#include <latchkey/latchkey.h>

#define LK_ABI_PROBE(type) \
  void lk_abi_probe_##type(type *value); \
  void lk_abi_probe_##type(type *value) { (void)value; }

/* lk_base.h */
LK_ABI_PROBE(lk_result)
LK_ABI_PROBE(lk_log_level)
LK_ABI_PROBE(lk_event_kind)
LK_ABI_PROBE(lk_release_fn)
LK_ABI_PROBE(lk_event)
LK_ABI_PROBE(lk_event_sink)

/* lk_host.h */
LK_ABI_PROBE(lk_host_services)

/* lk_plugin.h */
LK_ABI_PROBE(lk_negotiate_request)
LK_ABI_PROBE(lk_get_interface_fn)
LK_ABI_PROBE(lk_plugin_info)
LK_ABI_PROBE(lk_plugin_negotiate_fn)

/* lk_lock.h */
LK_ABI_PROBE(lk_lock_state)
LK_ABI_PROBE(lk_door_state)
LK_ABI_PROBE(lk_alarm_code)
LK_ABI_PROBE(lk_operation_source)
LK_ABI_PROBE(lk_lock_device)
LK_ABI_PROBE(lk_lock_description)
LK_ABI_PROBE(lk_unlock_params)
LK_ABI_PROBE(lk_lock_completion)
LK_ABI_PROBE(lk_lock_completion_fn)
LK_ABI_PROBE(lk_lock_interface_v1)

/* lk_camera.h */
LK_ABI_PROBE(lk_camera_status)
LK_ABI_PROBE(lk_camera_device)
LK_ABI_PROBE(lk_camera_description)
LK_ABI_PROBE(lk_snapshot_info)
LK_ABI_PROBE(lk_camera_interface_v1)

/* lk_authz.h */
LK_ABI_PROBE(lk_authz_provider)
LK_ABI_PROBE(lk_authz_context)
LK_ABI_PROBE(lk_grant_info)
LK_ABI_PROBE(lk_authz_refusal_code)
LK_ABI_PROBE(lk_authz_refusal)
LK_ABI_PROBE(lk_authz_interface_v1)

/* lk_test_control.h */
LK_ABI_PROBE(lk_device_kind)
LK_ABI_PROBE(lk_fault)
LK_ABI_PROBE(lk_physical_action)
LK_ABI_PROBE(lk_test_control_interface_v1)

/*
 * The entry point itself, defined with the header's declaration, so that
 * its exact signature is part of the baseline. It refuses every host.
 */
lk_result lk_plugin_negotiate(const lk_negotiate_request *request, const lk_plugin_info **info) {
  (void)request;
  if (info != NULL) *info = NULL;
  return LK_ERR_UNSUPPORTED;
}

/*
 * The #define constants of the ABI, mirrored as enumerators: abidw records
 * enumerator names and values, so renumbering a released code, state or flag
 * is an ABI difference like any layout change. One enum per vocabulary.
 */
#define LK_ABI_VALUE(name) LK_ABI_PROBE_##name = (name)

enum lk_abi_probe_versions {
  LK_ABI_VALUE(LK_ABI_VERSION_1_0),
  LK_ABI_VALUE(LK_ABI_VERSION_CURRENT),
  LK_ABI_VALUE(LK_LOCK_INTERFACE_MAJOR),
  LK_ABI_VALUE(LK_CAMERA_INTERFACE_MAJOR),
  LK_ABI_VALUE(LK_AUTHZ_INTERFACE_MAJOR),
  LK_ABI_VALUE(LK_TEST_CONTROL_INTERFACE_MAJOR)
};

enum lk_abi_probe_limits {
  LK_ABI_VALUE(LK_IDENTITY_MAX),
  LK_ABI_VALUE(LK_CAMERA_ID_MAX),
  LK_ABI_VALUE(LK_ED25519_PUBLIC_KEY_SIZE),
  LK_ABI_VALUE(LK_NONCE_MAX),
  LK_ABI_VALUE(LK_SESSION_ID_SIZE),
  LK_ABI_VALUE(LK_GRANT_ID_SIZE),
  LK_ABI_VALUE(LK_ID_MAX),
  LK_ABI_VALUE(LK_GRANT_MAX_CAMERAS),
  LK_ABI_VALUE(LK_REASON_MAX),
  LK_ABI_VALUE(LK_LOCK_INTERFACE_V1_MIN_SIZE),
  LK_ABI_VALUE(LK_CAMERA_INTERFACE_V1_MIN_SIZE),
  LK_ABI_VALUE(LK_AUTHZ_INTERFACE_V1_MIN_SIZE),
  LK_ABI_VALUE(LK_TEST_CONTROL_INTERFACE_V1_MIN_SIZE)
};

enum lk_abi_probe_results {
  LK_ABI_VALUE(LK_OK),
  LK_ABI_VALUE(LK_ERR_INVALID_ARGUMENT),
  LK_ABI_VALUE(LK_ERR_UNSUPPORTED),
  LK_ABI_VALUE(LK_ERR_BUFFER_TOO_SMALL),
  LK_ABI_VALUE(LK_ERR_NOT_FOUND),
  LK_ABI_VALUE(LK_ERR_BUSY),
  LK_ABI_VALUE(LK_ERR_IO),
  LK_ABI_VALUE(LK_ERR_TIMEOUT),
  LK_ABI_VALUE(LK_ERR_JAMMED),
  LK_ABI_VALUE(LK_ERR_VERSION),
  LK_ABI_VALUE(LK_ERR_NO_MEMORY),
  LK_ABI_VALUE(LK_ERR_INTERNAL),
  LK_ABI_VALUE(LK_ERR_STATE),
  LK_ABI_VALUE(LK_ERR_DENIED),
  LK_ABI_VALUE(LK_ERR_CLOSED),
  LK_ABI_VALUE(LK_ERR_VENDOR_FIRST),
  LK_ABI_VALUE(LK_ERR_VENDOR_LAST)
};

enum lk_abi_probe_log_levels {
  LK_ABI_VALUE(LK_LOG_DEBUG),
  LK_ABI_VALUE(LK_LOG_INFO),
  LK_ABI_VALUE(LK_LOG_WARNING),
  LK_ABI_VALUE(LK_LOG_ERROR)
};

enum lk_abi_probe_event_kinds {
  LK_ABI_VALUE(LK_EVENT_LOCK_STATE),
  LK_ABI_VALUE(LK_EVENT_DOOR_STATE),
  LK_ABI_VALUE(LK_EVENT_LOCK_ALARM),
  LK_ABI_VALUE(LK_EVENT_ATTESTATION),
  LK_ABI_VALUE(LK_EVENT_CAMERA_STATUS)
};

enum lk_abi_probe_lock_states {
  LK_ABI_VALUE(LK_LOCK_STATE_NOT_FULLY_LOCKED),
  LK_ABI_VALUE(LK_LOCK_STATE_LOCKED),
  LK_ABI_VALUE(LK_LOCK_STATE_UNLOCKED),
  LK_ABI_VALUE(LK_LOCK_STATE_UNLATCHED),
  LK_ABI_VALUE(LK_LOCK_STATE_UNKNOWN)
};

enum lk_abi_probe_door_states {
  LK_ABI_VALUE(LK_DOOR_STATE_OPEN),
  LK_ABI_VALUE(LK_DOOR_STATE_CLOSED),
  LK_ABI_VALUE(LK_DOOR_STATE_JAMMED),
  LK_ABI_VALUE(LK_DOOR_STATE_FORCED_OPEN),
  LK_ABI_VALUE(LK_DOOR_STATE_UNSPECIFIED_ERROR),
  LK_ABI_VALUE(LK_DOOR_STATE_AJAR),
  LK_ABI_VALUE(LK_DOOR_STATE_UNKNOWN)
};

enum lk_abi_probe_alarm_codes {
  LK_ABI_VALUE(LK_ALARM_LOCK_JAMMED),
  LK_ABI_VALUE(LK_ALARM_LOCK_FACTORY_RESET),
  LK_ABI_VALUE(LK_ALARM_LOCK_RADIO_POWER_CYCLED),
  LK_ABI_VALUE(LK_ALARM_WRONG_CODE_ENTRY_LIMIT),
  LK_ABI_VALUE(LK_ALARM_FRONT_ESCUTCHEON_REMOVED),
  LK_ABI_VALUE(LK_ALARM_DOOR_FORCED_OPEN),
  LK_ABI_VALUE(LK_ALARM_DOOR_AJAR),
  LK_ABI_VALUE(LK_ALARM_FORCED_USER)
};

enum lk_abi_probe_operation_sources {
  LK_ABI_VALUE(LK_SOURCE_UNSPECIFIED),
  LK_ABI_VALUE(LK_SOURCE_MANUAL),
  LK_ABI_VALUE(LK_SOURCE_PROPRIETARY_REMOTE),
  LK_ABI_VALUE(LK_SOURCE_KEYPAD),
  LK_ABI_VALUE(LK_SOURCE_AUTO),
  LK_ABI_VALUE(LK_SOURCE_BUTTON),
  LK_ABI_VALUE(LK_SOURCE_SCHEDULE),
  LK_ABI_VALUE(LK_SOURCE_REMOTE)
};

enum lk_abi_probe_capabilities {
  LK_ABI_VALUE(LK_LOCK_CAP_DOOR_SENSOR),
  LK_ABI_VALUE(LK_LOCK_CAP_RELOCK_DEADLINE),
  LK_ABI_VALUE(LK_LOCK_CAP_UNLATCH),
  LK_ABI_VALUE(LK_CAMERA_CAP_SNAPSHOT),
  LK_ABI_VALUE(LK_CAMERA_CAP_RECORDING)
};

enum lk_abi_probe_camera_values {
  LK_ABI_VALUE(LK_CAMERA_STATUS_ONLINE),
  LK_ABI_VALUE(LK_CAMERA_STATUS_OFFLINE),
  LK_ABI_VALUE(LK_CAMERA_STATUS_RECORDING_STARTED),
  LK_ABI_VALUE(LK_CAMERA_STATUS_RECORDING_STOPPED),
  LK_ABI_VALUE(LK_SNAPSHOT_FORMAT_JPEG),
  LK_ABI_VALUE(LK_SNAPSHOT_FORMAT_PPM)
};

enum lk_abi_probe_refusal_codes {
  LK_ABI_VALUE(LK_REFUSAL_NONE),
  LK_ABI_VALUE(LK_REFUSAL_MALFORMED),
  LK_ABI_VALUE(LK_REFUSAL_UNKNOWN_ISSUER),
  LK_ABI_VALUE(LK_REFUSAL_BAD_SIGNATURE),
  LK_ABI_VALUE(LK_REFUSAL_NOT_YET_VALID),
  LK_ABI_VALUE(LK_REFUSAL_EXPIRED),
  LK_ABI_VALUE(LK_REFUSAL_WRONG_HUB),
  LK_ABI_VALUE(LK_REFUSAL_WRONG_DOOR),
  LK_ABI_VALUE(LK_REFUSAL_LIFETIME),
  LK_ABI_VALUE(LK_REFUSAL_REVOKED),
  LK_ABI_VALUE(LK_REFUSAL_OTHER)
};

enum lk_abi_probe_test_control_values {
  LK_ABI_VALUE(LK_DEVICE_KIND_LOCK),
  LK_ABI_VALUE(LK_DEVICE_KIND_CAMERA),
  LK_ABI_VALUE(LK_FAULT_LOCK_JAM),
  LK_ABI_VALUE(LK_FAULT_LOCK_LIE_STATE),
  LK_ABI_VALUE(LK_FAULT_LOCK_UNRESPONSIVE),
  LK_ABI_VALUE(LK_FAULT_LOCK_LATE_COMPLETION),
  LK_ABI_VALUE(LK_FAULT_LOCK_NO_COMPLETION),
  LK_ABI_VALUE(LK_FAULT_CAMERA_FREEZE),
  LK_ABI_VALUE(LK_FAULT_CAMERA_OFFLINE),
  LK_ABI_VALUE(LK_FAULT_CAMERA_REPLAY),
  LK_ABI_VALUE(LK_FAULT_CAMERA_IGNORE_NONCE),
  LK_ABI_VALUE(LK_FAULT_CAMERA_REPEAT_COUNTER),
  LK_ABI_VALUE(LK_FAULT_CAMERA_WRONG_KEY),
  LK_ABI_VALUE(LK_FAULT_CAMERA_CLOCK_JUMP),
  LK_ABI_VALUE(LK_ACTION_DOOR_OPEN),
  LK_ABI_VALUE(LK_ACTION_DOOR_CLOSE),
  LK_ABI_VALUE(LK_ACTION_MANUAL_LOCK),
  LK_ABI_VALUE(LK_ACTION_MANUAL_UNLOCK)
};

/* One function that names every constants enum, so abidw keeps them all. */
struct lk_abi_probe_constants {
  enum lk_abi_probe_versions versions;
  enum lk_abi_probe_limits limits;
  enum lk_abi_probe_results results;
  enum lk_abi_probe_log_levels log_levels;
  enum lk_abi_probe_event_kinds event_kinds;
  enum lk_abi_probe_lock_states lock_states;
  enum lk_abi_probe_door_states door_states;
  enum lk_abi_probe_alarm_codes alarm_codes;
  enum lk_abi_probe_operation_sources operation_sources;
  enum lk_abi_probe_capabilities capabilities;
  enum lk_abi_probe_camera_values camera_values;
  enum lk_abi_probe_refusal_codes refusal_codes;
  enum lk_abi_probe_test_control_values test_control_values;
};

void lk_abi_probe_constants(struct lk_abi_probe_constants *value);
void lk_abi_probe_constants(struct lk_abi_probe_constants *value) { (void)value; }
