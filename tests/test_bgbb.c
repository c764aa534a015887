/* Specification of the BG/BB model (Fader, Hardie & Shang 2010) for
 * discrete transaction opportunities: its likelihood and gradient,
 * P(alive), conditional expected purchases, the donations fit, recovery of
 * simulated parameters, and input validation. */
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

#include "datasets_path.h"
#include "models/bgbb.h"
#include "sim_rng.h"

static void assert_close(double got, double want, double rel) {
  double tol = rel * (fabs(want) > 1.0 ? fabs(want) : 1.0);
  if (!(fabs(got - want) <= tol)) fail_msg("got %.12g, want %.12g", got, want);
}

static double lbeta_ref(double a, double b) {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/* Equation (5) of the paper, term by term in plain arithmetic. */
static double likelihood_ref(const double th[4], int x, int tx, int n) {
  double a = th[0], b = th[1], g = th[2], d = th[3];
  double l = exp(lbeta_ref(a + x, b + n - x) - lbeta_ref(a, b) +
                 lbeta_ref(g, d + n) - lbeta_ref(g, d));
  for (int i = 0; i <= n - tx - 1; i++)
    l += exp(lbeta_ref(a + x, b + tx - x + i) - lbeta_ref(a, b) +
             lbeta_ref(g + 1, d + tx + i) - lbeta_ref(g, d));
  return l;
}

static const double donations_fit[4] = {1.204, 0.750, 0.657, 2.783};

static void likelihood_is_the_published_sum(void **state) {
  (void)state;
  const int h[][3] = {{0, 0, 6}, {1, 1, 6}, {3, 5, 6}, {6, 6, 6}, {2, 9, 30}};
  for (int k = 0; k < 5; k++)
    assert_close(pd_bgbb_loglik(donations_fit, h[k][0], h[k][1], h[k][2], NULL),
                 log(likelihood_ref(donations_fit, h[k][0], h[k][1], h[k][2])),
                 1e-12);
}

static double binom(int n, int k) {
  return k < 0 || k > n ? 0.0 : round(exp(lgamma(n + 1.0) - lgamma(k + 1.0) -
                                          lgamma(n - k + 1.0)));
}

/* The likelihood is the probability of one purchase string; the strings
 * with x purchases, the last at t_x, number C(t_x − 1, x − 1). */
static void probabilities_of_all_purchase_strings_sum_to_one(void **state) {
  (void)state;
  const double th[4] = {0.7, 2.5, 1.3, 0.4};
  for (int n = 1; n <= 12; n += 5) {
    double total = exp(pd_bgbb_loglik(th, 0, 0, n, NULL));
    for (int tx = 1; tx <= n; tx++)
      for (int x = 1; x <= tx; x++)
        total += binom(tx - 1, x - 1) * exp(pd_bgbb_loglik(th, x, tx, n, NULL));
    assert_close(total, 1.0, 1e-12);
  }
}

static void gradient_matches_central_differences(void **state) {
  (void)state;
  const double x[] = {0, 1, 3, 6, 40, 2}, tx[] = {0, 2, 5, 6, 150, 3};
  const double n[] = {6, 6, 6, 6, 200, 400}, w[] = {3, 1, 2, 7, 1, 0.5};
  const double points[][4] = {
      {1.204, 0.750, 0.657, 2.783}, {0.3, 8.0, 1.0, 0.2}, {25, 3, 0.05, 40}};
  for (int k = 0; k < 3; k++) {
    double lp[4], g[4];
    for (int j = 0; j < 4; j++) lp[j] = log(points[k][j]);
    pd_bgbb_negll(lp, 6, x, tx, n, w, g);
    for (int j = 0; j < 4; j++) {
      double h = 1e-5, save = lp[j];
      lp[j] = save + h;
      double up = pd_bgbb_negll(lp, 6, x, tx, n, w, NULL);
      lp[j] = save - h;
      double dn = pd_bgbb_negll(lp, 6, x, tx, n, w, NULL);
      lp[j] = save;
      assert_close(g[j], (up - dn) / (2 * h), 1e-6);
    }
  }
}

static void alive_is_the_share_of_the_likelihood_still_alive(void **state) {
  (void)state;
  const int h[][3] = {{0, 0, 6}, {3, 3, 6}, {3, 6, 6}, {1, 1, 20}};
  for (int k = 0; k < 4; k++) {
    const double *t = donations_fit;
    int x = h[k][0], tx = h[k][1], n = h[k][2];
    double want = exp(lbeta_ref(t[0] + x, t[1] + n - x) - lbeta_ref(t[0], t[1]) +
                      lbeta_ref(t[2], t[3] + n) - lbeta_ref(t[2], t[3])) /
                  likelihood_ref(t, x, tx, n);
    assert_close(pd_bgbb_alive(t, x, tx, n), want, 1e-12);
  }
  /* Same purchases, more recent last purchase: more likely alive; a
   * purchase at the last opportunity proves the customer alive there. */
  assert_true(pd_bgbb_alive(donations_fit, 3, 5, 6) >
              pd_bgbb_alive(donations_fit, 3, 3, 6));
  assert_close(pd_bgbb_alive(donations_fit, 3, 6, 6), 1.0, 1e-15);
}

/* E[X(n, n+n*)] = Σ_k E[p (1−θ)^(n+k) | history]: the sum the closed
 * form of equation (13) adds up. */
static double expected_ref(const double t[4], int x, int tx, int n, int ns) {
  double s = 0;
  for (int k = 1; k <= ns; k++)
    s += exp(lbeta_ref(t[0] + x + 1, t[1] + n - x) - lbeta_ref(t[0], t[1]) +
             lbeta_ref(t[2], t[3] + n + k) - lbeta_ref(t[2], t[3]));
  return s / likelihood_ref(t, x, tx, n);
}

static void expected_purchases_add_up_future_opportunities(void **state) {
  (void)state;
  const double near_one[4] = {1.204, 0.750, 1.0000000001, 2.783};
  const double above_one[4] = {0.5, 2.0, 3.5, 1.5};
  const double *fits[] = {donations_fit, near_one, above_one};
  const int h[][3] = {{0, 0, 6}, {3, 5, 6}, {6, 6, 6}, {4, 20, 25}};
  for (int f = 0; f < 3; f++)
    for (int k = 0; k < 4; k++)
      for (int ns = 0; ns <= 50; ns += 10)
        assert_close(pd_bgbb_expected(fits[f], h[k][0], h[k][1], h[k][2], ns),
                     expected_ref(fits[f], h[k][0], h[k][1], h[k][2], ns),
                     1e-9);
}

static void only_possible_histories_are_accepted(void **state) {
  (void)state;
  assert_true(pd_bgbb_history_ok(0, 0, 6));
  assert_true(pd_bgbb_history_ok(3, 5, 6));
  assert_true(pd_bgbb_history_ok(6, 6, 6));
  assert_false(pd_bgbb_history_ok(0, 2, 6));   /* recency without purchases */
  assert_false(pd_bgbb_history_ok(2, 0, 6));   /* purchases without recency */
  assert_false(pd_bgbb_history_ok(4, 3, 6));   /* more purchases than t_x */
  assert_false(pd_bgbb_history_ok(3, 7, 6));   /* last purchase after n */
  assert_false(pd_bgbb_history_ok(0, 0, 0));   /* no opportunity */
  assert_false(pd_bgbb_history_ok(1.5, 2, 6)); /* not a count */
  assert_false(pd_bgbb_history_ok(NAN, 2, 6));
  assert_false(pd_bgbb_history_ok(1, 2, INFINITY));
}

static void new_customer_purchase_counts_form_a_distribution(void **state) {
  (void)state;
  for (int n = 1; n <= 15; n += 7) {
    double total = 0, mean = 0;
    for (int x = 0; x <= n; x++) {
      double p = pd_bgbb_p_purchases(donations_fit, x, n);
      total += p;
      mean += x * p;
    }
    assert_close(total, 1.0, 1e-12);
    /* Its mean is the unconditional expectation (history (0, 0, 0)). */
    assert_close(mean, pd_bgbb_expected(donations_fit, 0, 0, 0, n), 1e-12);
  }
}

static pd_fit *new_fit(void) {
  pd_fit *fit = NULL;
  assert_int_equal(pd_fit_new(NULL, &fit), PD_OK);
  return fit;
}

static void donations_fit_reproduces_published_parameters(void **state) {
  (void)state;
  FILE *f = open_dataset("donations.csv");
  if (!f) {
    skip();
    return;
  }
  double x[22], tx[22], n[22], w[22];
  char line[256];
  assert_non_null(fgets(line, sizeof line, f));
  size_t rows = 0;
  while (rows < 22 && fscanf(f, "%lf,%lf,%lf,%lf", &x[rows], &tx[rows],
                             &n[rows], &w[rows]) == 4)
    rows++;
  fclose(f);
  assert_int_equal(rows, 22);
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = rows;
  d.x = x;
  d.t_x = tx;
  d.T = n;
  d.weight = w;
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGBB, &d), PD_OK);
  pd_fit_info info = PD_FIT_INFO_INIT;
  assert_int_equal(pd_fit_get(fit, &info), PD_OK);
  /* Fader, Hardie & Shang (2010): α = 1.204, β = 0.750, γ = 0.657,
   * δ = 2.783 on 11,104 donors. */
  assert_close(info.n_customers, 11104, 0);
  const double want[4] = {1.204, 0.750, 0.657, 2.783};
  for (int k = 0; k < 4; k++)
    if (fabs(info.params[k] - want[k]) > 0.001)
      fail_msg("parameter %d: %.5f, published %.3f", k, info.params[k], want[k]);
  assert_true(info.has_std_errors);
  /* Predictions through the fit are the kernel's. */
  double out[22];
  assert_int_equal(pd_predict_p_alive(fit, &d, out), PD_OK);
  assert_close(out[3], pd_bgbb_alive(info.params, x[3], tx[3], n[3]), 1e-14);
  assert_int_equal(pd_predict_expected_purchases(fit, &d, 5, out), PD_OK);
  assert_close(out[3], pd_bgbb_expected(info.params, x[3], tx[3], n[3], 5),
               1e-14);
  assert_int_equal(pd_predict_expected_purchases(fit, &d, 2.5, out), PD_E_RANGE);
  double u;
  assert_int_equal(pd_predict_unconditional_purchases(fit, 6, &u), PD_OK);
  assert_close(u, pd_bgbb_expected(info.params, 0, 0, 0, 6), 1e-14);
  assert_int_equal(pd_predict_p_purchases(fit, 2, 6, &u), PD_OK);
  assert_close(u, pd_bgbb_p_purchases(info.params, 2, 6), 1e-14);
  pd_fit_free(fit);
}

