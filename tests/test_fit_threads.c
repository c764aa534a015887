/* pd_fit_options.threads as a specification: fits and per-customer
 * predictions of every customer model give bit-identical results (fit
 * info, log-likelihood, iterations, standard errors, prediction arrays)
 * for threads = 1, 2, 3 and 0 (one per processor). The inputs have tens
 * of thousands of distinct rows, above the size from which the library
 * uses several threads, so the threaded paths do run. */
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

#include "sim_rng.h"

static const int32_t thread_counts[] = {1, 2, 3, 0};
#define N_COUNTS (sizeof thread_counts / sizeof thread_counts[0])

/* Customers as columns, owned by the test. */
typedef struct sample {
  size_t n;
  double *x, *t_x, *T, *m;
} sample;

static void sample_alloc(sample *s, size_t n) {
  s->n = n;
  s->x = calloc(n, sizeof *s->x);
  s->t_x = calloc(n, sizeof *s->t_x);
  s->T = calloc(n, sizeof *s->T);
  s->m = calloc(n, sizeof *s->m);
  assert_true(s->x && s->t_x && s->T && s->m);
}

static void sample_free(sample *s) {
  free(s->x), free(s->t_x), free(s->T), free(s->m);
}

static pd_customer_data data_of(const sample *s, int with_monetary) {
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = s->n, d.x = s->x, d.t_x = s->t_x, d.T = s->T;
  d.monetary = with_monetary ? s->m : NULL;
  return d;
}

/* BG/NBD customers near the CDNOW estimate with continuous times (no two
 * rows alike, so nothing merges), ages 1..52 weeks, and Gamma-Gamma mean
 * spends for those with repeat purchases. */
static void simulate_bgnbd(sample *s, size_t n, uint64_t seed) {
  sample_alloc(s, n);
  sim_rng g = {seed};
  const double r = 0.25, alpha = 4.4, a = 0.8, b = 2.4;
  for (size_t i = 0; i < n; i++) {
    double lambda = sim_gamma(&g, r) / alpha;
    double ga = sim_gamma(&g, a), gb = sim_gamma(&g, b), p = ga / (ga + gb);
    double age = 1.0 + 51.0 * sim_uniform(&g), t = 0.0, last = 0.0;
    unsigned k = 0;
    for (;;) {
      t += -log(sim_uniform(&g)) / lambda;
      if (t > age) break;
      k++, last = t;
      if (sim_uniform(&g) < p) break;
    }
    s->x[i] = k, s->t_x[i] = last, s->T[i] = age;
    /* Mean spend: Gamma(p x, ν) averages with ν ~ Gamma(q, γ). */
    double nu = sim_gamma(&g, 4.0) / 10.0;
    s->m[i] = k > 0 ? sim_gamma(&g, 6.0 * k) / nu / k : 0.0;
  }
}

/* BG/BB histories over up to 150 opportunities: (x, t_x, n) with
 * 1 <= x <= t_x <= n, or x = t_x = 0. */
static void simulate_bgbb(sample *s, size_t n, uint64_t seed) {
  sample_alloc(s, n);
  sim_rng g = {seed};
  for (size_t i = 0; i < n; i++) {
    double ga = sim_gamma(&g, 1.2), gb = sim_gamma(&g, 0.75);
    double p = ga / (ga + gb);
    double gc = sim_gamma(&g, 0.65), gd = sim_gamma(&g, 2.8);
    double theta = gc / (gc + gd) * 0.05;
    unsigned opps = 1 + (unsigned)(sim_uniform(&g) * 150.0), x = 0, last = 0;
    for (unsigned k = 1; k <= opps; k++) {
      if (sim_uniform(&g) < theta) break;
      if (sim_uniform(&g) < p) x++, last = k;
    }
    s->x[i] = x, s->t_x[i] = x ? last : 0.0, s->T[i] = opps;
  }
}

static int cmp_row(const void *a, const void *b) {
  const double *p = a, *q = b;
  for (int k = 0; k < 4; k++)
    if (p[k] != q[k]) return p[k] < q[k] ? -1 : 1;
  return 0;
}

/* The number of distinct (x, t_x, T, monetary) rows: what an estimate
 * works on after merging identical rows. */
