#include "models/gammagamma.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <privdomain/spend.h>

#include "models/fit_internal.h"
#include "models/model.h"
#include "models/row_blocks.h"
#include "models/specfun.h"

double pd_gg_loglik(double p, double q, double g, double x, double m,
                    double grad[3]) {
  double px = p * x;
  double s = g + x * m;
  double log_s = log(s);
  double ll = pd_lgamma(px + q) - pd_lgamma(px) - pd_lgamma(q) + q * log(g) +
              (px - 1.0) * log(m) + px * log(x) - (px + q) * log_s;
  if (grad) {
    double psi_all = pd_digamma(px + q);
    grad[0] = x * (psi_all - pd_digamma(px) + log(m) + log(x) - log_s);
    grad[1] = psi_all - pd_digamma(q) + log(g) - log_s;
    grad[2] = q / g - (px + q) / s;
  }
  return ll;
}

double pd_gg_negll(const double lp[3], size_t n, const double *x,
                   const double *m, const double *weight, double grad[3]) {
  double p = exp(lp[0]), q = exp(lp[1]), g = exp(lp[2]);
  double sum = 0.0, gs[3] = {0.0, 0.0, 0.0};
  for (size_t i = 0; i < n; i++) {
    double w = weight ? weight[i] : 1.0;
    /* Customers without repeat purchases carry no spend information. */
    if (x[i] <= 0.0 || w == 0.0) continue;
    double gi[3];
    sum += w * pd_gg_loglik(p, q, g, x[i], m[i], grad ? gi : NULL);
    if (grad)
      for (int k = 0; k < 3; k++) gs[k] += w * gi[k];
  }
  if (grad) {
    /* Chain rule to log-parameters: d/d log θ = θ d/dθ. */
    grad[0] = -gs[0] * p;
    grad[1] = -gs[1] * q;
    grad[2] = -gs[2] * g;
  }
  return -sum;
}

double pd_gg_expected_spend(double p, double q, double g, double x,
                            double m) {
  double den = p * x + q - 1.0;
  if (!(den > 0.0)) return NAN;
  if (x <= 0.0) return p * g / den;
  return p * (g + x * m) / den;
}

/* ---- the model table entry and the public prediction --------------- */

static const char *const gg_param_names[] = {"p", "q", "gamma"};

pd_status pd_gg_check(const pd_customer_data *d, pd_errbuf *err,
                      double *repeat_weight) {
  double total = 0.0;
  pd_status st = pd_model_check_customers(d, 1, err, NULL);
  if (st != PD_OK) return st;
  if (!d->monetary)
    return pd_err(err, PD_E_INVALID,
                  "gammagamma: monetary (mean spend of repeat purchases) "
                  "must be given");
  for (size_t i = 0; i < d->n; i++) {
    double m = d->monetary[i];
    if (!isfinite(m))
      return pd_err(err, PD_E_RANGE, "customer %zu: monetary value %g is not "
                    "finite", i, m);
    if (d->x[i] > 0.0) {
      if (!(m > 0.0))
        return pd_err(err, PD_E_RANGE,
                      "customer %zu: monetary value %g must be > 0 for a "
                      "customer with repeat purchases", i, m);
      total += pd_model_weight(d, i);
    }
  }
  if (repeat_weight) *repeat_weight = total;
  return PD_OK;
}

static pd_status gg_validate(pd_model_input *in, pd_errbuf *err) {
  if (!in->customers)
    return pd_err(err, PD_E_INVALID, "gammagamma: customer data is NULL");
  pd_status st = pd_gg_check(in->customers, err, &in->total_weight);
  if (st != PD_OK) return st;
  if (!(in->total_weight > 0.0))
    return pd_err(err, PD_E_RANGE,
                  "gammagamma: no customer with repeat purchases (x > 0); "
                  "the spend model has nothing to fit");
  return PD_OK;
}

/* p = 1, q = 2 and γ = the mean spend put the population mean p γ/(q−1)
 * at the observed mean whatever the currency unit. */
static void gg_start(const pd_model_input *in, double *logp) {
  const pd_customer_data *d = in->customers;
  double sw = 0.0, sm = 0.0;
  for (size_t i = 0; i < d->n; i++)
    if (d->x[i] > 0.0) {
      double w = pd_model_weight(d, i);
      sw += w;
      sm += w * d->monetary[i];
    }
  logp[0] = 0.0;
  logp[1] = log(2.0);
  logp[2] = sw > 0.0 && sm > 0.0 ? log(sm / sw) : 0.0;
}

