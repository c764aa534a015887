/* Specification of the mergeable quantile sketch behind the store
 * aggregates (src/metrics/aggregate_sketch.h): relative error within the
 * accuracy for values of every sign and scale, merges independent of the
 * partitioning, and a serialised form whose reader checks its rules. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/aggregate_sketch.h"
#include "sim_rng.h"

static pd_allocator libc_alloc(void) {
  pd_allocator a;
  pd_alloc_init(&a, NULL);
  return a;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* Log-normal magnitudes over many decades, a tenth negative, some zeros. */
static double *values(size_t n, uint64_t seed) {
  sim_rng r = {seed};
  double *v = malloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) {
    double u = sim_uniform(&r);
    double m = exp(4.0 * sim_normal(&r));
    v[i] = u < 0.05 ? 0.0 : u < 0.15 ? -m : m;
  }
  return v;
}

static void every_quantile_is_within_relative_error(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  const size_t n = 50000;
  double *v = values(n, 1);
  double *sorted = malloc(n * sizeof *sorted);
  memcpy(sorted, v, n * sizeof *v);
  qsort(sorted, n, sizeof *sorted, cmp_double);
  const double acc[4] = {0.001, 0.01, 0.05, 0.2};
  for (int t = 0; t < 4; t++) {
    pd_ag_sketch s;
    assert_int_equal(pd_ag_sketch_build(&a, acc[t], v, n, &s), 0);
    assert_int_equal(s.count, n);
    for (int k = 0; k <= 100; k++) {
      double q = k / 100.0;
      double want = sorted[(size_t)floor(q * (double)(n - 1))];
      double got = pd_ag_sketch_quantile(&s, acc[t], q);
      if (fabs(got - want) > acc[t] * fabs(want) * (1 + 1e-9))
        fail_msg("a=%g q=%g: %.17g vs %.17g", acc[t], q, got, want);
    }
    /* Zeros are exact, and so are the extremes. */
    assert_true(pd_ag_sketch_quantile(&s, acc[t], 0.0) == sorted[0]);
    assert_true(pd_ag_sketch_quantile(&s, acc[t], 1.0) == sorted[n - 1]);
    pd_ag_sketch_free(&a, &s);
  }
  free(v);
  free(sorted);
}

/* The sum of the sketches of any partition is the sketch of the whole. */
static void merging_does_not_depend_on_the_partitioning(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  const size_t n = 20000;
  double *v = values(n, 2);
  pd_ag_sketch whole;
  assert_int_equal(pd_ag_sketch_build(&a, 0.01, v, n, &whole), 0);
  const size_t cuts[3][4] = {{0, 1, 19999, 20000},
                             {0, 5000, 12000, 20000},
                             {0, 0, 20000, 20000}};
  for (int c = 0; c < 3; c++) {
    pd_ag_sketch acc = {0}, part, sum;
    for (int k = 2; k >= 0; k--) { /* merged in reverse order */
      assert_int_equal(pd_ag_sketch_build(&a, 0.01, v + cuts[c][k],
                                          cuts[c][k + 1] - cuts[c][k], &part),
                       0);
      assert_int_equal(pd_ag_sketch_sum(&a, &acc, &part, &sum), 0);
      pd_ag_sketch_free(&a, &acc);
      pd_ag_sketch_free(&a, &part);
      acc = sum;
    }
    pd_obuf b1 = {&a, NULL, 0, 0, 0}, b2 = {&a, NULL, 0, 0, 0};
    pd_ag_sketch_put(&b1, &whole);
    pd_ag_sketch_put(&b2, &acc);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.p, b2.p, b1.len);
    pd_free(&a, b1.p);
    pd_free(&a, b2.p);
    pd_ag_sketch_free(&a, &acc);
  }
  pd_ag_sketch_free(&a, &whole);
  free(v);
}

/* Each value counts in the bucket ceil(log|v| / log γ) of its magnitude,
 * whatever its neighbours: runs of equal values, equal magnitudes of
 * both signs and values between them land where they would alone. */
