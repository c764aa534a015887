/* Value predictions on a store summary (store_summary.h): the
 * transaction model and Gamma-Gamma fitted on the distinct customer
 * summaries, their values spread back to the customers. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <privdomain/spend.h>
#include <privdomain/store_summary.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"
#include "distinct_keys.h"
#include "par.h"
#include "store_summary_internal.h"

static pd_status fit_error(pd_store_summary *h, pd_fit *fit, pd_status st,
                           const char *what) {
  return pd_err(&h->err, st, "%s: %s", what, pd_fit_errmsg(fit));
}

/* Customers are keyed by their transaction summary (x, t_x, T), and by
 * their spend history (x, mean spend) when they have one: repeat days
 * with spend. Both models are fitted and evaluated once per distinct key
 * (a store has far fewer than customers), weighted by its customers (the
 * same likelihood as on every customer); the values are then spread back
 * to the customers. */
typedef struct summary_cols {
  const double *x, *t_x, *T, *mon;
} summary_cols;

/* Repeat days with spend: the rows Gamma-Gamma is fitted on. */
static int has_spend_history(double x, double mon) {
  return x > 0 && mon > 0;
}

static int transaction_key(const void *ctx, size_t i, double k[3]) {
  const summary_cols *c = ctx;
  k[0] = c->x[i];
  k[1] = c->t_x[i];
  k[2] = c->T[i];
  return 1;
}

static int spend_key(const void *ctx, size_t i, double k[3]) {
  const summary_cols *c = ctx;
  if (!has_spend_history(c->x[i], c->mon[i])) return 0;
  k[0] = c->x[i];
  k[1] = c->mon[i];
  k[2] = 0;
  return 1;
}

/* The distinct keys' values: per transaction key P(alive), expected
 * purchases in the horizon and the discounted CLV per unit of spend; per
 * spend key the expected spend, and after the last key the expected spend
 * of a customer without spend history (the population's mean). */
typedef struct value_work {
  uint32_t *tx_key;    /* n: customer -> transaction key */
  uint32_t *spend_key; /* n: customer -> spend key, or PD_MX_NO_KEY */
  pd_mx_distinct txk, spk;
  double *tx;    /* txk.m x 9: x, t_x, T, customers, p_alive, expected,
                    clv factor, and 2 scratch columns */
  double *spend; /* (spk.m + 1) x 5: x, mean spend, customers, ones,
                    expected spend */
} value_work;

static void free_work(pd_store_summary *h, value_work *w) {
  pd_free(&h->alloc, w->tx_key);
  pd_free(&h->alloc, w->spend_key);
  pd_free(&h->alloc, w->tx);
  pd_free(&h->alloc, w->spend);
  pd_mx_distinct_free(&w->txk);
  pd_mx_distinct_free(&w->spk);
}

/* The customers' keys: transaction keys (block 0) and spend keys (block
 * 1) go into separate tables, so the two run on two threads. */
typedef struct index_job {
  value_work *w;
  const summary_cols *cols;
  size_t n;
  int failed[2];
} index_job;

static void index_block(void *ctx, size_t b) {
  index_job *j = ctx;
  value_work *w = j->w;
  j->failed[b] =
      b == 0 ? pd_mx_distinct_index(&w->txk, j->n, transaction_key, j->cols,
                                    w->tx_key)
             : pd_mx_distinct_index(&w->spk, j->n, spend_key, j->cols,
                                    w->spend_key);
}

/* Fits the transaction model on the distinct transaction keys, then
 * P(alive), expected purchases in the horizon and the discounted CLV per
 * unit of spend (the sum over months of the month's expected purchases /
 * (1 + rate)^m, as pd_predict_clv) per key. */
static pd_status transactions(pd_store_summary *h, pd_fit *fit,
                              value_work *w, const pd_value_options *o) {
  size_t m = w->txk.m;
  double *c = pd_realloc_array(&h->alloc, NULL, m, 9 * sizeof(double));
  if (!c) return pd_err(&h->err, PD_E_NOMEM, "out of memory");
  w->tx = c;
  double *ua = c + 4 * m, *ue = c + 5 * m, *uf = c + 6 * m, *e0 = c + 7 * m,
         *e1 = c + 8 * m;
  for (int part = 0; part < 4; part++)
    pd_mx_distinct_column(&w->txk, part, c + (size_t)part * m);
  pd_customer_data du = PD_CUSTOMER_DATA_INIT;
  du.n = m;
  du.x = c;
  du.t_x = c + m;
  du.T = c + 2 * m;
  du.weight = c + 3 * m;
  pd_status st = pd_fit_estimate(fit, o->model, &du);
  if (st != PD_OK) return fit_error(h, fit, st, "transaction model");
  du.weight = NULL;
  if ((st = pd_predict_p_alive(fit, &du, ua)) != PD_OK ||
      (st = pd_predict_expected_purchases(fit, &du, o->horizon, ue)) != PD_OK)
    return fit_error(h, fit, st, "prediction");
  double upm = h->unit == PD_TIME_UNIT_WEEK ? 4.345 : 30.0, disc = 1;
  for (size_t j = 0; j < m; j++) uf[j] = e0[j] = 0;
  for (uint32_t mth = 1; mth <= o->months; mth++) {
    disc *= 1 + o->discount_rate;
    st = pd_predict_expected_purchases(fit, &du, upm * mth, e1);
    if (st != PD_OK) return fit_error(h, fit, st, "CLV");
    for (size_t j = 0; j < m; j++) {
      uf[j] += (e1[j] - e0[j]) / disc;
      e0[j] = e1[j];
    }
  }
  return PD_OK;
}

