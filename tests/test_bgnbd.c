/* Specification of the BG/NBD model (Fader, Hardie & Lee 2005): the
 * likelihood and its gradient, the published CDNOW fit, predictions checked
 * against independent numerical integration, simulate-and-recover, and
 * extreme inputs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/fit.h>

#include "models/bgnbd_family.h"
#include "models/model.h"
#include "sim_rng.h"
#include "testutil_models.h"

static pd_fit *new_fit(void) {
  pd_fit *fit = NULL;
  assert_int_equal(pd_fit_new(NULL, &fit), PD_OK);
  return fit;
}

/* Negative log-likelihood and gradient of `def` on `d` at log-params. */
static double eval(const pd_model_def *def, const pd_customer_data *d,
                   const double *logp, double *grad) {
  pd_model_input in;
  memset(&in, 0, sizeof in);
  in.customers = d;
  pd_errbuf e;
  assert_int_equal(def->validate(&in, &e), PD_OK);
  in.work = malloc(def->workspace(&in));
  def->prepare(&in);
  double v = def->negll(&in, logp, grad);
  free(in.work);
  return v;
}

static void check_gradient(const pd_model_def *def, const pd_customer_data *d,
                           const double *params) {
  double lp[4], g[4], gp[4], gm[4];
  for (int i = 0; i < 4; i++) lp[i] = log(params[i]);
  eval(def, d, lp, g);
  for (int i = 0; i < 4; i++) {
    double h = 1e-6, save = lp[i];
    lp[i] = save + h;
    double fp = eval(def, d, lp, gp);
    lp[i] = save - h;
    double fm = eval(def, d, lp, gm);
    lp[i] = save;
    double fd = (fp - fm) / (2 * h);
    if (!(fabs(fd - g[i]) <= 1e-5 * fmax(1.0, fabs(g[i]))))
      fail_msg("%s: d/dlog %s analytic %.10g vs central difference %.10g",
               def->name, pd_model_param_name(def->kind, (uint32_t)i), g[i], fd);
  }
}

/* A small data set with the awkward rows: x = 0, t_x = T, large x. */
static const double SX[] = {0, 1, 2, 7, 0, 3, 5000, 1, 12};
static const double STX[] = {0, 1.5, 30.4, 38.0, 0, 20.0, 51.0, 10.0, 12.0};
static const double ST[] = {38.9, 38.9, 38.9, 38.0, 12.0, 52.0, 52.0, 10.0, 40.0};
static const double SW[] = {3, 1, 2, 1, 5, 1, 1, 2, 1};
static pd_customer_data small_data(void) {
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = sizeof SX / sizeof SX[0];
  d.x = SX, d.t_x = STX, d.T = ST, d.weight = SW;
  return d;
}

static void gradient_matches_central_differences(void **state) {
  (void)state;
  pd_customer_data d = small_data();
  const double points[][4] = {{0.243, 4.414, 0.793, 2.426}, {2.0, 0.5, 1.0, 1.0},
                              {0.05, 40.0, 3.0, 0.3}, {1.3, 7.0, 0.999999, 15.0}};
  for (size_t k = 0; k < 4; k++) check_gradient(&pd_model_bgnbd, &d, points[k]);
}

static void likelihood_matches_the_published_formula_per_customer(void **state) {
  (void)state;
  /* FHL 2005 eq. 6 written with libm's lgamma, for a few customers. */
  const double p[4] = {0.243, 4.414, 0.793, 2.426};
  double r = p[0], al = p[1], a = p[2], b = p[3];
  for (size_t i = 0; i < 6; i++) {
    double x = SX[i], tx = STX[i], T = ST[i];
    double lb = lgamma(a) + lgamma(b) - lgamma(a + b);
    double c = lgamma(r + x) - lgamma(r) + r * log(al);
    double L = exp(lgamma(a) + lgamma(b + x) - lgamma(a + b + x) - lb + c -
                   (r + x) * log(al + T));
    if (x > 0)
      L += exp(lgamma(a + 1) + lgamma(b + x - 1) - lgamma(a + b + x) - lb + c -
               (r + x) * log(al + tx));
    assert_close(pd_bgnbd_family_loglik1(PD_BGNBD_PLAIN, p, x, tx, T), log(L), 1e-12);
  }
}