/* The fit's workspace: the rows with x > 0 grouped by their x (x is a
 * small whole number), so lgamma/digamma of p x + q are computed once per
 * distinct x per evaluation and each row costs one log and one division.
 * Row terms that do not depend on the parameters, Σ w log m and
 * Σ w x log m, are summed once per fit. */
typedef struct gg_work {
  size_t groups;
  double sum_wlogm, sum_wxlogm;
  double *gx, *glogx, *gw; /* per group: x, log x, Σ w */
  uint32_t *gstart;        /* group j's rows: gstart[j] .. gstart[j+1]-1 */
  double *xm, *w;          /* per row, grouped: x m and the weight */
  uint32_t *gid, *slot;    /* prepare's scratch: row → group, x hash */
} gg_work;

static size_t gg_slots(size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  return cap;
}

static size_t gg_workspace(const pd_model_input *in) {
  size_t n = in->customers->n;
  return sizeof(gg_work) + n * 5 * sizeof(double) +
         (2 * n + 1 + gg_slots(n)) * sizeof(uint32_t);
}

static uint64_t gg_hash(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  u ^= u >> 31;
  u *= 0xBF58476D1CE4E5B9ull;
  u ^= u >> 29;
  return u;
}

static void gg_prepare(pd_model_input *in) {
  const pd_customer_data *d = in->customers;
  size_t n = d->n, cap = gg_slots(n);
  gg_work *h = in->work;
  double *base = (double *)(void *)(h + 1);
  h->gx = base;
  h->glogx = base + n;
  h->gw = base + 2 * n;
  h->xm = base + 3 * n;
  h->w = base + 4 * n;
  h->gstart = (uint32_t *)(void *)(base + 5 * n);
  h->gid = h->gstart + n + 1;
  h->slot = h->gid + n;
  memset(h->slot, 0, cap * sizeof *h->slot);
  /* Pass 1: the group of every row (by its x), the group sizes in gstart. */
  size_t k = 0;
  h->sum_wlogm = h->sum_wxlogm = 0.0;
  for (size_t i = 0; i < n; i++) {
    double x = d->x[i], w = pd_model_weight(d, i);
    h->gid[i] = UINT32_MAX;
    /* Customers without repeat purchases carry no spend information. */
    if (x <= 0.0 || w == 0.0) continue;
    size_t s = (size_t)gg_hash(x) & (cap - 1);
    for (;;) {
      uint32_t j = h->slot[s];
      if (j == 0) {
        h->slot[s] = (uint32_t)(k + 1);
        h->gx[k] = x;
        h->glogx[k] = log(x);
        h->gw[k] = 0.0;
        h->gstart[k] = 0;
        j = (uint32_t)++k;
      }
      if (h->gx[j - 1] == x) {
        h->gid[i] = j - 1;
        h->gw[j - 1] += w;
        h->gstart[j - 1]++;
        break;
      }
      s = (s + 1) & (cap - 1);
    }
    double wl = w * log(d->monetary[i]);
    h->sum_wlogm += wl;
    h->sum_wxlogm += x * wl;
  }
  h->groups = k;
  /* Sizes to starts, then pass 2 places the rows group by group. */
  uint32_t at = 0;
  for (size_t j = 0; j < k; j++) {
    uint32_t c = h->gstart[j];
    h->gstart[j] = at;
    at += c;
  }
  h->gstart[k] = at;
  for (size_t i = 0; i < n; i++) {
    uint32_t j = h->gid[i];
    if (j == UINT32_MAX) continue;
    uint32_t r = h->gstart[j]++;
    h->xm[r] = d->x[i] * d->monetary[i];
    h->w[r] = pd_model_weight(d, i);
  }
  for (size_t j = k; j > 0; j--) h->gstart[j] = h->gstart[j - 1];
  h->gstart[0] = 0;
}

/* ψ(q + d) − ψ(q) for d > 0 without the cancellation of two values near
 * log q: at q >= 1e4 from the asymptotic series ψ(z) = log z − 1/(2z) −
 * 1/(12z²) + 1/(120z⁴) − …, taking each term's difference exactly (the
 * omitted terms are below 1e-24 there). Large q is where the fit goes when
 * customers' mean spends barely differ, and the noise of the plain
 * difference, times q, would swamp the gradient. */
static double digamma_diff(double q, double d) {
  if (q < 1e4) return pd_digamma(q + d) - pd_digamma(q);
  double z = q + d, iq = 1.0 / q, iz = 1.0 / z;
  double iq2 = iq * iq, iz2 = iz * iz;
  return log1p(d * iq) + 0.5 * d * iq * iz +
         (iq2 - iz2) * (1.0 / 12.0 - (iq2 + iz2) / 120.0);
}

