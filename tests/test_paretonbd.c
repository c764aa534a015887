/* Specification of the Pareto/NBD model (Schmittlein, Morrison & Colombo
 * 1987; Fader & Hardie 2005 note): the likelihood against direct numerical
 * integration of its definition, the gradient against central differences,
 * the α = β case, the published CDNOW fit, predictions and
 * simulate-and-recover. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/fit.h>

#include "models/distinct_times.h"
#include "models/model.h"
#include "models/paretonbd.h"
#include "sim_rng.h"
#include "testutil_models.h"

static pd_fit *new_fit(void) {
  pd_fit *fit = NULL;
  assert_int_equal(pd_fit_new(NULL, &fit), PD_OK);
  return fit;
}

/* L = Γ(r+x)α^r β^s/Γ(r) [(α+T)^-(r+x)(β+T)^-s
 *     + s ∫_{t_x}^T (α+τ)^-(r+x) (β+τ)^-(s+1) dτ], the integral by Simpson. */
static double brute_loglik(const double *p, double x, double tx, double T) {
  double r = p[0], al = p[1], s = p[2], be = p[3];
  double k = lgamma(r + x) - lgamma(r) + r * log(al) + s * log(be);
  /* Scale by the alive term to keep the numbers near 1. */
  double l0 = -(r + x) * log(al + T) - s * log(be + T);
  const int N = 200000;
  double h = (T - tx) / N, integral = 0.0;
  for (int i = 0; i <= N && h > 0; i++) {
    double tau = tx + i * h, wgt = (i == 0 || i == N) ? 1 : (i % 2 ? 4 : 2);
    integral += wgt * exp(-(r + x) * log(al + tau) - (s + 1) * log(be + tau) - l0);
  }
  integral *= h / 3.0;
  return k + l0 + log(1.0 + s * integral);
}

static void likelihood_matches_numerical_integration_of_its_definition(void **state) {
  (void)state;
  const double pts[][4] = {{0.553, 10.578, 0.606, 11.669}, {0.553, 11.669, 0.606, 10.578},
                           {1.5, 3.0, 2.0, 40.0}, {0.3, 30.0, 0.8, 2.0}};
  const double rows[][3] = {{0, 0, 38.86}, {2, 30.43, 38.86}, {1, 1.71, 38.86},
                            {25, 10.0, 38.0}, {3, 38.0, 38.0}};
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < 5; i++)
      assert_close(pd_paretonbd_loglik1(pts[k], rows[i][0], rows[i][1], rows[i][2]),
                   brute_loglik(pts[k], rows[i][0], rows[i][1], rows[i][2]), 1e-10);
}

static void likelihood_is_continuous_across_alpha_equal_beta(void **state) {
  (void)state;
  const double rows[][3] = {{0, 0, 38.86}, {2, 30.43, 38.86}, {40, 5.0, 50.0}};
  for (int i = 0; i < 3; i++) {
    double eq[4] = {0.55, 10.0, 0.6, 10.0};
    double up[4] = {0.55, 10.0 * (1 + 1e-7), 0.6, 10.0};
    double dn[4] = {0.55, 10.0 * (1 - 1e-7), 0.6, 10.0};
    double l = pd_paretonbd_loglik1(eq, rows[i][0], rows[i][1], rows[i][2]);
    double lu = pd_paretonbd_loglik1(up, rows[i][0], rows[i][1], rows[i][2]);
    double ld = pd_paretonbd_loglik1(dn, rows[i][0], rows[i][1], rows[i][2]);
    assert_true(isfinite(l));
    assert_true(fabs(lu - l) < 1e-5 * fabs(l) && fabs(ld - l) < 1e-5 * fabs(l));
    /* and the two sides bracket the middle (monotone in α locally) */
    assert_true((lu - l) * (l - ld) >= 0.0);
    assert_close(l, brute_loglik(eq, rows[i][0], rows[i][1], rows[i][2]), 1e-10);
  }
}

static double eval(const pd_customer_data *d, const double *lp, double *g) {
  pd_model_input in;
  memset(&in, 0, sizeof in);
  in.customers = d;
  pd_errbuf e;
  assert_int_equal(pd_model_paretonbd.validate(&in, &e), PD_OK);
  in.work = malloc(pd_model_paretonbd.workspace(&in));
  pd_model_paretonbd.prepare(&in);
  double v = pd_model_paretonbd.negll(&in, lp, g);
  free(in.work);
  return v;
}

