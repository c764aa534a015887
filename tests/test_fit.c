/* Specification of the pd_fit handle (include/privdomain/fit.h) through the
 * public API only: model names, options, handle misuse, data validation
 * (status, message naming the row, fit unchanged), weighted rows, the
 * not-converged contract and out-of-memory at every allocation. */
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
#include "testutil_alloc.h"
#include "testutil_models.h"

static pd_fit *new_fit(void) {
  pd_fit *fit = NULL;
  assert_int_equal(pd_fit_new(NULL, &fit), PD_OK);
  return fit;
}

/* 12 distinct customers, each repeated per WEIGHTS when expanded. */
static const double X[] = {0, 1, 2, 0, 5, 3, 0, 1, 7, 2, 0, 4};
static const double TX[] = {0, 3.5, 20.1, 0, 30.0, 11.0, 0, 36.0, 37.5, 5.0, 0, 25.0};
static const double TT[] = {38.0, 38.0, 38.0, 20.0, 39.0, 39.0, 12.0, 36.0, 39.0, 30.0, 5.0, 27.0};
static const double WEIGHTS[] = {40, 6, 3, 25, 2, 4, 30, 5, 1, 3, 12, 2};
enum { ROWS = 12 };

static pd_customer_data weighted(void) {
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = ROWS, d.x = X, d.t_x = TX, d.T = TT, d.weight = WEIGHTS;
  return d;
}

/* A well-identified base: BG/NBD customers on a weekly grid, so many rows
 * repeat. raw_* hold every customer; uniq_* the distinct rows in order of
 * first appearance with their counts. */
enum { RAW = 3000 };
static double raw_x[RAW], raw_tx[RAW], raw_T[RAW];
static double uniq_x[RAW], uniq_tx[RAW], uniq_T[RAW], uniq_w[RAW];
static size_t n_uniq;

static void make_base(void) {
  if (n_uniq) return;
  sim_rng g = {99};
  for (size_t i = 0; i < RAW; i++) {
    double lambda = sim_gamma(&g, 0.6) / 5.0, drop = sim_beta(&g, 0.9, 3.0);
    double age = 20.0 + floor(20.0 * sim_uniform(&g)), t = 0, last = 0, k = 0;
    for (;;) {
      t += -log(sim_uniform(&g)) / lambda;
      if (t > age) break;
      k++, last = floor(t);
      if (sim_uniform(&g) < drop) break;
    }
    raw_x[i] = k, raw_tx[i] = last, raw_T[i] = age;
    size_t j = 0;
    while (j < n_uniq && !(uniq_x[j] == k && uniq_tx[j] == last && uniq_T[j] == age)) j++;
    if (j == n_uniq) uniq_x[j] = k, uniq_tx[j] = last, uniq_T[j] = age, uniq_w[j] = 0, n_uniq++;
    uniq_w[j] += 1.0;
  }
}

static pd_customer_data base_weighted(void) {
  make_base();
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = n_uniq, d.x = uniq_x, d.t_x = uniq_tx, d.T = uniq_T, d.weight = uniq_w;
  return d;
}

static void model_names_round_trip_and_are_fixed(void **state) {
  (void)state;
  const char *names[] = {NULL, "bgnbd", "mbgnbd", "paretonbd", "gammagamma", "bgbb", "sbg"};
  const uint32_t counts[] = {0, 4, 4, 4, 3, 4, 2};
  for (int32_t k = 1; k <= 6; k++) {
    assert_string_equal(pd_model_name(k), names[k]);
    assert_int_equal(pd_model_from_name(names[k]), k);
    assert_int_equal(pd_model_param_count(k), counts[k]);
    assert_null(pd_model_param_name(k, counts[k]));
  }
  assert_int_equal(PD_MODEL_BGNBD, 1);
  assert_int_equal(PD_MODEL_SBG, 6);
  assert_string_equal(pd_model_param_name(PD_MODEL_BGNBD, 1), "alpha");
  assert_string_equal(pd_model_param_name(PD_MODEL_PARETONBD, 2), "s");
  assert_string_equal(pd_model_param_name(PD_MODEL_PARETONBD, 3), "beta");
  assert_string_equal(pd_model_param_name(PD_MODEL_GAMMAGAMMA, 2), "gamma");
  assert_string_equal(pd_model_param_name(PD_MODEL_BGBB, 3), "delta");
  assert_null(pd_model_name(0));
  assert_null(pd_model_name(7));
  assert_null(pd_model_name(-1));
  assert_int_equal(pd_model_from_name("BGNBD"), 0);
  assert_int_equal(pd_model_from_name(NULL), 0);
  assert_int_equal(pd_model_param_count(99), 0);
}