static size_t distinct_rows(const sample *s) {
  double *rows = malloc(s->n * 4 * sizeof *rows);
  assert_non_null(rows);
  for (size_t i = 0; i < s->n; i++) {
    rows[4 * i] = s->x[i], rows[4 * i + 1] = s->x[i] > 0 ? s->t_x[i] : 0.0;
    rows[4 * i + 2] = s->T[i], rows[4 * i + 3] = s->m[i];
  }
  qsort(rows, s->n, 4 * sizeof *rows, cmp_row);
  size_t d = s->n ? 1 : 0;
  for (size_t i = 1; i < s->n; i++)
    if (cmp_row(rows + 4 * (i - 1), rows + 4 * i) != 0) d++;
  free(rows);
  return d;
}

/* The library runs an estimate on several threads from this many
 * distinct rows (fit.h); the data of these tests must reach it. */
#define THREADED_ROWS 32768u

static pd_fit *new_fit(int32_t threads) {
  pd_fit_options o = PD_FIT_OPTIONS_INIT;
  o.threads = threads;
  pd_fit *fit = NULL;
  assert_int_equal(pd_fit_new(&o, &fit), PD_OK);
  return fit;
}

/* Estimates `model` on d with every thread count; the statuses and the
 * whole pd_fit_info must be byte for byte the same. Returns the fit of
 * threads = 1 (caller frees) and its info in *info. */
static pd_fit *fit_all_counts(int32_t model, const pd_customer_data *d,
                              pd_fit_info *info) {
  pd_fit *first = NULL;
  pd_status first_st = PD_OK;
  for (size_t k = 0; k < N_COUNTS; k++) {
    pd_fit *fit = new_fit(thread_counts[k]);
    pd_status st = pd_fit_estimate(fit, model, d);
    pd_fit_info got;
    memset(&got, 0, sizeof got);
    got.size = sizeof got;
    assert_int_equal(pd_fit_get(fit, &got), PD_OK);
    if (k == 0) {
      first = fit, first_st = st, *info = got;
      assert_int_equal(st, PD_OK);
      assert_int_equal(got.has_std_errors, 1);
      continue;
    }
    assert_int_equal(st, first_st);
    if (memcmp(&got, info, sizeof got) != 0)
      fail_msg("%s with threads=%d differs from threads=1 (loglik %.17g vs "
               "%.17g, iterations %d vs %d)",
               pd_model_name(model), (int)thread_counts[k], got.log_likelihood,
               info->log_likelihood, got.iterations, info->iterations);
    pd_fit_free(fit);
  }
  return first;
}

/* A fit with the parameters of `src` and the given thread count. */
static pd_fit *copy_with_threads(const pd_fit_info *src, int32_t threads) {
  pd_fit *fit = new_fit(threads);
  assert_int_equal(pd_fit_set_params(fit, src->model, src->params,
                                     src->n_params),
                   PD_OK);
  return fit;
}

enum { PRED_EXPECTED, PRED_ALIVE, PRED_SPEND, PRED_DERT };

static pd_status predict(pd_fit *fit, int what, const pd_customer_data *d,
                         double *out) {
  switch (what) {
  case PRED_EXPECTED: return pd_predict_expected_purchases(fit, d, 39.0, out);
  case PRED_ALIVE: return pd_predict_p_alive(fit, d, out);
  case PRED_SPEND: return pd_predict_expected_spend(fit, d, out);
  default: return pd_predict_dert(fit, d, 0.002, out);
  }
}

/* The prediction `what` from the parameters in info, for every thread
 * count: the arrays must be byte for byte the same (and finite). */
static void predictions_match(const pd_fit_info *info, int what,
                              const pd_customer_data *d) {
  double *ref = malloc(d->n * sizeof *ref), *got = malloc(d->n * sizeof *got);
  assert_true(ref && got);
  for (size_t k = 0; k < N_COUNTS; k++) {
    pd_fit *fit = copy_with_threads(info, thread_counts[k]);
    double *out = k == 0 ? ref : got;
    assert_int_equal(predict(fit, what, d, out), PD_OK);
    if (k == 0) {
      for (size_t i = 0; i < d->n; i++) assert_true(isfinite(ref[i]));
    } else if (memcmp(ref, got, d->n * sizeof *ref) != 0) {
      fail_msg("%s prediction %d with threads=%d differs from threads=1",
               pd_model_name(info->model), what, (int)thread_counts[k]);
    }
    pd_fit_free(fit);
  }
  free(ref), free(got);
}