/* One group's rows for the row blocks: x m, weights, 1/γ and what to sum
 * (0: L only; 1: L, U, V; 2: all five). */
typedef struct group_rows {
  const double *xm, *w;
  double ig;
  int level;
} group_rows;

/* L = Σ w log1p(u), U = Σ w u/(1+u), V = Σ w/(1+u), V2 = Σ w/(1+u)²,
 * Q = Σ w u (2+u)/(1+u)² over rows [lo, hi) of a group (u = x m / γ). */
static void group_sums(void *vctx, size_t lo, size_t hi, double *sums) {
  const group_rows *c = vctx;
  const double *xm = c->xm, *wt = c->w;
  double ig = c->ig;
  double L = 0.0, U = 0.0, V = 0.0, V2 = 0.0, Q = 0.0;
  if (c->level == 2) {
    for (size_t r = lo; r < hi; r++) {
      double u = xm[r] * ig, v = 1.0 / (1.0 + u), w = wt[r];
      L += w * log1p(u);
      U += w * u * v;
      V += w * v;
      V2 += w * v * v;
      Q += w * u * (2.0 + u) * v * v;
    }
  } else if (c->level == 1) {
    for (size_t r = lo; r < hi; r++) {
      double u = xm[r] * ig, v = 1.0 / (1.0 + u), w = wt[r];
      L += w * log1p(u);
      U += w * u * v;
      V += w * v;
    }
  } else {
    for (size_t r = lo; r < hi; r++) L += wt[r] * log1p(xm[r] * ig);
  }
  sums[0] = L, sums[1] = U, sums[2] = V, sums[3] = V2, sums[4] = Q;
}

/* The grouped likelihood and, when hess != NULL, its Hessian over the
 * log-parameters (3x3, row-major). Equal to pd_gg_negll on the same rows
 * up to rounding. Written in u = x m / γ so that no term grows with q: at
 * large q and γ (little spread of mean spends across customers) the
 * textbook form subtracts sums of size q·n, which would leave the
 * optimiser only noise to follow. Per row: log(γ + x m) = log γ +
 * log1p(u), and q/γ − (p x + q)/(γ + x m) = (q u − p x)/(γ (1 + u)). */
static double gg_grouped(const pd_model_input *in, const double *logp,
                         double *grad, double *hess) {
  const gg_work *h = in->work;
  double p = exp(logp[0]), q = exp(logp[1]), g = exp(logp[2]);
  double lg = log(g), ig = 1.0 / g, psq = pd_digamma(q);
  double tgq = hess ? pd_trigamma(q) : 0.0;
  double ll = p * h->sum_wxlogm - h->sum_wlogm;
  double gp = h->sum_wxlogm, gq = 0.0, gq_g = 0.0; /* gq_g = γ ∂/∂γ */
  double f[6] = {0, 0, 0, 0, 0, 0}; /* θi θj ∂²: pp pq pg qq qg gg */
  for (size_t j = 0; j < h->groups; j++) {
    double x = h->gx[j], W = h->gw[j], px = p * x, a = px + q;
    /* L = Σ w log1p(u), U = Σ w u/(1+u), V = Σ w/(1+u),
     * V2 = Σ w/(1+u)², Q = Σ w u (2+u)/(1+u)². */
    uint32_t lo = h->gstart[j], hi = h->gstart[j + 1];
    group_rows gr = {h->xm + lo, h->w + lo, ig, hess ? 2 : grad ? 1 : 0};
    double sums[5];
    pd_row_sums(in->threads, hi - lo, 5, group_sums, &gr, sums);
    double L = sums[0], U = sums[1], V = sums[2], V2 = sums[3], Q = sums[4];
    double lx = h->glogx[j];
    ll += W * (px * (lx - lg) - pd_lbeta(px, q)) - a * L;
    if (grad || hess) {
      double dq = digamma_diff(q, px);
      gp += W * x * (dq + psq - pd_digamma(px) + lx - lg) - x * L;
      gq += W * dq - L;
      gq_g += q * U - px * V;
    }
    if (hess) {
      double ta = pd_trigamma(a), tx = pd_trigamma(px);
      f[0] += p * p * W * x * x * (ta - tx);
      f[1] += p * q * W * x * ta;
      f[2] -= p * x * V;
      f[3] += q * q * W * (ta - tgq);
      f[4] += q * U;
      f[5] += px * V2 - q * Q;
    }
  }
  /* Chain rule to log-parameters: d/d log θ = θ d/dθ. */
  double d1[3] = {p * gp, q * gq, gq_g};
  if (grad)
    for (int i = 0; i < 3; i++) grad[i] = -d1[i];
  if (hess) {
    /* d²/dlθi dlθj = θi θj ∂²/∂θi∂θj + [i = j] θi ∂/∂θi, negated. */
    static const int at[3][3] = {{0, 1, 2}, {1, 3, 4}, {2, 4, 5}};
    for (int i = 0; i < 3; i++)
      for (int k = 0; k < 3; k++)
        hess[i * 3 + k] = -(f[at[i][k]] + (i == k ? d1[i] : 0.0));
  }
  return -ll;
}