static void cdnow_fit_reproduces_the_published_estimates(void **state) {
  (void)state;
  static cdnow c;
  if (!load_cdnow(&c)) return;
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = c.n, d.x = c.x, d.t_x = c.t_x, d.T = c.T;
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGNBD, &d), PD_OK);
  pd_fit_info info = PD_FIT_INFO_INIT;
  assert_int_equal(pd_fit_get(fit, &info), PD_OK);
  assert_true(info.converged && info.estimated && info.has_std_errors);
  /* Fader, Hardie & Lee (2005): r=0.243 α=4.414 a=0.793 b=2.426 LL=-9582.4 */
  assert_true(fabs(info.params[0] - 0.243) < 0.0006);
  assert_true(fabs(info.params[1] - 4.414) < 0.0006);
  assert_true(fabs(info.params[2] - 0.793) < 0.0006);
  assert_true(fabs(info.params[3] - 2.426) < 0.0006);
  assert_true(fabs(info.log_likelihood - -9582.4) < 0.05);
  assert_true(info.n_customers == 2357.0);
  for (int i = 0; i < 4; i++) assert_true(info.std_errors[i] > 0.0);
  pd_fit_free(fit);
}

/* E_{p ~ Beta(a, b)} of (1/p)(1 - (α/(α+pt))^r), by Simpson's rule after
 * p = v^(1/a), which removes the p^(a-1) endpoint singularity. Normalised
 * by the same rule, so no beta function is used. */
static double brute_expect(double r, double al, double a, double b, double t) {
  const int N = 200000;
  double num = 0.0, den = 0.0;
  for (int i = 0; i <= N; i++) {
    double v = (double)i / N;
    double wgt = (i == 0 || i == N) ? 1 : (i % 2 ? 4 : 2);
    double p = pow(v, 1.0 / a);
    double dens = pow(1.0 - p, b - 1.0); /* p^(a-1) dp ∝ dv */
    double f = p > 0 ? (1.0 - pow(al / (al + p * t), r)) / p : r * t / al;
    num += wgt * dens * f;
    den += wgt * dens;
  }
  return num / den;
}

static void unconditional_expectation_matches_numerical_integration(void **state) {
  (void)state;
  pd_fit *fit = new_fit();
  const double p[4] = {0.243, 4.414, 0.793, 2.426};
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, p, 4), PD_OK);
  const double ts[] = {1.0, 39.0, 78.0};
  for (int k = 0; k < 3; k++) {
    double e;
    assert_int_equal(pd_predict_unconditional_purchases(fit, ts[k], &e), PD_OK);
    assert_close(e, brute_expect(p[0], p[1], p[2], p[3], ts[k]), 1e-7);
  }
  /* a = 1 exactly (the formula's 0/0) agrees with its neighbours. */
  const double p1[4] = {0.5, 5.0, 1.0, 2.0}, p1b[4] = {0.5, 5.0, 1.0 + 1e-7, 2.0};
  double e1, e2;
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, p1, 4), PD_OK);
  assert_int_equal(pd_predict_unconditional_purchases(fit, 39.0, &e1), PD_OK);
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, p1b, 4), PD_OK);
  assert_int_equal(pd_predict_unconditional_purchases(fit, 39.0, &e2), PD_OK);
  assert_close(e1, e2, 1e-6);
  assert_close(e1, brute_expect(0.5, 5.0, 1.0, 2.0, 39.0), 1e-7);
  double zero;
  assert_int_equal(pd_predict_unconditional_purchases(fit, 0.0, &zero), PD_OK);
  assert_true(zero == 0.0);
  pd_fit_free(fit);
}

