/* BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel &
 * Filiztekin 2007) likelihood and predictions. With s = 0 (BG/NBD) or 1
 * (MBG/NBD), a customer's likelihood is
 *   L = Γ(r+x) α^r / (Γ(r)) · B(a, b+x+s) / B(a, b)
 *       · [ (α+T)^-(r+x) + c(x) (α+t_x)^-(r+x) ],
 *   c(x) = a / (b+x+s-1), present when x > 0 or s = 1.
 * Everything that depends on x only (the gamma and beta terms and their
 * digammas) is tabulated once per evaluation, so the per-customer cost is
 * two logarithms and one exponential. */
#include "models/bgnbd_family.h"

#include <math.h>
#include <string.h>

#include "models/distinct_times.h"
#include "models/row_blocks.h"
#include "models/specfun.h"

const char *const pd_bgnbd_family_param_names[4] = {"r", "alpha", "a", "b"};

/* Rows with x above this use the direct formulas instead of the table, so
 * one extreme customer cannot make the table large. */
#define TABLE_CAP 65536u
/* The table recurrences are re-anchored on exact values this often to keep
 * accumulated rounding below 1e-13. */
#define ANCHOR_EVERY 64u

/* The workspace: this header, the per-x table (T_COLS columns of m), then,
 * when the times repeat, log(α+t) and 1/(α+t) per distinct t and the
 * distinct-time index. */
typedef struct table_header {
  size_t m; /* entries: x = 0 .. m-1 */
  pd_distinct_times times;
  double *log_at, *inv_at; /* per distinct time, filled per evaluation */
} table_header;

enum { T_A, T_DR, T_DA, T_DB, T_LOGC, T_DLOGC, T_COLS };
/* Three more columns, filled only for the Hessian: the trigamma
 * differences of A (rr; aa = ab; bb). */
enum { H_RR, H_AA, H_BB, H_COLS };

pd_status pd_bgnbd_family_validate(pd_model_input *in, pd_errbuf *err) {
  return pd_model_check_customers(in->customers, 1, err, &in->total_weight);
}

static size_t table_rows(const pd_customer_data *d) {
  double xmax = 0.0;
  for (size_t i = 0; i < d->n; i++)
    if (d->x[i] > xmax) xmax = d->x[i];
  return xmax >= TABLE_CAP ? TABLE_CAP : (size_t)xmax + 1;
}

size_t pd_bgnbd_family_workspace(const pd_model_input *in) {
  size_t m = table_rows(in->customers);
  size_t dt = pd_distinct_times_bytes(in->customers);
  if (dt) dt += 2 * PD_DISTINCT_TIMES_MAX * sizeof(double);
  return sizeof(table_header) + m * (T_COLS + H_COLS) * sizeof(double) + dt;
}

void pd_bgnbd_family_prepare(pd_model_input *in) {
  table_header *h = in->work;
  h->m = table_rows(in->customers);
  double *tab = (double *)(void *)((char *)in->work + sizeof *h);
  h->log_at = tab + h->m * (T_COLS + H_COLS);
  h->inv_at = h->log_at + PD_DISTINCT_TIMES_MAX;
  h->times.count = 0;
  if (pd_distinct_times_bytes(in->customers))
    pd_distinct_times_build(in->customers, h->inv_at + PD_DISTINCT_TIMES_MAX,
                            &h->times);
}

void pd_bgnbd_family_start(const pd_model_input *in, double *logp) {
  /* r = 1 and α from the mean purchase rate put the start within the
   * optimiser's reach on any time unit; a = b = 1 is a flat prior on
   * dropout. */
  const pd_customer_data *d = in->customers;
  double sx = 0.0, sT = 0.0;
  for (size_t i = 0; i < d->n; i++) {
    double w = pd_model_weight(d, i);
    sx += w * d->x[i];
    sT += w * d->T[i];
  }
  double rate = sx > 0.0 ? sx / sT : 0.1 / (sT / in->total_weight);
  logp[0] = 0.0;
  logp[1] = -log(rate);
  logp[2] = 0.0;
  logp[3] = 0.0;
}