static void gradient_matches_central_differences(void **state) {
  (void)state;
  const double x[] = {0, 1, 2, 7, 0, 3, 5000, 1};
  const double tx[] = {0, 1.5, 30.4, 38.0, 0, 20.0, 51.0, 10.0};
  const double T[] = {38.9, 38.9, 38.9, 38.0, 12.0, 52.0, 52.0, 10.0};
  const double w[] = {3, 1, 2, 1, 5, 1, 1, 2};
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = 8, d.x = x, d.t_x = tx, d.T = T, d.weight = w;
  const double pts[][4] = {{0.553, 10.578, 0.606, 11.669}, {0.553, 11.669, 0.606, 10.578},
                           {2.0, 0.5, 1.5, 0.2}, {0.2, 3.0, 0.3, 50.0},
                           {0.5, 7.0, 0.7, 7.0}};
  for (int k = 0; k < 5; k++) {
    double lp[4], g[4], gg[4];
    for (int i = 0; i < 4; i++) lp[i] = log(pts[k][i]);
    eval(&d, lp, g);
    for (int i = 0; i < 4; i++) {
      double h = 1e-6, s = lp[i];
      lp[i] = s + h;
      double fp = eval(&d, lp, gg);
      lp[i] = s - h;
      double fm = eval(&d, lp, gg);
      lp[i] = s;
      double fd = (fp - fm) / (2 * h);
      if (!(fabs(fd - g[i]) <= 1e-5 * fmax(1.0, fabs(g[i]))))
        fail_msg("point %d param %d: analytic %.10g vs difference %.10g", k, i, g[i], fd);
    }
  }
}

/* The fitting loop's likelihood (divided by the alive term, per distinct
 * time and (x, t) pair when they repeat, falling back to the log form for
 * rows whose terms would overflow) is the weighted sum of the reference
 * single-customer likelihood, on both sides of α = β, with and without
 * repeated times. */
static void fitting_likelihood_is_the_sum_of_single_customer_likelihoods(void **state) {
  (void)state;
  /* x = 0, t_x = T, x beyond the series tables (1500) and a row whose
   * F(t_x)/F(T) overflows (3000 purchases, the last in week 1). */
  const double x[] = {0, 0, 1, 2, 2, 7, 3, 1500, 3000, 29, 2, 1};
  const double tx[] = {0, 0, 10, 30.43, 30.43, 52, 52, 50, 1, 10, 10, 30.43};
  const double T[] = {52, 38.86, 52, 38.86, 52, 52, 52, 52, 52, 38.86, 38.86, 52};
  const double w[] = {3, 1, 2, 1, 5, 1, 1, 2, 1, 4, 0, 2};
  enum { N = 12 };
  const double pts[][4] = {{0.553, 10.578, 0.606, 11.669}, {0.553, 11.669, 0.606, 10.578},
                           {1.5, 3.0, 2.0, 40.0}, {0.3, 30.0, 0.8, 2.0},
                           {0.5, 7.0, 0.7, 7.0}};
  for (int jitter = 0; jitter < 2; jitter++) {
    /* jitter = 1: every time distinct, so nothing is tabulated. */
    double txj[N], Tj[N];
    for (int i = 0; i < N; i++) {
      Tj[i] = T[i] + (jitter ? 1e-3 * (i + 1) : 0.0);
      txj[i] = tx[i] == T[i] ? Tj[i] : tx[i] + (jitter ? 1e-3 * (i + 1) : 0.0);
    }
    pd_customer_data d = PD_CUSTOMER_DATA_INIT;
    d.n = N, d.x = x, d.t_x = txj, d.T = Tj, d.weight = w;
    for (int k = 0; k < 5; k++) {
      double lp[4], g[4], want = 0.0;
      for (int i = 0; i < 4; i++) lp[i] = log(pts[k][i]);
      for (int i = 0; i < N; i++)
        want -= w[i] * pd_paretonbd_loglik1(pts[k], x[i], txj[i], Tj[i]);
      double got = eval(&d, lp, g);
      if (!(fabs(got - want) <= 1e-12 * fabs(want)))
        fail_msg("jitter %d point %d: %.15g vs %.15g", jitter, k, got, want);
      for (int i = 0; i < 4; i++) {
        double h = 1e-6, s = lp[i], gg[4];
        lp[i] = s + h;
        double fp = eval(&d, lp, gg);
        lp[i] = s - h;
        double fm = eval(&d, lp, gg);
        lp[i] = s;
        double fd = (fp - fm) / (2 * h);
        if (!(fabs(fd - g[i]) <= 1e-5 * fmax(1.0, fabs(g[i]))))
          fail_msg("jitter %d point %d param %d: analytic %.10g vs difference %.10g",
                   jitter, k, i, g[i], fd);
      }
    }
  }
}

