/* Specification of customer lifetime value: the lifetimes-style discounted
 * CLV over months, Tricomi's U function, and Pareto/NBD DERT, each against
 * an independent brute-force computation; and the errors of the public
 * entry points. */
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

#include "models/clv.h"

#define SQRT_PI 1.7724538509055160273

static void assert_close(double got, double want, double rel) {
  double tol = rel * (fabs(want) > 1.0 ? fabs(want) : 1.0);
  if (!(fabs(got - want) <= tol)) fail_msg("got %.12g, want %.12g", got, want);
}

static void tricomi_u_matches_its_closed_forms(void **state) {
  (void)state;
  const double zs[] = {1e-6, 1e-3, 0.146, 1.0, 1.49, 1.51, 10.0, 80.0};
  for (int k = 0; k < 8; k++) {
    double z = zs[k], rz = sqrt(z);
    /* U(1/2, 1/2, z) = e^z √π erfc(√z). */
    assert_close(pd_log_tricomi_u_ss(0.5, z),
                 z + log(SQRT_PI * erfc(rz)), 1e-12);
    /* U(3/2, 3/2, z) = 2 e^z (e^−z/√z − √π erfc(√z)); the reference loses
     * digits to cancellation for large z, so only where it is exact. */
    if (z < 20)
      assert_close(pd_log_tricomi_u_ss(1.5, z),
                   z + log(2 * (exp(-z) / rz - SQRT_PI * erfc(rz))), 1e-11);
  }
  /* U(1, 1, z) = e^z E1(z); E1(1) = 0.21938393439552027. */
  assert_close(exp(pd_log_tricomi_u_ss(1.0, 1.0)), exp(1.0) * 0.21938393439552027,
               1e-14);
  assert_true(isnan(pd_log_tricomi_u_ss(0.0, 1.0)));
  assert_true(isnan(pd_log_tricomi_u_ss(1.0, 0.0)));
}

/* ∫_0^∞ e^(−δt) (b/(b+t))^s dt by Simpson's rule after t = −log(v)/δ. */
static double discounted_survival_ref(double delta, double b, double s) {
  enum { M = 2000000 };
  double h = 1.0 / M, sum = 0;
  for (int i = 1; i <= M; i++) {
    double v = i * h, t = -log(v) / delta;
    double f = pow(b / (b + t), s) / delta, w = (i == M) ? 1 : (i & 1) ? 4 : 2;
    sum += w * f;
  }
  return sum * h / 3; /* f(v = 0) = 0 */
}

static void dert_equals_the_discounted_integral_of_the_purchase_rate(
    void **state) {
  (void)state;
  const double r = 0.553, alpha = 10.578, beta = 11.669;
  const double ss[] = {0.606, 1.0, 2.7};
  const double deltas[] = {log(1.15) / 52, 0.05};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++) {
      double x = 2, T = 38.86, pa = 0.7;
      double want = pa * (r + x) / (alpha + T) *
                    discounted_survival_ref(deltas[j], beta + T, ss[i]);
      assert_close(pd_pnbd_dert(r, alpha, ss[i], beta, x, T, deltas[j], pa),
                   want, 1e-7);
    }
}

static double linear_purchases(const void *model, double x, double t_x,
                               double T, double t) {
  (void)x;
  (void)t_x;
  (void)T;
  return *(const double *)model * t;
}

static void clv_discounts_each_months_purchases(void **state) {
  (void)state;
  /* Purchases at a constant 0.3 per week: each month brings 0.3 × 4.345
   * purchases worth 20 each, discounted by 1.01^m. */
  double rate = 0.3, want = 0;
  for (int m = 1; m <= 12; m++) want += 0.3 * 4.345 * 20 / pow(1.01, m);
  assert_close(pd_clv_discounted(linear_purchases, &rate, 1, 1, 2, 20, 12,
                                 0.01, 4.345),
               want, 1e-13);
  assert_close(pd_clv_discounted(linear_purchases, &rate, 1, 1, 2, 20, 0, 0.01,
                                 4.345),
               0, 0);
}

/* ---- the public entry points --------------------------------------- */

static pd_fit *fit_with(int32_t model, const double *params, size_t n) {
  pd_fit *fit = NULL;
  assert_int_equal(pd_fit_new(NULL, &fit), PD_OK);
  assert_int_equal(pd_fit_set_params(fit, model, params, n), PD_OK);
  return fit;
}

static const double bgnbd_cdnow[4] = {0.243, 4.414, 0.793, 2.426};
static const double pnbd_cdnow[4] = {0.553, 10.578, 0.606, 11.669};
static const double gg_cdnow[3] = {6.25, 3.74, 15.44};

static double cx[4] = {0, 2, 7, 1}, ctx[4] = {0, 30.43, 35.0, 1.71};
static double cT[4] = {38.86, 38.86, 38.0, 20.0}, cm[4] = {0, 22.35, 40.0, 11.77};

