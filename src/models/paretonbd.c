/* Pareto/NBD (Schmittlein, Morrison & Colombo 1987) in the formulation of
 * Fader & Hardie, "A Note on Deriving the Pareto/NBD Model and Related
 * Expressions" (2005): purchases at rate λ ~ Gamma(r, α) while active,
 * lifetime exponential with rate μ ~ Gamma(s, β). For one customer
 *   L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^-(r+x) (β+T)^-s + s (F(t_x) - F(T)) ]
 *   F(t) = ∫_t^∞ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ
 *        = (α+t)^-(r+x) (β+t)^-s  G / m            when α >= β,
 *        = (α+t)^-(r+x-1) (β+t)^-(s+1) H / m       when α <  β,
 * with m = r+s+x and, after Euler's transformation of the note's 2F1
 * (expanded around the larger of α and β),
 *   G = 2F1(1, r+x; m+1; (α-β)/(α+t)),  H = 2F1(1, s+1; m+1; (β-α)/(β+t)).
 * Both series have positive terms bounded by z^n, and at α = β (z = 0)
 * both reduce to 1, so the equal-parameter case is exact and continuous.
 * The gradient differentiates the series term by term (analytically), and
 * so does the exact Hessian used for the standard errors.
 *
 * The fit evaluates the likelihood many times, so its loop divides the
 * bracket by the alive term (one exp and one log per row) and sums each
 * series once per distinct (x, t) pair from per-x coefficient rows;
 * log_bracket is the plain form the predictions and the tests use. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "models/distinct_times.h"
#include "models/row_blocks.h"
#include "models/model.h"
#include "models/paretonbd.h"
#include "models/specfun.h"

#define TABLE_CAP 65536u
#define ANCHOR_EVERY 64u
#define SERIES_MAX 1000000

static const char *const names[] = {"r", "alpha", "s", "beta"};

/* The series' coefficients depend on x and the parameters but not on z, so
 * per evaluation they are tabulated for small x, one record per term n:
 * P_n = (B)_n/(C)_n, P_n HB_n and P_n HC_n (HB_n = Σ_{k<n} 1/(B+k), HC_n
 * likewise: the B and C derivatives), n P_n (the z derivative) and the
 * stopping weight P_n (n+1)(1+HB_n). A row's series is then four
 * multiply-adds per term. */
#define SERIES_ROWS 1024u
#define SERIES_TERMS 40
#define COEF_STRIDE 5
#define COEF_STRIDE2 11 /* the Hessian's rows, over the same memory */

/* The workspace: this header; per x below m the tables lgamma(r+x) -
 * lgamma(r), ψ(r+x) - ψ(r) and 1/(r+s+x); the series coefficients; then,
 * when times repeat, log(α+t), log(β+t), 1/(α+t) and 1/(β+t) per distinct
 * t, and, while the (x, t) pairs fit PD_DISTINCT_PAIRS_MAX, each distinct
 * pair's series and gradient (all filled per evaluation), then the pair
 * and time indexes. Times are indexed whatever the rows: a row then reads
 * its terms where it would compute two logs and two series, to the same
 * bits. */
typedef struct table_header {
  size_t m;
  pd_distinct_times times;
  pd_distinct_pairs pairs;
  double *time_tab; /* 4 per distinct time */
  double *pair_tab; /* PAIR_STRIDE per distinct pair */
} table_header;

#define PAIR_STRIDE 5 /* the series S, then the gradient of log F */

static pd_status validate(pd_model_input *in, pd_errbuf *err) {
  return pd_model_check_customers(in->customers, 1, err, &in->total_weight);
}

static size_t table_rows(const pd_customer_data *d) {
  double xmax = 0.0;
  for (size_t i = 0; i < d->n; i++)
    if (d->x[i] > xmax) xmax = d->x[i];
  return xmax >= TABLE_CAP ? TABLE_CAP : (size_t)xmax + 1;
}

static size_t series_rows(size_t m) { return m < SERIES_ROWS ? m : SERIES_ROWS; }

static size_t coef_doubles(size_t m) {
  return series_rows(m) * SERIES_TERMS * COEF_STRIDE2;
}

/* Distinct times the table can hold: the index keeps at most one per row. */
static size_t time_slots(const pd_customer_data *d) {
  return d->n < PD_DISTINCT_TIMES_MAX ? d->n : PD_DISTINCT_TIMES_MAX;
}

static size_t workspace(const pd_model_input *in) {
  const pd_customer_data *d = in->customers;
  size_t m = table_rows(d);
  size_t dt = pd_distinct_times_bytes_any(d), pr = 0;
  if (dt) {
    dt += 4 * time_slots(d) * sizeof(double);
    pr = pd_distinct_pairs_bytes(d) +
         pd_distinct_pairs_capacity(d) * PAIR_STRIDE * sizeof(double);
  }
  return sizeof(table_header) + (3 * m + coef_doubles(m)) * sizeof(double) +
         dt + pr;
}

static void prepare(pd_model_input *in) {
  const pd_customer_data *d = in->customers;
  table_header *h = in->work;
  h->m = table_rows(d);
  double *tab = (double *)(void *)((char *)in->work + sizeof *h);
  h->time_tab = tab + 3 * h->m + coef_doubles(h->m);
  h->times.count = 0;
  h->pairs.count = 0;
  if (!pd_distinct_times_bytes_any(d)) return;
  /* time_tab | pair_tab | pair index | time index: the last one's size
   * need not be a multiple of 8. */
  size_t pr = pd_distinct_pairs_bytes(d);
  h->pair_tab = h->time_tab + 4 * time_slots(d);
  double *pair_mem = h->pair_tab + pd_distinct_pairs_capacity(d) * PAIR_STRIDE;
  void *times_mem = (char *)pair_mem + pr;
  pd_distinct_times_build(d, times_mem, &h->times);
  pd_distinct_pairs_build(d, &h->times, pair_mem, &h->pairs);
}

