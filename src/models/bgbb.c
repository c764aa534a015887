#include "models/bgbb.h"

#include <math.h>

#include "models/model.h"
#include "models/row_blocks.h"
#include "models/specfun.h"

int pd_bgbb_history_ok(double x, double t_x, double n) {
  if (!isfinite(x) || !isfinite(t_x) || !isfinite(n)) return 0;
  if (x != floor(x) || t_x != floor(t_x) || n != floor(n)) return 0;
  if (n < 1.0 || x < 0.0 || x > t_x || t_x > n) return 0;
  if ((x == 0.0) != (t_x == 0.0)) return 0;
  return 1;
}

/* Running log-sum-exp of terms that each carry a gradient, rescaled as the
 * maximum grows, so no term array is needed. */
typedef struct lse4 {
  double max, sum, g[4];
} lse4;

static void lse4_add(lse4 *s, double a, const double ga[4]) {
  if (a > s->max) {
    double r = exp(s->max - a); /* 0 on the first term (max = -inf) */
    s->sum *= r;
    for (int k = 0; k < 4; k++) s->g[k] *= r;
    s->max = a;
  }
  double e = exp(a - s->max);
  s->sum += e;
  if (ga)
    for (int k = 0; k < 4; k++) s->g[k] += e * ga[k];
}

/* The log-likelihood with log B(α, β) + log B(γ, δ) given, so loops over
 * customers compute that parameter-only part once. */
static double loglik_with(const double th[4], double lb0, double x,
                          double t_x, double n, double grad[4]) {
  double al = th[0], be = th[1], ga = th[2], de = th[3];
  lse4 s = {-INFINITY, 0.0, {0.0, 0.0, 0.0, 0.0}};
  double psi_ax = grad ? pd_digamma(al + x) : 0.0;
  double psi_g1 = grad ? pd_digamma(ga + 1.0) : 0.0;
  double psi_g0 = grad ? pd_digamma(ga) : 0.0;

  /* Alive through all n opportunities: B(α+x, β+n−x) B(γ, δ+n). */
  {
    double a = pd_lbeta(al + x, be + n - x) + pd_lbeta(ga, de + n);
    double gt[4];
    if (grad) {
      double psi_abn = pd_digamma(al + be + n);
      double psi_gdn = pd_digamma(ga + de + n);
      gt[0] = psi_ax - psi_abn;
      gt[1] = pd_digamma(be + n - x) - psi_abn;
      gt[2] = psi_g0 - psi_gdn;
      gt[3] = pd_digamma(de + n) - psi_gdn;
    }
    lse4_add(&s, a, grad ? gt : NULL);
  }

  /* Died after opportunity t_x + i, i = 0 .. n − t_x − 1:
   * B(α+x, β+t_x−x+i) B(γ+1, δ+t_x+i). Successive terms follow from
   * B(a, b+1) = B(a, b) b / (a+b) and ψ(b+1) = ψ(b) + 1/b. */
  double m = n - t_x;
  if (m > 0.0) {
    double b1 = be + t_x - x, ab = al + x + b1; /* first Beta's 2nd arg, sum */
    double d1 = de + t_x, gd = ga + 1.0 + d1;
    double lb = pd_lbeta(al + x, b1) + pd_lbeta(ga + 1.0, d1);
    double psi_b1 = 0, psi_ab = 0, psi_d1 = 0, psi_gd = 0;
    if (grad) {
      psi_b1 = pd_digamma(b1);
      psi_ab = pd_digamma(ab);
      psi_d1 = pd_digamma(d1);
      psi_gd = pd_digamma(gd);
    }
    for (double i = 0.0; i < m; i += 1.0) {
      double gt[4];
      if (grad) {
        gt[0] = psi_ax - psi_ab;
        gt[1] = psi_b1 - psi_ab;
        gt[2] = psi_g1 - psi_gd;
        gt[3] = psi_d1 - psi_gd;
      }
      lse4_add(&s, lb, grad ? gt : NULL);
      lb += log((b1 * d1) / (ab * gd));
      if (grad) {
        psi_b1 += 1.0 / b1;
        psi_ab += 1.0 / ab;
        psi_d1 += 1.0 / d1;
        psi_gd += 1.0 / gd;
      }
      b1 += 1.0;
      ab += 1.0;
      d1 += 1.0;
      gd += 1.0;
    }
  }

  double ll = s.max + log(s.sum) - lb0;
  if (grad) {
    double psi_ab0 = pd_digamma(al + be), psi_gd0 = pd_digamma(ga + de);
    grad[0] = s.g[0] / s.sum - (pd_digamma(al) - psi_ab0);
    grad[1] = s.g[1] / s.sum - (pd_digamma(be) - psi_ab0);
    grad[2] = s.g[2] / s.sum - (psi_g0 - psi_gd0);
    grad[3] = s.g[3] / s.sum - (pd_digamma(de) - psi_gd0);
  }
  return ll;
}

