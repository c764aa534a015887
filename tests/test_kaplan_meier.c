/* Specification of the Kaplan–Meier estimator of link survival
 * (include/privdomain/survival.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "km_testutil.h"
#include "testutil_alloc.h"

/* cmocka's assert_float_equal compares in single precision; this one
 * compares doubles. */
#define assert_near(a, b, tol)                                            \
  do {                                                                    \
    double a_ = (a), b_ = (b);                                            \
    if (!(fabs(a_ - b_) <= (tol)))                                        \
      fail_msg("%s = %.17g, expected %.17g within %g", #a, a_, b_,        \
               (double)(tol));                                            \
  } while (0)

/* Freireich et al. (1963), 6-MP arm: remission in weeks, 0 = censored. */
static const double mp_time[21] = {6,  6,  6,  6,  7,  9,  10, 10, 11, 13, 16,
                                   17, 19, 20, 22, 23, 25, 32, 32, 34, 35};
static const int32_t mp_event[21] = {1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1,
                                     0, 0, 0, 1, 1, 0, 0, 0, 0, 0};

static pd_km *estimate(const double *t, const int32_t *e, const double *w,
                       size_t n) {
  pd_km *km = NULL;
  assert_int_equal(pd_km_new(NULL, &km), PD_OK);
  assert_int_equal(pd_km_estimate(km, t, e, w, n), PD_OK);
  return km;
}

static void survival_is_the_product_limit_of_the_6mp_data(void **state) {
  (void)state;
  pd_km *km = estimate(mp_time, mp_event, NULL, 21);
  pd_km_curve c = PD_KM_CURVE_INIT;
  assert_int_equal(pd_km_get_curve(km, &c), PD_OK);
  /* By hand: S = prod (1 - d/n) over 6(3/21) 7(1/17) 10(1/15) 13(1/12)
   * 16(1/11) 22(1/7) 23(1/6). */
  const double t[7] = {6, 7, 10, 13, 16, 22, 23};
  const double n[7] = {21, 17, 15, 12, 11, 7, 6};
  const double d[7] = {3, 1, 1, 1, 1, 1, 1};
  const double cens[7] = {1, 1, 2, 0, 3, 0, 5};
  const double published[7] = {0.857, 0.807, 0.753, 0.690,
                               0.627, 0.538, 0.448};
  assert_int_equal(c.n, 7);
  double s = 1;
  for (int i = 0; i < 7; i++) {
    s *= 1 - d[i] / n[i];
    assert_true(c.time[i] == t[i]);
    assert_true(c.at_risk[i] == n[i]);
    assert_true(c.events[i] == d[i]);
    assert_true(c.censored[i] == cens[i]);
    assert_near(c.survival[i], s, 1e-15);
    assert_near(c.survival[i], published[i], 0.0005);
  }
  pd_km_free(km);
}

/* Large inputs are sorted by a radix sort: the curve of 20,000 weighted
 * durations with many ties (and both zeros) is the product limit computed
 * here the slow way, time by time. */
static void a_large_weighted_sample_gives_the_product_limit(void **state) {
  (void)state;
  enum { N = 20000 };
  static double t[N], w[N];
  static int32_t e[N];
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < N; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    /* days and half days up to 400, some 0 and -0 */
    t[i] = i % 97 == 0 ? (i % 2 ? -0.0 : 0.0) : (double)(x % 801) / 2.0;
    e[i] = (int32_t)((x >> 20) % 3 != 0);
    w[i] = 0.5 + (double)((x >> 30) % 4);
  }
  pd_km *km = estimate(t, e, w, N);
  pd_km_curve c = PD_KM_CURVE_INIT;
  assert_int_equal(pd_km_get_curve(km, &c), PD_OK);
  double total = 0;
  for (int i = 0; i < N; i++) total += w[i];
  double s = 1, prev = -1;
  size_t r = 0;
  for (;;) {
    /* the next distinct time with an event, after prev */
    double next = INFINITY;
    for (int i = 0; i < N; i++)
      if (e[i] && t[i] > prev && t[i] < next) next = t[i];
    if (next == INFINITY) break;
    double at = 0, d = 0;
    for (int i = 0; i < N; i++) {
      if (t[i] >= next) at += w[i];
      if (e[i] && t[i] == next) d += w[i];
    }
    s *= 1 - d / at;
    assert_true(r < c.n);
    assert_true(c.time[r] == next);
    assert_near(c.at_risk[r], at, 1e-9 * total);
    assert_near(c.events[r], d, 1e-9 * total);
    assert_near(c.survival[r], s, 1e-12);
    r++;
    prev = next;
  }
  assert_int_equal(c.n, r);
  pd_km_free(km);
}

