/* Specification of pd_mx_row_key_sort(): the order of (x, t_x, T, row)
 * for any thread count, on inputs large enough to be split across
 * threads, including sorted, reversed and all-equal summaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/row_keys.h"

static int reference_cmp(const void *pa, const void *pb) {
  const pd_mx_row_key *a = pa, *b = pb;
  if (a->x != b->x) return a->x < b->x ? -1 : 1;
  if (a->t_x != b->t_x) return a->t_x < b->t_x ? -1 : 1;
  if (a->T != b->T) return a->T < b->T ? -1 : 1;
  return (a->row > b->row) - (a->row < b->row);
}

/* Field by field: the struct has padding. */
static void assert_same_keys(const pd_mx_row_key *a, const pd_mx_row_key *b,
                             size_t n) {
  for (size_t i = 0; i < n; i++) {
    assert_true(a[i].x == b[i].x && a[i].t_x == b[i].t_x && a[i].T == b[i].T);
    assert_int_equal(a[i].row, b[i].row);
  }
}

enum { N = 300000 }; /* above the 2 x 2^16 keys a split needs */

enum { RANDOM, SORTED, REVERSED, ALL_EQUAL, SHAPES };

/* Summaries with many ties, like a store's: few distinct x and T. */
static void fill(pd_mx_row_key *k, size_t n, int shape) {
  uint64_t s = 88172645463325252u;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    double x = (double)(s % 12), T = 40.0 + (double)((s >> 8) % 60);
    k[i].x = shape == ALL_EQUAL ? 3 : x;
    k[i].t_x = shape == ALL_EQUAL ? 10 : x > 0 ? (double)((s >> 20) % 40) : 0;
    k[i].T = shape == ALL_EQUAL ? 52 : T;
    k[i].row = (uint32_t)(shape == ALL_EQUAL ? n - 1 - i : i);
  }
  if (shape == SORTED || shape == REVERSED) {
    qsort(k, n, sizeof *k, reference_cmp);
    if (shape == REVERSED)
      for (size_t i = 0, j = n - 1; i < j; i++, j--) {
        pd_mx_row_key t = k[i];
        k[i] = k[j];
        k[j] = t;
      }
  }
}

static void every_thread_count_gives_the_reference_order(void **state) {
  (void)state;
  pd_mx_row_key *want = malloc(N * sizeof *want);
  pd_mx_row_key *got = malloc(N * sizeof *got);
  assert_non_null(want);
  assert_non_null(got);
  const int32_t threads[] = {1, 2, 3, 5, 8};
  for (int shape = 0; shape < SHAPES; shape++) {
    fill(want, N, shape);
    qsort(want, N, sizeof *want, reference_cmp);
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
      fill(got, N, shape);
      pd_mx_row_key_sort(got, N, threads[t]);
      assert_same_keys(got, want, N);
    }
  }
  free(want);
  free(got);
}

static void short_inputs(void **state) {
  (void)state;
  pd_mx_row_key k[40], want[40];
  for (size_t n = 0; n <= 40; n++) {
    fill(k, n, RANDOM);
    memcpy(want, k, n * sizeof *k);
    qsort(want, n, sizeof *want, reference_cmp);
    pd_mx_row_key_sort(k, n, 2);
    assert_same_keys(k, want, n);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_thread_count_gives_the_reference_order),
      cmocka_unit_test(short_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
