/* The reference view (C8): a 32x18 grey thumbnail taken at enrolment, kept
 * as a binary PGM image with a checksum in its comment line, so a person can
 * look at it and the agent can tell a damaged file from a good one. */
#define _POSIX_C_SOURCE 200809L
#include "attest_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define LK__REF_MAGIC "P5\n# latchkey-reference-v1 blake2b-256 "
#define LK__REF_MAGIC_SIZE (sizeof LK__REF_MAGIC - 1u)
#define LK__REF_HEX_SIZE 64u
#define LK__REF_TAIL "\n32 18\n255\n"
#define LK__REF_TAIL_SIZE (sizeof LK__REF_TAIL - 1u)
#define LK__REF_HEADER_SIZE (LK__REF_MAGIC_SIZE + LK__REF_HEX_SIZE + LK__REF_TAIL_SIZE)
#define LK__REF_FILE_SIZE (LK__REF_HEADER_SIZE + LK_ATTEST_THUMB_SIZE)

typedef char lk__ref_tail_matches_thumb[(LK_ATTEST_THUMB_WIDTH == 32u && LK_ATTEST_THUMB_HEIGHT == 18u) ? 1 : -1];

static void checksum(const uint8_t reference[LK_ATTEST_THUMB_SIZE], uint8_t out[32]) {
  crypto_generichash_blake2b(out, 32, reference, LK_ATTEST_THUMB_SIZE, NULL, 0);
}

static lk_attest_result refuse_flat(const uint8_t reference[LK_ATTEST_THUMB_SIZE], const char *where, char *message,
                                    size_t message_size) {
  const uint32_t deviation = lk__attest_thumbnail_deviation_x10(reference);
  return lk__attest_say(LK_ATTEST_ERR_REFERENCE_FLAT, message, message_size,
                        "%s has too little contrast to compare frames with: its standard deviation is %lu.%lu grey "
                        "levels, at least %u are needed (is the lens covered, the scene dark or a plain wall?)",
                        where, (unsigned long)(deviation / 10u), (unsigned long)(deviation % 10u),
                        LK_ATTEST_REFERENCE_CONTRAST_MIN);
}

lk_attest_result lk_attest_reference_check(const uint8_t reference[LK_ATTEST_THUMB_SIZE], char *message,
                                           size_t message_size) {
  if (reference == NULL)
    return lk__attest_say(LK_ATTEST_ERR_INVALID_ARGUMENT, message, message_size, "no reference view given");
  if (lk__attest_thumbnail_is_flat(reference)) return refuse_flat(reference, "the view", message, message_size);
  const uint32_t deviation = lk__attest_thumbnail_deviation_x10(reference);
  return lk__attest_say(LK_ATTEST_OK, message, message_size,
                        "the view can serve as a reference (standard deviation %lu.%lu grey levels)",
                        (unsigned long)(deviation / 10u), (unsigned long)(deviation % 10u));
}

lk_attest_result lk_attest_reference_save(const char *path, const uint8_t reference[LK_ATTEST_THUMB_SIZE],
                                          char *message, size_t message_size) {
  uint8_t file[LK__REF_FILE_SIZE];
  uint8_t sum[32];
  char hex[LK__REF_HEX_SIZE + 1u];
  if (path == NULL || reference == NULL || path[0] == '\0')
    return lk__attest_say(LK_ATTEST_ERR_INVALID_ARGUMENT, message, message_size, "no reference file path given");
  if (lk__attest_init_sodium() != LK_ATTEST_OK)
    return lk__attest_say(LK_ATTEST_ERR_CRYPTO, message, message_size, "libsodium failed to initialise");
  if (lk__attest_thumbnail_is_flat(reference)) {
    char where[LK_ATTEST_MESSAGE_SIZE];
    lk__attest_say(LK_ATTEST_OK, where, sizeof where, "the view to save in reference file %s", path);
    return refuse_flat(reference, where, message, message_size);
  }
  checksum(reference, sum);
  sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
  memcpy(file, LK__REF_MAGIC, LK__REF_MAGIC_SIZE);
  memcpy(file + LK__REF_MAGIC_SIZE, hex, LK__REF_HEX_SIZE);
  memcpy(file + LK__REF_MAGIC_SIZE + LK__REF_HEX_SIZE, LK__REF_TAIL, LK__REF_TAIL_SIZE);
  memcpy(file + LK__REF_HEADER_SIZE, reference, LK_ATTEST_THUMB_SIZE);
  const lk_attest_result result =
      lk__attest_replace_file(path, file, sizeof file, 0644u, "reference file", message, message_size);
  if (result != LK_ATTEST_OK) return result;
  return lk__attest_say(LK_ATTEST_OK, message, message_size, "saved the reference view to %s", path);
}