/* a's and b's curves: the same, bit for bit, over 1000 rows and more,
 * the first at time +0 (the samples hold zeros and -0). */
static void assert_same_long_curves_from_zero(const pd_km *a,
                                              const pd_km *b) {
  pd_km_curve ca = PD_KM_CURVE_INIT, cb = PD_KM_CURVE_INIT;
  assert_int_equal(pd_km_get_curve(a, &ca), PD_OK);
  assert_int_equal(pd_km_get_curve(b, &cb), PD_OK);
  assert_true(ca.n > 1000);
  assert_same_km_curves(&ca, &cb);
  assert_true(ca.time[0] == 0 && !signbit(ca.time[0])); /* -0 reads as 0 */
}

/* Without weights the observations are sorted as bare keys, with them
 * through an index: the two paths give the same curve, bit for bit, on a
 * sample large enough for the radix sort, with ties, zeros and -0. */
static void unweighted_and_unit_weights_give_the_same_curve(void **state) {
  (void)state;
  enum { N = 30000 };
  static double t[N], w[N];
  static int32_t e[N];
  uint64_t x = 2463534242ull;
  for (int i = 0; i < N; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    t[i] = i % 89 == 0 ? (i % 2 ? -0.0 : 0.0) : (double)(x % 5000) / 8.0;
    e[i] = (int32_t)((x >> 24) % 4 != 0);
    w[i] = 1.0;
  }
  pd_km *a = estimate(t, e, NULL, N), *b = estimate(t, e, w, N);
  assert_same_long_curves_from_zero(a, b);
  pd_km_free(a);
  pd_km_free(b);
}

/* Position i of the sample, ordered by duration only (-0 = 0), ties by
 * position: a stable sort. */
static const double *order_by;
static int by_duration_then_position(const void *x, const void *y) {
  size_t a = *(const size_t *)x, b = *(const size_t *)y;
  if (order_by[a] != order_by[b]) return order_by[a] < order_by[b] ? -1 : 1;
  return (a > b) - (a < b);
}

/* Durations already ascending are estimated as they come, without keys:
 * the same curve, bit for bit, as the sorted path gives on the same sample
 * shuffled, weighted (in quarters, so that every sum is exact in any
 * order) and not, with ties of events and censorings, zeros and -0; and
 * the only allocation is the curve. */
static void input_in_order_gives_the_same_curve_without_scratch(
    void **state) {
  (void)state;
  enum { N = 30000 };
  static double t[N], w[N], ts[N], ws[N];
  static int32_t e[N], es[N];
  static size_t at[N];
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < N; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    t[i] = i % 97 == 0 ? (i % 2 ? 0.0 : -0.0) : (double)(x % 3000) / 16.0;
    e[i] = (int32_t)((x >> 24) % 3 != 0);
    w[i] = (double)((x >> 40) % 7 + 1) / 4.0; /* sums exact in any order */
    at[i] = i;
  }
  order_by = t;
  qsort(at, N, sizeof *at, by_duration_then_position);
  for (size_t i = 0; i < N; i++)
    ts[i] = t[at[i]], es[i] = e[at[i]], ws[i] = w[at[i]];
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator a = test_alloc_allocator(&ta);
  pd_km_options o = PD_KM_OPTIONS_INIT;
  o.allocator = &a;
  for (int weighted = 0; weighted < 2; weighted++) {
    pd_km *shuffled = estimate(t, e, weighted ? w : NULL, N), *sorted = NULL;
    assert_int_equal(pd_km_new(&o, &sorted), PD_OK);
    long calls = atomic_load(&ta.calls);
    assert_int_equal(pd_km_estimate(sorted, ts, es, weighted ? ws : NULL, N),
                     PD_OK);
    assert_int_equal(atomic_load(&ta.calls) - calls, 1); /* the curve */
    assert_same_long_curves_from_zero(shuffled, sorted);
    pd_km_free(shuffled);
    pd_km_free(sorted);
  }
  /* Out of order only at its start: sorted first. */
  static const double t4[] = {2, 1, 3, 4};
  static const int32_t e4[] = {1, 1, 1, 1};
  pd_km *k4 = estimate(t4, e4, NULL, 4);
  pd_km_curve c4 = PD_KM_CURVE_INIT;
  assert_int_equal(pd_km_get_curve(k4, &c4), PD_OK);
  assert_int_equal(c4.n, 4);
  for (size_t i = 0; i < 4; i++) assert_true(c4.time[i] == (double)(i + 1));
  pd_km_free(k4);
}