/* Fits Gamma-Gamma on the distinct spend keys, then the expected spend
 * per key and, in the row after them, without spend history. */
static pd_status spends(pd_store_summary *h, pd_fit *fit, value_work *w) {
  size_t m = w->spk.m, rows = m + 1;
  double *c = pd_realloc_array(&h->alloc, NULL, rows, 5 * sizeof(double));
  if (!c) return pd_err(&h->err, PD_E_NOMEM, "out of memory");
  w->spend = c;
  double *gx = c, *gm = c + rows, *gw = c + 2 * rows, *ones = c + 3 * rows,
         *out = c + 4 * rows;
  pd_mx_distinct_column(&w->spk, 0, gx);
  pd_mx_distinct_column(&w->spk, 1, gm);
  pd_mx_distinct_column(&w->spk, 3, gw);
  gx[m] = gm[m] = 0;
  gw[m] = 1;
  for (size_t j = 0; j < rows; j++) ones[j] = 1;
  pd_customer_data g = PD_CUSTOMER_DATA_INIT;
  g.n = m;
  g.x = gx;
  g.t_x = ones; /* unused by Gamma-Gamma but must be valid: 0 <= t_x <= T */
  g.T = ones;
  g.monetary = gm;
  g.weight = gw;
  pd_status st = pd_fit_estimate(fit, PD_MODEL_GAMMAGAMMA, &g);
  if (st != PD_OK) return fit_error(h, fit, st, "Gamma-Gamma");
  g.n = rows;
  g.weight = NULL;
  if ((st = pd_predict_expected_spend(fit, &g, out)) != PD_OK)
    return fit_error(h, fit, st, "expected spend");
  return PD_OK;
}

/* Spreading the keys' values to the customers, in blocks of rows that
 * write only their own rows. */
typedef struct spread_job {
  const value_work *w;
  size_t n, spend_keys;
  double *pred;
} spread_job;

static void spread_block(void *ctx, size_t b) {
  const spread_job *j = ctx;
  const value_work *w = j->w;
  size_t n = j->n, m = w->txk.m;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_USER_BLOCK, (uint32_t)n, &lo, &hi);
  const double *ua = w->tx + 4 * m, *ue = w->tx + 5 * m, *uf = w->tx + 6 * m,
               *gs = w->spend + 4 * (j->spend_keys + 1);
  double *p_alive = j->pred, *expected = j->pred + n,
         *spend = j->pred + 2 * n, *clv = j->pred + 3 * n;
  for (uint32_t i = lo; i < hi; i++) {
    uint32_t t = w->tx_key[i], g = w->spend_key[i];
    double s = gs[g == PD_MX_NO_KEY ? j->spend_keys : g];
    p_alive[i] = ua[t];
    expected[i] = ue[t];
    spend[i] = s;
    clv[i] = uf[t] * s;
  }
}

