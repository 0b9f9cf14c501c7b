/* The device key and its file. The key is what makes an attestation the
 * camera's own (C1), so the file is refused, never repaired, when anyone
 * else could read or replace it: wider than 0600, another owner, a link, not
 * a regular file. Checks run on the opened descriptor (fstat), so the file
 * checked is the file read. */
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
#define LK__KEY_HEADER_SIZE (sizeof LK__KEY_HEADER - 1u)
#define LK__KEY_HEX_SIZE (2u * LK_ATTEST_SEED_SIZE)
#define LK__KEY_FILE_SIZE (LK__KEY_HEADER_SIZE + LK__KEY_HEX_SIZE + 1u)   /* with the final newline */

static lk_attest_result key_from_seed(const uint8_t *seed, lk_attest_key **key) {
  lk_attest_key *k = calloc(1, sizeof *k);
  if (k == NULL) return LK_ATTEST_ERR_NO_MEMORY;
  k->secret_key = sodium_malloc(LK__ATTEST_SECRET_KEY_SIZE);
  if (k->secret_key == NULL) {
    free(k);
    return LK_ATTEST_ERR_NO_MEMORY;
  }
  if (crypto_sign_ed25519_seed_keypair(k->public_key, k->secret_key, seed) != 0) {
    lk_attest_key_free(k);
    return LK_ATTEST_ERR_CRYPTO;
  }
  *key = k;
  return LK_ATTEST_OK;
}

lk_attest_result lk_attest_key_from_seed(const uint8_t seed[LK_ATTEST_SEED_SIZE], lk_attest_key **key) {
  if (seed == NULL || key == NULL) return LK_ATTEST_ERR_INVALID_ARGUMENT;
  const lk_attest_result init = lk__attest_init_sodium();
  if (init != LK_ATTEST_OK) return init;
  return key_from_seed(seed, key);
}

void lk_attest_key_public_key(const lk_attest_key *key, uint8_t public_key[LK_ATTEST_PUBLIC_KEY_SIZE]) {
  memcpy(public_key, key->public_key, LK_ATTEST_PUBLIC_KEY_SIZE);
}

void lk_attest_key_free(lk_attest_key *key) {
  if (key == NULL) return;
  sodium_free(key->secret_key);
  free(key);
}

/* ---- Loading -------------------------------------------------------------- */

static const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

static lk_attest_result refuse_open(const char *path, int error, char *message, size_t message_size) {
  struct stat link;
  if (error == ENOENT)
    return lk__attest_say(LK_ATTEST_ERR_KEY_NOT_FOUND, message, message_size,
                          "key file %s does not exist (create it with lk_attest_key_create)", path);
  /* O_NOFOLLOW answers ELOOP for a final symlink; ELOOP also means a loop
   * further up the path, so look before saying which. */
  if (error == ELOOP && lstat(path, &link) == 0 && S_ISLNK(link.st_mode))
    return lk__attest_say(LK_ATTEST_ERR_KEY_SYMLINK, message, message_size,
                          "key file %s is a symbolic link; give the path of the file itself", path);
  return lk__attest_say(LK_ATTEST_ERR_IO, message, message_size, "key file %s cannot be opened: %s", path,
                        strerror(error));
}

static lk_attest_result check_opened(int fd, const char *path, char *message, size_t message_size) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return lk__attest_say(LK_ATTEST_ERR_IO, message, message_size, "key file %s: fstat failed: %s", path,
                          strerror(errno));
  if (!S_ISREG(st.st_mode))
    return lk__attest_say(LK_ATTEST_ERR_KEY_NOT_REGULAR, message, message_size,
                          "key file %s is %s, not a regular file", path, file_kind(st.st_mode));
  if (st.st_uid != geteuid())
    return lk__attest_say(LK_ATTEST_ERR_KEY_OWNER, message, message_size,
                          "key file %s is owned by uid %lu, not by this process's uid %lu", path,
                          (unsigned long)st.st_uid, (unsigned long)geteuid());
  const unsigned mode = (unsigned)(st.st_mode & 07777);
  if ((mode & ~0600u) != 0)
    return lk__attest_say(LK_ATTEST_ERR_KEY_MODE, message, message_size,
                          "key file %s has mode %04o; it must be 0600 or narrower (chmod 600 it)", path, mode);
  return LK_ATTEST_OK;
}