static void band_is_greenwood_on_the_log_log_scale(void **state) {
  (void)state;
  pd_km *km = estimate(mp_time, mp_event, NULL, 21);
  pd_km_curve c = PD_KM_CURVE_INIT;
  assert_int_equal(pd_km_get_curve(km, &c), PD_OK);
  /* At t = 6: S = 6/7, Var log S = 3 / (21 * 18). */
  double s = 18.0 / 21.0, v = 3.0 / (21.0 * 18.0);
  double se = sqrt(v) / fabs(log(s)), z = 1.959963984540054;
  assert_near(c.lower[0], pow(s, exp(z * se)), 1e-12);
  assert_near(c.upper[0], pow(s, exp(-z * se)), 1e-12);
  /* R survfit(conf.type = "log-log") at t = 6: 0.620 .. 0.952. */
  assert_near(c.lower[0], 0.620, 0.0005);
  assert_near(c.upper[0], 0.952, 0.0005);
  for (size_t i = 0; i < c.n; i++)
    assert_true(c.lower[i] < c.survival[i] && c.survival[i] < c.upper[i]);
  pd_km_free(km);
}

static void confidence_level_is_configurable(void **state) {
  (void)state;
  pd_km_options o = PD_KM_OPTIONS_INIT;
  o.confidence = 0.90;
  pd_km *km = NULL;
  assert_int_equal(pd_km_new(&o, &km), PD_OK);
  assert_int_equal(pd_km_estimate(km, mp_time, mp_event, NULL, 21), PD_OK);
  pd_km_curve c = PD_KM_CURVE_INIT;
  assert_int_equal(pd_km_get_curve(km, &c), PD_OK);
  double s = 18.0 / 21.0, v = 3.0 / (21.0 * 18.0);
  double se = sqrt(v) / fabs(log(s)), z = 1.6448536269514722;
  assert_near(c.lower[0], pow(s, exp(z * se)), 1e-12);
  pd_km_free(km);
  o.confidence = 1.0;
  assert_int_equal(pd_km_new(&o, &km), PD_E_INVALID);
  o.confidence = 0.0 / 0.0;
  assert_int_equal(pd_km_new(&o, &km), PD_E_INVALID);
}

static void median_is_the_first_time_survival_reaches_one_half(
    void **state) {
  (void)state;
  pd_km *km = estimate(mp_time, mp_event, NULL, 21);
  double m = -1;
  assert_int_equal(pd_km_median(km, &m), PD_OK);
  assert_true(m == 23);
  /* Exactly 0.5 counts: two links, one ends at 3. */
  const double t[2] = {3, 5};
  const int32_t e[2] = {1, 0};
  assert_int_equal(pd_km_estimate(km, t, e, NULL, 2), PD_OK);
  assert_int_equal(pd_km_median(km, &m), PD_OK);
  assert_true(m == 3);
  pd_km_free(km);
}

static void median_not_reached_is_reported_distinctly(void **state) {
  (void)state;
  const double t[4] = {1, 2, 3, 4};
  const int32_t e[4] = {1, 0, 0, 0};
  pd_km *km = estimate(t, e, NULL, 4);
  double m = 42;
  assert_int_equal(pd_km_median(km, &m), PD_E_NOT_FOUND);
  assert_true(m == 42); /* untouched */
  pd_km_free(km);
}

static void weights_act_as_repeated_observations(void **state) {
  (void)state;
  /* The 6-MP data collapsed into distinct (time, event) with counts. */
  const double t[16] = {6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23,
                        25, 32};
  const int32_t e[16] = {1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0};
  const double w[16] = {3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2};
  /* ... plus 34* and 35* folded into one more row each. */
  double tt[18], ww[18];
  int32_t ee[18];
  memcpy(tt, t, sizeof t);
  memcpy(ee, e, sizeof e);
  memcpy(ww, w, sizeof w);
  tt[16] = 34; ee[16] = 0; ww[16] = 1;
  tt[17] = 35; ee[17] = 0; ww[17] = 1;
  pd_km *a = estimate(mp_time, mp_event, NULL, 21);
  pd_km *b = estimate(tt, ee, ww, 18);
  pd_km_curve ca = PD_KM_CURVE_INIT, cb = PD_KM_CURVE_INIT;
  assert_int_equal(pd_km_get_curve(a, &ca), PD_OK);
  assert_int_equal(pd_km_get_curve(b, &cb), PD_OK);
  assert_int_equal(ca.n, cb.n);
  for (size_t i = 0; i < ca.n; i++) {
    assert_near(ca.survival[i], cb.survival[i], 1e-15);
    assert_near(ca.lower[i], cb.lower[i], 1e-12);
  }
  pd_km_free(a);
  pd_km_free(b);
}

