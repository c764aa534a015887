/* core/prefault: taking a block's page faults up front keeps every byte
 * and makes the pages resident (Linux: mincore tells), only with several
 * threads; filling in parallel sets exactly the range. core/prefault_async:
 * the same on a background thread while the caller writes the memory,
 * nothing outside the ranges, and a stop that frees the job. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/prefault.h"
#include "core/prefault_async.h"
#include "testutil_alloc.h"
#include "testutil_populate.h"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#define BIG (PD_PREFAULT_FROM + ((size_t)5 << 20) + 123)

static unsigned char pattern(size_t i) { return (unsigned char)(i * 131 + 7); }

/* Every byte of a filled block keeps its value, whatever the threads and
 * however the range is cut (an unaligned start and end). */
static void prefault_keeps_every_byte(void **state) {
  (void)state;
  unsigned char *p = malloc(BIG);
  assert_non_null(p);
  for (size_t i = 0; i < BIG; i++) p[i] = pattern(i);
  const int32_t threads[] = {1, 2, 3};
  for (size_t k = 0; k < 3; k++) {
    pd_prefault(p + 1, BIG - 3, threads[k]);
    for (size_t i = 0; i < BIG; i++)
      if (p[i] != pattern(i)) fail_msg("byte %zu changed", i);
  }
  pd_prefault(NULL, BIG, 2); /* nothing to do */
  pd_prefault(p, 0, 2);
  free(p);
}

#if defined(__linux__)
/* Pages of [p, p + bytes) that are resident. */
static size_t resident_pages(void *p, size_t bytes) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t n = (bytes + page - 1) / page, count = 0;
  unsigned char *v = malloc(n);
  assert_non_null(v);
  assert_int_equal(mincore(p, bytes, v), 0);
  for (size_t i = 0; i < n; i++) count += v[i] & 1;
  free(v);
  return count;
}

/* Fresh anonymous pages become resident with two threads, and stay
 * absent with one (faults would cost the same later), or below the size
 * from which it is worth it. */
static void prefault_makes_pages_resident_on_threads(void **state) {
  (void)state;
  size_t bytes = (size_t)64 << 20, page = (size_t)sysconf(_SC_PAGESIZE);
  size_t pages = bytes / page;
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(p != MAP_FAILED);
  pd_prefault(p, bytes, 1);
  assert_int_equal(resident_pages(p, bytes), 0);
  pd_prefault(p, PD_PREFAULT_FROM - 1, 2);
  assert_int_equal(resident_pages(p, bytes), 0);
  pd_prefault(p, bytes, 2);
  assert_int_equal(resident_pages(p, bytes), pages);
  const unsigned char *b = p;
  for (size_t i = 0; i < bytes; i += page) assert_int_equal(b[i], 0);
  munmap(p, bytes);
}

/* A fresh anonymous mapping of small pages only: a huge page would make
 * memory around a range resident with it. */
static unsigned char *fresh_small_pages(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  assert_true(p != MAP_FAILED);
#if defined(MADV_NOHUGEPAGE)
  (void)madvise(p, bytes, MADV_NOHUGEPAGE);
#endif
  return p;
}

/* Two unaligned ranges of one mapping, the first written front to back
 * by this thread while the job runs: every byte written is kept, the
 * other range reads zero and is resident, and the pages between the
 * ranges are not touched. */