static void start(const pd_model_input *in, double *logp) {
  const pd_customer_data *d = in->customers;
  double sx = 0.0, sT = 0.0;
  for (size_t i = 0; i < d->n; i++) {
    double w = pd_model_weight(d, i);
    sx += w * d->x[i];
    sT += w * d->T[i];
  }
  double meanT = sT / in->total_weight;
  double rate = sx > 0.0 ? sx / sT : 0.1 / meanT;
  /* r = s = 1/2 (rates usually vary widely between customers); α from
   * the purchase rate and β = α, a mean dropout rate equal to it. At α = β
   * the series are 1, and a path from there stays where they converge
   * fast: on CDNOW it costs half the start r = s = 1, β = mean age. */
  logp[0] = log(0.5);
  logp[1] = log(0.5 / rate);
  logp[2] = log(0.5);
  logp[3] = logp[1];
}

/* S = Σ_n (B)_n/(C)_n z^n (C > B > 0, 0 <= z < 1) and its partial
 * derivatives divided by S: d[0] = ∂log S/∂B, d[1] = ∂/∂C, d[2] = ∂/∂z.
 * Returns log S, or NaN if the series did not converge. */
static double series(double B, double C, double z, double d[3]) {
  double t = 1.0, S = 1.0, SB = 0.0, SC = 0.0, Sz = 0.0;
  double hB = 0.0, hC = 0.0; /* Σ_{k<n} 1/(B+k), Σ 1/(C+k) */
  if (z == 0.0) {
    d[0] = d[1] = 0.0;
    d[2] = B / C;
    return 0.0;
  }
  /* Stop when the next term, times the growth of the derivative sums
   * (order n log n) and the geometric tail 1/(1-z), is below 1e-16 of S. */
  double stop = 1e-16 * (1.0 - z);
  for (int n = 0; n < SERIES_MAX; n++) {
    double ib = 1.0 / (B + n), ic = 1.0 / (C + n);
    double q = t * (B + n) * ic; /* t_{n+1} / z */
    double tn = q * z;
    hB += ib;
    hC += ic;
    S += tn;
    SB += tn * hB;
    SC -= tn * hC;
    Sz += (n + 1.0) * q;
    t = tn;
    if (tn * (n + 2.0) * (1.0 + hB) <= stop * S) {
      d[0] = SB / S;
      d[1] = SC / S;
      d[2] = Sz / S;
      return log(S);
    }
  }
  return NAN;
}

/* The same series (not its log) from a row of tabulated coefficients,
 * with the same stopping rule; falls back to the direct sum when it needs
 * more terms than the row holds (z close to 1) or has no row (coef NULL).
 * Returns NaN if the series did not converge. */
static double series_fast(const double *coef, double B, double C, double z,
                          double d[3]) {
  if (z == 0.0) {
    d[0] = d[1] = 0.0;
    d[2] = B / C;
    return 1.0;
  }
  if (coef) {
    double S = 1.0, SB = 0.0, SC = 0.0, Sz = 0.0, zn = 1.0;
    double stop = 1e-16 * (1.0 - z);
    int terms = (int)coef[1]; /* filled, see fill_coefficients */
    for (int n = 1; n < terms; n++) {
      const double *k = coef + n * COEF_STRIDE;
      Sz += k[3] * zn; /* n P_n z^(n-1) */
      zn *= z;
      S += k[0] * zn;
      SB += k[1] * zn;
      SC -= k[2] * zn;
      if (k[4] * zn <= stop * S) {
        double iS = 1.0 / S;
        d[0] = SB * iS;
        d[1] = SC * iS;
        d[2] = Sz * iS;
        return S;
      }
    }
  }
  return exp(series(B, C, z, d));
}

/* Fills the coefficient rows for x = 0 .. rows-1 (see SERIES_TERMS), each
 * only as far as a series at the largest z of this evaluation, |α-β| /
 * max(α, β) (t = 0), can need: its stopping test holds there for every
 * z below. The number of terms filled goes in the unused slot 1 of the
 * row's term 0. */
static void fill_coefficients(double *coef, size_t rows, double r,
                              double alpha, double s, double beta) {
  double zmax = fabs(alpha - beta) / (alpha >= beta ? alpha : beta);
  double stop = 1e-16 * (1.0 - zmax);
  for (size_t x = 0; x < rows; x++) {
    /* B and C of the series used on this side of α = β. */
    double xd = (double)x, C = r + s + xd + 1.0;
    double B = alpha >= beta ? r + xd : s + 1.0;
    double *k = coef + x * SERIES_TERMS * COEF_STRIDE, *row = k;
    double P = 1.0, HB = 0.0, HC = 0.0, zn = 1.0;
    k[0] = 1.0, k[1] = 0.0, k[2] = 0.0, k[3] = 0.0, k[4] = 1.0 + HB;
    int n = 1;
    for (; n < SERIES_TERMS; n++) {
      double ic = 1.0 / (C + n - 1);
      P *= (B + n - 1) * ic;
      HB += 1.0 / (B + n - 1);
      HC += ic;
      k += COEF_STRIDE;
      k[0] = P;
      k[1] = P * HB;
      k[2] = P * HC;
      k[3] = n * P;
      k[4] = P * (n + 1.0) * (1.0 + HB);
      zn *= zmax;
      if (k[4] * zn <= stop) {
        n++;
        break;
      }
    }
    row[1] = (double)n;
  }
}

/* log F(t) and its gradient over
 * (r, α, s, β). */
static double log_f(double r, double alpha, double s, double beta, double x,
                    double t, double lat, double lbt, double g[4]) {
  double m = r + s + x;
  double at = alpha + t, bt = beta + t; /* lat, lbt are their logs */
  double d[3];
  if (alpha >= beta) {
    double z = (alpha - beta) / at;
    double lg = series(r + x, m + 1.0, z, d);
    g[0] = -lat + d[0] + d[1] - 1.0 / m;
    g[1] = -(r + x) / at + d[2] * bt / (at * at);
    g[2] = -lbt + d[1] - 1.0 / m;
    g[3] = -s / bt - d[2] / at;
    return -(r + x) * lat - s * lbt + lg - log(m);
  }
  double z = (beta - alpha) / bt;
  double lh = series(s + 1.0, m + 1.0, z, d);
  g[0] = -lat + d[1] - 1.0 / m;
  g[1] = -(r + x - 1.0) / at - d[2] / bt;
  g[2] = -lbt + d[0] + d[1] - 1.0 / m;
  g[3] = -(s + 1.0) / bt + d[2] * at / (bt * bt);
  return -(r + x - 1.0) * lat - (s + 1.0) * lbt + lh - log(m);
}

