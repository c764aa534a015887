/* Specification of the distinct-keys table (metrics/distinct_keys.h):
 * keys numbered in the order of their first row, every row's number, the
 * rows per key, rows without a key, 0.0 and -0.0 as one key, and out of
 * memory at every allocation with nothing left allocated. Checked against
 * a reference made by sorting (row, key) pairs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/distinct_keys.h"
#include "testutil_alloc.h"

enum { N = 200000 }; /* enough keys for the slots to grow many times */

typedef struct rows {
  double k[N][3];
  int has[N];
} rows;

static int row_key(const void *ctx, size_t i, double k[3]) {
  const rows *r = ctx;
  memcpy(k, r->k[i], sizeof r->k[i]);
  return r->has[i];
}

/* Summaries with many ties, like a store's customers: few distinct x and
 * T, t_x <= T; every 11th row has no key. */
static void fill(rows *r) {
  uint64_t s = 88172645463325252u;
  for (size_t i = 0; i < N; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    double x = (double)(s % 12), T = 40.0 + (double)((s >> 8) % 300);
    r->k[i][0] = x;
    r->k[i][1] = x > 0 ? (double)((s >> 20) % 40) : 0;
    r->k[i][2] = T;
    r->has[i] = i % 11 != 5;
  }
}

typedef struct ref_row {
  const double *k;
  size_t row;
} ref_row;

static int by_key_then_row(const void *pa, const void *pb) {
  const ref_row *a = pa, *b = pb;
  for (int j = 0; j < 3; j++)
    if (a->k[j] != b->k[j]) return a->k[j] < b->k[j] ? -1 : 1;
  return (a->row > b->row) - (a->row < b->row);
}

static int by_size(const void *pa, const void *pb) {
  size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
  return (a > b) - (a < b);
}

/* The reference numbering: group equal keys by sorting, then number the
 * groups by their first rows. want[i] = number, want_m = keys, and
 * first[j] = key j's first row. */
static size_t reference(const rows *r, uint32_t *want, size_t *first) {
  ref_row *p = malloc(N * sizeof *p);
  size_t *group_first = malloc(N * sizeof *group_first);
  assert_non_null(p);
  assert_non_null(group_first);
  size_t n = 0;
  for (size_t i = 0; i < N; i++)
    if (r->has[i]) p[n++] = (ref_row){r->k[i], i};
  qsort(p, n, sizeof *p, by_key_then_row);
  size_t groups = 0;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || by_key_then_row(&(ref_row){p[i - 1].k, 0},
                                  &(ref_row){p[i].k, 0}) != 0)
      group_first[groups++] = p[i].row;
  qsort(group_first, groups, sizeof *group_first, by_size);
  memcpy(first, group_first, groups * sizeof *first);
  for (size_t i = 0; i < N; i++) want[i] = PD_MX_NO_KEY;
  for (size_t j = 0; j < groups; j++) want[first[j]] = (uint32_t)j;
  /* Every other row of a group takes its group's number. */
  for (size_t i = 0, j = 0; i < n; i++) {
    if (i > 0 && by_key_then_row(&(ref_row){p[i - 1].k, 0},
                                 &(ref_row){p[i].k, 0}) == 0)
      want[p[i].row] = want[j];
    else
      j = p[i].row;
  }
  free(group_first);
  free(p);
  return groups;
}

/* A table on t's counting allocator, holding every row's key. */
static void index_all(const rows *r, test_alloc *t, pd_mx_distinct *d,
                      uint32_t *index) {
  test_alloc_init(t);
  pd_allocator a = test_alloc_allocator(t);
  pd_mx_distinct_init(d, &a);
  assert_int_equal(pd_mx_distinct_index(d, N, row_key, r, index), 0);
}