/* Each simulated customer buys with probability p at each opportunity while
 * alive and dies before each opportunity with probability θ. */
static void simulated_histories_recover_parameters_within_3_se(void **state) {
  (void)state;
  enum { N = 20000, OPP = 8 };
  const double truth[4] = {1.2, 0.75, 0.66, 2.8};
  static double x[N], tx[N], n[N];
  sim_rng r = {777};
  for (int i = 0; i < N; i++) {
    double p = sim_beta(&r, truth[0], truth[1]);
    double th = sim_beta(&r, truth[2], truth[3]);
    x[i] = tx[i] = 0;
    n[i] = OPP;
    for (int t = 1; t <= OPP; t++) {
      if (sim_uniform(&r) < th) break;
      if (sim_uniform(&r) < p) {
        x[i] += 1;
        tx[i] = t;
      }
    }
  }
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = N;
  d.x = x;
  d.t_x = tx;
  d.T = n;
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGBB, &d), PD_OK);
  pd_fit_info info = PD_FIT_INFO_INIT;
  assert_int_equal(pd_fit_get(fit, &info), PD_OK);
  assert_true(info.has_std_errors);
  for (int k = 0; k < 4; k++)
    if (fabs(info.params[k] - truth[k]) > 3 * info.std_errors[k])
      fail_msg("parameter %d: %g vs true %g (se %g)", k, info.params[k],
               truth[k], info.std_errors[k]);
  pd_fit_free(fit);
}