static pd_customer_data customers(void) {
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = 4;
  d.x = cx;
  d.t_x = ctx;
  d.T = cT;
  d.monetary = cm;
  return d;
}

/* The brute force: expected purchases of each week from the transaction
 * model, valued with the expected spend and discounted by the month the
 * week's end falls in... except that lifetimes discounts whole months, so
 * the reference sums month increments read from the public predictions. */
static void clv_with_bgnbd_matches_month_by_month_sum(void **state) {
  (void)state;
  pd_fit *tf = fit_with(PD_MODEL_BGNBD, bgnbd_cdnow, 4);
  pd_fit *sf = fit_with(PD_MODEL_GAMMAGAMMA, gg_cdnow, 3);
  pd_customer_data d = customers();
  double spend[4], want[4] = {0}, prev[4] = {0}, cur[4], got[4];
  assert_int_equal(pd_predict_expected_spend(sf, &d, spend), PD_OK);
  for (int m = 1; m <= 12; m++) {
    assert_int_equal(pd_predict_expected_purchases(tf, &d, m * 4.345, cur), PD_OK);
    for (int i = 0; i < 4; i++) {
      want[i] += (cur[i] - prev[i]) * spend[i] / pow(1.01, m);
      prev[i] = cur[i];
    }
  }
  assert_int_equal(pd_predict_clv(tf, sf, &d, 12, 0.01, 4.345, got), PD_OK);
  for (int i = 0; i < 4; i++) assert_close(got[i], want[i], 1e-12);
  /* Without discounting, CLV = purchases over the year × spend. */
  assert_int_equal(pd_predict_expected_purchases(tf, &d, 12 * 4.345, cur), PD_OK);
  assert_int_equal(pd_predict_clv(tf, sf, &d, 12, 0.0, 4.345, got), PD_OK);
  for (int i = 0; i < 4; i++) assert_close(got[i], cur[i] * spend[i], 1e-12);
  pd_fit_free(tf);
  pd_fit_free(sf);
}

/* BG/BB with one opportunity a month: CLV = Σ_k E[p (1−θ)^(n+k) | history]
 * × spend / (1+d)^k, every term from Beta functions in plain libm. */
static void clv_with_bgbb_matches_opportunity_by_opportunity_sum(void **state) {
  (void)state;
  const double th[4] = {1.204, 0.750, 0.657, 2.783};
  pd_fit *tf = fit_with(PD_MODEL_BGBB, th, 4);
  pd_fit *sf = fit_with(PD_MODEL_GAMMAGAMMA, gg_cdnow, 3);
  double x[1] = {3}, tx[1] = {5}, n[1] = {6}, m[1] = {25};
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = 1;
  d.x = x;
  d.t_x = tx;
  d.T = n;
  d.monetary = m;
#define LB(a, b) (lgamma(a) + lgamma(b) - lgamma((a) + (b)))
  double a = th[0], b = th[1], g = th[2], dl = th[3];
  double L = exp(LB(a + 3, b + 3) - LB(a, b) + LB(g, dl + 6) - LB(g, dl));
  L += exp(LB(a + 3, b + 2) - LB(a, b) + LB(g + 1, dl + 5) - LB(g, dl));
  double spend = gg_cdnow[0] * (gg_cdnow[2] + 3 * 25) /
                 (gg_cdnow[0] * 3 + gg_cdnow[1] - 1);
  double want = 0;
  for (int k = 1; k <= 24; k++)
    want += exp(LB(a + 4, b + 3) - LB(a, b) + LB(g, dl + 6 + k) - LB(g, dl)) /
            L * spend / pow(1.02, k);
#undef LB
  double got;
  assert_int_equal(pd_predict_clv(tf, sf, &d, 24, 0.02, 1.0, &got), PD_OK);
  assert_close(got, want, 1e-10);
  /* Opportunities are whole: 4.345 per month is refused. */
  assert_int_equal(pd_predict_clv(tf, sf, &d, 24, 0.02, 4.345, &got), PD_E_RANGE);
  pd_fit_free(tf);
  pd_fit_free(sf);
}

static void dert_through_the_fit_uses_the_models_p_alive(void **state) {
  (void)state;
  pd_fit *fit = fit_with(PD_MODEL_PARETONBD, pnbd_cdnow, 4);
  pd_customer_data d = customers();
  double pa[4], got[4], delta = log(1.15) / 52;
  assert_int_equal(pd_predict_p_alive(fit, &d, pa), PD_OK);
  assert_int_equal(pd_predict_dert(fit, &d, delta, got), PD_OK);
  for (int i = 0; i < 4; i++) {
    double want = pa[i] * (pnbd_cdnow[0] + cx[i]) / (pnbd_cdnow[1] + cT[i]) *
                  discounted_survival_ref(delta, pnbd_cdnow[3] + cT[i],
                                          pnbd_cdnow[2]);
    assert_close(got[i], want, 1e-7);
  }
  /* More purchases, same recency and age: more residual transactions. */
  assert_true(got[2] > got[0]);
  pd_fit_free(fit);
}