static void options_are_checked(void **state) {
  (void)state;
  pd_fit *fit = NULL;
  assert_int_equal(pd_fit_new(NULL, NULL), PD_E_INVALID);
  pd_fit_options o = PD_FIT_OPTIONS_INIT;
  o.size = sizeof o - 1;
  assert_int_equal(pd_fit_new(&o, &fit), PD_E_INVALID);
  assert_null(fit);
  o = (pd_fit_options)PD_FIT_OPTIONS_INIT;
  o.max_iterations = 0;
  assert_int_equal(pd_fit_new(&o, &fit), PD_E_INVALID);
  o = (pd_fit_options)PD_FIT_OPTIONS_INIT;
  o.tolerance = NAN;
  assert_int_equal(pd_fit_new(&o, &fit), PD_E_INVALID);
  o = (pd_fit_options)PD_FIT_OPTIONS_INIT;
  o.threads = 65;
  assert_int_equal(pd_fit_new(&o, &fit), PD_E_INVALID);
  pd_allocator half = {NULL, NULL, NULL, NULL};
  o = (pd_fit_options)PD_FIT_OPTIONS_INIT;
  o.allocator = &half;
  assert_int_equal(pd_fit_new(&o, &fit), PD_E_INVALID);
  /* A newer caller's larger struct is accepted when the extra is zero. */
  struct {
    pd_fit_options o;
    int64_t future;
  } big;
  memset(&big, 0, sizeof big);
  big.o = (pd_fit_options)PD_FIT_OPTIONS_INIT;
  big.o.size = sizeof big;
  assert_int_equal(pd_fit_new(&big.o, &fit), PD_OK);
  pd_fit_free(fit);
  big.future = 1;
  assert_int_equal(pd_fit_new(&big.o, &fit), PD_E_INVALID);
}

static void misused_handles_get_a_misuse_status_not_a_crash(void **state) {
  (void)state;
  pd_customer_data d = weighted();
  pd_fit_info info = PD_FIT_INFO_INIT;
  double out[ROWS], p[4] = {1, 1, 1, 1};
  assert_int_equal(pd_fit_estimate(NULL, PD_MODEL_BGNBD, &d), PD_E_MISUSE);
  assert_int_equal(pd_fit_get(NULL, &info), PD_E_MISUSE);
  assert_int_equal(pd_fit_set_params(NULL, PD_MODEL_BGNBD, p, 4), PD_E_MISUSE);
  assert_int_equal(pd_predict_p_alive(NULL, &d, out), PD_E_MISUSE);
  assert_int_equal(pd_predict_unconditional_purchases(NULL, 1.0, out), PD_E_MISUSE);
  assert_non_null(pd_fit_errmsg(NULL));
  pd_fit_free(NULL);
  /* A foreign object is detected by its magic. */
  uint64_t junk[64];
  memset(junk, 0x5A, sizeof junk);
  assert_int_equal(pd_fit_estimate((pd_fit *)(void *)junk, PD_MODEL_BGNBD, &d), PD_E_MISUSE);
  assert_int_equal(pd_fit_get((pd_fit *)(void *)junk, &info), PD_E_MISUSE);
  pd_fit_free((pd_fit *)(void *)junk); /* ignored */
}

static void an_empty_fit_has_no_model_and_cannot_predict(void **state) {
  (void)state;
  pd_fit *fit = new_fit();
  pd_fit_info info = PD_FIT_INFO_INIT;
  assert_int_equal(pd_fit_get(fit, &info), PD_OK);
  assert_int_equal(info.model, 0);
  assert_int_equal(info.estimated, 0);
  double e;
  assert_int_equal(pd_predict_unconditional_purchases(fit, 1.0, &e), PD_E_INVALID);
  assert_true(strlen(pd_fit_errmsg(fit)) > 0);
  pd_fit_info small = PD_FIT_INFO_INIT;
  small.size = sizeof small - 8;
  assert_int_equal(pd_fit_get(fit, &small), PD_E_INVALID);
  assert_int_equal(pd_fit_get(fit, NULL), PD_E_INVALID);
  pd_fit_free(fit);
}

