/* Writing a new device key file: all of it on disk, or none of it. */
#define _POSIX_C_SOURCE 200809L
#include "attest_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define LK__KEY_HEADER "latchkey-ed25519-seed-v1\n"

static lk_attest_result write_all(int fd, const char *data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return LK_ATTEST_ERR_IO;
    }
    data += n;
    size -= (size_t)n;
  }
  return LK_ATTEST_OK;
}

lk_attest_result lk_attest_key_create(const char *path, lk_attest_key **key, char *message, size_t message_size) {
  uint8_t seed[LK_ATTEST_SEED_SIZE];
  /* Header, 64 hex digits, newline; sodium_bin2hex adds a NUL. */
  char text[sizeof LK__KEY_HEADER + 2u * LK_ATTEST_SEED_SIZE + 1u];
  const size_t header_size = sizeof LK__KEY_HEADER - 1u;
  const size_t text_size = header_size + 2u * LK_ATTEST_SEED_SIZE + 1u;
  if (path == NULL || key == NULL || path[0] == '\0')
    return lk__attest_say(LK_ATTEST_ERR_INVALID_ARGUMENT, message, message_size, "no key file path given");
  lk_attest_result result = lk__attest_init_sodium();
  if (result != LK_ATTEST_OK)
    return lk__attest_say(result, message, message_size, "libsodium failed to initialise");

  /* O_EXCL never follows a link and never replaces a key: a camera that lost
   * its key must be enrolled again, not quietly given a new identity. */
  const int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) {
    const int error = errno;
    if (error == EEXIST)
      return lk__attest_say(LK_ATTEST_ERR_KEY_EXISTS, message, message_size,
                            "key file %s already exists; a device key is never overwritten", path);
    return lk__attest_say(LK_ATTEST_ERR_IO, message, message_size, "key file %s cannot be created: %s", path,
                          strerror(error));
  }

  randombytes_buf(seed, sizeof seed);
  memcpy(text, LK__KEY_HEADER, header_size);
  sodium_bin2hex(text + header_size, 2u * LK_ATTEST_SEED_SIZE + 1u, seed, sizeof seed);
  text[text_size - 1u] = '\n';

  const char *step = "written";
  result = write_all(fd, text, text_size);
  if (result == LK_ATTEST_OK && fsync(fd) != 0) {
    step = "synced";
    result = LK_ATTEST_ERR_IO;
  }
  int error = errno;
  if (close(fd) != 0 && result == LK_ATTEST_OK) {
    step = "closed";
    result = LK_ATTEST_ERR_IO;
    error = errno;
  }
  if (result == LK_ATTEST_OK && lk__attest_sync_parent_directory(path) != 0) {
    step = "made durable (its directory's fsync failed)";
    result = LK_ATTEST_ERR_IO;
    error = errno;
  }
  if (result == LK_ATTEST_OK) {
    result = lk_attest_key_from_seed(seed, key);
    if (result != LK_ATTEST_OK) {
      step = "turned into a key";
      error = 0;
    }
  }
  sodium_memzero(seed, sizeof seed);
  sodium_memzero(text, sizeof text);
  if (result != LK_ATTEST_OK) {
    unlink(path);
    return lk__attest_say(result, message, message_size, "key file %s could not be %s: %s; it was removed", path,
                          step, error != 0 ? strerror(error) : lk_attest_result_name(result));
  }
  return lk__attest_say(LK_ATTEST_OK, message, message_size, "created key file %s", path);
}
