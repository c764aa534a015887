/* POSIX file helpers for snapshots and journals: complete writes and
 * reads, directory sync (so a rename survives power loss), fd callbacks. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "persist_internal.h"

int pd_pf_write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

long long pd_pf_read_full(int fd, void *buf, size_t n) {
  char *p = buf;
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  return (long long)got;
}

int pd_pf_sync_dir(const char *path) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    strcpy(dir, ".");
  } else {
    size_t n = (size_t)(slash - path);
    if (n == 0) n = 1; /* "/file" lives in "/" */
    if (n >= sizeof dir) return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

char *pd_pf_path_with(const pd_allocator *a, const char *path,
                      const char *suffix) {
  size_t n = strlen(path), m = strlen(suffix);
  char *p = pd_malloc(a, n + m + 1);
  if (!p) return NULL;
  memcpy(p, path, n);
  memcpy(p + n, suffix, m + 1);
  return p;
}

int32_t pd_pf_fd_writer(void *user, const void *buf, size_t len) {
  return pd_pf_write_all(*(int *)user, buf, len) == 0 ? 0 : -1;
}

int32_t pd_pf_fd_reader(void *user, void *buf, size_t len, size_t *got) {
  long long r = pd_pf_read_full(*(int *)user, buf, len);
  if (r < 0) return -1;
  *got = (size_t)r;
  return 0;
}
