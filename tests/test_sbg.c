/* Specification of the shifted-beta-geometric retention model (Fader &
 * Hardie 2007): survival and retention curves, the likelihood of survivor
 * counts and its gradient, DERL, the published fits, recovery of simulated
 * parameters, and input validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include <privdomain/fit.h>
#include <privdomain/retention.h>

#include "models/sbg.h"
#include "sim_rng.h"

static void assert_close(double got, double want, double rel) {
  double tol = rel * (fabs(want) > 1.0 ? fabs(want) : 1.0);
  if (!(fabs(got - want) <= tol)) fail_msg("got %.12g, want %.12g", got, want);
}

static double lbeta_ref(double a, double b) {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

static const double regular[8] = {1000, 631, 468, 382, 326, 289, 262, 241};
static const double high_end[8] = {1000, 869, 743, 653, 593, 551, 517, 491};

static void survival_is_the_product_of_retention_rates(void **state) {
  (void)state;
  const double a = 0.704, b = 1.182;
  double s = 1.0;
  assert_close(pd_sbg_survival(a, b, 0), 1.0, 0);
  for (int t = 1; t <= 50; t++) {
    s *= pd_sbg_retention(a, b, t);
    assert_close(pd_sbg_survival(a, b, t), s, 1e-12);
    assert_close(pd_sbg_survival(a, b, t),
                 exp(lbeta_ref(a, b + t) - lbeta_ref(a, b)), 1e-12);
  }
  /* Retention rises with tenure: the heterogeneity the model is for. */
  for (int t = 2; t <= 50; t++)
    assert_true(pd_sbg_retention(a, b, t) > pd_sbg_retention(a, b, t - 1));
}

static void likelihood_is_churners_times_pmf_plus_survivors_times_s(
    void **state) {
  (void)state;
  const double a = 0.668, b = 3.806, lp[2] = {log(a), log(b)};
  double want = 0;
  for (int t = 1; t <= 7; t++)
    want += (high_end[t - 1] - high_end[t]) *
            (lbeta_ref(a + 1, b + t - 1) - lbeta_ref(a, b));
  want += high_end[7] * (lbeta_ref(a, b + 7) - lbeta_ref(a, b));
  assert_close(-pd_sbg_negll(lp, 8, high_end, NULL), want, 1e-12);
}

static void gradient_matches_central_differences(void **state) {
  (void)state;
  const double zeros[5] = {500, 200, 0, 0, 0};
  const double *data[] = {regular, high_end, zeros};
  const size_t len[] = {8, 8, 5};
  const double points[][2] = {{0.7, 1.2}, {0.05, 30}, {12, 0.4}};
  for (int d = 0; d < 3; d++)
    for (int k = 0; k < 3; k++) {
      double lp[2] = {log(points[k][0]), log(points[k][1])}, g[2];
      pd_sbg_negll(lp, len[d], data[d], g);
      for (int j = 0; j < 2; j++) {
        double h = 1e-5, save = lp[j];
        lp[j] = save + h;
        double up = pd_sbg_negll(lp, len[d], data[d], NULL);
        lp[j] = save - h;
        double dn = pd_sbg_negll(lp, len[d], data[d], NULL);
        lp[j] = save;
        assert_close(g[j], (up - dn) / (2 * h), 1e-6);
      }
    }
}

/* DERL by brute force: the discounted sum of renewal probabilities,
 * carried until the terms vanish. */
static double derl_ref(double a, double b, double d, int renewals) {
  double sum = 0, surv = 1, disc = 1;
  for (int j = 0; j < 200000; j++) {
    surv *= pd_sbg_retention(a, b, renewals + 1 + j);
    sum += surv * disc;
    disc /= 1 + d;
    if (surv * disc < 1e-18) break;
  }
  return sum;
}