/* Fills the per-x columns for parameters p: A(x) is the log of everything
 * in L that depends on x and the parameters but not on t_x and T, minus
 * r log α. Its beta part log B(a, b+x+s) - log B(a, b) is summed from
 * x = 0 as -Σ log1p(a/(b+s+k)), not taken between lgamma values: with a
 * and b near 1e6 (no visible dropout) those are ~1e7 and their difference
 * would carry 1e-9 of noise, enough to stall the line search. */
static void fill_table(pd_bgnbd_variant v, const double *p, double *tab,
                       size_t m) {
  double r = p[0], a = p[2], b = p[3];
  double s = (double)v;
  double *A = tab + T_A * m, *DR = tab + T_DR * m, *DA = tab + T_DA * m;
  double *DB = tab + T_DB * m, *LC = tab + T_LOGC * m, *DLC = tab + T_DLOGC * m;
  double lg_r = pd_lgamma(r);
  double dg_r = pd_digamma(r), dg_b = pd_digamma(b), dg_ab = pd_digamma(a + b);
  double loga = log(a);
  double lgr = 0, dgr = 0, dgbx = 0, dgabx = 0;
  double beta = -s * log1p(a / b); /* log B(a, b+s) - log B(a, b) */
  for (size_t x = 0; x < m; x++) {
    double xd = (double)x;
    if (x % ANCHOR_EVERY == 0) {
      lgr = pd_lgamma(r + xd);
      dgr = pd_digamma(r + xd);
      dgbx = pd_digamma(b + xd + s);
      dgabx = pd_digamma(a + b + xd + s);
    }
    A[x] = lgr - lg_r + beta;
    DR[x] = dgr - dg_r;
    DA[x] = dg_ab - dgabx;
    DB[x] = dg_ab - dg_b + dgbx - dgabx;
    if (x > 0 || v == PD_BGNBD_MODIFIED) {
      double bx = b + xd + s - 1.0;
      LC[x] = loga - log(bx);
      DLC[x] = -1.0 / bx;
    } else {
      LC[x] = -INFINITY;
      DLC[x] = 0.0;
    }
    /* Step the gamma and digamma values to x + 1. */
    lgr += log(r + xd);
    beta -= log1p(a / (b + xd + s));
    dgr += 1.0 / (r + xd);
    dgbx += 1.0 / (b + xd + s);
    dgabx += 1.0 / (a + b + xd + s);
  }
}

/* The table row for one x computed directly (for x beyond the table). */
static void direct_row(pd_bgnbd_variant v, const double *p, double x,
                       double row[T_COLS]) {
  double r = p[0], a = p[2], b = p[3], s = (double)v;
  row[T_A] = pd_lgamma(r + x) - pd_lgamma(r) + pd_lgamma(a + b) - pd_lgamma(b) +
             pd_lgamma(b + x + s) - pd_lgamma(a + b + x + s);
  row[T_DR] = pd_digamma(r + x) - pd_digamma(r);
  row[T_DA] = pd_digamma(a + b) - pd_digamma(a + b + x + s);
  row[T_DB] = pd_digamma(a + b) - pd_digamma(b) + pd_digamma(b + x + s) -
              pd_digamma(a + b + x + s);
  if (x > 0 || v == PD_BGNBD_MODIFIED) {
    row[T_LOGC] = log(a) - log(b + x + s - 1.0);
    row[T_DLOGC] = -1.0 / (b + x + s - 1.0);
  } else {
    row[T_LOGC] = -INFINITY;
    row[T_DLOGC] = 0.0;
  }
}