/* The part of log L that depends on t_x and T: log[(α+T)^-(r+x)
 * (β+T)^-s + s (F(t_x) - F(T))], its gradient, and P(alive) (the share of
 * the first term). The reference form, in logs throughout: predictions
 * use it, and the fitting loop for rows whose terms would overflow. */
static double log_bracket(double r, double alpha, double s, double beta,
                          double x, double t_x, double T, double g[4],
                          double *p_alive) {
  double lT_a = log(alpha + T);
  double lT_b = log(beta + T);
  double l0 = -(r + x) * lT_a - s * lT_b;
  double g0[4] = {-lT_a, -(r + x) / (alpha + T), -lT_b, -s / (beta + T)};
  if (t_x >= T) {
    /* No time after the last purchase: the customer is alive for sure. */
    memcpy(g, g0, sizeof g0);
    *p_alive = 1.0;
    return l0;
  }
  double ga[4], gb[4];
  double la = log_f(r, alpha, s, beta, x, t_x, log(alpha + t_x),
                    log(beta + t_x), ga);
  double lb = log_f(r, alpha, s, beta, x, T, lT_a, lT_b, gb);
  if (!isfinite(la) || !isfinite(lb)) return NAN;
  double S = l0 > la ? l0 : la;
  double e0 = exp(l0 - S), ea = exp(la - S), eb = exp(lb - S);
  double D = ea - eb;
  if (D < 0.0) D = 0.0; /* F decreases in t; rounding only */
  double Q = e0 + s * D;
  for (int k = 0; k < 4; k++)
    g[k] = (e0 * g0[k] + s * (ea * ga[k] - eb * gb[k])) / Q;
  g[2] += D / Q; /* ∂/∂s of the factor s */
  *p_alive = e0 / Q;
  return S + log(Q);
}

/* What the fitting loop needs of a time t: log(α+t), log(β+t), 1/(α+t),
 * 1/(β+t). */
static void time_terms(double alpha, double beta, double t, double *out) {
  out[0] = log(alpha + t);
  out[1] = log(beta + t);
  out[2] = 1.0 / (alpha + t);
  out[3] = 1.0 / (beta + t);
}

/* The fitting loop's parameters and per-evaluation tables. */
typedef struct eval_ctx {
  double r, alpha, s, beta;
  int a_side;         /* α >= β: the series in (α-β)/(α+t) */
  const double *coef; /* coefficient rows, or NULL */
  size_t coef_rows;
} eval_ctx;

/* F(t) times m, divided by its power prefactor (the alive term's powers
 * at t), i.e. the series, and the gradient of log F(t) over (r, α, s, β).
 * tt: time_terms of t; im = 1/m. */
static double f_series(const eval_ctx *c, double x, double im, const double *tt,
                       double g[4]) {
  const double *coef = x < (double)c->coef_rows
                           ? c->coef + (size_t)x * SERIES_TERMS * COEF_STRIDE
                           : NULL;
  double a = c->r + x, m = c->r + c->s + x, d[3], S;
  if (c->a_side) {
    double z = (c->alpha - c->beta) * tt[2];
    S = series_fast(coef, a, m + 1.0, z, d);
    g[0] = -tt[0] + d[0] + d[1] - im;
    g[1] = -a * tt[2] + d[2] * (1.0 - z) * tt[2]; /* ∂z/∂α = (β+t)/(α+t)² */
    g[2] = -tt[1] + d[1] - im;
    g[3] = -c->s * tt[3] - d[2] * tt[2];
  } else {
    double z = (c->beta - c->alpha) * tt[3];
    S = series_fast(coef, c->s + 1.0, m + 1.0, z, d);
    g[0] = -tt[0] + d[1] - im;
    g[1] = -(a - 1.0) * tt[2] - d[2] * tt[3];
    g[2] = -tt[1] + d[0] + d[1] - im;
    g[3] = -(c->s + 1.0) * tt[3] + d[2] * (1.0 - z) * tt[3];
  }
  return S;
}

/* log_bracket for the fitting loop: the bracket divided by the alive term
 * e0 = (α+T)^-(r+x) (β+T)^-s is 1 + s (F(t_x) - F(T)) / e0, and both
 * ratios are products of tabulated powers and the series, so a row costs
 * one exp and one log instead of five logs and three exps. Rows whose
 * ratio would overflow (many purchases long ago) go to log_bracket.
 * tT, tx: time_terms of T and t_x; fa, fb: the series and gradient of log
 * F at t_x and at T (f_series; PAIR_STRIDE doubles each). Call only for
 * t_x < T. */
static double fast_bracket(const eval_ctx *c, double x, double im,
                           double t_x, double T, const double *tT,
                           const double *tx, const double *fa,
                           const double *fb, double g[4]) {
  double r = c->r, s = c->s, a = r + x;
  /* log of the powers of F(t_x) over those of e0, and of F(T)'s. */
  double dl, lT;
  if (c->a_side) {
    dl = a * (tT[0] - tx[0]) + s * (tT[1] - tx[1]);
    lT = 0.0;
  } else {
    lT = tT[0] - tT[1];
    dl = (a - 1.0) * (tT[0] - tx[0]) + (s + 1.0) * (tT[1] - tx[1]) + lT;
  }
  if (dl > 600.0) {
    double pa;
    return log_bracket(r, c->alpha, s, c->beta, x, t_x, T, g, &pa);
  }
  if (!isfinite(fa[0]) || !isfinite(fb[0])) return NAN;
  double l0 = -a * tT[0] - s * tT[1];
  double g0[4] = {-tT[0], -a * tT[2], -tT[1], -s * tT[3]};
  double ra = exp(dl) * fa[0] * im;
  double rb = (c->a_side ? 1.0 : (T + c->alpha) * tT[3]) * fb[0] * im;
  double D = ra - rb;
  if (D < 0.0) D = 0.0; /* F decreases in t; rounding only */
  double Q = 1.0 + s * D, iQ = 1.0 / Q;
  for (int k = 0; k < 4; k++)
    g[k] = (g0[k] + s * (ra * fa[k + 1] - rb * fb[k + 1])) * iQ;
  g[2] += D * iQ; /* ∂/∂s of the factor s */
  return l0 + log(Q);
}