/* ---- fits ------------------------------------------------------------ */

static void bgnbd_fit_and_predictions_are_identical_for_every_thread_count(
    void **state) {
  (void)state;
  sample s;
  simulate_bgnbd(&s, 60000, 11);
  assert_true(distinct_rows(&s) >= THREADED_ROWS);
  pd_customer_data d = data_of(&s, 0);
  pd_fit_info info;
  pd_fit_free(fit_all_counts(PD_MODEL_BGNBD, &d, &info));
  /* The simulated population is recovered (a test of the data too). */
  assert_true(fabs(info.params[0] / 0.25 - 1.0) < 0.1);
  predictions_match(&info, PRED_EXPECTED, &d);
  predictions_match(&info, PRED_ALIVE, &d);
  sample_free(&s);
}

static void mbgnbd_fit_and_predictions_are_identical_for_every_thread_count(
    void **state) {
  (void)state;
  sample s;
  simulate_bgnbd(&s, 40000, 12);
  pd_customer_data d = data_of(&s, 0);
  pd_fit_info info;
  pd_fit_free(fit_all_counts(PD_MODEL_MBGNBD, &d, &info));
  predictions_match(&info, PRED_EXPECTED, &d);
  predictions_match(&info, PRED_ALIVE, &d);
  sample_free(&s);
}

static void paretonbd_fit_predictions_and_dert_are_identical_for_every_thread_count(
    void **state) {
  (void)state;
  sample s;
  simulate_bgnbd(&s, 40000, 13);
  assert_true(distinct_rows(&s) >= THREADED_ROWS);
  pd_customer_data d = data_of(&s, 0);
  pd_fit_info info;
  pd_fit_free(fit_all_counts(PD_MODEL_PARETONBD, &d, &info));
  predictions_match(&info, PRED_EXPECTED, &d);
  predictions_match(&info, PRED_ALIVE, &d);
  predictions_match(&info, PRED_DERT, &d);
  sample_free(&s);
}

static void gammagamma_fit_and_spend_are_identical_for_every_thread_count(
    void **state) {
  (void)state;
  sample s;
  simulate_bgnbd(&s, 120000, 14);
  /* Rows are grouped by x: a group of 40,000 rows is split over the
   * threads. */
  sim_rng g = {140};
  for (size_t i = 0; i < s.n; i++) {
    double x = (double)(1 + i % 3), nu = sim_gamma(&g, 4.0) / 10.0;
    s.x[i] = x, s.t_x[i] = s.T[i] / 2;
    s.m[i] = sim_gamma(&g, 6.0 * x) / nu / x;
  }
  pd_customer_data d = data_of(&s, 1);
  pd_fit_info info;
  pd_fit_free(fit_all_counts(PD_MODEL_GAMMAGAMMA, &d, &info));
  predictions_match(&info, PRED_SPEND, &d);
  sample_free(&s);
}

static void bgbb_fit_and_predictions_are_identical_for_every_thread_count(
    void **state) {
  (void)state;
  sample s;
  simulate_bgbb(&s, 80000, 15);
  assert_true(distinct_rows(&s) >= THREADED_ROWS);
  pd_customer_data d = data_of(&s, 0);
  pd_fit_info info;
  pd_fit_free(fit_all_counts(PD_MODEL_BGBB, &d, &info));
  predictions_match(&info, PRED_EXPECTED, &d);
  predictions_match(&info, PRED_ALIVE, &d);
  sample_free(&s);
}

/* Above 2^19 distinct rows the fit starts from a fit on a sample of the
 * rows; that path too must not depend on the thread count, and must still
 * reach the full data's optimum (the gradient test at the end is on all
 * rows). */
static void a_fit_warm_started_from_a_sample_is_identical_for_every_thread_count(
    void **state) {
  (void)state;
  sample s;
  simulate_bgnbd(&s, 600000, 16);
  assert_true(distinct_rows(&s) >= ((size_t)1 << 19));
  pd_customer_data d = data_of(&s, 0);
  pd_fit_info info;
  pd_fit_free(fit_all_counts(PD_MODEL_BGNBD, &d, &info));
  assert_int_equal(info.converged, 1);
  const double truth[4] = {0.25, 4.4, 0.8, 2.4};
  for (int k = 0; k < 4; k++)
    if (!(fabs(info.params[k] / truth[k] - 1.0) < 0.1))
      fail_msg("parameter %d = %g, simulated with %g", k, info.params[k],
               truth[k]);
  /* Few passes over the full data: the sample fit did most of the work. */
  assert_true(info.iterations <= 12);
  sample_free(&s);
}

