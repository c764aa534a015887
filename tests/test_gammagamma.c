/* Specification of the Gamma-Gamma spend model (Fader, Hardie & Lee 2005):
 * its likelihood and gradient, its conditional expected spend, the CDNOW
 * fit, recovery of simulated parameters, and input validation. */
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
#include <privdomain/spend.h>

#include "datasets_path.h"
#include "models/gammagamma.h"
#include "models/model.h"
#include "sim_rng.h"

static void assert_close(double got, double want, double rel) {
  double tol = rel * (fabs(want) > 1.0 ? fabs(want) : 1.0);
  if (!(fabs(got - want) <= tol)) fail_msg("got %.12g, want %.12g", got, want);
}

static void log_density_is_the_published_formula(void **state) {
  (void)state;
  const double p = 6.25, q = 3.74, g = 15.44;
  const double xs[] = {1, 2, 7, 30}, ms[] = {11.77, 22.35, 5.0, 130.5};
  for (int i = 0; i < 4; i++) {
    double x = xs[i], m = ms[i];
    /* f(m | x) = Γ(px+q)/(Γ(px)Γ(q)) γ^q m^(px−1) x^(px) / (γ + m x)^(px+q) */
    double want = lgamma(p * x + q) - lgamma(p * x) - lgamma(q) + q * log(g) +
                  (p * x - 1) * log(m) + p * x * log(x) -
                  (p * x + q) * log(g + m * x);
    assert_close(pd_gg_loglik(p, q, g, x, m, NULL), want, 1e-12);
  }
}

static void gradient_matches_central_differences(void **state) {
  (void)state;
  const double x[] = {1, 3, 10, 500, 0}, m[] = {20, 15.5, 40, 7.25, 0};
  const double w[] = {1, 2, 0.5, 3, 9};
  const double points[][3] = {{6.0, 3.7, 15.0}, {0.3, 12.0, 0.8},
                              {40.0, 1.5, 200.0}};
  for (int k = 0; k < 3; k++) {
    double lp[3], g[3];
    for (int j = 0; j < 3; j++) lp[j] = log(points[k][j]);
    pd_gg_negll(lp, 5, x, m, w, g);
    for (int j = 0; j < 3; j++) {
      double h = 1e-5, save = lp[j];
      lp[j] = save + h;
      double up = pd_gg_negll(lp, 5, x, m, w, NULL);
      lp[j] = save - h;
      double dn = pd_gg_negll(lp, 5, x, m, w, NULL);
      lp[j] = save;
      assert_close(g[j], (up - dn) / (2 * h), 1e-6);
    }
  }
}

static void customers_without_repeat_purchases_are_skipped(void **state) {
  (void)state;
  const double lp[3] = {log(6.0), log(3.7), log(15.0)};
  const double x1[] = {2, 5}, m1[] = {20, 30};
  const double x2[] = {0, 2, 0, 5}, m2[] = {0, 20, 123, 30};
  double g1[3], g2[3];
  assert_close(pd_gg_negll(lp, 4, x2, m2, NULL, g2),
               pd_gg_negll(lp, 2, x1, m1, NULL, g1), 1e-15);
  for (int j = 0; j < 3; j++) assert_close(g2[j], g1[j], 1e-15);
}

static void a_weight_counts_as_repeated_rows(void **state) {
  (void)state;
  const double lp[3] = {log(2.0), log(5.0), log(9.0)};
  const double x1[] = {2, 2, 2, 4}, m1[] = {20, 20, 20, 8};
  const double x2[] = {2, 4}, m2[] = {20, 8}, w2[] = {3, 1};
  assert_close(pd_gg_negll(lp, 2, x2, m2, w2, NULL),
               pd_gg_negll(lp, 4, x1, m1, NULL, NULL), 1e-14);
}

static void expected_spend_blends_population_and_own_mean(void **state) {
  (void)state;
  const double p = 6.25, q = 3.74, g = 15.44;
  double pop = p * g / (q - 1);
  assert_close(pd_gg_expected_spend(p, q, g, 0, 0), pop, 1e-14);
  for (double x = 1; x <= 20; x += 3) {
    double m = 17.5, wt = p * x / (p * x + q - 1);
    assert_close(pd_gg_expected_spend(p, q, g, x, m),
                 (1 - wt) * pop + wt * m, 1e-13);
  }
  /* No population mean exists when q <= 1: reported as NaN to the caller. */
  assert_true(isnan(pd_gg_expected_spend(2.0, 0.9, 1.0, 0, 0)));
}