/* The row's bracket when t_x >= T: the alive term alone. */
static double alive_only(const eval_ctx *c, double x, const double *tT,
                         double g[4]) {
  double a = c->r + x;
  g[0] = -tT[0], g[1] = -a * tT[2], g[2] = -tT[1], g[3] = -c->s * tT[3];
  return -a * tT[0] - c->s * tT[1];
}

/* What the row blocks of negll read (filled on the calling thread). */
typedef struct rows_ctx {
  const pd_customer_data *d;
  const table_header *h;
  const eval_ctx *c;
  const double *LG, *DG, *IM, *t0, *f0;
  size_t m;
  double r, alpha, s, beta, lg_r, dg_r;
} rows_ctx;

enum { R_LL, R_G0, R_G1, R_G2, R_G3, R_W, R_BAD, R_COUNT };

/* Sums of negll over rows [begin, end): log L without the r log α and
 * s log β terms, its gradient over (r, α, s, β), the weight, and how
 * many rows did not evaluate. */
static void negll_rows(void *vctx, size_t begin, size_t end, double *sums) {
  const rows_ctx *rc = vctx;
  const pd_customer_data *d = rc->d;
  const table_header *h = rc->h;
  const eval_ctx c = *rc->c;
  const double *LG = rc->LG, *DG = rc->DG, *IM = rc->IM, *t0 = rc->t0;
  const double *f0 = rc->f0;
  size_t m = rc->m;
  double r = rc->r, alpha = rc->alpha, s = rc->s, beta = rc->beta;
  double lg_r = rc->lg_r, dg_r = rc->dg_r;
  const pd_distinct_times *dt = &h->times;
  const pd_distinct_pairs *dp = &h->pairs;
  double ll = 0.0, G[4] = {0, 0, 0, 0}, wsum = 0.0, bad = 0.0;
  for (size_t i = begin; i < end; i++) {
    double w = d->weight ? d->weight[i] : 1.0;
    if (w == 0.0) continue;
    double x = d->x[i];
    double lgx, dgx, im;
    if (x < (double)m) {
      size_t xi = (size_t)x;
      lgx = LG[xi], dgx = DG[xi], im = IM[xi];
    } else {
      lgx = pd_lgamma(r + x) - lg_r;
      dgx = pd_digamma(r + x) - dg_r;
      im = 1.0 / (r + s + x);
    }
    double g[4], lb;
    double tx = x > 0.0 ? d->t_x[i] : 0.0, T = d->T[i];
    if (dp->count) {
      const double *tT = h->time_tab + 4 * (size_t)dt->i_T[i];
      if (tx >= T) {
        lb = alive_only(&c, x, tT, g);
      } else {
        lb = fast_bracket(&c, x, im, tx, T, tT,
                          h->time_tab + 4 * (size_t)dt->i_tx[i],
                          h->pair_tab + PAIR_STRIDE * (size_t)dp->i_tx[i],
                          h->pair_tab + PAIR_STRIDE * (size_t)dp->i_T[i], g);
      }
    } else {
      double bufT[4], bufx[4], fa[PAIR_STRIDE], fb[PAIR_STRIDE];
      const double *tT = bufT, *txp = bufx;
      if (dt->count) {
        tT = h->time_tab + 4 * (size_t)dt->i_T[i];
        txp = h->time_tab + 4 * (size_t)dt->i_tx[i];
      } else {
        time_terms(alpha, beta, T, bufT);
        if (tx > 0.0) time_terms(alpha, beta, tx, bufx);
        else memcpy(bufx, t0, sizeof bufx);
      }
      if (tx >= T) {
        lb = alive_only(&c, x, tT, g);
      } else {
        const double *fap = f0;
        if (x > 0.0) {
          fa[0] = f_series(&c, x, im, txp, fa + 1);
          fap = fa;
        }
        fb[0] = f_series(&c, x, im, tT, fb + 1);
        lb = fast_bracket(&c, x, im, tx, T, tT, txp, fap, fb, g);
      }
    }
    if (!isfinite(lb)) {
      bad = 1.0;
      continue;
    }
    wsum += w;
    ll += w * (lgx + lb);
    G[0] += w * (dgx + g[0]);
    G[1] += w * g[1];
    G[2] += w * g[2];
    G[3] += w * g[3];
  }
  sums[R_LL] = ll, sums[R_G0] = G[0], sums[R_G1] = G[1], sums[R_G2] = G[2];
  sums[R_G3] = G[3], sums[R_W] = wsum, sums[R_BAD] = bad;
}