/* ---- CLV ------------------------------------------------------------- */

static void clv_is_identical_for_every_thread_count(void **state) {
  (void)state;
  sample s;
  simulate_bgnbd(&s, 50000, 17);
  pd_customer_data d = data_of(&s, 1);
  pd_fit_info tinfo, sinfo;
  pd_fit_free(fit_all_counts(PD_MODEL_BGNBD, &d, &tinfo));
  pd_fit *sp1 = fit_all_counts(PD_MODEL_GAMMAGAMMA, &d, &sinfo);
  pd_fit_free(sp1);
  double *ref = malloc(d.n * sizeof *ref), *got = malloc(d.n * sizeof *got);
  assert_true(ref && got);
  for (size_t k = 0; k < N_COUNTS; k++) {
    pd_fit *tf = copy_with_threads(&tinfo, thread_counts[k]);
    pd_fit *sf = copy_with_threads(&sinfo, thread_counts[k]);
    double *out = k == 0 ? ref : got;
    assert_int_equal(pd_predict_clv(tf, sf, &d, 12, 0.01, 4.345, out), PD_OK);
    if (k > 0 && memcmp(ref, got, d.n * sizeof *ref) != 0)
      fail_msg("CLV with threads=%d differs", (int)thread_counts[k]);
    pd_fit_free(tf), pd_fit_free(sf);
  }
  /* Not all zero: a real computation was compared. */
  double total = 0.0;
  for (size_t i = 0; i < d.n; i++) total += ref[i];
  assert_true(total > 0.0);
  free(ref), free(got);
  sample_free(&s);
}

/* ---- failures -------------------------------------------------------- */

/* A prediction that fails part-way names the first failing customer by
 * its index in the caller's rows, whatever block and thread met it, and
 * leaves out untouched where the function promises it. */
static void a_failing_row_is_reported_by_its_index_with_threads(void **state) {
  (void)state;
  sample s;
  simulate_bgnbd(&s, 100000, 18);
  for (size_t i = 0; i < s.n; i++)
    if (s.x[i] == 0.0) s.x[i] = 1.0, s.t_x[i] = s.T[i] / 2, s.m[i] = 10.0;
  /* With q = 0.5 the mean spend exists for x >= 1 only. */
  s.x[70001] = 0.0, s.t_x[70001] = 0.0;
  s.x[90000] = 0.0, s.t_x[90000] = 0.0;
  pd_customer_data d = data_of(&s, 1);
  const double params[3] = {1.0, 0.5, 10.0};
  double *out = malloc(s.n * sizeof *out);
  assert_non_null(out);
  for (size_t k = 0; k < N_COUNTS; k++) {
    pd_fit *fit = new_fit(thread_counts[k]);
    assert_int_equal(pd_fit_set_params(fit, PD_MODEL_GAMMAGAMMA, params, 3),
                     PD_OK);
    for (size_t i = 0; i < s.n; i++) out[i] = -7.0;
    assert_int_equal(pd_predict_expected_spend(fit, &d, out), PD_E_NUMERIC);
    assert_non_null(strstr(pd_fit_errmsg(fit), "customer 70001"));
    for (size_t i = 0; i < s.n; i++) assert_true(out[i] == -7.0);
    pd_fit_free(fit);
  }
  free(out);
  sample_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(
          bgnbd_fit_and_predictions_are_identical_for_every_thread_count),
      cmocka_unit_test(
          mbgnbd_fit_and_predictions_are_identical_for_every_thread_count),
      cmocka_unit_test(
          paretonbd_fit_predictions_and_dert_are_identical_for_every_thread_count),
      cmocka_unit_test(
          gammagamma_fit_and_spend_are_identical_for_every_thread_count),
      cmocka_unit_test(
          bgbb_fit_and_predictions_are_identical_for_every_thread_count),
      cmocka_unit_test(
          a_fit_warm_started_from_a_sample_is_identical_for_every_thread_count),
      cmocka_unit_test(clv_is_identical_for_every_thread_count),
      cmocka_unit_test(a_failing_row_is_reported_by_its_index_with_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
