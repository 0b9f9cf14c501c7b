/*
 * latchkey_broker_guard: a Mosquitto 2.0 plugin that makes the hub's broker
 * refuse, and tell the hub about, the messages on a camera's topics that the
 * camera link forbids (docs/camera-link.md, "Refused messages").
 *
 * Mosquitto's ACL file refuses a camera's publish on another camera's topic
 * silently: the message is dropped and only the broker's debug log says so.
 * Nobody on the hub would ever learn that a camera, or whoever holds its
 * password, tried to speak for another one. This plugin runs before the ACL
 * file (its ACL callback is registered first) and for a publish:
 *
 *   - by a camera on another camera's topic, or on a hub-only topic of its
 *     own (nonce, command), or by the hub on a camera's topic (hello, state,
 *     attestation): refuses it as FOREIGN;
 *   - of a payload larger than the topic's limit (attestation 1024 bytes,
 *     hello 512, state 16, reference 1024, nonce 32, command 64): refuses it
 *     as OVERSIZED;
 *   - by anyone on latchkey/broker/...: refuses it (only this plugin speaks
 *     there);
 *
 * and, for the first two, publishes a report on
 * latchkey/broker/refused/<camera id>, the camera whose topic it was:
 *
 *   "<kind> <count> <reason>"     e.g. "foreign 1 user 'garden' published 120
 *                                  bytes on latchkey/camera/porch/attestation"
 *
 * kind is "foreign" or "oversized", count the refusals the report stands for
 * (at most one report per camera and kind per second: a flood costs the hub
 * one audit record a second, the rest are counted), reason printable ASCII.
 * Everything else is left to the ACL file (MOSQ_ERR_PLUGIN_DEFER).
 *
 * Options (plugin_opt_...): hub_user, the hub's user name (default "hub").
 *
 * Threading: Mosquitto 2.0 calls plugins from its one main thread only.
 * per_listener_settings must stay false: Mosquitto 2.0.11 does not call the
 * tick of plugins configured per listener, so held counts would wait for
 * the next refusal.
 */
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GUARD_CAMERA_PREFIX "latchkey/camera/"
#define GUARD_BROKER_PREFIX "latchkey/broker/"
#define GUARD_REPORT_PREFIX "latchkey/broker/refused/"
#define GUARD_ID_MAX 63u          /* a camera id: 1 to 63 characters */
#define GUARD_REASON_MAX 200u     /* bytes of a report's reason */
#define GUARD_REPORT_GAP_NS 1000000000LL
#define GUARD_SLOTS 1024u         /* camera topics (and kinds) tracked for pacing */

enum guard_kind { GUARD_FOREIGN = 0, GUARD_OVERSIZED = 1 };
static const char *const kKindNames[] = {"foreign", "oversized"};

/* Pacing of reports for one camera topic and kind. */
struct guard_slot {
  bool used;
  enum guard_kind kind;
  char camera[GUARD_ID_MAX + 1];
  int64_t last_report_ns;        /* when the last report went out */
  uint64_t pending;              /* refusals since then, not yet reported */
  char pending_reason[GUARD_REASON_MAX + 1];
};