static double negll(const pd_model_input *in, const double *logp, double *grad) {
  const pd_customer_data *d = in->customers;
  double r = exp(logp[0]), alpha = exp(logp[1]), s = exp(logp[2]),
         beta = exp(logp[3]);
  if (!(r > 0.0 && alpha > 0.0 && s > 0.0 && beta > 0.0) || !isfinite(r) ||
      !isfinite(alpha) || !isfinite(s) || !isfinite(beta))
    return INFINITY;
  const table_header *h = in->work;
  size_t m = h->m;
  double *LG = (double *)(void *)((char *)in->work + sizeof *h);
  double *DG = LG + m, *IM = DG + m;
  /* lgamma(r+x) - lgamma(r), ψ(r+x) - ψ(r) and 1/(r+s+x) for x < m. */
  double lg_r = pd_lgamma(r), dg_r = pd_digamma(r), lg = 0.0, dg = 0.0;
  for (size_t x = 0; x < m; x++) {
    if (x % ANCHOR_EVERY == 0) {
      lg = pd_lgamma(r + (double)x);
      dg = pd_digamma(r + (double)x);
    }
    LG[x] = lg - lg_r;
    DG[x] = dg - dg_r;
    lg += log(r + (double)x);
    dg += 1.0 / (r + (double)x);
    IM[x] = 1.0 / (r + s + (double)x);
  }
  eval_ctx c = {r, alpha, s, beta, alpha >= beta, IM + m, series_rows(m)};
  fill_coefficients(IM + m, c.coef_rows, r, alpha, s, beta);
  /* Repeating times: their terms once per distinct time; repeating (x, t)
   * pairs: their series once per pair. */
  const pd_distinct_times *dt = &h->times;
  const pd_distinct_pairs *dp = &h->pairs;
  for (size_t k = 0; k < dt->count; k++)
    time_terms(alpha, beta, dt->value[k], h->time_tab + 4 * k);
  for (size_t k = 0; k < dp->count; k++) {
    double x = dp->x[k];
    double im = x < (double)m ? IM[(size_t)x] : 1.0 / (r + s + x);
    double *out = h->pair_tab + PAIR_STRIDE * k;
    out[0] = f_series(&c, x, im, h->time_tab + 4 * (size_t)dp->t[k], out + 1);
  }
  /* Without the pair index: F(0)'s series for customers without repeat
   * purchases (x = 0, t_x = 0) is the same for all of them, once. */
  double t0[4], f0[PAIR_STRIDE];
  time_terms(alpha, beta, 0.0, t0);
  f0[0] = f_series(&c, 0.0, 1.0 / (r + s), t0, f0 + 1);
  rows_ctx rc = {d, h, &c, LG, DG, IM, t0, f0, m, r, alpha, s, beta, lg_r, dg_r};
  double sums[R_COUNT];
  pd_row_sums(in->threads, d->n, R_COUNT, negll_rows, &rc, sums);
  if (sums[R_BAD] != 0.0) return INFINITY;
  double ll = sums[R_LL], wsum = sums[R_W];
  double G[4] = {sums[R_G0], sums[R_G1], sums[R_G2], sums[R_G3]};
  double la = log(alpha), lbeta = log(beta);
  ll += wsum * (r * la + s * lbeta);
  G[0] += wsum * la;
  G[1] += wsum * r / alpha;
  G[2] += wsum * lbeta;
  G[3] += wsum * s / beta;
  if (grad) {
    grad[0] = -G[0] * r;
    grad[1] = -G[1] * alpha;
    grad[2] = -G[2] * s;
    grad[3] = -G[3] * beta;
  }
  return isfinite(ll) ? -ll : INFINITY;
}

/* ---- the exact Hessian, for the standard errors ---------------------- */

/* Second-derivative coefficient rows, filled over the same workspace as
 * the first-derivative ones once negll is done with them: per term n
 * P, P HB, P HC, n P, P (HB² - QB), P (HC² + QC), P HB HC, n P HB,
 * n P HC, n (n-1) P and the stopping weight P (n+1)² (1+HB)², with QB_n =
 * Σ_{k<n} 1/(B+k)² and QC_n likewise. */
static void fill_coefficients2(double *coef, size_t rows, double r,
                               double alpha, double s, double beta) {
  for (size_t x = 0; x < rows; x++) {
    double xd = (double)x, C = r + s + xd + 1.0;
    double B = alpha >= beta ? r + xd : s + 1.0;
    double *k = coef + x * SERIES_TERMS * COEF_STRIDE2;
    double P = 1.0, hB = 0.0, hC = 0.0, qB = 0.0, qC = 0.0;
    memset(k, 0, COEF_STRIDE2 * sizeof *k);
    k[0] = 1.0;
    for (int n = 1; n < SERIES_TERMS; n++) {
      double ib = 1.0 / (B + n - 1), ic = 1.0 / (C + n - 1);
      P *= (B + n - 1) * ic;
      hB += ib, hC += ic, qB += ib * ib, qC += ic * ic;
      k += COEF_STRIDE2;
      k[0] = P, k[1] = P * hB, k[2] = P * hC, k[3] = n * P;
      k[4] = P * (hB * hB - qB), k[5] = P * (hC * hC + qC), k[6] = P * hB * hC;
      k[7] = n * P * hB, k[8] = n * P * hC, k[9] = n * (n - 1.0) * P;
      k[10] = P * (n + 1.0) * (n + 1.0) * (1.0 + hB) * (1.0 + hB);
    }
  }
}

/* Finishes series2: d = gradient, h = Hessian of log S over (B, C, z)
 * as hBB, hBC, hBz, hCC, hCz, hzz, from the raw sums. */
static double series2_finish(const double *sum, double d[3], double h[6]) {
  /* sum: S, SB, SC, Sz, SBB, SCC, SBC, SBz, SCz, Szz */
  double iS = 1.0 / sum[0];
  d[0] = sum[1] * iS, d[1] = sum[2] * iS, d[2] = sum[3] * iS;
  h[0] = sum[4] * iS - d[0] * d[0];
  h[1] = sum[6] * iS - d[0] * d[1];
  h[2] = sum[7] * iS - d[0] * d[2];
  h[3] = sum[5] * iS - d[1] * d[1];
  h[4] = sum[8] * iS - d[1] * d[2];
  h[5] = sum[9] * iS - d[2] * d[2];
  return log(sum[0]);
}

/* log S of `series` with its gradient d and Hessian h over (B, C, z)
 * (hBB, hBC, hBz, hCC, hCz, hzz), from a row of fill_coefficients2 when
 * given, else by direct summation. Returns NaN if it did not converge. */
