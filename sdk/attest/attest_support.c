/* Result names, messages, libsodium start-up, guarded secret copies, time. */
#define _POSIX_C_SOURCE 200809L
#include "attest_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

const char *lk_attest_result_name(lk_attest_result result) {
  switch (result) {
    case LK_ATTEST_OK: return "LK_ATTEST_OK";
    case LK_ATTEST_ERR_INVALID_ARGUMENT: return "LK_ATTEST_ERR_INVALID_ARGUMENT";
    case LK_ATTEST_ERR_BUFFER_TOO_SMALL: return "LK_ATTEST_ERR_BUFFER_TOO_SMALL";
    case LK_ATTEST_ERR_NO_MEMORY: return "LK_ATTEST_ERR_NO_MEMORY";
    case LK_ATTEST_ERR_CRYPTO: return "LK_ATTEST_ERR_CRYPTO";
    case LK_ATTEST_ERR_IO: return "LK_ATTEST_ERR_IO";
    case LK_ATTEST_ERR_KEY_NOT_FOUND: return "LK_ATTEST_ERR_KEY_NOT_FOUND";
    case LK_ATTEST_ERR_KEY_EXISTS: return "LK_ATTEST_ERR_KEY_EXISTS";
    case LK_ATTEST_ERR_KEY_SYMLINK: return "LK_ATTEST_ERR_KEY_SYMLINK";
    case LK_ATTEST_ERR_KEY_NOT_REGULAR: return "LK_ATTEST_ERR_KEY_NOT_REGULAR";
    case LK_ATTEST_ERR_KEY_MODE: return "LK_ATTEST_ERR_KEY_MODE";
    case LK_ATTEST_ERR_KEY_OWNER: return "LK_ATTEST_ERR_KEY_OWNER";
    case LK_ATTEST_ERR_KEY_FORMAT: return "LK_ATTEST_ERR_KEY_FORMAT";
    case LK_ATTEST_ERR_BAD_CAMERA_ID: return "LK_ATTEST_ERR_BAD_CAMERA_ID";
    case LK_ATTEST_ERR_BAD_NONCE_SIZE: return "LK_ATTEST_ERR_BAD_NONCE_SIZE";
    case LK_ATTEST_ERR_COUNTER_EXHAUSTED: return "LK_ATTEST_ERR_COUNTER_EXHAUSTED";
    case LK_ATTEST_ERR_BAD_SCENE: return "LK_ATTEST_ERR_BAD_SCENE";
    case LK_ATTEST_ERR_BAD_FRAME: return "LK_ATTEST_ERR_BAD_FRAME";
    case LK_ATTEST_ERR_REFERENCE_NOT_FOUND: return "LK_ATTEST_ERR_REFERENCE_NOT_FOUND";
    case LK_ATTEST_ERR_REFERENCE_FORMAT: return "LK_ATTEST_ERR_REFERENCE_FORMAT";
    case LK_ATTEST_ERR_REFERENCE_FLAT: return "LK_ATTEST_ERR_REFERENCE_FLAT";
    default: return "unknown";
  }
}

lk_attest_result lk__attest_say(lk_attest_result result, char *message, size_t message_size, const char *format,
                                ...) {
  if (message != NULL && message_size > 0) {
    va_list args;
    va_start(args, format);
    vsnprintf(message, message_size, format, args);  /* truncates and always terminates */
    va_end(args);
  }
  return result;
}

lk_attest_result lk__attest_init_sodium(void) {
  /* Idempotent and thread-safe: 1 means already initialised. */
  return sodium_init() < 0 ? LK_ATTEST_ERR_CRYPTO : LK_ATTEST_OK;
}

uint8_t *lk__attest_secret_copy(const uint8_t *secret_key) {
  /* Guard pages, locked, wiped by sodium_free: a secret in ordinary heap
   * memory outlives its use in freed blocks and core dumps. */
  uint8_t *copy = sodium_malloc(LK__ATTEST_SECRET_KEY_SIZE);
  if (copy != NULL) memcpy(copy, secret_key, LK__ATTEST_SECRET_KEY_SIZE);
  return copy;
}

uint64_t lk_attest_monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}