static void set_params_validates_and_clears_estimates(void **state) {
  (void)state;
  pd_fit *fit = new_fit();
  const double good[4] = {0.5, 4.0, 0.8, 2.5};
  double bad[4] = {0.5, 4.0, 0.8, 2.5};
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, good, 3), PD_E_INVALID);
  assert_int_equal(pd_fit_set_params(fit, 42, good, 4), PD_E_INVALID);
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, NULL, 4), PD_E_INVALID);
  bad[2] = 0.0;
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, bad, 4), PD_E_RANGE);
  assert_non_null(strstr(pd_fit_errmsg(fit), "a = 0"));
  bad[2] = INFINITY;
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, bad, 4), PD_E_RANGE);
  pd_fit_info info = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &info);
  assert_int_equal(info.model, 0); /* unchanged by the failures */
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, good, 4), PD_OK);
  pd_fit_get(fit, &info);
  assert_int_equal(info.model, PD_MODEL_BGNBD);
  assert_int_equal(info.n_params, 4);
  assert_memory_equal(info.params, good, sizeof good);
  assert_int_equal(info.estimated, 0);
  assert_int_equal(info.has_std_errors, 0);
  assert_string_equal(pd_fit_errmsg(fit), "");
  pd_fit_free(fit);
}

/* Runs an estimate expected to fail with `want` and a message containing
 * `needle`, and checks the fit kept its earlier estimate. */
static void expect_rejected(pd_fit *fit, const pd_customer_data *d, pd_status want,
                            const char *needle) {
  pd_fit_info before = PD_FIT_INFO_INIT, after = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &before);
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGNBD, d), want);
  if (!strstr(pd_fit_errmsg(fit), needle))
    fail_msg("message \"%s\" lacks \"%s\"", pd_fit_errmsg(fit), needle);
  pd_fit_get(fit, &after);
  assert_memory_equal(&before, &after, sizeof before);
}

static void invalid_data_is_rejected_naming_the_first_bad_row(void **state) {
  (void)state;
  pd_fit *fit = new_fit();
  pd_customer_data d = weighted();
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGNBD, &d), PD_OK);
  double x[ROWS], tx[ROWS], T[ROWS], w[ROWS];
#define RESET() \
  (memcpy(x, X, sizeof x), memcpy(tx, TX, sizeof tx), memcpy(T, TT, sizeof T), \
   memcpy(w, WEIGHTS, sizeof w))
  d.x = x, d.t_x = tx, d.T = T, d.weight = w;
  RESET(), x[3] = -1;
  expect_rejected(fit, &d, PD_E_RANGE, "customer 3");
  RESET(), x[4] = 2.5;
  expect_rejected(fit, &d, PD_E_INVALID, "customer 4");
  RESET(), tx[5] = 40.0;
  expect_rejected(fit, &d, PD_E_RANGE, "customer 5");
  RESET(), T[6] = -1.0, tx[6] = 0.0;
  expect_rejected(fit, &d, PD_E_RANGE, "customer 6");
  RESET(), T[1] = 0.0, tx[1] = 0.0; /* x = 1 needs an age */
  expect_rejected(fit, &d, PD_E_RANGE, "customer 1");
  RESET(), T[2] = NAN;
  expect_rejected(fit, &d, PD_E_RANGE, "customer 2");
  RESET(), tx[1] = INFINITY;
  expect_rejected(fit, &d, PD_E_RANGE, "customer 1");
  RESET(), w[7] = -1;
  expect_rejected(fit, &d, PD_E_RANGE, "customer 7");
  RESET(), x[9] = -3, x[10] = -1; /* the first of two bad rows */
  expect_rejected(fit, &d, PD_E_RANGE, "customer 9");
  RESET(), memset(w, 0, sizeof w);
  expect_rejected(fit, &d, PD_E_RANGE, "total weight");
  RESET(), d.n = 0;
  expect_rejected(fit, &d, PD_E_INVALID, "n = 0");
  d.n = ROWS, d.x = NULL;
  expect_rejected(fit, &d, PD_E_INVALID, "x, t_x and T");
  d = weighted(), d.size = 8;
  expect_rejected(fit, &d, PD_E_INVALID, "size");
  d = weighted();
  assert_int_equal(pd_fit_estimate(fit, 99, &d), PD_E_INVALID);
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGNBD, NULL), PD_E_INVALID);
  pd_fit_free(fit);