static void numbers_keys_by_first_row(void **state) {
  (void)state;
  rows *r = malloc(sizeof *r);
  uint32_t *want = malloc(N * sizeof *want), *got = malloc(N * sizeof *got);
  size_t *first = malloc(N * sizeof *first);
  assert_true(r && want && got && first);
  fill(r);
  size_t m = reference(r, want, first);
  assert_true(m > 1000); /* the slots grew past their first size */
  test_alloc t;
  pd_mx_distinct d;
  index_all(r, &t, &d, got);
  assert_int_equal(d.m, m);
  assert_memory_equal(got, want, N * sizeof *got);
  double *col = malloc(m * sizeof *col), *count = calloc(m, sizeof *count);
  assert_true(col && count);
  for (size_t i = 0; i < N; i++)
    if (want[i] != PD_MX_NO_KEY) count[want[i]] += 1;
  for (int part = 0; part < 3; part++) {
    pd_mx_distinct_column(&d, part, col);
    for (size_t j = 0; j < m; j++)
      assert_true(col[j] == r->k[first[j]][part]);
  }
  pd_mx_distinct_column(&d, 3, col);
  for (size_t j = 0; j < m; j++) assert_true(col[j] == count[j]);
  pd_mx_distinct_free(&d);
  assert_int_equal(atomic_load(&t.live), 0);
  assert_int_equal(d.m, 0);
  free(col);
  free(count);
  free(first);
  free(got);
  free(want);
  free(r);
}

static int pair_key(const void *ctx, size_t i, double k[3]) {
  const double(*p)[3] = ctx;
  memcpy(k, p[i], sizeof p[i]);
  return 1;
}

static void zero_and_minus_zero_are_one_key(void **state) {
  (void)state;
  const double p[4][3] = {{0.0, 1, 2}, {-0.0, 1, 2}, {0.0, -0.0, 0.0},
                          {-0.0, 0.0, -0.0}};
  uint32_t got[4];
  test_alloc t;
  test_alloc_init(&t);
  pd_allocator a = test_alloc_allocator(&t);
  pd_mx_distinct d;
  pd_mx_distinct_init(&d, &a);
  assert_int_equal(pd_mx_distinct_index(&d, 4, pair_key, p, got), 0);
  assert_int_equal(d.m, 2);
  assert_int_equal(got[0], 0);
  assert_int_equal(got[1], 0);
  assert_int_equal(got[2], 1);
  assert_int_equal(got[3], 1);
  double counts[2];
  pd_mx_distinct_column(&d, 3, counts);
  assert_true(counts[0] == 2 && counts[1] == 2);
  /* A second call goes on numbering after the first's keys. */
  const double more[2][3] = {{5, 5, 5}, {0, 1, 2}};
  assert_int_equal(pd_mx_distinct_index(&d, 2, pair_key, more, got), 0);
  assert_int_equal(d.m, 3);
  assert_int_equal(got[0], 2);
  assert_int_equal(got[1], 0);
  pd_mx_distinct_free(&d);
  assert_int_equal(atomic_load(&t.live), 0);
}

static void out_of_memory_at_every_allocation(void **state) {
  (void)state;
  rows *r = malloc(sizeof *r);
  uint32_t *got = malloc(N * sizeof *got), *want = malloc(N * sizeof *want);
  assert_true(r && got && want);
  fill(r);
  test_alloc t;
  pd_mx_distinct d;
  index_all(r, &t, &d, want);
  pd_allocator a = test_alloc_allocator(&t);
  size_t m = d.m;
  pd_mx_distinct_free(&d);
  long calls = atomic_load(&t.calls);
  assert_true(calls > 4);
  for (long k = 1; k <= calls; k++) {
    test_alloc_init(&t);
    atomic_store(&t.fail_at, k);
    pd_mx_distinct_init(&d, &a);
    assert_int_equal(pd_mx_distinct_index(&d, N, row_key, r, got), -1);
    pd_mx_distinct_free(&d);
    assert_int_equal(atomic_load(&t.live), 0);
  }
  /* Past the last allocation, the same numbering again. */
  test_alloc_init(&t);
  atomic_store(&t.fail_at, calls + 1);
  pd_mx_distinct_init(&d, &a);
  assert_int_equal(pd_mx_distinct_index(&d, N, row_key, r, got), 0);
  assert_int_equal(d.m, m);
  assert_memory_equal(got, want, N * sizeof *got);
  pd_mx_distinct_free(&d);
  free(want);
  free(got);
  free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(numbers_keys_by_first_row),
      cmocka_unit_test(zero_and_minus_zero_are_one_key),
      cmocka_unit_test(out_of_memory_at_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