static double gg_model_negll(const pd_model_input *in, const double *logp,
                             double *grad) {
  return gg_grouped(in, logp, grad, NULL);
}

static double gg_model_negll_hessian(const pd_model_input *in,
                                     const double *logp, double *grad,
                                     double *hess) {
  return gg_grouped(in, logp, grad, hess);
}

const pd_model_def pd_model_gammagamma = {
    .kind = PD_MODEL_GAMMAGAMMA,
    .name = "gammagamma",
    .n_params = 3,
    .param_names = gg_param_names,
    .validate = gg_validate,
    .workspace = gg_workspace,
    .prepare = gg_prepare,
    .start = gg_start,
    .negll = gg_model_negll,
    .negll_hessian = gg_model_negll_hessian,
};

pd_status pd_gg_expected_spend_all(const double *params,
                                   const pd_customer_data *d, double *out,
                                   pd_errbuf *err) {
  double p = params[0], q = params[1], g = params[2];
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i];
    double v = pd_gg_expected_spend(p, q, g, x, x > 0.0 ? d->monetary[i] : 0.0);
    if (!isfinite(v))
      return pd_err(err, PD_E_NUMERIC,
                    "customer %zu: expected spend does not exist (p x + q = "
                    "%g <= 1: the population mean spend is infinite)",
                    i, p * x + q);
  }
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i];
    out[i] = pd_gg_expected_spend(p, q, g, x, x > 0.0 ? d->monetary[i] : 0.0);
  }
  return PD_OK;
}

typedef struct spend_job {
  const double *params;
  const pd_customer_data *d;
  double *out;
} spend_job;

/* 1 when a row of [begin, end) has no expected spend. */
static int spend_check_block(void *vctx, size_t begin, size_t end) {
  const spend_job *j = vctx;
  double p = j->params[0], q = j->params[1], g = j->params[2];
  for (size_t i = begin; i < end; i++) {
    double x = j->d->x[i];
    if (!isfinite(pd_gg_expected_spend(p, q, g, x,
                                       x > 0.0 ? j->d->monetary[i] : 0.0)))
      return 1;
  }
  return 0;
}

static int spend_write_block(void *vctx, size_t begin, size_t end) {
  const spend_job *j = vctx;
  double p = j->params[0], q = j->params[1], g = j->params[2];
  for (size_t i = begin; i < end; i++) {
    double x = j->d->x[i];
    j->out[i] = pd_gg_expected_spend(p, q, g, x,
                                     x > 0.0 ? j->d->monetary[i] : 0.0);
  }
  return 0;
}

pd_status pd_predict_expected_spend(pd_fit *fit, const pd_customer_data *data,
                                    double *out) {
  const pd_model_def *def = NULL;
  pd_status st = pd_fit_current_model(fit, &def);
  if (st != PD_OK) return st;
  if (fit->model != PD_MODEL_GAMMAGAMMA)
    return pd_err(&fit->err, PD_E_INVALID,
                  "expected spend needs a gammagamma fit, not %s",
                  pd_model_name(fit->model));
  if (!out) return pd_err(&fit->err, PD_E_INVALID, "out is NULL");
  st = pd_gg_check(data, &fit->err, NULL);
  if (st != PD_OK) return st;
  /* Every row is checked before any is written (out is written only on
   * success). */
  spend_job j = {fit->params, data, out};
  size_t bad = pd_row_map(fit->threads, data->n, spend_check_block, &j);
  if (bad != PD_ROW_NONE) {
    size_t end = (bad + 1) * PD_ROW_BLOCK;
    pd_customer_data v = pd_model_rows(data, 0, end < data->n ? end : data->n);
    /* Fails in its check, before writing: names the first bad customer. */
    st = pd_gg_expected_spend_all(fit->params, &v, out, &fit->err);
    if (st == PD_OK)
      st = pd_err(&fit->err, PD_E_NUMERIC, "expected spend did not evaluate");
    return st;
  }
  pd_row_map(fit->threads, data->n, spend_write_block, &j);
  pd_err_clear(&fit->err);
  return PD_OK;
}