static void agrees_with_brute_force_on_random_data(void **state) {
  (void)state;
  enum { N = 400 };
  double t[N];
  int32_t e[N];
  uint64_t r = 1;
  for (int i = 0; i < N; i++) {
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    t[i] = (double)((r >> 33) % 60);
    e[i] = (int32_t)((r >> 20) & 1);
  }
  pd_km *km = estimate(t, e, NULL, N);
  for (double q = 0; q <= 61; q += 0.5) {
    /* Brute force: walk every integer time u <= q. */
    double s = 1;
    for (int u = 0; u <= (int)q; u++) {
      double at = 0, d = 0;
      for (int i = 0; i < N; i++) {
        if (t[i] >= u) at++;
        if (t[i] == u && e[i]) d++;
      }
      if (d > 0) s *= 1 - d / at;
    }
    double got = -1;
    assert_int_equal(pd_km_survival_at(km, q, &got), PD_OK);
    assert_near(got, s, 1e-12);
  }
  pd_km_free(km);
}

/* Each allocation of a new estimate fails in turn: PD_E_NOMEM, and the
 * previous curve stands, bit for bit; then the new estimate succeeds in
 * the same handle (its curve's block resized, larger and then smaller
 * again) and equals one from a fresh handle. */
static void out_of_memory_keeps_the_last_estimate(void **state) {
  (void)state;
  enum { N = 3000 };
  static double t[N];
  static int32_t e[N];
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < N; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    t[i] = (double)(x % 1000) / 4.0;
    e[i] = (int32_t)((x >> 30) % 2);
  }
  test_alloc ta;
  test_alloc_init(&ta);
  pd_allocator a = test_alloc_allocator(&ta);
  pd_km_options o = PD_KM_OPTIONS_INIT;
  o.allocator = &a;
  pd_km *km = NULL;
  assert_int_equal(pd_km_new(&o, &km), PD_OK);
  assert_int_equal(pd_km_estimate(km, mp_time, mp_event, NULL, 21), PD_OK);
  pd_km *mp = estimate(mp_time, mp_event, NULL, 21);
  pd_km *big = estimate(t, e, NULL, N);
  pd_km_curve want = PD_KM_CURVE_INIT, got = PD_KM_CURVE_INIT;
  int failed = 0;
  for (long k = 1;; k++) {
    test_alloc_fail_in(&ta, k);
    pd_status st = pd_km_estimate(km, t, e, NULL, N);
    test_alloc_fail_in(&ta, 0);
    if (st == PD_OK) break;
    assert_int_equal(st, PD_E_NOMEM);
    failed++;
    assert_int_equal(pd_km_get_curve(km, &got), PD_OK);
    assert_int_equal(pd_km_get_curve(mp, &want), PD_OK);
    assert_same_km_curves(&want, &got);
  }
  assert_true(failed >= 3); /* keys, the sort's scratch, the curve */
  assert_int_equal(pd_km_get_curve(km, &got), PD_OK);
  assert_int_equal(pd_km_get_curve(big, &want), PD_OK);
  assert_same_km_curves(&want, &got);
  assert_int_equal(pd_km_estimate(km, mp_time, mp_event, NULL, 21), PD_OK);
  assert_int_equal(pd_km_get_curve(km, &got), PD_OK);
  assert_int_equal(pd_km_get_curve(mp, &want), PD_OK);
  assert_same_km_curves(&want, &got);
  pd_km_free(km);
  pd_km_free(mp);
  pd_km_free(big);
}

static void survival_is_one_before_the_first_event(void **state) {
  (void)state;
  pd_km *km = estimate(mp_time, mp_event, NULL, 21);
  double s = 0;
  assert_int_equal(pd_km_survival_at(km, 5.999, &s), PD_OK);
  assert_true(s == 1.0);
  assert_int_equal(pd_km_survival_at(km, 1e9, &s), PD_OK);
  assert_near(s, 0.448, 0.0005);
  assert_int_equal(pd_km_survival_at(km, -1, &s), PD_E_RANGE);
  pd_km_free(km);
}