/* negll_hessian on d at lp (the model's exact Hessian over the
 * log-parameters, row-major 4x4); returns the value. */
static double eval_hessian(const pd_customer_data *d, const double *lp, double *g,
                           double *hess) {
  pd_model_input in;
  memset(&in, 0, sizeof in);
  in.customers = d;
  pd_errbuf e;
  assert_int_equal(pd_model_paretonbd.validate(&in, &e), PD_OK);
  in.work = malloc(pd_model_paretonbd.workspace(&in));
  pd_model_paretonbd.prepare(&in);
  assert_non_null(pd_model_paretonbd.negll_hessian);
  double v = pd_model_paretonbd.negll_hessian(&in, lp, g, hess);
  free(in.work);
  return v;
}

/* The exact Hessian (standard errors) against central differences of the
 * analytic gradient, with and without repeated times, on both sides of
 * α = β; its value and gradient are negll's. */
static void exact_hessian_matches_central_differences_of_the_gradient(void **state) {
  (void)state;
  const double x[] = {0, 0, 1, 2, 2, 7, 3, 1500, 3000, 29, 2, 1};
  const double tx[] = {0, 0, 10, 30.43, 30.43, 52, 52, 50, 1, 10, 10, 30.43};
  const double T[] = {52, 38.86, 52, 38.86, 52, 52, 52, 52, 52, 38.86, 38.86, 52};
  const double w[] = {3, 1, 2, 1, 5, 1, 1, 2, 1, 4, 0, 2};
  enum { N = 12 };
  const double pts[][4] = {{0.553, 10.578, 0.606, 11.669}, {0.553, 11.669, 0.606, 10.578},
                           {1.5, 3.0, 2.0, 40.0}, {0.3, 30.0, 0.8, 2.0},
                           {0.5, 7.0, 0.7, 7.0}};
  for (int jitter = 0; jitter < 2; jitter++) {
    double txj[N], Tj[N];
    for (int i = 0; i < N; i++) {
      Tj[i] = T[i] + (jitter ? 1e-3 * (i + 1) : 0.0);
      txj[i] = tx[i] == T[i] ? Tj[i] : tx[i] + (jitter ? 1e-3 * (i + 1) : 0.0);
    }
    pd_customer_data d = PD_CUSTOMER_DATA_INIT;
    d.n = N, d.x = x, d.t_x = txj, d.T = Tj, d.weight = w;
    for (int k = 0; k < 5; k++) {
      double lp[4], g[4], g1[4], H[16];
      for (int i = 0; i < 4; i++) lp[i] = log(pts[k][i]);
      double v = eval_hessian(&d, lp, g, H);
      assert_true(v == eval(&d, lp, g1));
      assert_memory_equal(g, g1, sizeof g);
      for (int j = 0; j < 4; j++) {
        double h = 1e-5, s = lp[j], gp[4], gm[4];
        lp[j] = s + h;
        eval(&d, lp, gp);
        lp[j] = s - h;
        eval(&d, lp, gm);
        lp[j] = s;
        for (int i = 0; i < 4; i++) {
          double fd = (gp[i] - gm[i]) / (2 * h);
          if (!(fabs(fd - H[4 * i + j]) <= 1e-6 * fmax(1.0, fabs(H[4 * i + j]))))
            fail_msg("jitter %d point %d H[%d][%d]: exact %.10g vs difference %.10g",
                     jitter, k, i, j, H[4 * i + j], fd);
        }
      }
    }
  }
}

/* n weekly rows (whole days as weeks, two years) with few distinct
 * (x, t) pairs, or with about `pairs_wanted` of them, then `pad` rows of
 * weight 0 with times all distinct: those add nothing to the sums but
 * leave too many distinct times to index. */