double pd_bgnbd_family_loglik1(pd_bgnbd_variant v, const double *p, double x,
                               double t_x, double T) {
  double row[T_COLS];
  direct_row(v, p, x, row);
  double r = p[0], alpha = p[1];
  double e1 = -(r + x) * log(alpha + T);
  double e2 = row[T_LOGC] - (r + x) * log(alpha + (x > 0.0 ? t_x : 0.0));
  double hi = e1 > e2 ? e1 : e2, lo = e1 > e2 ? e2 : e1;
  return row[T_A] + r * log(alpha) + hi + log1p(exp(lo - hi));
}

/* What the row kernels read; filled on the calling thread per evaluation
 * and only read by the blocks. */
typedef struct family_eval {
  pd_bgnbd_variant v;
  const double *p;
  const pd_customer_data *d;
  const table_header *h;
  const double *tab;  /* the per-x columns (T_COLS of m) */
  const double *htab; /* the Hessian columns (H_COLS of m), or NULL */
} family_eval;

enum { S_LL, S_GR, S_GALPHA, S_GA, S_GB, S_W, S_COUNT };

/* The sums of negll over rows [begin, end): log L without r log α, its
 * derivatives over (r, α, a, b) and the total weight. */
static void negll_rows(void *vctx, size_t begin, size_t end, double *sums) {
  const family_eval *c = vctx;
  pd_bgnbd_variant v = c->v;
  const double *p = c->p;
  const pd_customer_data *d = c->d;
  const table_header *h = c->h;
  size_t m = h->m;
  double r = p[0], alpha = p[1], a = p[2];
  const double *A = c->tab + T_A * m, *DR = c->tab + T_DR * m;
  const double *DA = c->tab + T_DA * m, *DB = c->tab + T_DB * m;
  const double *LC = c->tab + T_LOGC * m, *DLC = c->tab + T_DLOGC * m;
  const double *X = d->x, *TX = d->t_x, *TT = d->T, *W = d->weight;
  const pd_distinct_times *dt = &h->times;
  double ll = 0.0, g_r = 0.0, g_alpha = 0.0, g_a = 0.0, g_b = 0.0;
  double wsum = 0.0; /* Σ w, for the r log α term */
  for (size_t i = begin; i < end; i++) {
    double w = W ? W[i] : 1.0;
    if (w == 0.0) continue;
    double x = X[i];
    double row[T_COLS];
    double a_x, dr_x, da_x, db_x, lc_x, dlc_x;
    if (x < (double)m) {
      size_t k = (size_t)x;
      a_x = A[k], dr_x = DR[k], da_x = DA[k], db_x = DB[k], lc_x = LC[k],
      dlc_x = DLC[k];
    } else {
      direct_row(v, p, x, row);
      a_x = row[T_A], dr_x = row[T_DR], da_x = row[T_DA], db_x = row[T_DB],
      lc_x = row[T_LOGC], dlc_x = row[T_DLOGC];
    }
    double rx = r + x;
    double lT, iT;
    if (dt->count) {
      lT = h->log_at[dt->i_T[i]];
      iT = h->inv_at[dt->i_T[i]];
    } else {
      double aT = alpha + TT[i];
      lT = log(aT);
      iT = 1.0 / aT;
    }
    wsum += w;
    if (lc_x == -INFINITY) {
      /* BG/NBD with x = 0: only the "still alive" term. */
      ll += w * (a_x - rx * lT);
      g_r += w * (dr_x - lT);
      g_alpha -= w * rx * iT;
      g_a += w * da_x;
      g_b += w * db_x;
      continue;
    }
    double lt, it;
    if (dt->count) {
      lt = h->log_at[dt->i_tx[i]];
      it = h->inv_at[dt->i_tx[i]];
    } else {
      double at = alpha + (x > 0.0 ? TX[i] : 0.0); /* t_x ignored at x = 0 */
      lt = log(at);
      it = 1.0 / at;
    }
    double e1 = -rx * lT;
    double e2 = lc_x - rx * lt;
    /* Weights of the two terms: p1 + p2 = 1, computed without overflow.
     * log(1 + q) with q in [0, 1] is off from log1p(q) by at most one
     * rounding of 1 + q (1e-16 absolute, far below the row's log L), and
     * libm's log1p costs several times a log. */
    double diff = e2 - e1, p1, p2, lse;
    if (diff > 0.0) {
      double q = exp(-diff), u = 1.0 + q;
      lse = e2 + log(u);
      p2 = 1.0 / u;
      p1 = q * p2;
    } else {
      double q = exp(diff), u = 1.0 + q;
      lse = e1 + log(u);
      p1 = 1.0 / u;
      p2 = q * p1;
    }
    ll += w * (a_x + lse);
    g_r += w * (dr_x - p1 * lT - p2 * lt);
    g_alpha -= w * rx * (p1 * iT + p2 * it);
    g_a += w * (da_x + p2 / a);
    g_b += w * (db_x + p2 * dlc_x);
  }
  sums[S_LL] = ll, sums[S_GR] = g_r, sums[S_GALPHA] = g_alpha;
  sums[S_GA] = g_a, sums[S_GB] = g_b, sums[S_W] = wsum;
}