static void p_alive_and_conditional_expectation_match_independent_formulas(void **state) {
  (void)state;
  pd_fit *fit = new_fit();
  const double p[4] = {0.243, 4.414, 0.793, 2.426};
  double r = p[0], al = p[1], a = p[2], b = p[3];
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, p, 4), PD_OK);
  const double x[] = {2, 0, 7, 1};
  const double tx[] = {30.43, 0, 38.0, 38.86};
  const double T[] = {38.86, 38.86, 38.86, 38.86};
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = 4, d.x = x, d.t_x = tx, d.T = T;
  double pa[4], ey[4];
  assert_int_equal(pd_predict_p_alive(fit, &d, pa), PD_OK);
  assert_int_equal(pd_predict_expected_purchases(fit, &d, 39.0, ey), PD_OK);
  for (int i = 0; i < 4; i++) {
    /* P(alive) = (alive term) / L from FHL eq. 6, with libm's lgamma. */
    double alive = exp(lgamma(b + x[i]) - lgamma(a + b + x[i]) -
                       (r + x[i]) * log(al + T[i]));
    double dead = x[i] > 0 ? exp(log(a) + lgamma(b + x[i] - 1) - lgamma(a + b + x[i]) -
                                 (r + x[i]) * log(al + tx[i]))
                           : 0.0;
    assert_close(pa[i], alive / (alive + dead), 1e-12);
    /* Alive: rate ~ Gamma(r+x, α+T), p ~ Beta(a, b+x). */
    double want = pa[i] * brute_expect(r + x[i], al + T[i], a, b + x[i], 39.0);
    assert_close(ey[i], want, 1e-7);
  }
  assert_true(pa[1] == 1.0); /* no repeat purchase: never dropped out */
  pd_fit_free(fit);
}

static void count_probabilities_sum_to_one_and_to_the_mean(void **state) {
  (void)state;
  pd_fit *fit = new_fit();
  const double p[4] = {0.243, 4.414, 0.793, 2.426};
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, p, 4), PD_OK);
  double total = 0.0, mean = 0.0, e;
  for (uint32_t n = 0; n < 3000; n++) {
    double pn;
    assert_int_equal(pd_predict_p_purchases(fit, n, 39.0, &pn), PD_OK);
    assert_true(pn >= 0.0 && pn <= 1.0);
    total += pn;
    mean += n * pn;
  }
  assert_int_equal(pd_predict_unconditional_purchases(fit, 39.0, &e), PD_OK);
  assert_close(total, 1.0, 1e-10);
  assert_close(mean, e, 1e-8);
  pd_fit_free(fit);
}

/* Draws n BG/NBD customers with ages uniform on [20, 52). */
static void simulate(sim_rng *g, const double *p, size_t n, double *x,
                     double *tx, double *T) {
  for (size_t i = 0; i < n; i++) {
    double lambda = sim_gamma(g, p[0]) / p[1];
    double drop = sim_beta(g, p[2], p[3]);
    double age = 20.0 + 32.0 * sim_uniform(g), t = 0.0, last = 0.0;
    double k = 0;
    for (;;) {
      t += -log(sim_uniform(g)) / lambda;
      if (t > age) break;
      k++, last = t;
      if (sim_uniform(g) < drop) break;
    }
    x[i] = k, tx[i] = last, T[i] = age;
  }
}

static void simulated_customers_give_back_their_parameters(void **state) {
  (void)state;
  enum { N = 20000 };
  static double x[N], tx[N], T[N];
  const double truth[4] = {0.6, 5.0, 0.9, 3.0};
  sim_rng g = {20240611};
  simulate(&g, truth, N, x, tx, T);
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = N, d.x = x, d.t_x = tx, d.T = T;
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_BGNBD, &d), PD_OK);
  pd_fit_info info = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &info);
  assert_true(info.has_std_errors);
  for (int i = 0; i < 4; i++)
    if (!(fabs(info.params[i] - truth[i]) <= 3.0 * info.std_errors[i]))
      fail_msg("%s = %g, truth %g, se %g", pd_model_param_name(PD_MODEL_BGNBD, (uint32_t)i),
               info.params[i], truth[i], info.std_errors[i]);
  pd_fit_free(fit);
}

