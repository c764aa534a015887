/* madvise is not in POSIX's base: ask glibc for its misc. extensions. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1
#endif
#include "prefault.h"

#include <string.h>

#include "alloc.h"
#include "parallel.h"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
/* Linux 5.14; older headers lack the name. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#endif

/* Pieces the range is cut into: small enough to share out evenly, large
 * enough that a piece's call costs nothing next to its faults. */
#define PIECE ((size_t)32 << 20)

typedef struct piece_job {
  char *p;
  size_t bytes;
  int fill;  /* memset the piece with value (else: populate it) */
  int value;
} piece_job;

/* Touch one byte of each page, writing back what it holds: the fallback
 * when the kernel cannot populate (not Linux, or older than 5.14). */
static void touch_pages(char *p, size_t bytes, size_t page) {
  volatile char *v = (volatile char *)p;
  for (size_t i = 0; i < bytes; i += page) v[i] = v[i];
  if (bytes) v[bytes - 1] = v[bytes - 1];
}

static void piece(void *ctx, size_t k) {
  const piece_job *j = ctx;
  size_t from = k * PIECE;
  size_t len = j->bytes - from < PIECE ? j->bytes - from : PIECE;
  char *p = j->p + from;
  if (j->fill) {
    memset(p, j->value, len);
    return;
  }
  size_t page = 4096;
#if defined(__linux__)
  long ps = sysconf(_SC_PAGESIZE);
  if (ps > 0) page = (size_t)ps;
  /* madvise wants a page-aligned start; the partial page before it is
   * touched by hand. */
  uintptr_t a = ((uintptr_t)p + page - 1) & ~(uintptr_t)(page - 1);
  uintptr_t e = ((uintptr_t)p + len) & ~(uintptr_t)(page - 1);
  if (e > a && madvise((void *)a, (size_t)(e - a), MADV_POPULATE_WRITE) == 0) {
    touch_pages(p, (size_t)(a - (uintptr_t)p), page);
    touch_pages((char *)e, (size_t)((uintptr_t)p + len - e), page);
    return;
  }
#endif
  touch_pages(p, len, page);
}

static void run(void *p, size_t bytes, int32_t threads, int fill,
                int value) {
  piece_job j = {p, bytes, fill, value};
  size_t n = (bytes + PIECE - 1) / PIECE;
  pd_parallel_for(threads, n, piece, &j);
}

void pd_prefault(void *p, size_t bytes, int32_t threads) {
  if (p == NULL || bytes < PD_PREFAULT_FROM || threads <= 1) return;
  run(p, bytes, threads, 0, 0);
}

void pd_memset_parallel(void *p, int value, size_t bytes, int32_t threads) {
  if (p == NULL || bytes == 0) return;
  if (bytes < PD_PREFAULT_FROM || threads <= 1) {
    memset(p, value, bytes);
    return;
  }
  run(p, bytes, threads, 1, value);
}

void *pd_alloc_random_zeroed(const pd_allocator *a, const pd_allocator *caller,
                             size_t count, size_t size, int32_t threads) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  void *p = pd_malloc(a, count * size);
  if (!p) return NULL;
  pd_advise_random_large(caller, p, count * size);
  pd_memset_parallel(p, 0, count * size, threads);
  return p;
}