static double lbeta0(const double th[4]) {
  return pd_lbeta(th[0], th[1]) + pd_lbeta(th[2], th[3]);
}

double pd_bgbb_loglik(const double th[4], double x, double t_x, double n,
                      double grad[4]) {
  return loglik_with(th, lbeta0(th), x, t_x, n, grad);
}

double pd_bgbb_negll(const double lp[4], size_t count, const double *x,
                     const double *t_x, const double *n,
                     const double *weight, double grad[4]) {
  double th[4] = {exp(lp[0]), exp(lp[1]), exp(lp[2]), exp(lp[3])};
  double sum = 0.0, gs[4] = {0.0, 0.0, 0.0, 0.0}, lb0 = lbeta0(th);
  for (size_t i = 0; i < count; i++) {
    double w = weight ? weight[i] : 1.0;
    if (w == 0.0) continue;
    double gi[4];
    /* t_x means nothing without purchases (the summaries' convention). */
    double tx = x[i] > 0.0 ? t_x[i] : 0.0;
    sum += w * loglik_with(th, lb0, x[i], tx, n[i], grad ? gi : NULL);
    if (grad)
      for (int k = 0; k < 4; k++) gs[k] += w * gi[k];
  }
  if (grad)
    for (int k = 0; k < 4; k++) grad[k] = -gs[k] * th[k];
  return -sum;
}

double pd_bgbb_alive(const double th[4], double x, double t_x, double n) {
  /* The constant log B(α,β) + log B(γ,δ) cancels in the ratio. */
  double ll = loglik_with(th, 0.0, x, t_x, n, NULL);
  double a = pd_lbeta(th[0] + x, th[1] + n - x) + pd_lbeta(th[2], th[3] + n);
  double p = exp(a - ll);
  return p > 1.0 ? 1.0 : p;
}

/* What the expectation needs from the parameters alone, computed once per
 * prediction call instead of once per customer. */
typedef struct expect_consts {
  double lb0;  /* log B(α, β) + log B(γ, δ) */
  double lbab; /* log B(α, β) */
  double c;    /* log δ − log|γ−1| + log Γ(γ+δ) − log Γ(1+δ) */
} expect_consts;

static void expect_consts_init(const double th[4], expect_consts *k) {
  double ga = th[2], de = th[3];
  k->lbab = pd_lbeta(th[0], th[1]);
  k->lb0 = k->lbab + pd_lbeta(ga, de);
  k->c = fabs(ga - 1.0) > 1e-6 ? log(de) - log(fabs(ga - 1.0)) +
                                     pd_lgamma(ga + de) - pd_lgamma(1.0 + de)
                               : 0.0;
}