#undef RESET
}

static void weighted_rows_fit_exactly_like_the_expanded_rows(void **state) {
  (void)state;
  pd_customer_data d = base_weighted();
  assert_true(n_uniq < RAW / 2); /* the weights do compress */
  pd_customer_data e = PD_CUSTOMER_DATA_INIT;
  e.n = RAW, e.x = raw_x, e.t_x = raw_tx, e.T = raw_T;
  const int32_t models[] = {PD_MODEL_BGNBD, PD_MODEL_MBGNBD, PD_MODEL_PARETONBD};
  for (int m = 0; m < 3; m++) {
    pd_fit *a = new_fit(), *b = new_fit();
    assert_int_equal(pd_fit_estimate(a, models[m], &d), PD_OK);
    assert_int_equal(pd_fit_estimate(b, models[m], &e), PD_OK);
    pd_fit_info ia = PD_FIT_INFO_INIT, ib = PD_FIT_INFO_INIT;
    pd_fit_get(a, &ia);
    pd_fit_get(b, &ib);
    assert_memory_equal(ia.params, ib.params, sizeof ia.params);
    assert_memory_equal(ia.std_errors, ib.std_errors, sizeof ia.std_errors);
    assert_true(ia.log_likelihood == ib.log_likelihood);
    assert_true(ia.n_customers == (double)RAW && ib.n_customers == (double)RAW);
    pd_fit_free(a);
    pd_fit_free(b);
  }
}

/* Beyond a million rows (more than the packing scratch would hold if it
 * were sized by rows) identical rows are still merged: the fit equals the
 * fit of the weighted distinct rows, and it costs per distinct row. */
static void millions_of_repeated_rows_fit_like_their_weighted_form(void **state) {
  (void)state;
  enum { COPIES = 400 }; /* 1.2M rows, > 2^20 */
  make_base();
  size_t n = (size_t)RAW * COPIES;
  double *x = malloc(3 * n * sizeof *x);
  assert_non_null(x);
  double *tx = x + n, *T = tx + n;
  for (size_t i = 0; i < n; i++)
    x[i] = raw_x[i % RAW], tx[i] = raw_tx[i % RAW], T[i] = raw_T[i % RAW];
  double w[RAW];
  for (size_t j = 0; j < n_uniq; j++) w[j] = uniq_w[j] * COPIES;
  pd_customer_data big = PD_CUSTOMER_DATA_INIT, d = base_weighted();
  big.n = n, big.x = x, big.t_x = tx, big.T = T;
  d.weight = w;
  pd_fit *a = new_fit(), *b = new_fit();
  assert_int_equal(pd_fit_estimate(a, PD_MODEL_BGNBD, &big), PD_OK);
  assert_int_equal(pd_fit_estimate(b, PD_MODEL_BGNBD, &d), PD_OK);
  pd_fit_info ia = PD_FIT_INFO_INIT, ib = PD_FIT_INFO_INIT;
  pd_fit_get(a, &ia);
  pd_fit_get(b, &ib);
  assert_true(ia.converged);
  assert_memory_equal(ia.params, ib.params, sizeof ia.params);
  assert_true(ia.log_likelihood == ib.log_likelihood);
  assert_true(ia.n_customers == (double)n);
  pd_fit_free(a);
  pd_fit_free(b);
  free(x);
}