double pd_bgnbd_family_negll(pd_bgnbd_variant v, const pd_model_input *in,
                             const double *logp, double *grad) {
  const pd_customer_data *d = in->customers;
  double p[4];
  for (int i = 0; i < 4; i++) p[i] = exp(logp[i]);
  double r = p[0], alpha = p[1], a = p[2], b = p[3];
  if (!isfinite(r) || !isfinite(alpha) || !isfinite(a) || !isfinite(b) ||
      r <= 0.0 || alpha <= 0.0 || a <= 0.0 || b <= 0.0)
    return INFINITY;
  const table_header *h = in->work;
  size_t m = h->m;
  double *tab = (double *)(void *)((char *)in->work + sizeof *h);
  fill_table(v, p, tab, m);
  /* With repeating times, log(α+t) and 1/(α+t) come from a table filled
   * here once per distinct t. */
  const pd_distinct_times *dt = &h->times;
  if (dt->count)
    for (size_t k = 0; k < dt->count; k++) {
      double at = alpha + dt->value[k];
      h->log_at[k] = log(at);
      h->inv_at[k] = 1.0 / at;
    }
  family_eval c = {v, p, d, h, tab, NULL};
  double s[S_COUNT];
  pd_row_sums(in->threads, d->n, S_COUNT, negll_rows, &c, s);
  double ll = s[S_LL], g_r = s[S_GR], g_alpha = s[S_GALPHA];
  double wsum = s[S_W];
  double la = log(alpha);
  ll += wsum * r * la;
  g_r += wsum * la;
  g_alpha += wsum * r / alpha;
  if (grad) {
    /* Chain rule to log-parameters: ∂/∂log θ = θ ∂/∂θ. */
    grad[0] = -g_r * r;
    grad[1] = -g_alpha * alpha;
    grad[2] = -s[S_GA] * a;
    grad[3] = -s[S_GB] * b;
  }
  return isfinite(ll) ? -ll : INFINITY;
}

/* The Hessian over (r, α, a, b) of the x-only part A(x) for x = 0..m-1:
 * trigamma differences (r with r; a, b with a, b), stepped by
 * ψ'(z+1) = ψ'(z) - 1/z² and re-anchored as fill_table does. */
static void fill_hessian_table(pd_bgnbd_variant v, const double *p,
                               double *tab, size_t m) {
  double r = p[0], a = p[2], b = p[3], s = (double)v;
  double *RR = tab + H_RR * m, *AA = tab + H_AA * m, *BB = tab + H_BB * m;
  double t_r = pd_trigamma(r), t_b = pd_trigamma(b), t_ab = pd_trigamma(a + b);
  double tr = 0, tbx = 0, tabx = 0;
  for (size_t x = 0; x < m; x++) {
    double xd = (double)x;
    if (x % ANCHOR_EVERY == 0) {
      tr = pd_trigamma(r + xd);
      tbx = pd_trigamma(b + xd + s);
      tabx = pd_trigamma(a + b + xd + s);
    }
    RR[x] = tr - t_r;
    AA[x] = t_ab - tabx;
    BB[x] = AA[x] - t_b + tbx;
    double u = r + xd, vb = b + xd + s, vab = a + b + xd + s;
    tr -= 1.0 / (u * u);
    tbx -= 1.0 / (vb * vb);
    tabx -= 1.0 / (vab * vab);
  }
}