static double expected_with(const double th[4], const expect_consts *k,
                            double x, double t_x, double n, double n_star) {
  double al = th[0], be = th[1], ga = th[2], de = th[3];
  if (n_star <= 0.0) return 0.0;
  double ll = loglik_with(th, k->lb0, x, t_x, n, NULL);
  /* E[p · alive at n] part: B(α+x+1, β+n−x)/B(α,β) / L. */
  double lead = pd_lbeta(al + x + 1.0, be + n - x) - k->lbab - ll;
  /* Σ_{k=1..n*} B(γ, δ+n+k)/B(γ, δ): the chance of being alive at each
   * future opportunity. Closed form (Fader, Hardie & Shang 2010, eq. 13)
   * except near γ = 1, where it is 0/0 and the sum is taken directly. */
  double surv;
  if (fabs(ga - 1.0) > 1e-6) {
    double c = k->c;
    double t1 = pd_lgamma(1.0 + de + n) - pd_lgamma(ga + de + n);
    double t2 = pd_lgamma(1.0 + de + n + n_star) -
                pd_lgamma(ga + de + n + n_star);
    /* δ/(γ−1) (e^{t1} − e^{t2}) with the sign of γ − 1 folded in. */
    double diff = ga > 1.0 ? -expm1(t2 - t1) : expm1(t2 - t1);
    surv = exp(c + t1) * diff;
  } else {
    double lb = pd_lbeta(ga, de + n) - pd_lbeta(ga, de), acc = 0.0;
    double b = de + n;
    for (double k = 1.0; k <= n_star; k += 1.0) {
      lb += log(b / (ga + b));
      b += 1.0;
      acc += exp(lb);
    }
    surv = acc;
  }
  return exp(lead) * surv;
}

double pd_bgbb_expected(const double th[4], double x, double t_x, double n,
                        double n_star) {
  expect_consts k;
  expect_consts_init(th, &k);
  return expected_with(th, &k, x, t_x, n, n_star);
}

double pd_bgbb_p_purchases(const double th[4], double x, double n) {
  double al = th[0], be = th[1], ga = th[2], de = th[3];
  double lbab = pd_lbeta(al, be), lbgd = pd_lbeta(ga, de);
  /* Alive through n with x purchases anywhere, or died after opportunity
   * i >= x with all x purchases among the first i. */
  double lc = pd_lgamma(n + 1.0) - pd_lgamma(x + 1.0) - pd_lgamma(n - x + 1.0);
  double p = exp(lc + pd_lbeta(al + x, be + n - x) - lbab +
                 pd_lbeta(ga, de + n) - lbgd);
  for (double i = x; i < n; i += 1.0) {
    double lci = pd_lgamma(i + 1.0) - pd_lgamma(x + 1.0) - pd_lgamma(i - x + 1.0);
    p += exp(lci + pd_lbeta(al + x, be + i - x) - lbab +
             pd_lbeta(ga + 1.0, de + i) - lbgd);
  }
  return p;
}

/* ---- the model table entry ----------------------------------------- */

static const char *const bgbb_param_names[] = {"alpha", "beta", "gamma",
                                               "delta"};

/* Rules beyond pd_model_check_customers: whole t_x and T (opportunities),
 * and x purchases need x opportunities up to the last one. */
static pd_status bgbb_check_rows(const pd_customer_data *d, pd_errbuf *err) {
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i], tx = x > 0.0 ? d->t_x[i] : 0.0, n = d->T[i];
    if (!pd_bgbb_history_ok(x, tx, n))
      return pd_err(err, PD_E_RANGE,
                    "bgbb customer %zu: (x = %g, t_x = %g, n = %g) is not a "
                    "possible history (whole numbers with 1 <= x <= t_x <= n, "
                    "or x = 0)", i, x, d->t_x[i], n);
  }
  return PD_OK;
}

static pd_status bgbb_validate(pd_model_input *in, pd_errbuf *err) {
  pd_status st = pd_model_check_customers(in->customers, 1, err,
                                          &in->total_weight);
  if (st != PD_OK) return st;
  return bgbb_check_rows(in->customers, err);
}

static void bgbb_start(const pd_model_input *in, double *logp) {
  (void)in;
  for (int k = 0; k < 4; k++) logp[k] = 0.0;
}

/* What the row blocks of the likelihood read. */
typedef struct bgbb_rows {
  const pd_customer_data *d;
  double th[4], lb0;
  int want_grad;
} bgbb_rows;

/* pd_bgbb_negll's sums over rows [begin, end): Σ w log L and its
 * gradient over the natural parameters. */