static pd_status predict(pd_store_summary *h, const pd_value_options *in) {
  pd_value_options o = PD_VALUE_OPTIONS_INIT;
  if (in != NULL) {
    if (in->size < sizeof o)
      return pd_err(&h->err, PD_E_INVALID,
                    "pd_value_options size %zu is smaller than %zu",
                    in->size, sizeof o);
    const unsigned char *extra = (const unsigned char *)in + sizeof o;
    for (size_t i = 0; i < in->size - sizeof o; i++)
      if (extra[i] != 0)
        return pd_err(&h->err, PD_E_INVALID,
                      "pd_value_options has unknown non-zero fields");
    memcpy(&o, in, sizeof o);
  }
  if (o.model != PD_MODEL_BGNBD && o.model != PD_MODEL_MBGNBD &&
      o.model != PD_MODEL_PARETONBD)
    return pd_err(&h->err, PD_E_INVALID,
                  "model %d is not BG/NBD, MBG/NBD or Pareto/NBD",
                  (int)o.model);
  if (!isfinite(o.horizon) || o.horizon < 0)
    return pd_err(&h->err, PD_E_INVALID, "horizon must be finite and >= 0");
  if (!isfinite(o.discount_rate) || o.discount_rate < 0)
    return pd_err(&h->err, PD_E_INVALID,
                  "discount_rate must be finite and >= 0");
  size_t n = h->n;
  if (n == 0) return pd_err(&h->err, PD_E_INVALID, "the summary has no rows");
  const double *x = pd_ss_col(h, 0), *mon = pd_ss_col(h, 3);
  size_t ng = 0;
  for (size_t i = 0; i < n; i++) ng += has_spend_history(x[i], mon[i]);
  if (ng < 2)
    return pd_err(&h->err, PD_E_INVALID,
                  "Gamma-Gamma needs at least 2 repeat customers with spend "
                  "(have %zu)",
                  ng);
  pd_fit_options fo = PD_FIT_OPTIONS_INIT;
  if (o.fit_options != NULL) {
    if (o.fit_options->size < sizeof fo)
      return pd_err(&h->err, PD_E_INVALID, "fit_options size too small");
    memcpy(&fo, o.fit_options, sizeof fo);
    fo.size = sizeof fo;
  } else {
    fo.threads = h->threads; /* the store's pd_store_set_threads() */
  }
  if (fo.allocator == NULL) fo.allocator = &h->alloc;
  value_work w = {0};
  pd_mx_distinct_init(&w.txk, &h->alloc);
  pd_mx_distinct_init(&w.spk, &h->alloc);
  pd_fit *tx = NULL, *gg = NULL;
  /* Later predictions are written over earlier ones, once nothing can
   * fail any more. */
  double *pred = h->pred;
  pd_status st;
  if (!pred) pred = pd_realloc_array(&h->alloc, NULL, n, 4 * sizeof(double));
  w.tx_key = pd_realloc_array(&h->alloc, NULL, n, sizeof *w.tx_key);
  w.spend_key = pd_realloc_array(&h->alloc, NULL, n, sizeof *w.spend_key);
  summary_cols sc = {x, pd_ss_col(h, 1), pd_ss_col(h, 2), mon};
  int32_t threads = pd_parallel_resolve_threads(fo.threads);
  index_job ij = {&w, &sc, n, {0, 0}};
  if (pred && w.tx_key && w.spend_key)
    pd_parallel_for(threads, 2, index_block, &ij);
  if (!pred || !w.tx_key || !w.spend_key || ij.failed[0] || ij.failed[1]) {
    st = pd_err(&h->err, PD_E_NOMEM, "out of memory");
    goto done;
  }
  if ((st = pd_fit_new(&fo, &tx)) != PD_OK ||
      (st = pd_fit_new(&fo, &gg)) != PD_OK) {
    st = pd_err(&h->err, st, "cannot create a fit");
    goto done;
  }
  if ((st = transactions(h, tx, &w, &o)) != PD_OK ||
      (st = spends(h, gg, &w)) != PD_OK)
    goto done;
  spread_job sj = {&w, n, w.spk.m, pred};
  pd_parallel_for(threads, pd_mx_blocks(n, PD_MX_USER_BLOCK), spread_block,
                  &sj);
  pd_fit_info ti = PD_FIT_INFO_INIT, gi = PD_FIT_INFO_INIT;
  pd_fit_get(tx, &ti);
  pd_fit_get(gg, &gi);
  h->fit_tx = ti;
  h->fit_gg = gi;
  h->pred = pred;
  h->has_pred = 1;
  st = PD_OK;
done:
  pd_fit_free(tx);
  pd_fit_free(gg);
  if (pred != h->pred) pd_free(&h->alloc, pred);
  free_work(h, &w);
  return st;
}

pd_status pd_store_summary_predict(pd_store_summary *h,
                                   const pd_value_options *opts) {
  if (!pd_ss_valid(h)) return PD_E_MISUSE;
  pd_status st = predict(h, opts);
  if (st == PD_OK) pd_err_clear(&h->err);
  return st;
}

const double *pd_ss_column(const pd_store_summary *h, int32_t column) {
  if (!h->has_pred || column < PD_VALUE_P_ALIVE || column > PD_VALUE_CLV)
    return NULL;
  return h->pred + (size_t)(column - 1) * h->n;
}

pd_status pd_store_summary_column(const pd_store_summary *h, int32_t column,
                                  const double **out) {
  if (!pd_ss_valid(h)) return PD_E_MISUSE;
  pd_store_summary *m = (pd_store_summary *)h;
  if (out == NULL) return pd_err(&m->err, PD_E_INVALID, "out is NULL");
  if (column < PD_VALUE_P_ALIVE || column > PD_VALUE_CLV)
    return pd_err(&m->err, PD_E_INVALID, "unknown column %d", (int)column);
  if (!h->has_pred)
    return pd_err(&m->err, PD_E_NOT_FOUND,
                  "no predictions yet (pd_store_summary_predict)");
  *out = pd_ss_column(h, column);
  pd_err_clear(&m->err);
  return PD_OK;
}

pd_status pd_store_summary_fit(const pd_store_summary *h, int32_t which,
                               pd_fit_info *out) {
  if (!pd_ss_valid(h)) return PD_E_MISUSE;
  pd_store_summary *m = (pd_store_summary *)h;
  if (out == NULL || out->size < sizeof *out || (which != 0 && which != 1))
    return pd_err(&m->err, PD_E_INVALID,
                  "out NULL or too small, or which not 0 or 1");
  if (!h->has_pred)
    return pd_err(&m->err, PD_E_NOT_FOUND, "no predictions yet");
  size_t size = out->size;
  *out = which == 0 ? h->fit_tx : h->fit_gg;
  out->size = size;
  pd_err_clear(&m->err);
  return PD_OK;
}