/* The same for one x beyond the table. */
static void a_hessian(pd_bgnbd_variant v, const double *p, double x,
                      double h[H_COLS]) {
  double r = p[0], a = p[2], b = p[3], s = (double)v;
  h[H_RR] = pd_trigamma(r + x) - pd_trigamma(r);
  h[H_AA] = pd_trigamma(a + b) - pd_trigamma(a + b + x + s);
  h[H_BB] = h[H_AA] - pd_trigamma(b) + pd_trigamma(b + x + s);
}

/* The Hessian pass over rows [begin, end): sums[0..3] the gradient G
 * over (r, α, a, b) without the r log α term, sums[4..19] the Hessian H
 * row-major, sums[20] the total weight. */
static void hessian_rows(void *vctx, size_t begin, size_t end, double *sums) {
  const family_eval *c = vctx;
  pd_bgnbd_variant v = c->v;
  const pd_customer_data *d = c->d;
  const double *p = c->p, *tab = c->tab, *htab = c->htab;
  size_t m = c->h->m;
  double r = p[0], alpha = p[1], a = p[2], b = p[3], s = (double)v;
  double H[4][4] = {{0}}, G[4] = {0}, wsum = 0.0;
  double ha[H_COLS], ga[4];
  for (size_t i = begin; i < end; i++) {
    double w = pd_model_weight(d, i);
    if (w == 0.0) continue;
    double x = d->x[i];
    if (x < (double)m) {
      size_t k = (size_t)x;
      ga[0] = tab[T_DR * m + k], ga[1] = 0.0, ga[2] = tab[T_DA * m + k],
      ga[3] = tab[T_DB * m + k];
      for (int j = 0; j < H_COLS; j++) ha[j] = htab[j * m + k];
    } else {
      double row[T_COLS];
      direct_row(v, p, x, row);
      ga[0] = row[T_DR], ga[1] = 0.0, ga[2] = row[T_DA], ga[3] = row[T_DB];
      a_hessian(v, p, x, ha);
    }
    wsum += w;
    double rx = r + x, aT = alpha + d->T[i], lT = log(aT), iT = 1.0 / aT;
    double e1g[4] = {-lT, -rx * iT, 0.0, 0.0};
    double gr[4], hr[4][4] = {{0}};
    hr[0][0] = ha[H_RR];
    hr[2][2] = hr[2][3] = hr[3][2] = ha[H_AA];
    hr[3][3] = ha[H_BB];
    int two = x > 0.0 || v == PD_BGNBD_MODIFIED;
    if (!two) {
      for (int k = 0; k < 4; k++) gr[k] = e1g[k];
      hr[0][1] += -iT, hr[1][0] += -iT;
      hr[1][1] += rx * iT * iT;
    } else {
      double bx = b + x + s - 1.0;
      double at = alpha + (x > 0.0 ? d->t_x[i] : 0.0), lt = log(at), it = 1.0 / at;
      double e1 = -rx * lT, e2 = log(a) - log(bx) - rx * lt;
      double p2 = 1.0 / (1.0 + exp(e1 - e2)), p1 = 1.0 - p2;
      double e2g[4] = {-lt, -rx * it, 1.0 / a, -1.0 / bx};
      double del[4];
      for (int k = 0; k < 4; k++) {
        gr[k] = p1 * e1g[k] + p2 * e2g[k];
        del[k] = e1g[k] - e2g[k];
      }
      double c01 = -(p1 * iT + p2 * it);
      hr[0][1] += c01, hr[1][0] += c01;
      hr[1][1] += rx * (p1 * iT * iT + p2 * it * it);
      hr[2][2] += -p2 / (a * a);
      hr[3][3] += p2 / (bx * bx);
      for (int j = 0; j < 4; j++)
        for (int k = 0; k < 4; k++) hr[j][k] += p1 * p2 * del[j] * del[k];
    }
    for (int j = 0; j < 4; j++) {
      G[j] += w * (ga[j] + gr[j]);
      for (int k = 0; k < 4; k++) H[j][k] += w * hr[j][k];
    }
  }
  for (int j = 0; j < 4; j++) {
    sums[j] = G[j];
    for (int k = 0; k < 4; k++) sums[4 + 4 * j + k] = H[j][k];
  }
  sums[20] = wsum;
}