static pd_customer_data weekly_rows(size_t n, size_t pad, int many_pairs,
                                    double *x, double *tx, double *T,
                                    double *w) {
  sim_rng g = {0x5eed5u};
  for (size_t i = 0; i < n; i++) {
    T[i] = (double)(1 + sim_next(&g) % 730) / 7.0;
    x[i] = (double)(sim_next(&g) % (many_pairs ? 1000 : 6));
    tx[i] = x[i] > 0 ? (double)(sim_next(&g) % (uint64_t)(T[i] * 7.0 + 1)) / 7.0
                     : 0.0;
    w[i] = 1.0 + (double)(i % 3);
  }
  for (size_t i = n; i < n + pad; i++) {
    T[i] = 200.0 + 1e-3 * (double)i, x[i] = 1.0, tx[i] = 1.0, w[i] = 0.0;
  }
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = n + pad, d.x = x, d.t_x = tx, d.T = T, d.weight = w;
  return d;
}

/* The tables of repeated times and (x, t) pairs only save work: on inputs
 * larger than the old 65,536-row limit of the pair index, and on one with
 * more pairs than the index holds, the likelihood, gradient and Hessian
 * are bit for bit those of the same rows evaluated one by one. */
static void tabulated_times_and_pairs_change_no_bit_of_the_likelihood(
    void **state) {
  (void)state;
  enum { N = 180000, PAD = PD_DISTINCT_TIMES_MAX + 1 };
  double *x = malloc((N + PAD) * sizeof *x), *tx = malloc((N + PAD) * sizeof *tx);
  double *T = malloc((N + PAD) * sizeof *T), *w = malloc((N + PAD) * sizeof *w);
  assert_true(x && tx && T && w);
  const double pts[][4] = {{0.553, 10.578, 0.606, 11.669},
                           {0.553, 11.669, 0.606, 10.578}};
  for (int many = 0; many < 2; many++) {
    pd_customer_data tab = weekly_rows(N, 0, many, x, tx, T, w);
    pd_customer_data rows = weekly_rows(N, PAD, many, x, tx, T, w);
    /* The pair index holds this input's pairs, or overflows. */
    size_t tbytes = pd_distinct_times_bytes_any(&tab);
    size_t pbytes = pd_distinct_pairs_bytes(&tab);
    void *tm = malloc(tbytes), *pm = malloc(pbytes);
    assert_true(tm && pm);
    pd_distinct_times dt;
    pd_distinct_pairs dp;
    pd_distinct_times_build(&tab, tm, &dt);
    pd_distinct_pairs_build(&tab, &dt, pm, &dp);
    assert_true(dt.count > 0 && dt.count <= 731); /* days 0 .. 730 */
    if (many) {
      assert_int_equal(dp.count, 0);
    } else {
      assert_true(dp.count > 0 && dp.count < PD_DISTINCT_PAIRS_MAX);
      for (size_t i = 0; i < N; i += 997) {
        assert_true(dp.x[dp.i_T[i]] == x[i]);
        assert_true(dt.value[dp.t[dp.i_T[i]]] == T[i]);
      }
    }
    free(tm);
    free(pm);
    for (int k = 0; k < 2; k++) {
      double lp[4], g1[4], g2[4], H1[16], H2[16];
      for (int i = 0; i < 4; i++) lp[i] = log(pts[k][i]);
      double v1 = eval_hessian(&tab, lp, g1, H1);
      double v2 = eval_hessian(&rows, lp, g2, H2);
      assert_true(isfinite(v1));
      assert_memory_equal(&v1, &v2, sizeof v1);
      assert_memory_equal(g1, g2, sizeof g1);
      assert_memory_equal(H1, H2, sizeof H1);
    }
  }
  free(x), free(tx), free(T), free(w);
}

static void cdnow_fit_reproduces_the_published_estimates(void **state) {
  (void)state;
  static cdnow c;
  if (!load_cdnow(&c)) return;
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = c.n, d.x = c.x, d.t_x = c.t_x, d.T = c.T;
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_PARETONBD, &d), PD_OK);
  pd_fit_info info = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &info);
  /* r=0.553 α=10.578 s=0.606 β=11.669 LL=-9595.0; β is flat in the
   * likelihood (se ≈ 6), so the 0.01-week rounding of the data moves it in
   * the third decimal. */
  assert_true(fabs(info.params[0] - 0.553) < 0.0006);
  assert_true(fabs(info.params[1] - 10.578) < 0.0006);
  assert_true(fabs(info.params[2] - 0.606) < 0.0006);
  assert_true(fabs(info.params[3] - 11.669) < 0.005);
  assert_true(fabs(info.log_likelihood - -9595.0) < 0.05);
  assert_true(info.has_std_errors);
  pd_fit_free(fit);
}