static void survival_reaching_zero_has_a_zero_band(void **state) {
  (void)state;
  const double t[3] = {1, 2, 3};
  const int32_t e[3] = {1, 1, 1};
  pd_km *km = estimate(t, e, NULL, 3);
  pd_km_curve c = PD_KM_CURVE_INIT;
  assert_int_equal(pd_km_get_curve(km, &c), PD_OK);
  assert_true(c.survival[2] == 0 && c.lower[2] == 0 && c.upper[2] == 0);
  for (size_t i = 0; i < c.n; i++)
    assert_false(isnan(c.lower[i]) || isnan(c.upper[i]));
  pd_km_free(km);
}

static void all_censored_gives_an_empty_curve(void **state) {
  (void)state;
  const double t[2] = {1, 2};
  const int32_t e[2] = {0, 0};
  pd_km *km = estimate(t, e, NULL, 2);
  pd_km_curve c = PD_KM_CURVE_INIT;
  assert_int_equal(pd_km_get_curve(km, &c), PD_OK);
  assert_int_equal(c.n, 0);
  double m;
  assert_int_equal(pd_km_median(km, &m), PD_E_NOT_FOUND);
  pd_km_free(km);
}

static void bad_input_is_rejected_and_keeps_the_last_estimate(void **state) {
  (void)state;
  pd_km *km = estimate(mp_time, mp_event, NULL, 21);
  double t[2] = {1, 2}, w[2] = {1, 1};
  int32_t e[2] = {1, 1};
  t[1] = -1;
  assert_int_equal(pd_km_estimate(km, t, e, NULL, 2), PD_E_RANGE);
  assert_non_null(strstr(pd_km_errmsg(km), "duration 1"));
  t[1] = 0.0 / 0.0;
  assert_int_equal(pd_km_estimate(km, t, e, NULL, 2), PD_E_RANGE);
  t[1] = 2;
  e[0] = 2;
  assert_int_equal(pd_km_estimate(km, t, e, NULL, 2), PD_E_INVALID);
  e[0] = 1;
  w[0] = -1;
  assert_int_equal(pd_km_estimate(km, t, e, w, 2), PD_E_RANGE);
  w[0] = 0;
  w[1] = 0;
  assert_int_equal(pd_km_estimate(km, t, e, w, 2), PD_E_INVALID);
  assert_int_equal(pd_km_estimate(km, t, e, NULL, 0), PD_E_INVALID);
  assert_int_equal(pd_km_estimate(NULL, t, e, NULL, 2), PD_E_MISUSE);
  double m;
  assert_int_equal(pd_km_median(km, &m), PD_OK);
  assert_true(m == 23);
  pd_km *fresh = NULL;
  assert_int_equal(pd_km_new(NULL, &fresh), PD_OK);
  assert_int_equal(pd_km_median(fresh, &m), PD_E_INVALID);
  pd_km_curve c = PD_KM_CURVE_INIT;
  c.size = 8;
  assert_int_equal(pd_km_get_curve(km, &c), PD_E_INVALID);
  pd_km_free(fresh);
  pd_km_free(NULL);
  pd_km_free(km);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(survival_is_the_product_limit_of_the_6mp_data),
      cmocka_unit_test(a_large_weighted_sample_gives_the_product_limit),
      cmocka_unit_test(unweighted_and_unit_weights_give_the_same_curve),
      cmocka_unit_test(input_in_order_gives_the_same_curve_without_scratch),
      cmocka_unit_test(band_is_greenwood_on_the_log_log_scale),
      cmocka_unit_test(confidence_level_is_configurable),
      cmocka_unit_test(median_is_the_first_time_survival_reaches_one_half),
      cmocka_unit_test(median_not_reached_is_reported_distinctly),
      cmocka_unit_test(weights_act_as_repeated_observations),
      cmocka_unit_test(agrees_with_brute_force_on_random_data),
      cmocka_unit_test(out_of_memory_keeps_the_last_estimate),
      cmocka_unit_test(survival_is_one_before_the_first_event),
      cmocka_unit_test(survival_reaching_zero_has_a_zero_band),
      cmocka_unit_test(all_censored_gives_an_empty_curve),
      cmocka_unit_test(bad_input_is_rejected_and_keeps_the_last_estimate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