static void extreme_rows_give_finite_answers(void **state) {
  (void)state;
  const double p[4] = {0.243, 4.414, 0.793, 2.426};
  /* x = 5000 and t_x = T: likelihood equals the direct formula. */
  double ll = pd_bgnbd_family_loglik1(PD_BGNBD_PLAIN, p, 5000, 51.0, 52.0);
  assert_true(isfinite(ll));
  double r = p[0], al = p[1], a = p[2], b = p[3], x = 5000;
  double A = lgamma(r + x) - lgamma(r) + r * log(al) + lgamma(a + b) + lgamma(b + x) -
             lgamma(b) - lgamma(a + b + x);
  double e1 = -(r + x) * log(al + 52.0), e2 = log(a / (b + x - 1)) - (r + x) * log(al + 51.0);
  double want = A + fmax(e1, e2) + log1p(exp(-fabs(e1 - e2)));
  assert_close(ll, want, 1e-12);
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_BGNBD, p, 4), PD_OK);
  const double xs[] = {5000, 3, 0};
  const double txs[] = {52.0, 52.0, 0.0};
  const double Ts[] = {52.0, 52.0, 52.0};
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = 3, d.x = xs, d.t_x = txs, d.T = Ts;
  double pa[3], ey[3];
  assert_int_equal(pd_predict_p_alive(fit, &d, pa), PD_OK);
  assert_int_equal(pd_predict_expected_purchases(fit, &d, 10.0, ey), PD_OK);
  for (int i = 0; i < 3; i++) assert_true(isfinite(pa[i]) && isfinite(ey[i]) && ey[i] >= 0);
  /* A customer buying ~100 times a week up to now keeps doing so. */
  assert_true(pa[0] > 0.99 && ey[0] > 500.0);
  pd_fit_free(fit);
}

static void data_with_a_single_repeat_buyer_is_handled(void **state) {
  (void)state;
  enum { N = 500 };
  static double x[N], tx[N], T[N];
  for (int i = 0; i < N; i++) x[i] = 0, tx[i] = 0, T[i] = 10.0 + (i % 30);
  x[7] = 3, tx[7] = 8.0;
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = N, d.x = x, d.t_x = tx, d.T = T;
  pd_fit *fit = new_fit();
  pd_status st = pd_fit_estimate(fit, PD_MODEL_BGNBD, &d);
  /* The likelihood is maximised at a boundary: an honest status, and never
   * a NaN parameter. */
  assert_true(st == PD_OK || st == PD_E_NO_CONVERGENCE || st == PD_E_NUMERIC);
  pd_fit_info info = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &info);
  for (int i = 0; i < 4; i++) assert_false(isnan(info.params[i]));
  if (st != PD_OK) assert_true(strlen(pd_fit_errmsg(fit)) > 0);
  pd_fit_free(fit);
}

/* The analytic Hessian over log-parameters (used for standard errors)
 * equals central differences of the analytic gradient, for both variants,
 * on rows with x = 0, t_x = T, a large x and weights. */
static void hessian_matches_central_differences_of_the_gradient(void **state) {
  (void)state;
  const pd_model_def *defs[2] = {&pd_model_bgnbd, &pd_model_mbgnbd};
  const double params[4] = {0.6, 7.0, 0.9, 2.5};
  pd_customer_data d = small_data();
  for (int k = 0; k < 2; k++) {
    const pd_model_def *def = defs[k];
    assert_non_null(def->negll_hessian);
    pd_model_input in;
    memset(&in, 0, sizeof in);
    in.customers = &d;
    pd_errbuf e;
    assert_int_equal(def->validate(&in, &e), PD_OK);
    in.work = malloc(def->workspace(&in));
    def->prepare(&in);
    double lp[4], g[4], H[16], gp[4], gm[4];
    for (int i = 0; i < 4; i++) lp[i] = log(params[i]);
    double f = def->negll_hessian(&in, lp, g, H);
    assert_close(f, def->negll(&in, lp, gp), 1e-13);
    for (int i = 0; i < 4; i++) {
      double h = 1e-5, save = lp[i];
      lp[i] = save + h;
      def->negll(&in, lp, gp);
      lp[i] = save - h;
      def->negll(&in, lp, gm);
      lp[i] = save;
      for (int j = 0; j < 4; j++) {
        double fd = (gp[j] - gm[j]) / (2 * h);
        if (!(fabs(fd - H[i * 4 + j]) <= 1e-6 * fmax(1.0, fabs(fd))))
          fail_msg("%s: H[%d][%d] analytic %.10g vs central difference %.10g",
                   def->name, i, j, H[i * 4 + j], fd);
      }
    }
    free(in.work);
  }
}