static pd_fit *new_fit(void) {
  pd_fit *fit = NULL;
  assert_int_equal(pd_fit_new(NULL, &fit), PD_OK);
  return fit;
}

enum { CDNOW_ROWS = 2357 };

static void cdnow_fit_reproduces_published_parameters(void **state) {
  (void)state;
  FILE *f = open_dataset("cdnow_customers_summary_with_transactions.csv");
  if (!f) {
    skip();
    return;
  }
  static double x[CDNOW_ROWS], tx[CDNOW_ROWS], T[CDNOW_ROWS], m[CDNOW_ROWS];
  char line[256];
  assert_non_null(fgets(line, sizeof line, f)); /* header */
  size_t n = 0;
  int id;
  while (n < CDNOW_ROWS && fscanf(f, "%d,%lf,%lf,%lf,%lf", &id, &x[n], &tx[n],
                                  &T[n], &m[n]) == 5)
    n++;
  fclose(f);
  assert_int_equal(n, CDNOW_ROWS);
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = n;
  d.x = x;
  d.t_x = tx;
  d.T = T;
  d.monetary = m;
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_GAMMAGAMMA, &d), PD_OK);
  pd_fit_info info = PD_FIT_INFO_INIT;
  assert_int_equal(pd_fit_get(fit, &info), PD_OK);
  /* Fader, Hardie & Lee (2005) / lifetimes: p = 6.25, q = 3.74, γ = 15.44
   * from the 946 repeat customers. */
  assert_int_equal(info.model, PD_MODEL_GAMMAGAMMA);
  assert_true(info.converged);
  assert_close(info.n_customers, 946, 0);
  assert_true(fabs(info.params[0] - 6.25) < 0.01);
  assert_true(fabs(info.params[1] - 3.74) < 0.01);
  assert_true(fabs(info.params[2] - 15.44) < 0.015);
  assert_true(info.has_std_errors);
  /* The expected spend of customer 1 (x = 2, mean 22.35 dollars). */
  double out[1];
  pd_customer_data one = d;
  one.n = 1;
  assert_int_equal(pd_predict_expected_spend(fit, &one, out), PD_OK);
  assert_close(out[0],
               pd_gg_expected_spend(info.params[0], info.params[1],
                                    info.params[2], 2, 22.35),
               1e-14);
  assert_true(out[0] > 22.35 && out[0] < info.params[0] * info.params[2] /
                                             (info.params[1] - 1));
  pd_fit_free(fit);
}

/* Draws x transactions of a customer whose spend rate ν is Gamma(q, γ) and
 * whose transactions are Gamma(p, ν), and fits them back. */
static void simulated_spend_recovers_parameters_within_3_se(void **state) {
  (void)state;
  enum { N = 4000 };
  const double p = 4.0, q = 6.0, g = 50.0;
  static double x[N], m[N], tx[N], T[N];
  sim_rng r = {20240601};
  for (int i = 0; i < N; i++) {
    double nu = sim_gamma(&r, q) / g;
    x[i] = (double)(i % 8); /* 1/8 of them without repeat purchases */
    double sum = 0;
    for (int k = 0; k < (int)x[i]; k++) sum += sim_gamma(&r, p) / nu;
    m[i] = x[i] > 0 ? sum / x[i] : 0;
    tx[i] = x[i];
    T[i] = 10;
  }
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = N;
  d.x = x;
  d.t_x = tx;
  d.T = T;
  d.monetary = m;
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_GAMMAGAMMA, &d), PD_OK);
  pd_fit_info info = PD_FIT_INFO_INIT;
  assert_int_equal(pd_fit_get(fit, &info), PD_OK);
  assert_true(info.has_std_errors);
  const double truth[3] = {p, q, g};
  for (int k = 0; k < 3; k++) {
    assert_true(info.std_errors[k] > 0);
    if (fabs(info.params[k] - truth[k]) > 3 * info.std_errors[k])
      fail_msg("parameter %d: %g vs true %g (se %g)", k, info.params[k],
               truth[k], info.std_errors[k]);
  }
  pd_fit_free(fit);
}

