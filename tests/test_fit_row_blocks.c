/* src/models/row_blocks.h as a specification: sums over rows are the
 * fixed blocks' partials added in block order, whatever the thread count,
 * and per-row work reports the first failing block. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/row_blocks.h"

static const int32_t counts[] = {1, 2, 3, 0};

/* Terms whose sum depends on the order of additions. */
static double term(size_t i) { return 1.0 / ((double)i + 1.0) + 1e8 * (i % 7 == 0); }

static void sum_terms(void *ctx, size_t begin, size_t end, double *sums) {
  (void)ctx;
  double s = 0.0, c = 0.0;
  for (size_t i = begin; i < end; i++) s += term(i), c += 1.0;
  sums[0] = s, sums[1] = c;
}

static void sums_are_block_partials_added_in_block_order(void **state) {
  (void)state;
  const size_t n = 5 * PD_ROW_BLOCK * PD_ROW_WAVE / 2 + 123; /* several waves */
  double want[2] = {0.0, 0.0};
  for (size_t b = 0; b * PD_ROW_BLOCK < n; b++) {
    double part = 0.0;
    size_t end = (b + 1) * PD_ROW_BLOCK < n ? (b + 1) * PD_ROW_BLOCK : n;
    for (size_t i = b * PD_ROW_BLOCK; i < end; i++) part += term(i);
    want[0] += part;
    want[1] += (double)(end - b * PD_ROW_BLOCK);
  }
  for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
    double got[2];
    pd_row_sums(counts[k], n, 2, sum_terms, NULL, got);
    assert_memory_equal(got, want, sizeof want);
  }
}

static void one_block_is_the_plain_sum(void **state) {
  (void)state;
  double got[2], want = 0.0;
  for (size_t i = 0; i < 1000; i++) want += term(i);
  pd_row_sums(2, 1000, 2, sum_terms, NULL, got);
  assert_memory_equal(&got[0], &want, sizeof want);
  assert_true(got[1] == 1000.0);
}

static void small_inputs_use_one_thread_and_large_ones_the_option(void **state) {
  (void)state;
  assert_int_equal(pd_row_threads(8, PD_ROW_PARALLEL_MIN - 1), 1);
  assert_int_equal(pd_row_threads(8, PD_ROW_PARALLEL_MIN), 8);
  assert_int_equal(pd_row_threads(1, 10 * PD_ROW_PARALLEL_MIN), 1);
  assert_true(pd_row_threads(0, PD_ROW_PARALLEL_MIN) >= 1);
}

typedef struct map_ctx {
  size_t bad_row1, bad_row2;
  unsigned char *seen;
} map_ctx;

static int visit(void *vctx, size_t begin, size_t end) {
  map_ctx *c = vctx;
  int failed = 0;
  for (size_t i = begin; i < end; i++) {
    c->seen[i]++;
    if (i == c->bad_row1 || i == c->bad_row2) failed = 1;
  }
  return failed;
}

static void map_visits_every_row_once_and_names_the_first_failing_block(
    void **state) {
  (void)state;
  const size_t n = 200 * PD_ROW_BLOCK + 5;
  unsigned char *seen = malloc(n);
  assert_non_null(seen);
  for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
    memset(seen, 0, n);
    map_ctx c = {n, n, seen};
    assert_true(pd_row_map(counts[k], n, visit, &c) == PD_ROW_NONE);
    for (size_t i = 0; i < n; i++) assert_int_equal(seen[i], 1);
    memset(seen, 0, n);
    c.bad_row1 = 150 * PD_ROW_BLOCK + 1, c.bad_row2 = 70 * PD_ROW_BLOCK + 9;
    assert_int_equal(pd_row_map(counts[k], n, visit, &c), 70);
  }
  free(seen);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sums_are_block_partials_added_in_block_order),
      cmocka_unit_test(one_block_is_the_plain_sum),
      cmocka_unit_test(small_inputs_use_one_thread_and_large_ones_the_option),
      cmocka_unit_test(
          map_visits_every_row_once_and_names_the_first_failing_block),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