static void async_prefault_keeps_the_callers_writes(void **state) {
  (void)state;
  size_t page = (size_t)sysconf(_SC_PAGESIZE), mb = (size_t)1 << 20;
  size_t bytes = 64 * mb;
  unsigned char *p = fresh_small_pages(bytes);
  pd_allocator a;
  assert_int_equal(pd_alloc_init(&a, NULL), 0);
  pd_prefault_range r[2] = {{p + 100, 20 * mb}, {p + 40 * mb + 5, 20 * mb}};
  pd_prefault_async *job = pd_prefault_async_start(&a, r, 2);
  if (!kernel_populates()) {
    assert_null(job);
    munmap(p, bytes);
    skip();
  }
  assert_non_null(job);
  unsigned char *w = r[0].p;
  for (size_t i = 0; i < r[0].bytes; i++) w[i] = pattern(i);
  pd_prefault_async_finish(job);
  /* Residency first: reading a fresh page maps the zero page, which
   * mincore counts. The second range was not touched here, so the job
   * made it resident; the pages between the ranges nobody touched. */
  size_t first = (size_t)(40 * mb + 5) / page * page;
  size_t last = (size_t)(60 * mb + 5 + page - 1) / page * page;
  assert_int_equal(resident_pages(p + first, last - first),
                   (last - first) / page);
  size_t gap_from = (20 * mb + 100 + page - 1) / page * page;
  assert_int_equal(resident_pages(p + gap_from, first - gap_from), 0);
  for (size_t i = 0; i < r[0].bytes; i++)
    if (w[i] != pattern(i)) fail_msg("byte %zu of the written range lost", i);
  const unsigned char *z = r[1].p;
  for (size_t i = 0; i < r[1].bytes; i++)
    if (z[i] != 0) fail_msg("byte %zu of the other range is not 0", i);
  munmap(p, bytes);
}

/* Stopping at once returns, frees the job (the allocator says so) and
 * leaves the memory as it was; a job that cannot be allocated is not
 * started; nothing to do gives no job. */
static void async_prefault_stops_and_refuses(void **state) {
  (void)state;
  size_t bytes = (size_t)256 << 20;
  unsigned char *p = fresh_small_pages(bytes);
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator a = test_alloc_allocator(&ta);
  pd_prefault_range r = {p, bytes};
  int works = kernel_populates();
  pd_prefault_async *job = pd_prefault_async_start(&a, &r, 1);
  assert_true(works ? job != NULL : job == NULL);
  assert_int_equal(atomic_load(&ta.live), works ? 1 : 0);
  p[bytes - 1] = 9;
  pd_prefault_async_stop(job);
  assert_int_equal(atomic_load(&ta.live), 0);
  assert_int_equal(p[0], 0);
  assert_int_equal(p[bytes - 1], 9);

  size_t other_bytes = (size_t)64 << 20;
  unsigned char *other = fresh_small_pages(other_bytes);
  pd_prefault_range o = {other, other_bytes};
  test_alloc_fail_in(&ta, 1);
  assert_null(pd_prefault_async_start(&a, &o, 1));
  test_alloc_fail_in(&ta, 0);
  /* Only the page the kernel was asked about first, if any. */
  assert_true(resident_pages(other, other_bytes) <= 1);
  munmap(other, other_bytes);

  pd_prefault_range empty = {p, 0};
  assert_null(pd_prefault_async_start(&a, &empty, 1));
  assert_null(pd_prefault_async_start(&a, NULL, 1));
  assert_null(pd_prefault_async_start(&a, &r, 0));
  pd_prefault_async_stop(NULL);
  pd_prefault_async_finish(NULL);
  assert_int_equal(atomic_load(&ta.live), 0);
  munmap(p, bytes);
}
#endif

/* Filling sets the range and nothing around it, small and large, on any
 * thread count. */
static void memset_parallel_sets_exactly_the_range(void **state) {
  (void)state;
  const size_t sizes[] = {1, 4096, PD_PREFAULT_FROM - 1, BIG};
  const int32_t threads[] = {1, 2, 5};
  unsigned char *p = malloc(BIG + 2);
  assert_non_null(p);
  for (size_t a = 0; a < 4; a++)
    for (size_t k = 0; k < 3; k++) {
      size_t n = sizes[a];
      memset(p, 0xab, n + 2);
      pd_memset_parallel(p + 1, k == 1 ? 0x5c : 0, n, threads[k]);
      assert_int_equal(p[0], 0xab);
      assert_int_equal(p[n + 1], 0xab);
      for (size_t i = 1; i <= n; i++)
        if (p[i] != (k == 1 ? 0x5c : 0))
          fail_msg("byte %zu of %zu not set", i, n);
    }
  pd_memset_parallel(NULL, 0, 10, 2);
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(prefault_keeps_every_byte),
#if defined(__linux__)
      cmocka_unit_test(prefault_makes_pages_resident_on_threads),
      cmocka_unit_test(async_prefault_keeps_the_callers_writes),
      cmocka_unit_test(async_prefault_stops_and_refuses),
#endif
      cmocka_unit_test(memset_parallel_sets_exactly_the_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