static double series2(const double *coef, double B, double C, double z,
                      double d[3], double h[6]) {
  double sum[10] = {1.0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  /* The next terms, times the growth of the second-derivative sums
   * (order n² log² n) and the geometric tail, are below 1e-17 of S. */
  double stop = 1e-17 * (1.0 - z) * (1.0 - z);
  double zn1 = 1.0, zn2 = 0.0; /* z^(n-1), z^(n-2) */
  if (coef) {
    for (int n = 1; n < SERIES_TERMS; n++) {
      const double *k = coef + n * COEF_STRIDE2;
      double zn = zn1 * z;
      sum[0] += k[0] * zn, sum[1] += k[1] * zn, sum[2] -= k[2] * zn;
      sum[3] += k[3] * zn1;
      sum[4] += k[4] * zn, sum[5] += k[5] * zn, sum[6] -= k[6] * zn;
      sum[7] += k[7] * zn1, sum[8] -= k[8] * zn1, sum[9] += k[9] * zn2;
      if (n >= 2 && k[10] * zn1 <= stop * sum[0]) return series2_finish(sum, d, h);
      zn2 = zn1, zn1 = zn;
    }
    memset(sum, 0, sizeof sum);
    sum[0] = 1.0, zn1 = 1.0, zn2 = 0.0;
  }
  double P = 1.0, hB = 0.0, hC = 0.0, qB = 0.0, qC = 0.0;
  for (int n = 1; n < SERIES_MAX; n++) {
    double ib = 1.0 / (B + n - 1), ic = 1.0 / (C + n - 1);
    P *= (B + n - 1) * ic;
    hB += ib, hC += ic, qB += ib * ib, qC += ic * ic;
    double zn = zn1 * z, tn = P * zn, u = n * P * zn1;
    sum[0] += tn, sum[1] += tn * hB, sum[2] -= tn * hC, sum[3] += u;
    sum[4] += tn * (hB * hB - qB), sum[5] += tn * (hC * hC + qC);
    sum[6] -= tn * hB * hC, sum[7] += u * hB, sum[8] -= u * hC;
    sum[9] += n * (n - 1.0) * P * zn2;
    if (n >= 2 && (n + 1.0) * (n + 1.0) * P * zn1 * (1.0 + hB) * (1.0 + hB) <=
                      stop * sum[0])
      return series2_finish(sum, d, h);
    zn2 = zn1, zn1 = zn;
  }
  return NAN;
}

/* log F(t) with its gradient g and Hessian H (4x4, row-major) over
 * (r, α, s, β); tt: time_terms of t; coef: fill_coefficients2 row of x or
 * NULL. */
static double log_f2(double r, double alpha, double s, double beta, double x,
                     const double *tt, const double *coef, double g[4],
                     double H[16]) {
  double m = r + s + x, lat = tt[0], lbt = tt[1], iat = tt[2], ibt = tt[3];
  double d[3], h[6], z, za, zb, zaa, zab, zbb, pa, ps, lS;
  int b; /* the parameter B moves with: r (α >= β) or s */
  if (alpha >= beta) {
    z = (alpha - beta) * iat;
    lS = series2(coef, r + x, m + 1.0, z, d, h);
    za = (1.0 - z) * iat, zb = -iat;
    zaa = -2.0 * (1.0 - z) * iat * iat, zab = iat * iat, zbb = 0.0;
    pa = r + x, ps = s, b = 0;
  } else {
    z = (beta - alpha) * ibt;
    lS = series2(coef, s + 1.0, m + 1.0, z, d, h);
    za = -ibt, zb = (1.0 - z) * ibt;
    zaa = 0.0, zab = ibt * ibt, zbb = -2.0 * (1.0 - z) * ibt * ibt;
    pa = r + x - 1.0, ps = s + 1.0, b = 2;
  }
  /* log S through B (one of r, s), C = r + s + x + 1 and z(α, β). */
  double hCC = h[3], hBC = h[1], hCz = h[4], hBz = h[2];
  double im = 1.0 / m;
  memset(H, 0, 16 * sizeof *H);
  H[0] = H[2] = H[8] = H[10] = hCC + im * im; /* C and -log m */
  /* B-B and B-C (B's parameter b is r or s, C moves with both). */
  H[4 * b + b] += h[0] + 2.0 * hBC;
  H[0 * 4 + 2] += hBC, H[2 * 4 + 0] += hBC;
  double Cz = hCz, Bz = hBz;
  H[0 * 4 + 1] = H[1 * 4 + 0] = Cz * za;
  H[0 * 4 + 3] = H[3 * 4 + 0] = Cz * zb;
  H[2 * 4 + 1] = H[1 * 4 + 2] = Cz * za;
  H[2 * 4 + 3] = H[3 * 4 + 2] = Cz * zb;
  H[b * 4 + 1] += Bz * za, H[1 * 4 + b] += Bz * za;
  H[b * 4 + 3] += Bz * zb, H[3 * 4 + b] += Bz * zb;
  H[1 * 4 + 1] = h[5] * za * za + d[2] * zaa;
  H[1 * 4 + 3] = H[3 * 4 + 1] = h[5] * za * zb + d[2] * zab;
  H[3 * 4 + 3] = h[5] * zb * zb + d[2] * zbb;
  g[0] = d[1] - lat - im;
  g[1] = d[2] * za - pa * iat;
  g[2] = d[1] - lbt - im;
  g[3] = d[2] * zb - ps * ibt;
  g[b] += d[0];
  /* -pa log(α+t) - ps log(β+t): pa moves with r, ps with s. */
  H[0 * 4 + 1] -= iat, H[1 * 4 + 0] -= iat;
  H[1 * 4 + 1] += pa * iat * iat;
  H[2 * 4 + 3] -= ibt, H[3 * 4 + 2] -= ibt;
  H[3 * 4 + 3] += ps * ibt * ibt;
  return -pa * lat - ps * lbt + lS - log(m);
}

/* One row's log-likelihood bracket (as log_bracket) with gradient and
 * Hessian over (r, α, s, β): the bracket is the signed sum of exp(φ_k),
 * φ = l0, log s + log F(t_x), log s + log F(T). tT, tx: time_terms. */
static double bracket2(double r, double alpha, double s, double beta,
                       double x, double t_x, double T, const double *tT,
                       const double *tx, const double *coef, double g[4],
                       double H[16]) {
  double phi[3], gp[3][4], Hp[3][16];
  double a = r + x;
  memset(Hp[0], 0, sizeof Hp[0]);
  phi[0] = -a * tT[0] - s * tT[1];
  gp[0][0] = -tT[0], gp[0][1] = -a * tT[2];
  gp[0][2] = -tT[1], gp[0][3] = -s * tT[3];
  Hp[0][1] = Hp[0][4] = -tT[2];
  Hp[0][5] = a * tT[2] * tT[2];
  Hp[0][11] = Hp[0][14] = -tT[3];
  Hp[0][15] = s * tT[3] * tT[3];
  int terms = t_x < T ? 3 : 1;
  if (terms == 3) {
    double ls = log(s);
    phi[1] = ls + log_f2(r, alpha, s, beta, x, tx, coef, gp[1], Hp[1]);
    phi[2] = ls + log_f2(r, alpha, s, beta, x, tT, coef, gp[2], Hp[2]);
    for (int k = 1; k < 3; k++) {
      gp[k][2] += 1.0 / s;
      Hp[k][10] -= 1.0 / (s * s);
    }
  }
  double M = phi[0];
  if (terms == 3 && phi[1] > M) M = phi[1];
  double Z = 0.0, gz[4] = {0}, Hz[16] = {0};
  for (int k = 0; k < terms; k++) {
    double e = (k == 2 ? -1.0 : 1.0) * exp(phi[k] - M);
    Z += e;
    for (int i = 0; i < 4; i++) {
      gz[i] += e * gp[k][i];
      for (int j = 0; j < 4; j++)
        Hz[4 * i + j] += e * (Hp[k][4 * i + j] + gp[k][i] * gp[k][j]);
    }
  }
  for (int i = 0; i < 4; i++) g[i] = gz[i] / Z;
  for (int i = 0; i < 16; i++) H[i] = Hz[i] / Z - g[i / 4] * g[i % 4];
  return M + log(Z);
}

/* negll with its exact Hessian over the log-parameters: the value and
 * gradient from negll, then the Hessian row by row, reusing negll's time
 * terms and the workspace's coefficient rows (refilled with the second
 * derivatives' coefficients). */
/* What the Hessian's row blocks read. */
typedef struct hess_ctx {
  const pd_customer_data *d;
  const table_header *th;
  const double *coef;
  size_t rows;
  double r, alpha, s, beta, dg_r, tg_r;
} hess_ctx;

/* Hessian sums over rows [begin, end): G (4), H (16, row-major), the
 * weight, and how many rows did not evaluate. */
static void hessian_rows(void *vctx, size_t begin, size_t end, double *sums) {
  const hess_ctx *hc = vctx;
  const pd_customer_data *d = hc->d;
  const table_header *th = hc->th;
  const pd_distinct_times *dt = &th->times;
  double r = hc->r, alpha = hc->alpha, s = hc->s, beta = hc->beta;
  double dg_r = hc->dg_r, tg_r = hc->tg_r;
  size_t rows = hc->rows;
  double H[16] = {0}, G[4] = {0}, wsum = 0.0, bad = 0.0;
  for (size_t i = begin; i < end; i++) {
    double w = pd_model_weight(d, i);
    if (w == 0.0) continue;
    double x = d->x[i], tx = x > 0.0 ? d->t_x[i] : 0.0, T = d->T[i];
    double g[4], h[16], bufT[4], bufx[4];
    const double *tT = bufT, *txp = bufx;
    if (dt->count) {
      tT = th->time_tab + 4 * (size_t)dt->i_T[i];
      txp = th->time_tab + 4 * (size_t)dt->i_tx[i];
    } else {
      time_terms(alpha, beta, T, bufT);
      time_terms(alpha, beta, tx, bufx);
    }
    const double *row = x < (double)rows
                            ? hc->coef + (size_t)x * SERIES_TERMS * COEF_STRIDE2
                            : NULL;
    double lb = bracket2(r, alpha, s, beta, x, tx, T, tT, txp, row, g, h);
    if (!isfinite(lb)) {
      bad = 1.0;
      continue;
    }
    wsum += w;
    for (int k = 0; k < 4; k++) G[k] += w * g[k];
    for (int k = 0; k < 16; k++) H[k] += w * h[k];
    G[0] += w * (pd_digamma(r + x) - dg_r);
    H[0] += w * (pd_trigamma(r + x) - tg_r);
  }
  memcpy(sums, G, sizeof G);
  memcpy(sums + 4, H, sizeof H);
  sums[20] = wsum, sums[21] = bad;
}

static double negll_hessian(const pd_model_input *in, const double *logp,
                            double *grad, double *hess) {
  double v = negll(in, logp, grad);
  if (!isfinite(v)) return v;
  const pd_customer_data *d = in->customers;
  const table_header *th = in->work;
  size_t m = th->m, rows = series_rows(m);
  double *coef = (double *)(void *)((char *)in->work + sizeof *th) + 3 * m;
  double p[4], H[16], G[4];
  for (int k = 0; k < 4; k++) p[k] = exp(logp[k]);
  double r = p[0], alpha = p[1], s = p[2], beta = p[3];
  fill_coefficients2(coef, rows, r, alpha, s, beta);
  hess_ctx hc = {d, th, coef, rows, r, alpha, s, beta, pd_digamma(r),
                 pd_trigamma(r)};
  double sums[22];
  pd_row_sums(in->threads, d->n, 22, hessian_rows, &hc, sums);
  if (sums[21] != 0.0) return NAN;
  memcpy(G, sums, sizeof G);
  memcpy(H, sums + 4, sizeof H);
  double wsum = sums[20];
  /* r log α + s log β. */
  G[0] += wsum * log(alpha), G[1] += wsum * r / alpha;
  G[2] += wsum * log(beta), G[3] += wsum * s / beta;
  H[1] += wsum / alpha, H[4] += wsum / alpha, H[5] -= wsum * r / (alpha * alpha);
  H[11] += wsum / beta, H[14] += wsum / beta, H[15] -= wsum * s / (beta * beta);
  /* To log-parameters: ∂²/∂u_i∂u_j = θ_i θ_j H_ij + δ_ij θ_i G_i, negated. */
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      double e = p[i] * p[j] * H[4 * i + j] + (i == j ? p[i] * G[i] : 0.0);
      hess[4 * i + j] = -e;
      if (!isfinite(e)) return NAN;
    }
  return v;
}

