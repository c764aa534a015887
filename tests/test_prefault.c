/* core/prefault: taking a block's page faults up front keeps every byte
 * and makes the pages resident (Linux: mincore tells), only with several
 * threads; filling in parallel sets exactly the range. */
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
#endif
      cmocka_unit_test(memset_parallel_sets_exactly_the_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