static void an_unconverged_fit_keeps_the_last_iterate_marked(void **state) {
  (void)state;
  pd_fit_options o = PD_FIT_OPTIONS_INIT;
  o.max_iterations = 2;
  pd_fit *fit = NULL;
  assert_int_equal(pd_fit_new(&o, &fit), PD_OK);
  pd_customer_data d = weighted();
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGNBD, &d), PD_E_NO_CONVERGENCE);
  assert_non_null(strstr(pd_fit_errmsg(fit), "converge"));
  pd_fit_info info = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &info);
  assert_int_equal(info.model, PD_MODEL_BGNBD);
  assert_int_equal(info.converged, 0);
  assert_int_equal(info.estimated, 1);
  assert_int_equal(info.has_std_errors, 0);
  assert_int_equal(info.iterations, 2);
  for (int i = 0; i < 4; i++) assert_true(isfinite(info.params[i]) && info.params[i] > 0);
  assert_true(isfinite(info.log_likelihood) && info.log_likelihood < 0);
  /* It can still predict. */
  double e;
  assert_int_equal(pd_predict_unconditional_purchases(fit, 10.0, &e), PD_OK);
  pd_fit_free(fit);
}

static void prediction_arguments_are_checked(void **state) {
  (void)state;
  pd_fit *fit = new_fit();
  const double p[4] = {0.5, 4.0, 0.8, 2.5};
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, p, 4), PD_OK);
  pd_customer_data d = weighted();
  double out[ROWS];
  out[0] = -7.0;
  assert_int_equal(pd_predict_expected_purchases(fit, &d, -1.0, out), PD_E_RANGE);
  assert_int_equal(pd_predict_expected_purchases(fit, &d, NAN, out), PD_E_RANGE);
  assert_true(out[0] == -7.0); /* untouched */
  assert_int_equal(pd_predict_expected_purchases(fit, &d, 1.0, NULL), PD_E_INVALID);
  assert_int_equal(pd_predict_unconditional_purchases(fit, INFINITY, out), PD_E_RANGE);
  assert_int_equal(pd_predict_p_purchases(fit, 1, -2.0, out), PD_E_RANGE);
  double tx[ROWS];
  memcpy(tx, TX, sizeof tx);
  tx[4] = 50.0;
  d.t_x = tx;
  assert_int_equal(pd_predict_p_alive(fit, &d, out), PD_E_RANGE);
  assert_non_null(strstr(pd_fit_errmsg(fit), "customer 4"));
  /* sBG parameters offer no per-customer purchase predictions. */
  const double sbg[2] = {1.0, 2.0};
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_SBG, sbg, 2), PD_OK);
  d = weighted();
  assert_int_equal(pd_predict_p_alive(fit, &d, out), PD_E_INVALID);
  pd_fit_free(fit);
}

static void every_allocation_failure_is_clean_and_leaks_nothing(void **state) {
  (void)state;
  pd_customer_data d = base_weighted();
  const int32_t models[] = {PD_MODEL_BGNBD, PD_MODEL_MBGNBD, PD_MODEL_PARETONBD};
  long injected = 0; /* reported by docs/RELIABILITY.md */
  for (int m = 0; m < 3; m++) {
    for (long k = 1;; k++) {
      test_alloc f;
      test_alloc_init(&f);
      pd_allocator a = test_alloc_allocator(&f);
      test_alloc_fail_in(&f, k);
      pd_fit_options o = PD_FIT_OPTIONS_INIT;
      o.allocator = &a;
      pd_fit *fit = NULL;
      pd_status st = pd_fit_new(&o, &fit);
      if (st == PD_E_NOMEM) {
        assert_null(fit);
        assert_int_equal(atomic_load(&f.live), 0);
        continue;
      }
      assert_int_equal(st, PD_OK);
      st = pd_fit_estimate(fit, models[m], &d);
      pd_fit_info info = PD_FIT_INFO_INIT;
      pd_fit_get(fit, &info);
      if (st == PD_E_NOMEM) {
        assert_int_equal(info.model, 0); /* unchanged */
        assert_non_null(strstr(pd_fit_errmsg(fit), "out of memory"));
        assert_int_equal(atomic_load(&f.live), 1); /* only the handle */
      } else {
        assert_int_equal(st, PD_OK);
        assert_int_equal(info.model, models[m]);
      }
      pd_fit_free(fit);
      assert_int_equal(atomic_load(&f.live), 0);
      if (st == PD_OK) break;
      injected++;
      assert_true(k < 50);
    }
  }
  printf("OOM injection: %ld failed allocations in fit creation and "
         "estimation, each clean and leak-free\n",
         injected);
}