static void invalid_spend_data_is_rejected_with_a_message(void **state) {
  (void)state;
  pd_fit *fit = new_fit();
  double x[3] = {2, 0, 1}, tx[3] = {5, 0, 3}, T[3] = {9, 9, 9};
  double m[3] = {10, 0, 12};
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = 3;
  d.x = x;
  d.t_x = tx;
  d.T = T;
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_GAMMAGAMMA, &d), PD_E_INVALID);
  assert_non_null(strstr(pd_fit_errmsg(fit), "monetary"));
  d.monetary = m;
  m[2] = -1;
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_GAMMAGAMMA, &d), PD_E_RANGE);
  assert_non_null(strstr(pd_fit_errmsg(fit), "customer 2"));
  m[2] = 0; /* a repeat customer cannot have spent nothing */
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_GAMMAGAMMA, &d), PD_E_RANGE);
  m[2] = NAN;
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_GAMMAGAMMA, &d), PD_E_RANGE);
  m[2] = 12;
  x[0] = x[2] = 0; /* nobody with repeat purchases */
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_GAMMAGAMMA, &d), PD_E_RANGE);
  assert_non_null(strstr(pd_fit_errmsg(fit), "repeat"));
  pd_fit_info info = PD_FIT_INFO_INIT;
  assert_int_equal(pd_fit_get(fit, &info), PD_OK);
  assert_int_equal(info.model, 0); /* failures leave the fit empty */
  pd_fit_free(fit);
}

static void expected_spend_needs_a_gammagamma_fit_and_a_finite_mean(
    void **state) {
  (void)state;
  pd_fit *fit = new_fit();
  double x[2] = {0, 3}, tx[2] = {0, 3}, T[2] = {5, 5}, m[2] = {0, 40};
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = 2;
  d.x = x;
  d.t_x = tx;
  d.T = T;
  d.monetary = m;
  double out[2] = {-7, -7};
  assert_int_equal(pd_predict_expected_spend(NULL, &d, out), PD_E_MISUSE);
  assert_int_equal(pd_predict_expected_spend(fit, &d, out), PD_E_INVALID);
  const double bgbb[4] = {1, 1, 1, 1};
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGBB, bgbb, 4), PD_OK);
  assert_int_equal(pd_predict_expected_spend(fit, &d, out), PD_E_INVALID);
  const double heavy[3] = {2, 0.8, 10}; /* q <= 1: no population mean */
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_GAMMAGAMMA, heavy, 3), PD_OK);
  assert_int_equal(pd_predict_expected_spend(fit, &d, out), PD_E_NUMERIC);
  assert_true(out[0] == -7 && out[1] == -7); /* untouched on failure */
  const double good[3] = {2, 3, 10};
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_GAMMAGAMMA, good, 3), PD_OK);
  assert_int_equal(pd_predict_expected_spend(fit, &d, NULL), PD_E_INVALID);
  assert_int_equal(pd_predict_expected_spend(fit, &d, out), PD_OK);
  assert_close(out[0], 2 * 10 / 2.0, 1e-15);
  assert_close(out[1], 2 * (10 + 3 * 40) / (6 + 3 - 1.0), 1e-15);
  pd_fit_free(fit);
}

/* A fit's objective: rows with x = 0 or weight 0 skipped, the rest grouped
 * by x; built as pd_fit_estimate does (validate, workspace, prepare). */
typedef struct gg_objective {
  pd_model_input in;
  pd_customer_data d;
  double x[40], m[40], w[40], one[40];
} gg_objective;

static void objective_init(gg_objective *o) {
  const pd_model_def *def = &pd_model_gammagamma;
  pd_errbuf err;
  memset(o, 0, sizeof *o);
  sim_rng rng = {77};
  static const double xs[] = {0, 1, 2, 3, 5, 12};
  for (int i = 0; i < 40; i++) {
    o->x[i] = xs[i % 6];
    o->m[i] = 5.0 + 40.0 * sim_uniform(&rng);
    o->w[i] = i % 7 == 0 ? 0.0 : i % 3 == 0 ? 2.5 : 1.0;
    o->one[i] = 1.0;
  }
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  o->d = d;
  o->d.n = 40;
  o->d.x = o->x;
  o->d.t_x = o->one;
  o->d.T = o->one;
  o->d.monetary = o->m;
  o->d.weight = o->w;
  o->in.customers = &o->d;
  assert_int_equal(def->validate(&o->in, &err), PD_OK);
  o->in.work_size = def->workspace(&o->in);
  o->in.work = malloc(o->in.work_size);
  assert_non_null(o->in.work);
  def->prepare(&o->in);
}