static int fail_after;
static void *failing_malloc(void *u, size_t n) {
  (void)u;
  return fail_after-- > 0 ? malloc(n) : NULL;
}
static void *failing_realloc(void *u, void *p, size_t n) {
  (void)u;
  return fail_after-- > 0 ? realloc(p, n) : NULL;
}
static void plain_free(void *u, void *p) {
  (void)u;
  free(p);
}

static void clv_and_dert_reject_misuse_and_report_out_of_memory(void **state) {
  (void)state;
  pd_fit *bg = fit_with(PD_MODEL_BGNBD, bgnbd_cdnow, 4);
  pd_fit *gg = fit_with(PD_MODEL_GAMMAGAMMA, gg_cdnow, 3);
  pd_fit *empty = NULL;
  assert_int_equal(pd_fit_new(NULL, &empty), PD_OK);
  pd_customer_data d = customers();
  double out[4] = {-1, -1, -1, -1};
  assert_int_equal(pd_predict_clv(NULL, gg, &d, 12, 0.01, 4.345, out), PD_E_MISUSE);
  assert_int_equal(pd_predict_clv(bg, NULL, &d, 12, 0.01, 4.345, out), PD_E_MISUSE);
  assert_int_equal(pd_predict_clv(bg, empty, &d, 12, 0.01, 4.345, out), PD_E_INVALID);
  assert_int_equal(pd_predict_clv(gg, gg, &d, 12, 0.01, 4.345, out), PD_E_INVALID);
  assert_int_equal(pd_predict_clv(bg, bg, &d, 12, 0.01, 4.345, out), PD_E_INVALID);
  assert_non_null(strstr(pd_fit_errmsg(bg), "gammagamma"));
  assert_int_equal(pd_predict_clv(bg, gg, &d, 12, -0.01, 4.345, out), PD_E_RANGE);
  assert_int_equal(pd_predict_clv(bg, gg, &d, 12, NAN, 4.345, out), PD_E_RANGE);
  assert_int_equal(pd_predict_clv(bg, gg, &d, 12, 0.01, 0, out), PD_E_RANGE);
  assert_int_equal(pd_predict_clv(bg, gg, &d, 12, 0.01, 4.345, NULL), PD_E_INVALID);
  assert_int_equal(pd_predict_clv(bg, gg, NULL, 12, 0.01, 4.345, out), PD_E_INVALID);
  cm[1] = -3;
  assert_int_equal(pd_predict_clv(bg, gg, &d, 12, 0.01, 4.345, out), PD_E_RANGE);
  assert_non_null(strstr(pd_fit_errmsg(bg), "customer 1"));
  cm[1] = 22.35;
  assert_int_equal(pd_predict_dert(bg, &d, 0.01, out), PD_E_INVALID);
  pd_fit *pn = fit_with(PD_MODEL_PARETONBD, pnbd_cdnow, 4);
  assert_int_equal(pd_predict_dert(pn, &d, 0, out), PD_E_RANGE);
  assert_int_equal(pd_predict_dert(pn, &d, INFINITY, out), PD_E_RANGE);
  assert_int_equal(pd_predict_dert(pn, &d, 0.01, NULL), PD_E_INVALID);
  for (int i = 0; i < 4; i++) assert_true(out[i] == -1);

  /* The working buffer comes from the transaction fit's allocator. */
  pd_allocator failing = {failing_malloc, failing_realloc, plain_free, NULL};
  pd_fit_options o = PD_FIT_OPTIONS_INIT;
  o.allocator = &failing;
  pd_fit *tight = NULL;
  fail_after = 1; /* the handle itself, then nothing */
  assert_int_equal(pd_fit_new(&o, &tight), PD_OK);
  assert_int_equal(pd_fit_set_params(tight, PD_MODEL_BGNBD, bgnbd_cdnow, 4), PD_OK);
  assert_int_equal(pd_predict_clv(tight, gg, &d, 12, 0.01, 4.345, out), PD_E_NOMEM);
  assert_int_equal(pd_fit_set_params(tight, PD_MODEL_PARETONBD, pnbd_cdnow, 4), PD_OK);
  assert_int_equal(pd_predict_dert(tight, &d, 0.01, out), PD_E_NOMEM);
  for (int i = 0; i < 4; i++) assert_true(out[i] == -1);
  pd_fit_free(tight);
  pd_fit_free(pn);
  pd_fit_free(empty);
  pd_fit_free(bg);
  pd_fit_free(gg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tricomi_u_matches_its_closed_forms),
      cmocka_unit_test(dert_equals_the_discounted_integral_of_the_purchase_rate),
      cmocka_unit_test(clv_discounts_each_months_purchases),
      cmocka_unit_test(clv_with_bgnbd_matches_month_by_month_sum),
      cmocka_unit_test(clv_with_bgbb_matches_opportunity_by_opportunity_sum),
      cmocka_unit_test(dert_through_the_fit_uses_the_models_p_alive),
      cmocka_unit_test(clv_and_dert_reject_misuse_and_report_out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
