/*
 * What the test plugins in this folder do on request, shared by the plugins
 * and the tests that drive them through the ABI only.
 */
#ifndef LATCHKEY_TESTS_TEST_PLUGIN_PROTOCOL_H
#define LATCHKEY_TESTS_TEST_PLUGIN_PROTOCOL_H

#include <stdint.h>

/* Flags in a lock operation_id. Without them an operation completes LK_OK
 * synchronously, inside lock()/unlock(). */
#define LKT_OP_DEFER (UINT64_C(1) << 62)  /* stays pending until close (LK_ERR_CLOSED) */
#define LKT_OP_THREAD (UINT64_C(1) << 61) /* completes on a plugin thread about 2 ms later */

/* First nonce byte asking for an attestation event that borrows its data
 * (release NULL, valid during on_event only) instead of lending it. */
#define LKT_NONCE_BORROWED 0xBBu

/* Log lines (host services) the tests look for. */
#define LKT_LOG_RELEASED "lkt: released lent bytes"
#define LKT_LOG_OVERLAP "lkt: overlapping calls on one device"
#define LKT_LOG_SHUTDOWN "lkt: shutdown"

#define LKT_SNAPSHOT_SIZE 1000u
#define LKT_AUTHZ_CONFIG_OK "ok"
#define LKT_CREDENTIAL_GOOD "good"
#define LKT_VENDOR "Latchkey Tests"
#define LKT_DRIVER_ID "org.latchkey.test"
#define LKT_DRIVER_VERSION "1.0.0"

#endif /* LATCHKEY_TESTS_TEST_PLUGIN_PROTOCOL_H */
