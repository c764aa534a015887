/* pd_prefault_async: one thread making ranges resident with
 * MADV_POPULATE_WRITE, a step at a time, until done or told to stop. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1 /* madvise */
#endif

#include "core/prefault_async.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <threads.h>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older headers lack the name */
#endif
#endif

/* Faults taken per call: the call holds the address space's lock for
 * reading, so a thread that maps or unmaps memory meanwhile waits for at
 * most one step (a huge page, or 512 small ones). */
#define STEP ((size_t)2 << 20)

/* Turns the ranges are taken in. */
#define TURNS 64

struct pd_prefault_async {
  pd_allocator alloc;
  thrd_t thread;
  atomic_int stop;
  size_t page;
  size_t n;
  pd_prefault_range ranges[]; /* n of them */
};

#if defined(__linux__)
/* Populates [from, to) (page-aligned outward: the pages holding its
 * first and last bytes are mapped, as the range is), STEP at a time.
 * Returns -1 when told to stop or the kernel refuses. */
static int populate(pd_prefault_async *j, uintptr_t from, uintptr_t to) {
  from &= ~(uintptr_t)(j->page - 1);
  to = (to + j->page - 1) & ~(uintptr_t)(j->page - 1);
  while (from < to) {
    if (atomic_load_explicit(&j->stop, memory_order_relaxed)) return -1;
    uintptr_t end = to - from > STEP ? from + STEP : to;
    if (madvise((void *)from, (size_t)(end - from), MADV_POPULATE_WRITE) != 0)
      return -1;
    from = end;
  }
  return 0;
}

static int run(void *arg) {
  pd_prefault_async *j = arg;
  for (size_t t = 0; t < TURNS; t++)
    for (size_t i = 0; i < j->n; i++) {
      uintptr_t p = (uintptr_t)j->ranges[i].p;
      size_t len = j->ranges[i].bytes;
      /* len / TURNS * t would lose the remainder; len < 2^58 here */
      uintptr_t from = p + len / TURNS * t + len % TURNS * t / TURNS;
      uintptr_t to = p + len / TURNS * (t + 1) + len % TURNS * (t + 1) / TURNS;
      if (to > from && populate(j, from, to) != 0) return 0;
    }
  return 0;
}
#endif

pd_prefault_async *pd_prefault_async_start(const pd_allocator *a,
                                           const pd_prefault_range *ranges,
                                           size_t n) {
#if defined(__linux__)
  long ps = sysconf(_SC_PAGESIZE);
  if (ps <= 0 || ranges == NULL || n == 0 ||
      n > (SIZE_MAX - sizeof(pd_prefault_async)) / sizeof *ranges)
    return NULL;
  size_t page = (size_t)ps;
  /* Ask the kernel here, on one page, so that a kernel without the call
   * is known before the caller relies on the thread. */
  uintptr_t probe = (uintptr_t)ranges[0].p & ~(uintptr_t)(page - 1);
  if (ranges[0].p == NULL || ranges[0].bytes == 0 ||
      madvise((void *)probe, page, MADV_POPULATE_WRITE) != 0)
    return NULL;
  pd_prefault_async *j = pd_malloc(a, sizeof *j + n * sizeof *ranges);
  if (j == NULL) return NULL;
  j->alloc = *a;
  j->page = page;
  j->n = n;
  memcpy(j->ranges, ranges, n * sizeof *ranges);
  atomic_init(&j->stop, 0);
  if (thrd_create(&j->thread, run, j) != thrd_success) {
    pd_free(a, j);
    return NULL;
  }
  return j;
#else
  (void)a, (void)ranges, (void)n;
  return NULL;
#endif
}

void pd_prefault_async_finish(pd_prefault_async *job) {
  if (job == NULL) return;
  thrd_join(job->thread, NULL);
  pd_allocator a = job->alloc;
  pd_free(&a, job);
}

void pd_prefault_async_stop(pd_prefault_async *job) {
  if (job == NULL) return;
  atomic_store_explicit(&job->stop, 1, memory_order_relaxed);
  pd_prefault_async_finish(job);
}