static lk_attest_result not_a_reference(const char *path, const char *why, char *message, size_t message_size) {
  return lk__attest_say(LK_ATTEST_ERR_REFERENCE_FORMAT, message, message_size,
                        "reference file %s is not a latchkey reference view: %s (take the reference view again)",
                        path, why);
}

lk_attest_result lk_attest_reference_load(const char *path, uint8_t reference[LK_ATTEST_THUMB_SIZE], char *message,
                                          size_t message_size) {
  /* One byte more than a reference file, so a longer file shows as longer. */
  uint8_t data[LK__REF_FILE_SIZE + 1u];
  uint8_t sum[32];
  uint8_t expected[32];
  size_t have = 0;
  size_t decoded = 0;
  const char *hex_end = NULL;
  struct stat st;
  if (path == NULL || reference == NULL || path[0] == '\0')
    return lk__attest_say(LK_ATTEST_ERR_INVALID_ARGUMENT, message, message_size, "no reference file path given");
  if (lk__attest_init_sodium() != LK_ATTEST_OK)
    return lk__attest_say(LK_ATTEST_ERR_CRYPTO, message, message_size, "libsodium failed to initialise");

  /* O_NONBLOCK: a FIFO at the path must not stall the caller. */
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT)
      return lk__attest_say(LK_ATTEST_ERR_REFERENCE_NOT_FOUND, message, message_size,
                            "reference file %s does not exist", path);
    return lk__attest_say(LK_ATTEST_ERR_IO, message, message_size, "reference file %s cannot be opened: %s", path,
                          strerror(error));
  }
  if (fstat(fd, &st) != 0) {
    const int error = errno;
    close(fd);
    return lk__attest_say(LK_ATTEST_ERR_IO, message, message_size, "reference file %s: fstat failed: %s", path,
                          strerror(error));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return not_a_reference(path, "it is not a regular file", message, message_size);
  }
  while (have < sizeof data) {
    const ssize_t n = read(fd, data + have, sizeof data - have);
    if (n == 0) break;
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      close(fd);
      return lk__attest_say(LK_ATTEST_ERR_IO, message, message_size, "reference file %s cannot be read: %s", path,
                            strerror(error));
    }
    have += (size_t)n;
  }
  close(fd);

  if (have < LK__REF_MAGIC_SIZE || memcmp(data, LK__REF_MAGIC, LK__REF_MAGIC_SIZE) != 0)
    return not_a_reference(path, "it does not begin with \"P5\" and the line \"# latchkey-reference-v1 blake2b-256 \"",
                           message, message_size);
  if (have != LK__REF_FILE_SIZE) {
    char why[96];
    lk__attest_say(LK_ATTEST_OK, why, sizeof why, "it has %s%lu bytes, expected %lu (a 32x18 grey PGM)",
                   have > LK__REF_FILE_SIZE ? "more than " : "",
                   (unsigned long)(have > LK__REF_FILE_SIZE ? LK__REF_FILE_SIZE : have),
                   (unsigned long)LK__REF_FILE_SIZE);
    return not_a_reference(path, why, message, message_size);
  }
  if (sodium_hex2bin(expected, sizeof expected, (const char *)data + LK__REF_MAGIC_SIZE, LK__REF_HEX_SIZE, NULL,
                     &decoded, &hex_end) != 0 ||
      decoded != sizeof expected || hex_end != (const char *)data + LK__REF_MAGIC_SIZE + LK__REF_HEX_SIZE)
    return not_a_reference(path, "its checksum is not 64 hex digits", message, message_size);
  if (memcmp(data + LK__REF_MAGIC_SIZE + LK__REF_HEX_SIZE, LK__REF_TAIL, LK__REF_TAIL_SIZE) != 0)
    return not_a_reference(path, "its size is not \"32 18\" with maximum value 255", message, message_size);
  checksum(data + LK__REF_HEADER_SIZE, sum);
  if (sodium_memcmp(sum, expected, sizeof sum) != 0)
    return not_a_reference(path, "its pixels do not match its checksum (the file was changed or damaged)", message,
                           message_size);
  if (lk__attest_thumbnail_is_flat(data + LK__REF_HEADER_SIZE)) {
    char where[LK_ATTEST_MESSAGE_SIZE];
    lk__attest_say(LK_ATTEST_OK, where, sizeof where, "the view in reference file %s", path);
    return refuse_flat(data + LK__REF_HEADER_SIZE, where, message, message_size);
  }
  memcpy(reference, data + LK__REF_HEADER_SIZE, LK_ATTEST_THUMB_SIZE);
  return lk__attest_say(LK_ATTEST_OK, message, message_size, "loaded the reference view from %s", path);
}
