/* Whether this kernel makes pages resident on request
 * (MADV_POPULATE_WRITE, Linux 5.14): where it cannot, the background
 * prefault (core/prefault_async.h) is refused, and tests check that
 * instead. Define _DEFAULT_SOURCE before the first system header. */
#ifndef PD_TESTS_TESTUTIL_POPULATE_H
#define PD_TESTS_TESTUTIL_POPULATE_H

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>

static inline int kernel_populates(void) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  void *p = mmap(NULL, page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 0;
  int ok = madvise(p, page, 23 /* MADV_POPULATE_WRITE */) == 0;
  munmap(p, page);
  return ok;
}
#else
static inline int kernel_populates(void) { return 0; }
#endif

#endif