static void derl_closed_form_equals_the_discounted_sum(void **state) {
  (void)state;
  const double fits[][2] = {{0.704, 1.182}, {0.668, 3.806}, {5, 0.3}};
  const double rates[] = {0.1, 0.01, 0.5};
  for (int f = 0; f < 3; f++)
    for (int r = 0; r < 3; r++)
      for (int n = 0; n <= 20; n += 4)
        assert_close(pd_sbg_derl(fits[f][0], fits[f][1], rates[r], n),
                     derl_ref(fits[f][0], fits[f][1], rates[r], n), 1e-10);
  /* A customer with a longer tenure is worth more (Fader & Hardie 2010). */
  assert_true(pd_sbg_derl(0.704, 1.182, 0.1, 5) >
              pd_sbg_derl(0.704, 1.182, 0.1, 1));
}

static pd_fit *new_fit(void) {
  pd_fit *fit = NULL;
  assert_int_equal(pd_fit_new(NULL, &fit), PD_OK);
  return fit;
}

/* Fader & Hardie (2007), Figure 3: regular α = 0.704, β = 1.182,
 * LL = −1680.3; high end α = 0.668, β = 3.806, LL = −1611.2. */
static void published_regular_and_high_end_fits_are_reproduced(void **state) {
  (void)state;
  const double *data[2] = {regular, high_end};
  const double want[2][3] = {{0.704, 1.182, -1680.3}, {0.668, 3.806, -1611.2}};
  for (int k = 0; k < 2; k++) {
    pd_fit *fit = new_fit();
    assert_int_equal(pd_fit_estimate_sbg(fit, data[k], 8), PD_OK);
    pd_fit_info info = PD_FIT_INFO_INIT;
    assert_int_equal(pd_fit_get(fit, &info), PD_OK);
    assert_int_equal(info.model, PD_MODEL_SBG);
    assert_true(fabs(info.params[0] - want[k][0]) < 0.001);
    assert_true(fabs(info.params[1] - want[k][1]) < 0.001);
    assert_true(fabs(info.log_likelihood - want[k][2]) < 0.05);
    assert_close(info.n_customers, 1000, 0);
    pd_fit_free(fit);
  }
}

static void projections_extend_the_observed_counts(void **state) {
  (void)state;
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_estimate_sbg(fit, regular, 8), PD_OK);
  pd_fit_info info = PD_FIT_INFO_INIT;
  assert_int_equal(pd_fit_get(fit, &info), PD_OK);
  double a = info.params[0], b = info.params[1];
  double s[12], r[12], proj[5];
  assert_int_equal(pd_retention_survival(fit, 12, s), PD_OK);
  assert_int_equal(pd_retention_rate(fit, 12, r), PD_OK);
  for (int t = 1; t <= 12; t++) {
    assert_close(s[t - 1], exp(lbeta_ref(a, b + t) - lbeta_ref(a, b)), 1e-12);
    assert_close(r[t - 1], (b + t - 1) / (a + b + t - 1), 1e-15);
  }
  /* Periods 8..12 of a cohort of 1000: counts in, counts out. */
  assert_int_equal(pd_retention_project(fit, 1000, 8, 5, proj), PD_OK);
  for (int i = 0; i < 5; i++) assert_close(proj[i], 1000 * s[7 + i], 1e-12);
  /* The fitted curve follows the data it came from (within 2%). */
  for (int t = 1; t <= 7; t++)
    assert_true(fabs(1000 * s[t - 1] - regular[t]) < 0.02 * regular[t]);
  double derl;
  assert_int_equal(pd_retention_derl(fit, 0.1, 3, &derl), PD_OK);
  assert_close(derl, derl_ref(a, b, 0.1, 3), 1e-10);
  pd_fit_free(fit);
}