static void impossible_histories_are_rejected_with_the_row(void **state) {
  (void)state;
  double x[3] = {1, 2, 0}, tx[3] = {1, 4, 0}, n[3] = {6, 6, 6};
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = 3;
  d.x = x;
  d.t_x = tx;
  d.T = n;
  pd_fit *fit = new_fit();
  tx[1] = 1; /* two purchases by the first opportunity */
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGBB, &d), PD_E_RANGE);
  assert_non_null(strstr(pd_fit_errmsg(fit), "customer 1"));
  tx[1] = 4.5;
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGBB, &d), PD_E_RANGE);
  tx[1] = 4;
  n[2] = 6.5;
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGBB, &d), PD_E_RANGE);
  n[2] = 6;
  /* t_x is ignored without purchases, as for the other models. */
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGBB, donations_fit, 4),
                   PD_OK);
  double a0[3], a3[3];
  assert_int_equal(pd_predict_p_alive(fit, &d, a0), PD_OK);
  tx[2] = 3;
  assert_int_equal(pd_predict_p_alive(fit, &d, a3), PD_OK);
  assert_close(a3[2], a0[2], 0);
  assert_close(a0[2], pd_bgbb_alive(donations_fit, 0, 0, 6), 1e-15);
  pd_fit_free(fit);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(likelihood_is_the_published_sum),
      cmocka_unit_test(probabilities_of_all_purchase_strings_sum_to_one),
      cmocka_unit_test(gradient_matches_central_differences),
      cmocka_unit_test(alive_is_the_share_of_the_likelihood_still_alive),
      cmocka_unit_test(expected_purchases_add_up_future_opportunities),
      cmocka_unit_test(only_possible_histories_are_accepted),
      cmocka_unit_test(new_customer_purchase_counts_form_a_distribution),
      cmocka_unit_test(donations_fit_reproduces_published_parameters),
      cmocka_unit_test(simulated_histories_recover_parameters_within_3_se),
      cmocka_unit_test(impossible_histories_are_rejected_with_the_row),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