/* Reads at most capacity bytes; *size receives how many there were, capped
 * at capacity (a longer file shows as capacity bytes). */
static lk_attest_result read_all(int fd, const char *path, uint8_t *data, size_t capacity, size_t *size,
                                 char *message, size_t message_size) {
  size_t have = 0;
  while (have < capacity) {
    const ssize_t n = read(fd, data + have, capacity - have);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return lk__attest_say(LK_ATTEST_ERR_IO, message, message_size, "key file %s cannot be read: %s", path,
                            strerror(errno));
    }
    have += (size_t)n;
  }
  *size = have;
  return LK_ATTEST_OK;
}

static lk_attest_result parse_key_file(const uint8_t *data, size_t size, uint8_t *seed, const char *path,
                                       char *message, size_t message_size) {
  size_t seed_size = 0;
  const char *hex_end = NULL;
  const char *hex = (const char *)data + LK__KEY_HEADER_SIZE;
  const int final_newline = size == LK__KEY_FILE_SIZE;
  if (size != LK__KEY_FILE_SIZE && size != LK__KEY_FILE_SIZE - 1u)
    /* read_all stops one byte past a key file, so a longer one reads as that. */
    return lk__attest_say(LK_ATTEST_ERR_KEY_FORMAT, message, message_size,
                          "key file %s is not a latchkey device key: it has %s%lu bytes, expected %lu "
                          "(the line \"latchkey-ed25519-seed-v1\", then 64 hex digits)",
                          path, size > LK__KEY_FILE_SIZE ? "more than " : "",
                          (unsigned long)(size > LK__KEY_FILE_SIZE ? LK__KEY_FILE_SIZE : size),
                          (unsigned long)LK__KEY_FILE_SIZE);
  if (memcmp(data, LK__KEY_HEADER, LK__KEY_HEADER_SIZE) != 0)
    return lk__attest_say(LK_ATTEST_ERR_KEY_FORMAT, message, message_size,
                          "key file %s is not a latchkey device key: its first line is not "
                          "\"latchkey-ed25519-seed-v1\"",
                          path);
  if (sodium_hex2bin(seed, LK_ATTEST_SEED_SIZE, hex, LK__KEY_HEX_SIZE, NULL, &seed_size, &hex_end) != 0 ||
      seed_size != LK_ATTEST_SEED_SIZE || hex_end != hex + LK__KEY_HEX_SIZE || (final_newline && data[size - 1] != '\n'))
    return lk__attest_say(LK_ATTEST_ERR_KEY_FORMAT, message, message_size,
                          "key file %s is not a latchkey device key: its second line is not 64 hex digits", path);
  return LK_ATTEST_OK;
}

lk_attest_result lk_attest_key_load(const char *path, lk_attest_key **key, char *message, size_t message_size) {
  /* One byte more than a key file, so a longer file is seen as longer. */
  uint8_t data[LK__KEY_FILE_SIZE + 1u];
  uint8_t seed[LK_ATTEST_SEED_SIZE];
  size_t size = 0;
  if (path == NULL || key == NULL || path[0] == '\0')
    return lk__attest_say(LK_ATTEST_ERR_INVALID_ARGUMENT, message, message_size, "no key file path given");
  lk_attest_result result = lk__attest_init_sodium();
  if (result != LK_ATTEST_OK)
    return lk__attest_say(result, message, message_size, "libsodium failed to initialise");

  /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
  const int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return refuse_open(path, errno, message, message_size);
  result = check_opened(fd, path, message, message_size);
  if (result == LK_ATTEST_OK) result = read_all(fd, path, data, sizeof data, &size, message, message_size);
  close(fd);
  if (result == LK_ATTEST_OK) result = parse_key_file(data, size, seed, path, message, message_size);
  if (result == LK_ATTEST_OK) {
    result = key_from_seed(seed, key);
    if (result == LK_ATTEST_OK)
      lk__attest_say(result, message, message_size, "loaded key file %s", path);
    else
      lk__attest_say(result, message, message_size, "key file %s: the key could not be set up (%s)", path,
                     lk_attest_result_name(result));
  }
  sodium_memzero(data, sizeof data);
  sodium_memzero(seed, sizeof seed);
  return result;
}