static void each_value_counts_in_the_bucket_of_its_magnitude(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  const double acc = 0.01;
  const double v[] = {2, 2, 2, -2, -2, 7, 7, 0, 2, 7, -7, 2.5, 2, 0, 0};
  const size_t n = sizeof v / sizeof v[0];
  pd_ag_sketch sk;
  assert_int_equal(pd_ag_sketch_build(&a, acc, v, n, &sk), 0);
  double lg = log((1 + acc) / (1 - acc));
  int32_t b2 = (int32_t)ceil(log(2.0) / lg), b25 = (int32_t)ceil(log(2.5) / lg),
          b7 = (int32_t)ceil(log(7.0) / lg);
  assert_int_equal(sk.count, n);
  assert_int_equal(sk.zero, 3);
  assert_int_equal(sk.pos.n, 3);
  assert_int_equal(sk.pos.idx[0], b2);
  assert_int_equal(sk.pos.cnt[0], 5);
  assert_int_equal(sk.pos.idx[1], b25);
  assert_int_equal(sk.pos.cnt[1], 1);
  assert_int_equal(sk.pos.idx[2], b7);
  assert_int_equal(sk.pos.cnt[2], 3);
  assert_int_equal(sk.neg.n, 2);
  assert_int_equal(sk.neg.idx[0], b2);
  assert_int_equal(sk.neg.cnt[0], 2);
  assert_int_equal(sk.neg.idx[1], b7);
  assert_int_equal(sk.neg.cnt[1], 1);
  assert_true(sk.min == -7.0 && sk.max == 7.0);
  pd_ag_sketch_free(&a, &sk);
}

static void counts_that_would_overflow_are_refused(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  double one = 1.0;
  pd_ag_sketch x, y;
  assert_int_equal(pd_ag_sketch_build(&a, 0.01, &one, 1, &x), 0);
  assert_int_equal(pd_ag_sketch_build(&a, 0.01, &one, 1, &y), 0);
  x.pos.cnt[0] = UINT64_MAX;
  x.count = UINT64_MAX;
  pd_ag_sketch s;
  assert_int_equal(pd_ag_sketch_sum(&a, &x, &y, &s), -2);
  pd_ag_sketch_free(&a, &x);
  pd_ag_sketch_free(&a, &y);
}

/* The reader refuses buckets out of order, zero counts and totals that
 * do not add up, and reads back what was written. */
static void the_reader_checks_the_rules_of_the_form(void **state) {
  (void)state;
  pd_allocator a = libc_alloc();
  double v[5] = {-3.0, 0.0, 1.0, 2.0, 400.0};
  pd_ag_sketch s;
  assert_int_equal(pd_ag_sketch_build(&a, 0.01, v, 5, &s), 0);
  pd_obuf b = {&a, NULL, 0, 0, 0};
  pd_ag_sketch_put(&b, &s);
  pd_ibuf in = {b.p, b.len, 0, 0};
  pd_ag_sketch r;
  const char *why = NULL;
  assert_int_equal(pd_ag_sketch_get(&a, &in, &r, &why), 0);
  assert_int_equal(in.pos, b.len);
  assert_int_equal(r.count, 5);
  assert_int_equal(r.zero, 1);
  assert_int_equal(r.pos.n, 3);
  assert_int_equal(r.neg.n, 1);
  pd_ag_sketch_free(&a, &r);
  /* Layout: count, zero, min, max (32 bytes), npos, then (idx, cnt). */
  unsigned char *p = b.p;
  unsigned char save[12];
  memcpy(save, p + 36, 12);
  memcpy(p + 36, p + 48, 12); /* first bucket = second: out of order */
  in = (pd_ibuf){b.p, b.len, 0, 0};
  assert_int_equal(pd_ag_sketch_get(&a, &in, &r, &why), -1);
  assert_string_equal(why, "sketch buckets out of order");
  memcpy(p + 36, save, 12);
  pd_le64(p + 40, 0);
  in = (pd_ibuf){b.p, b.len, 0, 0};
  assert_int_equal(pd_ag_sketch_get(&a, &in, &r, &why), -1);
  assert_string_equal(why, "sketch bucket with a zero count");
  memcpy(p + 36, save, 12);
  pd_le64(p, 6);
  in = (pd_ibuf){b.p, b.len, 0, 0};
  assert_int_equal(pd_ag_sketch_get(&a, &in, &r, &why), -1);
  assert_string_equal(why, "sketch count differs from its buckets");
  pd_le64(p, 5);
  in = (pd_ibuf){b.p, b.len - 1, 0, 0};
  assert_int_equal(pd_ag_sketch_get(&a, &in, &r, &why), -1);
  pd_free(&a, b.p);
  pd_ag_sketch_free(&a, &s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_quantile_is_within_relative_error),
      cmocka_unit_test(merging_does_not_depend_on_the_partitioning),
      cmocka_unit_test(each_value_counts_in_the_bucket_of_its_magnitude),
      cmocka_unit_test(counts_that_would_overflow_are_refused),
      cmocka_unit_test(the_reader_checks_the_rules_of_the_form),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