/* A customer acquired at the very end of calibration (x = 0, T = 0) has
 * likelihood 1: adding such rows changes no estimate, and its predictions
 * are those of a new customer (alive, unconditional expectation). */
static void customers_acquired_at_the_end_add_nothing_to_the_fit(void **s) {
  (void)s;
  const int32_t models[] = {PD_MODEL_BGNBD, PD_MODEL_MBGNBD,
                            PD_MODEL_PARETONBD};
  pd_customer_data d = base_weighted();
  static double x[RAW + 2], tx[RAW + 2], T[RAW + 2], w[RAW + 2];
  size_t n = d.n;
  memcpy(x, d.x, n * sizeof *x), memcpy(tx, d.t_x, n * sizeof *tx);
  memcpy(T, d.T, n * sizeof *T), memcpy(w, d.weight, n * sizeof *w);
  x[n] = x[n + 1] = 0, tx[n] = tx[n + 1] = 0;
  T[n] = T[n + 1] = 0, w[n] = 7, w[n + 1] = 1;
  pd_customer_data more_d = d;
  more_d.n = n + 2, more_d.x = x, more_d.t_x = tx, more_d.T = T;
  more_d.weight = w;
  for (size_t m = 0; m < sizeof models / sizeof *models; m++) {
    pd_fit *base = new_fit(), *more = new_fit();
    assert_int_equal(pd_fit_estimate(base, models[m], &d), PD_OK);
    assert_int_equal(pd_fit_estimate(more, models[m], &more_d), PD_OK);
    pd_fit_info a = PD_FIT_INFO_INIT, b = PD_FIT_INFO_INIT;
    assert_int_equal(pd_fit_get(base, &a), PD_OK);
    assert_int_equal(pd_fit_get(more, &b), PD_OK);
    assert_true(fabs(a.log_likelihood - b.log_likelihood) <=
                1e-9 * fabs(a.log_likelihood));
    /* Same optimum; the optimiser stops within a small fraction of a
     * standard error of it. */
    for (uint32_t k = 0; k < a.n_params; k++)
      assert_true(fabs(a.params[k] - b.params[k]) <= 1e-3 * a.std_errors[k]);
    double alive[RAW + 2], expect[RAW + 2], uncond;
    assert_int_equal(pd_predict_p_alive(more, &more_d, alive), PD_OK);
    assert_int_equal(
        pd_predict_expected_purchases(more, &more_d, 10.0, expect), PD_OK);
    assert_int_equal(pd_predict_unconditional_purchases(more, 10.0, &uncond),
                     PD_OK);
    /* MBG/NBD lets a customer drop out at the first purchase itself:
     * alive at T = 0 with probability b / (a + b); the others, surely. */
    double want_alive = models[m] == PD_MODEL_MBGNBD
                            ? b.params[3] / (b.params[2] + b.params[3])
                            : 1.0;
    assert_true(fabs(alive[n] - want_alive) < 1e-12);
    assert_true(fabs(expect[n] - uncond) <= 1e-9 * uncond);
    pd_fit_free(base);
    pd_fit_free(more);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(model_names_round_trip_and_are_fixed),
      cmocka_unit_test(options_are_checked),
      cmocka_unit_test(misused_handles_get_a_misuse_status_not_a_crash),
      cmocka_unit_test(an_empty_fit_has_no_model_and_cannot_predict),
      cmocka_unit_test(set_params_validates_and_clears_estimates),
      cmocka_unit_test(invalid_data_is_rejected_naming_the_first_bad_row),
      cmocka_unit_test(weighted_rows_fit_exactly_like_the_expanded_rows),
      cmocka_unit_test(millions_of_repeated_rows_fit_like_their_weighted_form),
      cmocka_unit_test(customers_acquired_at_the_end_add_nothing_to_the_fit),
      cmocka_unit_test(an_unconverged_fit_keeps_the_last_iterate_marked),
      cmocka_unit_test(prediction_arguments_are_checked),
      cmocka_unit_test(every_allocation_failure_is_clean_and_leaks_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