struct guard {
  mosquitto_plugin_id_t *id;
  char hub_user[GUARD_ID_MAX + 1];
  struct guard_slot slots[GUARD_SLOTS];
};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Copies at most max-1 characters of text, each outside printable ASCII as '?'. */
static void printable_copy(char *out, size_t max, const char *text) {
  size_t n = 0;
  if (text != NULL) {
    for (; text[n] != '\0' && n + 1 < max; ++n) {
      const unsigned char c = (unsigned char)text[n];
      out[n] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
  }
  out[n] = '\0';
}

/* A camera id as camera-link.md allows it. */
static bool valid_camera_id(const char *id, size_t size) {
  if (size == 0 || size > GUARD_ID_MAX) return false;
  for (size_t i = 0; i < size; ++i) {
    const char c = id[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

struct topic_limit {
  const char *leaf;
  uint32_t max_bytes;
  bool from_hub;                 /* only the hub publishes it */
};

static const struct topic_limit kLimits[] = {
    {"attestation", 1024u, false}, {"hello", 512u, false}, {"state", 16u, false}, {"reference", 1024u, false},
    {"nonce", 32u, true},          {"command", 64u, true},
};

static const struct topic_limit *limit_of(const char *leaf) {
  for (size_t i = 0; i < sizeof kLimits / sizeof kLimits[0]; ++i)
    if (strcmp(kLimits[i].leaf, leaf) == 0) return &kLimits[i];
  return NULL;
}

static void publish_report(const struct guard_slot *slot, uint64_t count, const char *reason) {
  char topic[sizeof GUARD_REPORT_PREFIX + GUARD_ID_MAX];
  char payload[32 + GUARD_REASON_MAX];
  snprintf(topic, sizeof topic, "%s%s", GUARD_REPORT_PREFIX, slot->camera);
  const int n = snprintf(payload, sizeof payload, "%s %llu %s", kKindNames[slot->kind], (unsigned long long)count,
                         reason);
  if (n <= 0) return;
  const int size = n < (int)sizeof payload ? n : (int)sizeof payload - 1;
  const int rc = mosquitto_broker_publish_copy(NULL, topic, size, payload, 1, false, NULL);
  if (rc != MOSQ_ERR_SUCCESS)
    mosquitto_log_printf(MOSQ_LOG_WARNING, "latchkey_broker_guard: could not report a refusal on %s: %s", topic,
                         mosquitto_strerror(rc));
}

/* Reports what a slot holds, and says so in the broker's log (as paced as the reports). */
static void flush_slot(struct guard_slot *s, int64_t now) {
  mosquitto_log_printf(MOSQ_LOG_NOTICE, "latchkey_broker_guard: refused %llu (%s), the latest: %s",
                       (unsigned long long)s->pending, kKindNames[s->kind], s->pending_reason);
  publish_report(s, s->pending, s->pending_reason);
  s->pending = 0;
  s->last_report_ns = now;
}

/* The slot of a camera topic and kind: its own, else an unused one, else
 * the one reported longest ago, whose held count is reported first (so no
 * refusal goes uncounted). With GUARD_SLOTS slots, someone inventing camera
 * ids must refuse over a thousand other topics to win one early report on a
 * real camera's; the hub's plugin and engine pace again. */
static struct guard_slot *slot_for(struct guard *g, const char *camera, enum guard_kind kind) {
  struct guard_slot *free_slot = NULL, *oldest = NULL;
  for (unsigned i = 0; i < GUARD_SLOTS; ++i) {
    struct guard_slot *s = &g->slots[i];
    if (!s->used) {
      if (free_slot == NULL) free_slot = s;
      continue;
    }
    if (s->kind == kind && strcmp(s->camera, camera) == 0) return s;
    if (oldest == NULL || s->last_report_ns < oldest->last_report_ns) oldest = s;
  }
  if (free_slot == NULL) {
    free_slot = oldest;
    if (free_slot->pending > 0) flush_slot(free_slot, now_ns());
  }
  memset(free_slot, 0, sizeof *free_slot);
  free_slot->used = true;
  free_slot->kind = kind;
  printable_copy(free_slot->camera, sizeof free_slot->camera, camera);
  free_slot->last_report_ns = INT64_MIN / 2;
  return free_slot;
}

static void refuse(struct guard *g, const char *camera, enum guard_kind kind, const char *reason) {
  struct guard_slot *s = slot_for(g, camera, kind);
  const int64_t now = now_ns();
  s->pending += 1;
  printable_copy(s->pending_reason, sizeof s->pending_reason, reason);
  if (now - s->last_report_ns < GUARD_REPORT_GAP_NS) return;
  flush_slot(s, now);
}


/* A refusal reason, cut at the buffer's end: the topic and user name are
 * bounded but may together exceed GUARD_REASON_MAX, and a cut reason is
 * still the right refusal. */
__attribute__((format(printf, 3, 4)))
static void format_reason(char* out, size_t size, const char* format, ...) {
  va_list args;
  va_start(args, format);
  (void)vsnprintf(out, size, format, args);
  va_end(args);
}
static int on_acl_check(int event, void *event_data, void *userdata) {
  (void)event;
  struct guard *g = userdata;
  const struct mosquitto_evt_acl_check *ed = event_data;
  if (ed->access != MOSQ_ACL_WRITE || ed->topic == NULL) return MOSQ_ERR_PLUGIN_DEFER;
  const char *topic = ed->topic;
  if (strncmp(topic, GUARD_BROKER_PREFIX, strlen(GUARD_BROKER_PREFIX)) == 0) return MOSQ_ERR_ACL_DENIED;
  if (strncmp(topic, GUARD_CAMERA_PREFIX, strlen(GUARD_CAMERA_PREFIX)) != 0) return MOSQ_ERR_PLUGIN_DEFER;

  const char *id = topic + strlen(GUARD_CAMERA_PREFIX);
  const char *slash = strchr(id, '/');
  if (slash == NULL || !valid_camera_id(id, (size_t)(slash - id))) return MOSQ_ERR_PLUGIN_DEFER;
  const char *leaf = slash + 1;
  const struct topic_limit *limit = limit_of(leaf);
  if (limit == NULL) return MOSQ_ERR_PLUGIN_DEFER;  /* no such topic: the ACL refuses it */

  char camera[GUARD_ID_MAX + 1];
  memcpy(camera, id, (size_t)(slash - id));
  camera[slash - id] = '\0';
  const char *user = mosquitto_client_username(ed->client);
  char who[GUARD_ID_MAX + 1];
  printable_copy(who, sizeof who, user != NULL ? user : "(anonymous)");
  const bool is_hub = user != NULL && strcmp(user, g->hub_user) == 0;
  char reason[GUARD_REASON_MAX + 1];

  const bool foreign = is_hub ? !limit->from_hub : (user == NULL || strcmp(user, camera) != 0 || limit->from_hub);
  if (foreign) {
    format_reason(reason, sizeof reason, "user '%s' published %lu bytes on %s%s/%s", who, (unsigned long)ed->payloadlen,
             GUARD_CAMERA_PREFIX, camera, leaf);
    refuse(g, camera, GUARD_FOREIGN, reason);
    return MOSQ_ERR_ACL_DENIED;
  }
  if (ed->payloadlen > limit->max_bytes) {
    format_reason(reason, sizeof reason, "user '%s' published %lu bytes on %s%s/%s (at most %lu)", who,
             (unsigned long)ed->payloadlen, GUARD_CAMERA_PREFIX, camera, leaf, (unsigned long)limit->max_bytes);
    refuse(g, camera, GUARD_OVERSIZED, reason);
    return MOSQ_ERR_ACL_DENIED;
  }
  return MOSQ_ERR_PLUGIN_DEFER;
}

/* Reports refusals a pacing gap held back, once the gap has passed. */
static int on_tick(int event, void *event_data, void *userdata) {
  (void)event;
  (void)event_data;
  struct guard *g = userdata;
  const int64_t now = now_ns();
  for (unsigned i = 0; i < GUARD_SLOTS; ++i) {
    struct guard_slot *s = &g->slots[i];
    if (!s->used || s->pending == 0 || now - s->last_report_ns < GUARD_REPORT_GAP_NS) continue;
    flush_slot(s, now);
  }
  return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions) {
  for (int i = 0; i < supported_version_count; ++i)
    if (supported_versions[i] == 5) return 5;
  return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options,
                          int option_count) {
  struct guard *g = calloc(1, sizeof *g);
  if (g == NULL) return MOSQ_ERR_NOMEM;
  g->id = identifier;
  snprintf(g->hub_user, sizeof g->hub_user, "%s", "hub");
  for (int i = 0; i < option_count; ++i) {
    if (strcmp(options[i].key, "hub_user") == 0) {
      if (options[i].value == NULL || !valid_camera_id(options[i].value, strlen(options[i].value))) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "latchkey_broker_guard: plugin_opt_hub_user must be 1 to 63 of A-Z a-z 0-9 . _ -");
        free(g);
        return MOSQ_ERR_INVAL;
      }
      snprintf(g->hub_user, sizeof g->hub_user, "%s", options[i].value);
    } else {
      mosquitto_log_printf(MOSQ_LOG_ERR, "latchkey_broker_guard: unknown option plugin_opt_%s", options[i].key);
      free(g);
      return MOSQ_ERR_INVAL;
    }
  }
  int rc = mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, g);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL, g);
  if (rc != MOSQ_ERR_SUCCESS) {
    mosquitto_callback_unregister(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
    free(g);
    return rc;
  }
  *userdata = g;
  mosquitto_log_printf(MOSQ_LOG_INFO, "latchkey_broker_guard: reporting refused camera messages to user '%s'",
                       g->hub_user);
  return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count) {
  (void)options;
  (void)option_count;
  struct guard *g = userdata;
  if (g != NULL) {
    mosquitto_callback_unregister(g->id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
    mosquitto_callback_unregister(g->id, MOSQ_EVT_TICK, on_tick, NULL);
    free(g);
  }
  return MOSQ_ERR_SUCCESS;
}