static void fit_objective_equals_the_per_row_likelihood(void **state) {
  (void)state;
  gg_objective o;
  objective_init(&o);
  const double lps[3][3] = {{log(6.25), log(3.74), log(15.44)},
                            {0.0, log(2.0), log(20.0)},
                            {log(0.5), log(30.0), log(400.0)}};
  for (int k = 0; k < 3; k++) {
    double g1[3], g2[3];
    double f1 = pd_model_gammagamma.negll(&o.in, lps[k], g1);
    double f2 = pd_gg_negll(lps[k], 40, o.x, o.m, o.w, g2);
    assert_close(f1, f2, 1e-12);
    for (int j = 0; j < 3; j++) assert_close(g1[j], g2[j], 1e-10);
  }
  free(o.in.work);
}

static void fit_hessian_matches_differences_of_the_gradient(void **state) {
  (void)state;
  gg_objective o;
  objective_init(&o);
  /* A regular point and one with q, γ large (spends barely spread). */
  const double lps[2][3] = {{log(6.25), log(3.74), log(15.44)},
                            {log(3.0), log(1e9), log(1e10)}};
  for (int k = 0; k < 2; k++) {
    double g[3], hess[9], f;
    f = pd_model_gammagamma.negll_hessian(&o.in, lps[k], g, hess);
    assert_true(isfinite(f));
    for (int j = 0; j < 3; j++) {
      double up[3], dn[3], lp[3], h = 1e-5;
      memcpy(lp, lps[k], sizeof lp);
      lp[j] += h;
      pd_model_gammagamma.negll(&o.in, lp, up);
      lp[j] -= 2 * h;
      pd_model_gammagamma.negll(&o.in, lp, dn);
      for (int i = 0; i < 3; i++)
        assert_close(hess[i * 3 + j], (up[i] - dn[i]) / (2 * h), 1e-5);
    }
  }
  free(o.in.work);
}

/* At q = 1e9 the per-row textbook form cancels terms of size q; the fit's
 * objective must still agree with an extended-precision evaluation. */
static void fit_objective_stays_accurate_at_large_q(void **state) {
  (void)state;
  gg_objective o;
  objective_init(&o);
  const double p = 3.0, q = 1e9, g = 1e10;
  const double lp[3] = {log(p), log(q), log(g)};
  long double want = 0.0L;
  for (int i = 0; i < 40; i++) {
    if (o.x[i] <= 0 || o.w[i] == 0) continue;
    long double x = o.x[i], m = o.m[i], px = (long double)p * x;
    long double lq = (long double)q, lg = (long double)g;
    want += o.w[i] * (lgammal(px + lq) - lgammal(px) - lgammal(lq) +
                      lq * logl(lg) + (px - 1) * logl(m) + px * logl(x) -
                      (px + lq) * logl(lg + x * m));
  }
  double got = pd_model_gammagamma.negll(&o.in, lp, NULL);
  if (!(fabs(got + (double)want) <= 1e-6))
    fail_msg("got %.15g, want %.15g", got, -(double)want);
  /* The gradient over log q is the slope of that accurate value. */
  double grad[3], up[3], dn[3];
  memcpy(up, lp, sizeof up);
  memcpy(dn, lp, sizeof dn);
  up[1] += 1e-3;
  dn[1] -= 1e-3;
  pd_model_gammagamma.negll(&o.in, lp, grad);
  double slope = (pd_model_gammagamma.negll(&o.in, up, NULL) -
                  pd_model_gammagamma.negll(&o.in, dn, NULL)) / 2e-3;
  assert_true(fabs(grad[1] - slope) <= 1e-6 * fabs(slope) + 1e-9);
  free(o.in.work);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(log_density_is_the_published_formula),
      cmocka_unit_test(gradient_matches_central_differences),
      cmocka_unit_test(customers_without_repeat_purchases_are_skipped),
      cmocka_unit_test(a_weight_counts_as_repeated_rows),
      cmocka_unit_test(fit_objective_equals_the_per_row_likelihood),
      cmocka_unit_test(fit_hessian_matches_differences_of_the_gradient),
      cmocka_unit_test(fit_objective_stays_accurate_at_large_q),
      cmocka_unit_test(expected_spend_blends_population_and_own_mean),
      cmocka_unit_test(cdnow_fit_reproduces_published_parameters),
      cmocka_unit_test(simulated_spend_recovers_parameters_within_3_se),
      cmocka_unit_test(invalid_spend_data_is_rejected_with_a_message),
      cmocka_unit_test(expected_spend_needs_a_gammagamma_fit_and_a_finite_mean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