double pd_bgnbd_family_negll_hessian(pd_bgnbd_variant v,
                                     const pd_model_input *in,
                                     const double *logp, double *grad,
                                     double *hess) {
  /* Called once per estimate, so it favours plainness over speed: the
   * log-sum-exp of the two terms has Hessian p1 H1 + p2 H2 + p1 p2 δ δᵀ
   * (δ = ∇e1 - ∇e2); the x-only part comes from per-x tables. */
  double f = pd_bgnbd_family_negll(v, in, logp, grad);
  if (!isfinite(f)) return f;
  const pd_customer_data *d = in->customers;
  double p[4];
  for (int i = 0; i < 4; i++) p[i] = exp(logp[i]);
  double r = p[0], alpha = p[1];
  /* negll left the per-x table for these parameters in the workspace. */
  const table_header *th = in->work;
  size_t m = th->m;
  const double *tab = (const double *)(const void *)((const char *)in->work +
                                                     sizeof *th);
  double *htab = (double *)(void *)((char *)in->work + sizeof *th) + m * T_COLS;
  fill_hessian_table(v, p, htab, m);
  family_eval c = {v, p, d, th, tab, htab};
  double sums[21];
  pd_row_sums(in->threads, d->n, 21, hessian_rows, &c, sums);
  double H[4][4], G[4], wsum = sums[20];
  for (int j = 0; j < 4; j++) {
    G[j] = sums[j];
    for (int k = 0; k < 4; k++) H[j][k] = sums[4 + 4 * j + k];
  }
  /* r log α, summed over rows. */
  G[0] += wsum * log(alpha);
  G[1] += wsum * r / alpha;
  H[0][1] += wsum / alpha, H[1][0] += wsum / alpha;
  H[1][1] += -wsum * r / (alpha * alpha);
  /* To log-parameters: ∂²/∂log θj ∂log θk = θj θk H + [j = k] θj G, and
   * negated for the negative log-likelihood. */
  for (int j = 0; j < 4; j++)
    for (int k = 0; k < 4; k++)
      hess[j * 4 + k] = -(p[j] * p[k] * H[j][k] + (j == k ? p[j] * G[j] : 0.0));
  return f;
}

/* ---- predictions --------------------------------------------------- */

/* The series coefficients K_n of S = Σ_{n>=1} K_n z^n below, which depend
 * on the parameters but not on z: K_1 = (c-r)/c,
 * K_{n+1} = K_n (c-r+n)(a+n-1) / ((c+n)(n+1)). */
static void expect_coefficients(double r, double a, double c, double *K, int nk) {
  K[0] = 0.0;
  K[1] = (c - r) / c;
  for (int n = 1; n + 1 < nk; n++)
    K[n + 1] = K[n] * (c - r + n) * (a + n - 1.0) / ((c + n) * (n + 1.0));
}