static void bgbb_row_sums(void *vctx, size_t begin, size_t end,
                          double *sums) {
  const bgbb_rows *c = vctx;
  const pd_customer_data *d = c->d;
  double sum = 0.0, gs[4] = {0.0, 0.0, 0.0, 0.0};
  for (size_t i = begin; i < end; i++) {
    double w = d->weight ? d->weight[i] : 1.0;
    if (w == 0.0) continue;
    double gi[4];
    double tx = d->x[i] > 0.0 ? d->t_x[i] : 0.0;
    sum += w * loglik_with(c->th, c->lb0, d->x[i], tx, d->T[i],
                           c->want_grad ? gi : NULL);
    if (c->want_grad)
      for (int k = 0; k < 4; k++) gs[k] += w * gi[k];
  }
  sums[0] = sum;
  for (int k = 0; k < 4; k++) sums[1 + k] = gs[k];
}

/* pd_bgbb_negll over row blocks (identical to it below one block). */
static double bgbb_model_negll(const pd_model_input *in, const double *logp,
                               double *grad) {
  bgbb_rows c;
  c.d = in->customers;
  for (int k = 0; k < 4; k++) c.th[k] = exp(logp[k]);
  c.lb0 = lbeta0(c.th);
  c.want_grad = grad != NULL;
  double sums[5];
  pd_row_sums(in->threads, c.d->n, 5, bgbb_row_sums, &c, sums);
  if (grad)
    for (int k = 0; k < 4; k++) grad[k] = -sums[1 + k] * c.th[k];
  return -sums[0];
}

static pd_status whole_horizon(double h, pd_errbuf *err) {
  if (h != floor(h) || h > 1e9)
    return pd_err(err, PD_E_RANGE,
                  "bgbb: the horizon %g must be a whole number of "
                  "opportunities (at most 1e9)", h);
  return PD_OK;
}

static pd_status bgbb_expected_purchases(const double *params,
                                         const pd_customer_data *d,
                                         double horizon, double *out,
                                         pd_errbuf *err) {
  /* Every check comes before the first write to out. */
  pd_status st = whole_horizon(horizon, err);
  if (st == PD_OK) st = bgbb_check_rows(d, err);
  if (st != PD_OK) return st;
  expect_consts k;
  expect_consts_init(params, &k);
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i], tx = x > 0.0 ? d->t_x[i] : 0.0;
    out[i] = expected_with(params, &k, x, tx, d->T[i], horizon);
    if (!isfinite(out[i]))
      return pd_err(err, PD_E_NUMERIC,
                    "bgbb customer %zu: expected purchases are not finite", i);
  }
  return PD_OK;
}

static pd_status bgbb_p_alive(const double *params, const pd_customer_data *d,
                              double *out, pd_errbuf *err) {
  pd_status st = bgbb_check_rows(d, err); /* before the first write */
  if (st != PD_OK) return st;
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i], tx = x > 0.0 ? d->t_x[i] : 0.0;
    out[i] = pd_bgbb_alive(params, x, tx, d->T[i]);
    if (!isfinite(out[i]))
      return pd_err(err, PD_E_NUMERIC,
                    "bgbb customer %zu: P(alive) is not finite", i);
  }
  return PD_OK;
}

static pd_status bgbb_unconditional(const double *params, double t,
                                    double *out, pd_errbuf *err) {
  pd_status st = whole_horizon(t, err);
  if (st != PD_OK) return st;
  /* A new customer is the history (0, 0, 0), whose likelihood is 1. */
  *out = pd_bgbb_expected(params, 0.0, 0.0, 0.0, t);
  return PD_OK;
}

static pd_status bgbb_p_purchases_entry(const double *params, uint32_t n,
                                        double t, double *out,
                                        pd_errbuf *err) {
  pd_status st = whole_horizon(t, err);
  if (st != PD_OK) return st;
  *out = (double)n > t ? 0.0 : pd_bgbb_p_purchases(params, (double)n, t);
  return PD_OK;
}

const pd_model_def pd_model_bgbb = {
    .kind = PD_MODEL_BGBB,
    .name = "bgbb",
    .n_params = 4,
    .param_names = bgbb_param_names,
    .validate = bgbb_validate,
    .start = bgbb_start,
    .negll = bgbb_model_negll,
    .expected_purchases = bgbb_expected_purchases,
    .p_alive = bgbb_p_alive,
    .unconditional_purchases = bgbb_unconditional,
    .p_purchases = bgbb_p_purchases_entry,
    .check_rows = bgbb_check_rows,
};
