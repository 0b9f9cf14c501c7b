/* Files written whole or not at all: a directory's fsync after a new name,
 * and replacing a file by renaming a synced temporary file over it. */
#define _POSIX_C_SOURCE 200809L
#include "attest_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The new name is durable only once its directory is synced too. */
int lk__attest_sync_parent_directory(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = NULL;
  if (slash == NULL) {
    dir = malloc(2);
    if (dir != NULL) strcpy(dir, ".");
  } else {
    const size_t length = slash == path ? 1u : (size_t)(slash - path);
    dir = malloc(length + 1u);
    if (dir != NULL) {
      memcpy(dir, path, length);
      dir[length] = '\0';
    }
  }
  if (dir == NULL) {
    errno = ENOMEM;
    return -1;
  }
  const int fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  free(dir);
  if (fd < 0) return -1;
  const int synced = fsync(fd);
  const int error = errno;
  close(fd);
  errno = error;
  return synced;
}

static int write_all(int fd, const uint8_t *data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    data += n;
    size -= (size_t)n;
  }
  return 0;
}

lk_attest_result lk__attest_replace_file(const char *path, const void *data, size_t size, unsigned mode,
                                         const char *what, char *message, size_t message_size) {
  static const char suffix[] = ".tmp-XXXXXX";
  const size_t path_size = strlen(path);
  char *temporary = malloc(path_size + sizeof suffix);
  if (temporary == NULL) return lk__attest_say(LK_ATTEST_ERR_NO_MEMORY, message, message_size, "out of memory");
  memcpy(temporary, path, path_size);
  memcpy(temporary + path_size, suffix, sizeof suffix);

  /* mkstemp: O_EXCL, mode 0600, in path's own directory so rename is atomic. */
  const int fd = mkstemp(temporary);
  if (fd < 0) {
    const int error = errno;
    free(temporary);
    return lk__attest_say(LK_ATTEST_ERR_IO, message, message_size, "%s %s cannot be written: %s", what, path,
                          strerror(error));
  }
  (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
  const char *step = "written";
  int failed = fchmod(fd, (mode_t)mode) != 0 || write_all(fd, data, size) != 0;
  if (!failed && fsync(fd) != 0) {
    step = "synced";
    failed = 1;
  }
  int error = errno;
  if (close(fd) != 0 && !failed) {
    step = "closed";
    failed = 1;
    error = errno;
  }
  if (!failed && rename(temporary, path) != 0) {
    step = "put in place (rename failed)";
    failed = 1;
    error = errno;
  }
  if (failed) {
    unlink(temporary);
    free(temporary);
    return lk__attest_say(LK_ATTEST_ERR_IO, message, message_size, "%s %s could not be %s: %s; it is unchanged", what,
                          path, step, strerror(error));
  }
  free(temporary);
  if (lk__attest_sync_parent_directory(path) != 0)
    return lk__attest_say(LK_ATTEST_ERR_IO, message, message_size,
                          "%s %s was written but its directory's fsync failed: %s", what, path, strerror(errno));
  return LK_ATTEST_OK;
}