/* Customers whose times repeat (whole days) take log(α + t) from a table
 * of distinct times; the likelihood is the sum of the per-customer
 * formula all the same. */
static void repeated_times_give_the_per_customer_likelihood(void **state) {
  (void)state;
  enum { N = 400 };
  static double x[N], tx[N], T[N];
  for (int i = 0; i < N; i++) {
    x[i] = i % 7;
    T[i] = 10.0 + (i % 13) / 7.0;
    tx[i] = x[i] > 0.0 ? T[i] * ((i % 5) + 1) / 6.0 : 0.0;
  }
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = N, d.x = x, d.t_x = tx, d.T = T;
  const double p[4] = {0.4, 5.0, 0.8, 2.0};
  const pd_model_def *defs[2] = {&pd_model_bgnbd, &pd_model_mbgnbd};
  for (int k = 0; k < 2; k++) {
    double lp[4], g[4], want = 0.0;
    for (int i = 0; i < 4; i++) lp[i] = log(p[i]);
    for (int i = 0; i < N; i++)
      want -= pd_bgnbd_family_loglik1((pd_bgnbd_variant)k, p, x[i], tx[i], T[i]);
    assert_close(eval(defs[k], &d, lp, g), want, 1e-12);
  }
}

/* Long horizons need more series terms than the per-x coefficient table
 * holds; the tabulated path continues the series exactly as the direct
 * one. */
static void long_horizon_expectation_continues_past_the_coefficient_table(
    void **state) {
  (void)state;
  const double p[4] = {0.25, 4.4, 0.8, 2.4};
  const double x[3] = {1, 4, 0}, tx[3] = {2.0, 30.0, 0.0}, T[3] = {3.0, 38.0, 1.0};
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = 3, d.x = x, d.t_x = tx, d.T = T;
  double out[3];
  pd_errbuf e;
  const double horizon = 4000.0; /* z = t/(α+T+t) ≈ 0.998 */
  assert_int_equal(
      pd_bgnbd_family_expected(PD_BGNBD_PLAIN, p, &d, horizon, out, &e), PD_OK);
  for (int i = 0; i < 3; i++) {
    double want = pd_bgnbd_expect_alive(p[0] + x[i], p[1] + T[i], p[2],
                                        p[3] + x[i], horizon) *
                  pd_bgnbd_family_p_alive(PD_BGNBD_PLAIN, p, x[i], tx[i], T[i]);
    assert_close(out[i], want, 1e-12);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gradient_matches_central_differences),
      cmocka_unit_test(likelihood_matches_the_published_formula_per_customer),
      cmocka_unit_test(cdnow_fit_reproduces_the_published_estimates),
      cmocka_unit_test(unconditional_expectation_matches_numerical_integration),
      cmocka_unit_test(p_alive_and_conditional_expectation_match_independent_formulas),
      cmocka_unit_test(count_probabilities_sum_to_one_and_to_the_mean),
      cmocka_unit_test(simulated_customers_give_back_their_parameters),
      cmocka_unit_test(extreme_rows_give_finite_answers),
      cmocka_unit_test(data_with_a_single_repeat_buyer_is_handled),
      cmocka_unit_test(hessian_matches_central_differences_of_the_gradient),
      cmocka_unit_test(repeated_times_give_the_per_customer_likelihood),
      cmocka_unit_test(long_horizon_expectation_continues_past_the_coefficient_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
