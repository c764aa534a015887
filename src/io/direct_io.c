/* Direct reads and writes of large snapshot files (direct_io.h). Only
 * Linux's O_DIRECT is used; elsewhere the same calls do ordinary I/O. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1 /* O_DIRECT, mincore */
#endif

#include "direct_io.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__linux__) && defined(O_DIRECT)
#define HAVE_DIRECT 1
#else
#define HAVE_DIRECT 0
#endif

unsigned char *pd_direct_alloc(const pd_allocator *a, size_t bytes,
                               void **block) {
  *block = pd_malloc(a, bytes + PD_DIRECT_ALIGN);
  if (*block == NULL) return NULL;
  uintptr_t p = (uintptr_t)*block;
  return (unsigned char *)*block +
         (PD_DIRECT_ALIGN - p % PD_DIRECT_ALIGN) % PD_DIRECT_ALIGN;
}

/* ---- writing ------------------------------------------------------------ */

/* Turn O_DIRECT on or off for fd: 0 when it took. */
static int set_direct(int fd, int on) {
#if HAVE_DIRECT
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -1;
  fl = on ? fl | O_DIRECT : fl & ~O_DIRECT;
  return fcntl(fd, F_SETFL, fl);
#else
  (void)fd;
  return on ? -1 : 0;
#endif
}

/* Write all of p: 0 or -1 (errno kept). A direct write the file system
 * refuses (EINVAL) is retried, and everything after it written, through
 * the page cache. */
static int put(pd_direct_writer *w, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t r = write(w->fd, p, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EINVAL && w->direct && set_direct(w->fd, 0) == 0) {
        w->direct = 0;
        continue;
      }
      w->err = errno != 0 ? errno : EIO;
      return -1;
    }
    /* after a short direct write, an unaligned rest is refused with
     * EINVAL and goes out through the page cache (above) */
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

int pd_direct_writer_begin(pd_direct_writer *w, const pd_allocator *a,
                           int fd) {
  memset(w, 0, sizeof *w);
  w->fd = fd;
  w->a = a;
  w->buf = pd_direct_alloc(a, PD_DIRECT_WRITE_BUFFER, &w->block);
  if (w->buf == NULL) return -1;
  w->direct = set_direct(fd, 1) == 0;
  return 0;
}

int32_t pd_direct_writer_write(void *user, const void *data, size_t len) {
  pd_direct_writer *w = user;
  const unsigned char *p = data;
  if (w->err != 0) return -1;
  while (len > 0) {
    size_t m = PD_DIRECT_WRITE_BUFFER - w->len;
    if (m > len) m = len;
    memcpy(w->buf + w->len, p, m);
    w->len += m;
    p += m;
    len -= m;
    if (w->len == PD_DIRECT_WRITE_BUFFER) {
      if (put(w, w->buf, w->len) != 0) return -1;
      w->len = 0;
    }
  }
  return 0;
}

int pd_direct_writer_end(pd_direct_writer *w) {
  /* the tail is not a whole number of blocks: no direct write for it */
  if (w->direct && set_direct(w->fd, 0) == 0) w->direct = 0;
  if (w->err == 0 && w->len > 0) put(w, w->buf, w->len);
  pd_free(w->a, w->block);
  w->block = NULL;
  w->buf = NULL;
  w->len = 0;
  if (w->err != 0) {
    errno = w->err;
    return -1;
  }
  return 0;
}

/* ---- reading ------------------------------------------------------------ */

/* Pages asked about: enough to tell "mostly cached" from "mostly not". */
#define CACHE_SAMPLES 64

int pd_direct_file_cached(int fd, uint64_t size) {
#if HAVE_DIRECT
  long ps = sysconf(_SC_PAGESIZE);
  if (ps <= 0 || size == 0 || size > (uint64_t)SIZE_MAX) return 1;
  uint64_t pages = (size + (uint64_t)ps - 1) / (uint64_t)ps;
  /* Mapping the file reads nothing; mincore() reports the page cache. */
  void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return 1;
  int resident = 0, asked = 0;
  for (int i = 0; i < CACHE_SAMPLES; i++) {
    uint64_t page = pages * (uint64_t)i / CACHE_SAMPLES;
    unsigned char v = 0;
    if (mincore((char *)map + page * (uint64_t)ps, (size_t)ps, &v) != 0)
      continue;
    asked++;
    resident += v & 1;
  }
  munmap(map, (size_t)size);
  return asked == 0 || 2 * resident >= asked;
#else
  (void)fd;
  (void)size;
  return 1;
#endif
}

int pd_direct_open_read(const char *path) {
#if HAVE_DIRECT
  return open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);
#else
  (void)path;
  return -1;
#endif
}

int pd_pread_exact(int fd, uint64_t pos, unsigned char *dst, size_t n) {
  while (n > 0) {
    ssize_t r = pread(fd, dst, n, (off_t)pos);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r < 0 ? -1 : -2;
    dst += r;
    pos += (uint64_t)r;
    n -= (size_t)r;
  }
  return 0;
}

int pd_direct_pread(int dfd, int fd, uint64_t pos, unsigned char *dst,
                    size_t n, unsigned char *bounce, size_t bounce_bytes) {
  while (n > 0) {
    /* whole blocks around the next bytes wanted, as many as fit */
    uint64_t from = pos - pos % PD_DIRECT_ALIGN;
    size_t skip = (size_t)(pos - from);
    size_t want = bounce_bytes - skip;
    if (want > n) want = n;
    size_t len = skip + want;
    len += (PD_DIRECT_ALIGN - len % PD_DIRECT_ALIGN) % PD_DIRECT_ALIGN;
    ssize_t r = pread(dfd, bounce, len, (off_t)from);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EINVAL) return pd_pread_exact(fd, pos, dst, n);
    if (r < 0) return -1;
    /* short only at the end of the file (or of a signal's patience) */
    if ((size_t)r <= skip) return r == 0 ? -2 : pd_pread_exact(fd, pos, dst, n);
    size_t got = (size_t)r - skip;
    if (got > want) got = want;
    memcpy(dst, bounce + skip, got);
    dst += got;
    pos += got;
    n -= got;
  }
  return 0;
}