/* pd_bgnbd_expect_alive with the first nk coefficients given (nk may be 0). */
static double expect_alive_with(const double *K, int nk, double r, double alpha,
                                double a, double b, double t) {
  if (t == 0.0) return 0.0;
  /* With z = t/(α+t), A = a-1, c = a+b-1 and Euler's transformation,
   *   (1-z)^r 2F1(r, b; c; z) = (1-z)^A [1 + A S],
   *   S = Σ_{n>=1} (c-r)_n (a)_{n-1} / ((c)_n n!) z^n,
   * so the bracket divided by A is [1 - (1-z)^A]/A - (1-z)^A S, which
   * stays finite as A -> 0. */
  double A = a - 1.0, c = a + b - 1.0;
  double z = t / (alpha + t);
  double L = -log1p(t / alpha); /* log(1 - z) */
  double u = A * L;
  double lead = -L * (u == 0.0 ? 1.0 : expm1(u) / u);
  double pw = exp(u); /* (1-z)^A */
  double tol = 1e-16 * fabs(lead) / pw;
  double S = 0.0, zn = z, term = 0.0;
  int n = 1;
  /* Four terms per step with one convergence test: the test and the
   * single running sum, not the multiplications, bound this loop. */
  double z2 = z * z, z4 = z2 * z2;
  for (; n + 3 < nk; n += 4) {
    double t0 = K[n] * zn, t1 = K[n + 1] * zn * z;
    double t2 = K[n + 2] * zn * z2, t3 = K[n + 3] * zn * z2 * z;
    S += (t0 + t1) + (t2 + t3);
    zn *= z4;
    term = t3;
    if (fabs(term) <= 1e-16 * fabs(S) + tol) return c * (lead - pw * S);
  }
  /* Beyond the table: term_n from term_{n-1} (term holds the last term
   * added, n the next index). */
  if (n == 1) {
    term = (c - r) / c * z;
    S = term;
    n = 2;
  }
  for (; n < 1000000; n++) {
    double k = (double)(n - 1);
    double ratio = (c - r + k) * (a + k - 1.0) / ((c + k) * (k + 1.0)) * z;
    term *= ratio;
    S += term;
    if (fabs(term) <= 1e-16 * fabs(S) + tol && fabs(ratio) < 1.0)
      return c * (lead - pw * S);
  }
  return NAN;
}

double pd_bgnbd_expect_alive(double r, double alpha, double a, double b,
                             double t) {
  return expect_alive_with(NULL, 0, r, alpha, a, b, t);
}

/* P(alive) given log c(x) = log a - log(b+x+s-1). */
static double p_alive_with(double logc, double r, double alpha, double x,
                           double t_x, double T) {
  /* 1 / (1 + c(x) ((α+T)/(α+t_x))^(r+x)), in logs to avoid overflow. */
  if (x == 0.0) t_x = 0.0;
  double lg = logc + (r + x) * log((alpha + T) / (alpha + t_x));
  return lg > 0.0 ? exp(-lg) / (1.0 + exp(-lg)) : 1.0 / (1.0 + exp(lg));
}

double pd_bgnbd_family_p_alive(pd_bgnbd_variant v, const double *p, double x,
                               double t_x, double T) {
  double r = p[0], alpha = p[1], a = p[2], b = p[3], s = (double)v;
  if (x == 0.0 && v == PD_BGNBD_PLAIN) return 1.0;
  return p_alive_with(log(a) - log(b + x + s - 1.0), r, alpha, x, t_x, T);
}

/* log c(x) for x < EXPECT_TAB_X, computed once per prediction call. */
#define EXPECT_TAB_X 32
static void logc_table(pd_bgnbd_variant v, const double *p,
                       double lc[EXPECT_TAB_X]) {
  double la = log(p[2]);
  for (int x = 0; x < EXPECT_TAB_X; x++)
    lc[x] = la - log(p[3] + x + (double)v - 1.0);
}

/* P(alive) of one row, with c(x) from the table when x is small. */
static double p_alive_row(pd_bgnbd_variant v, const double *p,
                          const double lc[EXPECT_TAB_X], double x,
                          double t_x, double T) {
  if (x == 0.0 && v == PD_BGNBD_PLAIN) return 1.0;
  if (x < EXPECT_TAB_X)
    return p_alive_with(lc[(int)x], p[0], p[1], x, t_x, T);
  return pd_bgnbd_family_p_alive(v, p, x, t_x, T);
}