double pd_paretonbd_loglik1(const double *p, double x, double t_x, double T) {
  double g[4], pa;
  double r = p[0], alpha = p[1], s = p[2], beta = p[3];
  double lb = log_bracket(r, alpha, s, beta, x, x > 0.0 ? t_x : 0.0, T, g, &pa);
  return pd_lgamma(r + x) - pd_lgamma(r) + r * log(alpha) + s * log(beta) + lb;
}

/* [1 - (1+y)^-(k)] / k for k -> 0 too: y is the relative time, k = s-1. */
static double one_minus_pow_over(double k, double y) {
  double l = log1p(y);
  double u = -k * l;
  return l * (u == 0.0 ? 1.0 : expm1(u) / u);
}

static pd_status p_alive(const double *p, const pd_customer_data *d,
                         double *out, pd_errbuf *err) {
  for (size_t i = 0; i < d->n; i++) {
    double g[4], pa;
    double x = d->x[i];
    double lb = log_bracket(p[0], p[1], p[2], p[3], x, x > 0.0 ? d->t_x[i] : 0.0,
                            d->T[i], g, &pa);
    if (!isfinite(lb) || !isfinite(pa))
      return pd_err(err, PD_E_NUMERIC, "paretonbd: P(alive) of customer %zu did not evaluate", i);
    out[i] = pa;
  }
  return PD_OK;
}