static void predictions_are_consistent_with_each_other(void **state) {
  (void)state;
  const double p[4] = {0.553, 10.578, 0.606, 11.669};
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_set_params(fit, PD_MODEL_PARETONBD, p, 4), PD_OK);
  double e;
  assert_int_equal(pd_predict_unconditional_purchases(fit, 39.0, &e), PD_OK);
  /* E[X(t)] = rβ/(α(s-1)) [1 - (β/(β+t))^(s-1)] */
  assert_close(e, p[0] * p[3] / (p[1] * (p[2] - 1)) * (1 - pow(p[3] / (p[3] + 39), p[2] - 1)),
               1e-13);
  double total = 0, mean = 0;
  for (uint32_t n = 0; n < 400; n++) {
    double pn;
    assert_int_equal(pd_predict_p_purchases(fit, n, 39.0, &pn), PD_OK);
    total += pn, mean += n * pn;
  }
  assert_close(total, 1.0, 1e-9);
  assert_close(mean, e, 1e-7);
  /* P(alive): the alive term over the likelihood (brute-force integral). */
  const double x[] = {2, 0, 1}, tx[] = {30.43, 0, 1.71}, T[] = {38.86, 38.86, 38.86};
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = 3, d.x = x, d.t_x = tx, d.T = T;
  double pa[3], ey[3];
  assert_int_equal(pd_predict_p_alive(fit, &d, pa), PD_OK);
  assert_int_equal(pd_predict_expected_purchases(fit, &d, 39.0, ey), PD_OK);
  for (int i = 0; i < 3; i++) {
    double r = p[0], al = p[1], s = p[2], be = p[3];
    double lalive = lgamma(r + x[i]) - lgamma(r) + r * log(al) + s * log(be) -
                    (r + x[i]) * log(al + T[i]) - s * log(be + T[i]);
    assert_close(pa[i], exp(lalive - brute_loglik(p, x[i], tx[i], T[i])), 1e-9);
    double alive_e = (r + x[i]) * (be + T[i]) / ((al + T[i]) * (s - 1)) *
                     (1 - pow((be + T[i]) / (be + T[i] + 39), s - 1));
    assert_close(ey[i], pa[i] * alive_e, 1e-12);
  }
  pd_fit_free(fit);
}

static void simulated_customers_give_back_their_parameters(void **state) {
  (void)state;
  enum { N = 20000 };
  static double x[N], tx[N], T[N];
  const double truth[4] = {0.7, 8.0, 0.9, 12.0};
  sim_rng g = {4242};
  for (size_t i = 0; i < N; i++) {
    double lambda = sim_gamma(&g, truth[0]) / truth[1];
    double mu = sim_gamma(&g, truth[2]) / truth[3];
    double age = 20.0 + 32.0 * sim_uniform(&g);
    double life = -log(sim_uniform(&g)) / mu, end = life < age ? life : age;
    double t = 0.0, last = 0.0, k = 0;
    for (;;) {
      t += -log(sim_uniform(&g)) / lambda;
      if (t > end) break;
      k++, last = t;
    }
    x[i] = k, tx[i] = last, T[i] = age;
  }
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = N, d.x = x, d.t_x = tx, d.T = T;
  pd_fit *fit = new_fit();
  assert_int_equal(pd_fit_estimate(fit, PD_MODEL_PARETONBD, &d), PD_OK);
  pd_fit_info info = PD_FIT_INFO_INIT;
  pd_fit_get(fit, &info);
  assert_true(info.has_std_errors);
  for (int i = 0; i < 4; i++)
    if (!(fabs(info.params[i] - truth[i]) <= 3.0 * info.std_errors[i]))
      fail_msg("param %d = %g, truth %g, se %g", i, info.params[i], truth[i],
               info.std_errors[i]);
  pd_fit_free(fit);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(likelihood_matches_numerical_integration_of_its_definition),
      cmocka_unit_test(likelihood_is_continuous_across_alpha_equal_beta),
      cmocka_unit_test(gradient_matches_central_differences),
      cmocka_unit_test(fitting_likelihood_is_the_sum_of_single_customer_likelihoods),
      cmocka_unit_test(exact_hessian_matches_central_differences_of_the_gradient),
      cmocka_unit_test(tabulated_times_and_pairs_change_no_bit_of_the_likelihood),
      cmocka_unit_test(cdnow_fit_reproduces_the_published_estimates),
      cmocka_unit_test(predictions_are_consistent_with_each_other),
      cmocka_unit_test(simulated_customers_give_back_their_parameters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