double pd_bgnbd_pmf(double r, double alpha, double a, double b, uint32_t n,
                    double t) {
  if (t == 0.0) return n == 0 ? 1.0 : 0.0;
  double z = t / (alpha + t);
  double l1mz = -log1p(t / alpha), lz = log(z);
  double nd = (double)n;
  double lbab = pd_lbeta(a, b);
  /* NBD(n) = Γ(r+n)/(Γ(r) n!) (1-z)^r z^n. */
  double lnb = pd_lgamma(r + nd) - pd_lgamma(r) - pd_lgamma(nd + 1.0) +
               r * l1mz + nd * lz;
  double first = exp(pd_lbeta(a, b + nd) - lbab + lnb);
  if (n == 0) return first;
  /* P(NBD >= n): 1 minus the head when the head is small, else the tail
   * summed directly, so neither side cancels. */
  double term = exp(r * l1mz), head = 0.0;
  for (uint32_t j = 0; j < n; j++) {
    head += term;
    term *= (r + j) / (j + 1.0) * z;
  }
  double tail;
  if (head < 0.9) {
    tail = 1.0 - head;
  } else {
    term = exp(lnb);
    tail = 0.0;
    for (uint64_t j = n; j < n + 10000000ull; j++) {
      tail += term;
      double ratio = (r + (double)j) / ((double)j + 1.0) * z;
      term *= ratio;
      if (ratio < 1.0 && term <= 1e-17 * tail) break;
    }
  }
  return first + exp(pd_lbeta(a + 1.0, b + nd - 1.0) - lbab) * tail;
}

/* Rows with x below EXPECT_TAB_X share tabulated series coefficients. */
#define EXPECT_TAB_TERMS 128

pd_status pd_bgnbd_family_expected(pd_bgnbd_variant v, const double *p,
                                   const pd_customer_data *d, double horizon,
                                   double *out, pd_errbuf *err) {
  double r = p[0], alpha = p[1], a = p[2], b = p[3], s = (double)v;
  /* Coefficients depend on x only: computed lazily per x seen, so each
   * row's series is a multiply-add per term instead of a division. */
  double K[EXPECT_TAB_X][EXPECT_TAB_TERMS], lc[EXPECT_TAB_X];
  int ready[EXPECT_TAB_X] = {0};
  logc_table(v, p, lc);
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i], T = d->T[i];
    /* Given alive at T: rate ~ Gamma(r+x, α+T), dropout ~ Beta(a, b+x+s). */
    double bx = b + x + s, e;
    if (x < EXPECT_TAB_X) {
      int k = (int)x;
      if (!ready[k]) {
        expect_coefficients(r + x, a, a + bx - 1.0, K[k], EXPECT_TAB_TERMS);
        ready[k] = 1;
      }
      e = expect_alive_with(K[k], EXPECT_TAB_TERMS, r + x, alpha + T, a, bx, horizon);
    } else {
      e = pd_bgnbd_expect_alive(r + x, alpha + T, a, bx, horizon);
    }
    double pa = p_alive_row(v, p, lc, x, d->t_x[i], T);
    double y = e * pa;
    if (y < 0.0 && y > -1e-12) y = 0.0; /* rounding at tiny horizons */
    if (!isfinite(y) || y < 0.0)
      return pd_err(err, PD_E_NUMERIC,
                    "expected purchases of customer %zu did not evaluate", i);
    out[i] = y;
  }
  return PD_OK;
}

pd_status pd_bgnbd_family_p_alive_all(pd_bgnbd_variant v, const double *p,
                                      const pd_customer_data *d, double *out,
                                      pd_errbuf *err) {
  (void)err; /* every validated row evaluates: a ratio of positive terms */
  double lc[EXPECT_TAB_X];
  logc_table(v, p, lc);
  for (size_t i = 0; i < d->n; i++)
    out[i] = p_alive_row(v, p, lc, d->x[i], d->t_x[i], d->T[i]);
  return PD_OK;
}