static void simulated_cohort_recovers_parameters_within_3_se(void **state) {
  (void)state;
  enum { N = 20000, K = 10 };
  const double truth[2] = {0.9, 2.5};
  double surv[K + 1] = {0};
  sim_rng rng = {4242};
  for (int i = 0; i < N; i++) {
    double th = sim_beta(&rng, truth[0], truth[1]);
    surv[0] += 1;
    for (int t = 1; t <= K; t++) {
      if (sim_uniform(&rng) < th) break;
      surv[t] += 1;
    }
  }
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_estimate_sbg(fit, surv, K + 1), PD_OK);
  pd_fit_info info = PD_FIT_INFO_INIT;
  assert_int_equal(pd_fit_get(fit, &info), PD_OK);
  assert_true(info.has_std_errors);
  for (int k = 0; k < 2; k++)
    if (fabs(info.params[k] - truth[k]) > 3 * info.std_errors[k])
      fail_msg("parameter %d: %g vs true %g (se %g)", k, info.params[k],
               truth[k], info.std_errors[k]);
  pd_fit_free(fit);
}

static void invalid_survivor_counts_are_rejected(void **state) {
  (void)state;
  pd_fit *fit = new_fit();
  double grows[4] = {100, 80, 81, 60}, neg[3] = {100, -1, 0};
  double nan[3] = {100, NAN, 50}, empty[3] = {0, 0, 0};
  assert_int_equal(pd_fit_estimate_sbg(NULL, regular, 8), PD_E_MISUSE);
  assert_int_equal(pd_fit_estimate_sbg(fit, NULL, 8), PD_E_INVALID);
  assert_int_equal(pd_fit_estimate_sbg(fit, regular, 1), PD_E_INVALID);
  assert_int_equal(pd_fit_estimate_sbg(fit, grows, 4), PD_E_RANGE);
  assert_non_null(strstr(pd_fit_errmsg(fit), "survivors[2]"));
  assert_int_equal(pd_fit_estimate_sbg(fit, neg, 3), PD_E_RANGE);
  assert_int_equal(pd_fit_estimate_sbg(fit, nan, 3), PD_E_RANGE);
  assert_int_equal(pd_fit_estimate_sbg(fit, empty, 3), PD_E_RANGE);
  /* Customer summaries are not the sBG's data. */
  double x[1] = {1}, tx[1] = {1}, T[1] = {2};
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = 1;
  d.x = x;
  d.t_x = tx;
  d.T = T;
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_SBG, &d), PD_E_INVALID);
  assert_non_null(strstr(pd_fit_errmsg(fit), "pd_fit_estimate_sbg"));
  /* Projections need sBG parameters and sane arguments. */
  double out[3] = {-1, -1, -1};
  assert_int_equal(pd_retention_survival(fit, 3, out), PD_E_INVALID);
  const double bgnbd[4] = {0.2, 4, 0.8, 2.4};
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, bgnbd, 4), PD_OK);
  assert_int_equal(pd_retention_rate(fit, 3, out), PD_E_INVALID);
  const double ab[2] = {0.7, 1.2};
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_SBG, ab, 2), PD_OK);
  assert_int_equal(pd_retention_survival(fit, 3, NULL), PD_E_INVALID);
  assert_int_equal(pd_retention_project(fit, -5, 1, 3, out), PD_E_RANGE);
  assert_int_equal(pd_retention_project(fit, NAN, 1, 3, out), PD_E_RANGE);
  assert_int_equal(pd_retention_derl(fit, 0, 0, out), PD_E_RANGE);
  assert_int_equal(pd_retention_derl(fit, INFINITY, 0, out), PD_E_RANGE);
  for (int i = 0; i < 3; i++) assert_true(out[i] == -1);
  pd_fit_free(fit);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(survival_is_the_product_of_retention_rates),
      cmocka_unit_test(likelihood_is_churners_times_pmf_plus_survivors_times_s),
      cmocka_unit_test(gradient_matches_central_differences),
      cmocka_unit_test(derl_closed_form_equals_the_discounted_sum),
      cmocka_unit_test(published_regular_and_high_end_fits_are_reproduced),
      cmocka_unit_test(projections_extend_the_observed_counts),
      cmocka_unit_test(simulated_cohort_recovers_parameters_within_3_se),
      cmocka_unit_test(invalid_survivor_counts_are_rejected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