static pd_status expected(const double *p, const pd_customer_data *d,
                          double horizon, double *out, pd_errbuf *err) {
  double r = p[0], alpha = p[1], s = p[2], beta = p[3];
  for (size_t i = 0; i < d->n; i++) {
    double g[4], pa;
    double x = d->x[i], T = d->T[i];
    double lb = log_bracket(r, alpha, s, beta, x, x > 0.0 ? d->t_x[i] : 0.0, T,
                            g, &pa);
    /* Alive: rate ~ Gamma(r+x, α+T), dropout rate ~ Gamma(s, β+T). */
    double e = (r + x) * (beta + T) / (alpha + T) *
               one_minus_pow_over(s - 1.0, horizon / (beta + T)) * pa;
    if (!isfinite(lb) || !isfinite(e))
      return pd_err(err, PD_E_NUMERIC,
                    "paretonbd: expected purchases of customer %zu did not evaluate", i);
    out[i] = e;
  }
  return PD_OK;
}

static pd_status unconditional(const double *p, double t, double *out,
                               pd_errbuf *err) {
  double e = p[0] * p[3] / p[1] * one_minus_pow_over(p[2] - 1.0, t / p[3]);
  if (!isfinite(e))
    return pd_err(err, PD_E_NUMERIC, "paretonbd: E[X(%g)] did not evaluate", t);
  *out = e;
  return PD_OK;
}

/* ∫_0^t NBD(n; τ) s β^s (β+τ)^-(s+1) dτ by tanh-sinh quadrature, halving
 * the step until two estimates agree to 1e-13. */
typedef struct pmf_ctx {
  double r, alpha, s, beta, n, lcoef, t;
} pmf_ctx;

static double pmf_integrand(const pmf_ctx *c, double tau) {
  if (tau <= 0.0) return 0.0; /* n >= 1 here: NBD(n; 0) = 0 */
  double v = c->lcoef + c->r * log(c->alpha / (c->alpha + tau)) +
             c->n * log(tau / (c->alpha + tau)) + log(c->s) +
             c->s * log(c->beta) - (c->s + 1.0) * log(c->beta + tau);
  return exp(v);
}

static double tanh_sinh(const pmf_ctx *c, double t) {
  const double half_pi = 1.5707963267948966;
  double h = 1.0, prev = NAN, sum = 0.0;
  for (int level = 0; level < 12; level++) {
    sum = 0.0;
    for (int k = -(int)(6.0 / h); k <= (int)(6.0 / h); k++) {
      double kh = k * h;
      double sh = half_pi * sinh(kh);
      double ch = cosh(sh);
      double u = tanh(sh);                       /* node in (-1, 1) */
      double wgt = half_pi * cosh(kh) / (ch * ch); /* its weight */
      /* Map (-1, 1) to (0, t) measuring from the nearer end to keep
       * precision next to the endpoints. */
      double tau = u <= 0.0 ? 0.5 * t * (1.0 + u) : t - 0.5 * t * (1.0 - u);
      if (tau <= 0.0 || tau >= t) continue;
      sum += wgt * pmf_integrand(c, tau);
    }
    sum *= 0.5 * t * h;
    if (level > 2 && fabs(sum - prev) <= 1e-13 * fabs(sum)) return sum;
    prev = sum;
    h *= 0.5;
  }
  return sum;
}

static pd_status p_purchases(const double *p, uint32_t n, double t,
                             double *out, pd_errbuf *err) {
  double r = p[0], alpha = p[1], s = p[2], beta = p[3];
  if (t == 0.0) {
    *out = n == 0 ? 1.0 : 0.0;
    return PD_OK;
  }
  double nd = (double)n;
  double lcoef = pd_lgamma(r + nd) - pd_lgamma(r) - pd_lgamma(nd + 1.0);
  /* Still active at t: NBD(n; t) times survival (β/(β+t))^s. */
  double alive = exp(lcoef + r * log(alpha / (alpha + t)) +
                     (n ? nd * log(t / (alpha + t)) : 0.0) +
                     s * log(beta / (beta + t)));
  double dead;
  if (n == 0) {
    /* ∫ (α/(α+τ))^r dG(τ) = α^r β^s s (F(0) - F(t)) with x = 0. */
    double g[4];
    double l0 = log_f(r, alpha, s, beta, 0.0, 0.0, log(alpha), log(beta), g);
    double lt = log_f(r, alpha, s, beta, 0.0, t, log(alpha + t), log(beta + t), g);
    dead = s * exp(r * log(alpha) + s * log(beta) + l0) * -expm1(lt - l0);
  } else {
    pmf_ctx c = {r, alpha, s, beta, nd, lcoef, t};
    dead = tanh_sinh(&c, t);
  }
  double v = alive + dead;
  if (!isfinite(v))
    return pd_err(err, PD_E_NUMERIC, "paretonbd: P(X(%g) = %u) did not evaluate", t, n);
  *out = v;
  return PD_OK;
}

const pd_model_def pd_model_paretonbd = {
    .kind = PD_MODEL_PARETONBD,
    .name = "paretonbd",
    .n_params = 4,
    .param_names = names,
    .validate = validate,
    .workspace = workspace,
    .prepare = prepare,
    .start = start,
    .negll = negll,
    .negll_hessian = negll_hessian,
    .expected_purchases = expected,
    .p_alive = p_alive,
    .unconditional_purchases = unconditional,
    .p_purchases = p_purchases,
};
