/* From a store's orders to per-customer BTYD summaries (the convention of
 * summary.h), and value predictions on them (store_summary.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/channels.h>
#include <privdomain/spend.h>
#include <privdomain/store_summary.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/prefetch.h"
#include "filter.h"
#include "par.h"
#include "purchases.h"
#include "pushes.h"
#include "row_keys.h"
#include "store/store_query.h"
#include "store_summary_internal.h"

#define SS_MAGIC 0x50445353u /* "PDSS" */
#define SS_DEAD 0x44454144u
#define DAY INT64_C(86400)

static int valid(const pd_store_summary *h) {
  return h != NULL && h->magic == SS_MAGIC;
}

int pd_ss_valid(const pd_store_summary *h) { return valid(h); }

static void free_predictions(pd_store_summary *h) {
  pd_free(&h->alloc, h->pred);
  h->pred = NULL;
  h->has_pred = 0;
}

void pd_store_summary_free(pd_store_summary *h) {
  if (!valid(h)) return;
  pd_allocator a = h->alloc;
  free_predictions(h);
  pd_free(&a, h->users);
  pd_free(&a, h->cols);
  h->magic = SS_DEAD;
  pd_free(&a, h);
}

const char *pd_store_summary_errmsg(const pd_store_summary *h) {
  if (h == NULL) return "no summary (NULL handle)";
  if (!valid(h)) return "not a valid store summary handle";
  return h->err.msg;
}

size_t pd_store_summary_rows(const pd_store_summary *h) {
  return valid(h) ? h->n : 0;
}

/* The summary.h convention on one customer's sorted purchases. */
static void summarise(const pd_mx_purchase *p, size_t n, int64_t cal_end,
                      int64_t obs_end, double unit_days, double money_unit,
                      double *x, double *t_x, double *T, double *mon,
                      double *xh) {
  int64_t first_day = p[0].time / DAY, day = first_day;
  double day_spend = 0, repeat_spend = 0;
  size_t repeats = 0, holdout = 0, i = 0;
  for (; i < n && p[i].time <= cal_end; i++) {
    int64_t d = p[i].time / DAY;
    if (d != day) {
      if (day != first_day) repeat_spend += day_spend;
      day = d;
      day_spend = 0;
      repeats++;
    }
    day_spend += (double)p[i].net / money_unit;
  }
  if (day != first_day) repeat_spend += day_spend;
  int64_t hday = day;
  for (; i < n && obs_end != PD_SUMMARY_NO_HOLDOUT && p[i].time <= obs_end;
       i++) {
    int64_t d = p[i].time / DAY;
    if (d != hday) {
      holdout++;
      hday = d;
    }
  }
  *x = (double)repeats;
  *t_x = (double)(day - first_day) / unit_days;
  *T = (double)(cal_end / DAY - first_day) / unit_days;
  *mon = repeats ? repeat_spend / (double)repeats : 0.0;
  if (xh) *xh = (double)holdout;
}

static pd_status check_spec(pd_store *s, const pd_summary_spec *spec) {
  if (spec == NULL) return pd_err(&s->err, PD_E_INVALID, "spec is NULL");
  pd_status st = pd_st_check_size(s, spec, sizeof *spec, "pd_summary_spec");
  if (st) return st;
  if (spec->unit != PD_TIME_UNIT_DAY && spec->unit != PD_TIME_UNIT_WEEK)
    return pd_err(&s->err, PD_E_INVALID, "unknown time unit %d",
                  (int)spec->unit);
  if ((st = pd_st_check_time(s, spec->calibration_end, "calibration_end")) !=
      PD_OK)
    return st;
  if (spec->observation_end != PD_SUMMARY_NO_HOLDOUT) {
    if ((st = pd_st_check_time(s, spec->observation_end,
                               "observation_end")) != PD_OK)
      return st;
    if (spec->observation_end < spec->calibration_end)
      return pd_err(&s->err, PD_E_INVALID,
                    "observation_end is before calibration_end");
  }
  return PD_OK;
}

/* Purchases a worker's walk holds; a customer with more is left for the
 * calling thread. */
#define SS_WALK_CAP 256
/* users[] mark of a customer left for the calling thread. */
#define SS_LATER UINT64_MAX

/* Rows are made in parallel blocks of users (par.h), each user's row in
 * its own slot of arrays as long as the user ids, then packed in user
 * order: the same rows for every thread count. */
typedef struct ss_job {
  const pd_store *s;
  const pd_mx_filter *f;
  const pd_summary_spec *spec;
  uint32_t end, nu;
  int holdout;
  double unit_days, money_unit;
  pd_user_id *users;        /* [nu] u if u has a row, 0 if not, SS_LATER */
  double *cols;             /* [nu][5] */
  pd_mx_purchase *bufs;     /* [threads][SS_WALK_CAP] */
  pd_mx_refund_ref *rbufs;  /* [threads][SS_WALK_CAP] */
} ss_job;

/* u's row from its purchases p[0..np) into slot u; 0 if u has none. */
static void ss_row(const ss_job *j, uint32_t u, const pd_mx_purchase *p,
                   size_t np) {
  if (np == 0 || p[0].time > j->spec->calibration_end) return;
  double *c = j->cols + 5 * (size_t)u;
  summarise(p, np, j->spec->calibration_end, j->spec->observation_end,
            j->unit_days, j->money_unit, &c[0], &c[1], &c[2], &c[3],
            j->holdout ? &c[4] : NULL);
  if (!j->holdout) c[4] = 0;
  j->users[u] = u;
}

/* 1 if any member of root has an order: users without one (a third of a
 * chain's members) are never rows, and this costs no chain walk. */
static int has_order(const pd_store *s, uint32_t root) {
  PD_ST_FOREACH_MEMBER(s, root, m) {
    if (s->users[m].head[PD_EV_ORDER] != PD_ST_NIL) return 1;
  }
  return 0;
}

static void ss_block(void *p, size_t ub, int32_t worker) {
  const ss_job *j = p;
  const pd_store *s = j->s;
  const pd_st_order *os = pd_st_orders(s);
  pd_mx_purchase *buf = j->bufs + (size_t)worker * SS_WALK_CAP;
  pd_mx_refund_ref *rbuf = j->rbufs + (size_t)worker * SS_WALK_CAP;
  uint32_t lo, hi;
  pd_mx_block_range(ub, PD_MX_USER_BLOCK, j->nu, &lo, &hi);
  if (lo == 0) j->users[lo++] = 0;
  /* A user's newest order is a random read: fetched a few users ahead. */
  enum { AHEAD = 8 };
  for (uint32_t u = lo; u < hi; u++) {
    if (u + AHEAD < hi) {
      uint32_t o = s->users[u + AHEAD].head[PD_EV_ORDER];
      if (o != PD_ST_NIL) { /* both lines of a record that straddles two */
        PD_PREFETCH(&os[o]);
        PD_PREFETCH((const char *)&os[o + 1] - 1);
      }
    }
    j->users[u] = 0;
    if (!pd_mx_is_root(s, u) || !has_order(s, u) ||
        !pd_mx_filter_match(s, j->f, u))
      continue;
    size_t np = 0;
    if (pd_mx_purchases_into(s, u, j->end, buf, SS_WALK_CAP, rbuf,
                             SS_WALK_CAP, &np) != 0) {
      j->users[u] = SS_LATER;
      continue;
    }
    ss_row(j, u, buf, np);
  }
}

static pd_status build(pd_store *s, const pd_metrics_filter *filter,
                       const pd_summary_spec *spec, pd_store_summary **out) {
  if (out == NULL) return pd_err(&s->err, PD_E_INVALID, "out is NULL");
  pd_mx_filter f;
  pd_status st;
  if ((st = pd_mx_filter_load(s, filter, &f)) != PD_OK ||
      (st = check_spec(s, spec)) != PD_OK)
    return st;
  ss_job j;
  memset(&j, 0, sizeof j);
  j.s = s;
  j.f = &f;
  j.spec = spec;
  j.holdout = spec->observation_end != PD_SUMMARY_NO_HOLDOUT;
  j.end = (uint32_t)(j.holdout ? spec->observation_end : spec->calibration_end);
  j.unit_days = spec->unit == PD_TIME_UNIT_WEEK ? 7.0 : 1.0;
  j.money_unit = 1;
  for (int k = 0; k < s->currency_exponent; k++) j.money_unit *= 10;
  j.nu = s->n_users;
  int32_t threads = pd_mx_threads(s);
  const pd_allocator *ca = &s->caller_alloc, *a = &s->alloc;
  pd_store_summary *h = pd_calloc(ca, 1, sizeof *h);
  if (!h) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  h->alloc = *ca;
  h->magic = SS_MAGIC;
  h->unit = spec->unit;
  h->holdout = j.holdout;
  h->threads = s->threads_minus_one + 1; /* the store's setting, unresolved */
  pd_mx_buf b = {NULL, 0}, rb = {NULL, 0};
  j.users = pd_realloc_array(ca, NULL, j.nu, sizeof *j.users);
  /* Working rows, freed below: from the store's allocator, so that a
   * later summary reuses the block (spare blocks). */
  j.cols = pd_realloc_array(a, NULL, j.nu, 5 * sizeof(double));
  j.bufs = pd_realloc_array(a, NULL, (size_t)threads * SS_WALK_CAP,
                            sizeof *j.bufs);
  j.rbufs = pd_realloc_array(a, NULL, (size_t)threads * SS_WALK_CAP,
                             sizeof *j.rbufs);
  h->users = j.users;
  if (!j.users || !j.cols || !j.bufs || !j.rbufs) {
    st = pd_err(&s->err, PD_E_NOMEM, "out of memory");
    goto fail;
  }
  pd_parallel_for_workers(threads, pd_mx_blocks(j.nu, PD_MX_USER_BLOCK),
                          ss_block, &j);
  /* Customers with very many purchases, then the rows packed in user
   * order (a row only ever moves down). */
  size_t n = 0;
  for (uint32_t u = 1; u < j.nu; u++) {
    if (j.users[u] == SS_LATER) {
      size_t np = 0;
      j.users[u] = 0;
      if ((st = pd_mx_purchases(s, u, j.end, &b, &rb, &np)) != PD_OK)
        goto fail;
      ss_row(&j, u, b.p, np);
    }
    if (j.users[u] == 0) continue;
    j.users[n] = j.users[u];
    memmove(j.cols + 5 * n, j.cols + 5 * (size_t)u, 5 * sizeof(double));
    n++;
  }
  pd_mx_buf_free(s, &b);
  pd_mx_buf_free(s, &rb);
  /* Transpose the interleaved rows into columns (x, t_x, T, monetary,
   * x_holdout), through one more block. */
  double *cols = pd_realloc_array(ca, NULL, n ? n : 1, 5 * sizeof(double));
  if (!cols) {
    st = pd_err(&s->err, PD_E_NOMEM, "out of memory");
    goto fail;
  }
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < 5; k++) cols[(size_t)k * n + i] = j.cols[5 * i + k];
  pd_free(a, j.cols);
  pd_free(a, j.bufs);
  pd_free(a, j.rbufs);
  /* The ids were one slot per user id; keep only the rows'. */
  pd_user_id *shrunk = pd_realloc_array(ca, j.users, n ? n : 1, sizeof *shrunk);
  if (shrunk) h->users = shrunk;
  h->cols = cols;
  h->n = n;
  *out = h;
  return PD_OK;
fail:
  pd_mx_buf_free(s, &b);
  pd_mx_buf_free(s, &rb);
  pd_free(a, j.cols);
  pd_free(a, j.bufs);
  pd_free(a, j.rbufs);
  pd_store_summary_free(h);
  return st;
}

pd_status pd_store_summary_new(pd_store *s, const pd_metrics_filter *filter,
                               const pd_summary_spec *spec,
                               pd_store_summary **out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  return pd_st_leave(s, build(s, filter, spec, out));
}

static const double *col(const pd_store_summary *h, int k) {
  return h->n ? h->cols + (size_t)k * h->n : NULL;
}

pd_status pd_store_summary_data(const pd_store_summary *h,
                                pd_customer_data *out) {
  if (!valid(h)) return PD_E_MISUSE;
  pd_store_summary *m = (pd_store_summary *)h;
  if (out == NULL || out->size < sizeof *out)
    return pd_err(&m->err, PD_E_INVALID,
                  "out is NULL or smaller than pd_customer_data");
  out->n = h->n;
  out->x = col(h, 0);
  out->t_x = col(h, 1);
  out->T = col(h, 2);
  out->monetary = col(h, 3);
  out->weight = NULL;
  pd_err_clear(&m->err);
  return PD_OK;
}

pd_status pd_store_summary_users(const pd_store_summary *h,
                                 const pd_user_id **users) {
  if (!valid(h)) return PD_E_MISUSE;
  pd_store_summary *m = (pd_store_summary *)h;
  if (users == NULL) return pd_err(&m->err, PD_E_INVALID, "users is NULL");
  *users = h->users;
  pd_err_clear(&m->err);
  return PD_OK;
}

pd_status pd_store_summary_holdout(const pd_store_summary *h,
                                   const double **x_holdout) {
  if (!valid(h)) return PD_E_MISUSE;
  pd_store_summary *m = (pd_store_summary *)h;
  if (x_holdout == NULL)
    return pd_err(&m->err, PD_E_INVALID, "x_holdout is NULL");
  if (!h->holdout)
    return pd_err(&m->err, PD_E_NOT_FOUND,
                  "summarised without an observation end");
  *x_holdout = col(h, 4);
  pd_err_clear(&m->err);
  return PD_OK;
}

/* ---- predictions ---------------------------------------------------------- */

static pd_status fit_error(pd_store_summary *h, pd_fit *fit, pd_status st,
                           const char *what) {
  return pd_err(&h->err, st, "%s: %s", what, pd_fit_errmsg(fit));
}

/* Fit the transaction model on the distinct (x, t_x, T) rows weighted by
 * their counts (the same likelihood as on every customer: a store has far
 * fewer distinct rows than customers), then P(alive), expected purchases
 * in the horizon and the discounted CLV per unit of spend (the sum over
 * months of the month's expected purchases / (1 + rate)^m, as
 * pd_predict_clv), once per distinct row, spread back to the customers. */
static pd_status fit_and_predict_distinct(pd_store_summary *h, pd_fit *tx,
                                          const pd_customer_data *d,
                                          const pd_value_options *o,
                                          double *p_alive, double *expected,
                                          double *clv_factor,
                                          int32_t threads) {
  size_t n = d->n;
  pd_mx_row_key *k = pd_realloc_array(&h->alloc, NULL, n, sizeof *k);
  double *u = pd_realloc_array(&h->alloc, NULL, n, 9 * sizeof(double));
  uint32_t *map = pd_realloc_array(&h->alloc, NULL, n, sizeof *map);
  pd_status st = PD_OK;
  if (!k || !u || !map) {
    st = pd_err(&h->err, PD_E_NOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    k[i].x = d->x[i];
    k[i].t_x = d->t_x[i];
    k[i].T = d->T[i];
    k[i].row = (uint32_t)i;
  }
  pd_mx_row_key_sort(k, n, threads);
  double *ux = u, *ut = u + n, *uT = u + 2 * n, *ua = u + 3 * n,
         *ue = u + 4 * n, *uf = u + 5 * n, *e0 = u + 6 * n, *e1 = u + 7 * n,
         *uw = u + 8 * n;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (m == 0 || k[i].x != ux[m - 1] || k[i].t_x != ut[m - 1] ||
        k[i].T != uT[m - 1]) {
      ux[m] = k[i].x;
      ut[m] = k[i].t_x;
      uT[m] = k[i].T;
      uw[m] = 0;
      m++;
    }
    uw[m - 1] += 1;
    map[k[i].row] = (uint32_t)(m - 1);
  }
  pd_customer_data du = PD_CUSTOMER_DATA_INIT;
  du.n = m;
  du.x = ux;
  du.t_x = ut;
  du.T = uT;
  du.weight = uw;
  if ((st = pd_fit_estimate(tx, o->model, &du)) != PD_OK) {
    st = fit_error(h, tx, st, "transaction model");
    goto out;
  }
  du.weight = NULL;
  if ((st = pd_predict_p_alive(tx, &du, ua)) != PD_OK ||
      (st = pd_predict_expected_purchases(tx, &du, o->horizon, ue)) != PD_OK) {
    st = fit_error(h, tx, st, "prediction");
    goto out;
  }
  double upm = h->unit == PD_TIME_UNIT_WEEK ? 4.345 : 30.0, disc = 1;
  for (size_t j = 0; j < m; j++) uf[j] = e0[j] = 0;
  for (uint32_t mth = 1; mth <= o->months; mth++) {
    disc *= 1 + o->discount_rate;
    if ((st = pd_predict_expected_purchases(tx, &du, upm * mth, e1)) !=
        PD_OK) {
      st = fit_error(h, tx, st, "CLV");
      goto out;
    }
    for (size_t j = 0; j < m; j++) {
      uf[j] += (e1[j] - e0[j]) / disc;
      e0[j] = e1[j];
    }
  }
  for (size_t i = 0; i < n; i++) {
    p_alive[i] = ua[map[i]];
    expected[i] = ue[map[i]];
    clv_factor[i] = uf[map[i]];
  }
out:
  pd_free(&h->alloc, k);
  pd_free(&h->alloc, u);
  pd_free(&h->alloc, map);
  return st;
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
  const double *x = col(h, 0), *mon = col(h, 3);
  size_t ng = 0;
  for (size_t i = 0; i < n; i++) ng += x[i] > 0 && mon[i] > 0;
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
  /* Working memory: 4 prediction columns, then the spend data (gx, gm)
   * and the distinct Gamma-Gamma rows (e0 = x, e1 = mean spend, gw =
   * customers, gt = 1). */
  double *w = pd_realloc_array(&h->alloc, NULL, n, 10 * sizeof(double));
  pd_mx_row_key *gk = pd_realloc_array(&h->alloc, NULL, ng, sizeof *gk);
  pd_fit *tx = NULL, *gg = NULL;
  pd_status st;
  if (!w || !gk) {
    st = pd_err(&h->err, PD_E_NOMEM, "out of memory");
    goto done;
  }
  double *p_alive = w, *expected = w + n, *spend = w + 2 * n, *clv = w + 3 * n;
  double *gx = w + 4 * n, *gm = w + 5 * n, *gt = w + 6 * n, *e0 = w + 7 * n,
         *e1 = w + 8 * n, *gw = w + 9 * n;
  if ((st = pd_fit_new(&fo, &tx)) != PD_OK ||
      (st = pd_fit_new(&fo, &gg)) != PD_OK) {
    st = pd_err(&h->err, st, "cannot create a fit");
    goto done;
  }
  pd_customer_data d = PD_CUSTOMER_DATA_INIT;
  d.n = n;
  d.x = x;
  d.t_x = col(h, 1);
  d.T = col(h, 2);
  d.monetary = mon;
  int32_t threads = pd_parallel_resolve_threads(fo.threads);
  if ((st = fit_and_predict_distinct(h, tx, &d, &o, p_alive, expected, clv,
                                     threads)) != PD_OK)
    goto done;
  /* Gamma-Gamma on the repeat customers with spend (customers with repeat
   * days of spend 0 are treated as having no spend history), on the
   * distinct (x, mean spend) pairs weighted by their counts. */
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int has = x[i] > 0 && mon[i] > 0;
    gx[i] = has ? x[i] : 0;
    gm[i] = has ? mon[i] : 0;
    if (has) {
      gk[k].x = x[i];
      gk[k].t_x = mon[i];
      gk[k].T = 0;
      gk[k].row = (uint32_t)i;
      k++;
    }
  }
  pd_mx_row_key_sort(gk, k, threads);
  size_t kg = 0;
  for (size_t i = 0; i < k; i++) {
    if (kg == 0 || gk[i].x != e0[kg - 1] || gk[i].t_x != e1[kg - 1]) {
      e0[kg] = gk[i].x;
      e1[kg] = gk[i].t_x;
      gw[kg] = 0;
      gt[kg] = 1;
      kg++;
    }
    gw[kg - 1] += 1;
  }
  pd_customer_data g = PD_CUSTOMER_DATA_INIT;
  g.n = kg;
  g.x = e0;
  g.t_x = gt; /* unused by Gamma-Gamma but must be valid: 0 <= t_x <= T */
  g.T = gt;
  g.monetary = e1;
  g.weight = gw;
  if ((st = pd_fit_estimate(gg, PD_MODEL_GAMMAGAMMA, &g)) != PD_OK) {
    st = fit_error(h, gg, st, "Gamma-Gamma");
    goto done;
  }
  pd_customer_data gs = d;
  gs.x = gx;
  gs.monetary = gm;
  gs.t_x = d.t_x;
  if ((st = pd_predict_expected_spend(gg, &gs, spend)) != PD_OK) {
    st = fit_error(h, gg, st, "expected spend");
    goto done;
  }
  for (size_t i = 0; i < n; i++) clv[i] *= spend[i];
  pd_fit_info ti = PD_FIT_INFO_INIT, gi = PD_FIT_INFO_INIT;
  pd_fit_get(tx, &ti);
  pd_fit_get(gg, &gi);
  free_predictions(h);
  h->pred = w;
  w = NULL;
  h->fit_tx = ti;
  h->fit_gg = gi;
  h->has_pred = 1;
  st = PD_OK;
done:
  pd_fit_free(tx);
  pd_fit_free(gg);
  pd_free(&h->alloc, w);
  pd_free(&h->alloc, gk);
  return st;
}

pd_status pd_store_summary_predict(pd_store_summary *h,
                                   const pd_value_options *opts) {
  if (!valid(h)) return PD_E_MISUSE;
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
  if (!valid(h)) return PD_E_MISUSE;
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
  if (!valid(h)) return PD_E_MISUSE;
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

/* Row x ranks before row y: larger CLV, ties by smaller user id (users
 * are unique, so this is a total order). */
static int ranks_before(const double *clv, const pd_user_id *users,
                        uint32_t x, uint32_t y) {
  return clv[x] > clv[y] || (clv[x] == clv[y] && users[x] < users[y]);
}

/* Restore the heap below slot i: the root is the row that ranks last. */
static void sift_down(uint32_t *heap, size_t n, size_t i, const double *clv,
                      const pd_user_id *users) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && ranks_before(clv, users, heap[m], heap[l])) m = l;
    if (r < n && ranks_before(clv, users, heap[m], heap[r])) m = r;
    if (m == i) return;
    uint32_t t = heap[i];
    heap[i] = heap[m];
    heap[m] = t;
    i = m;
  }
}

/* The first k rows of the ranking into idx[0..k): one pass keeping the
 * best k in a heap whose root ranks last (10M rows, k 1000: a pass, not a
 * sort of every row), then the heap taken apart from the last. */
pd_status pd_ss_rank(pd_store_summary *h, size_t k, uint32_t **out) {
  size_t n = h->n;
  if (k > n) k = n;
  uint32_t *heap = pd_realloc_array(&h->alloc, NULL, k ? k : 1, sizeof *heap);
  if (!heap) return pd_err(&h->err, PD_E_NOMEM, "out of memory");
  const double *clv = pd_ss_column(h, PD_VALUE_CLV);
  const pd_user_id *users = h->users;
  size_t m = 0;
  for (size_t i = 0; i < n && k > 0; i++) {
    uint32_t row = (uint32_t)i;
    if (m < k) {
      /* sift up */
      size_t j = m++;
      heap[j] = row;
      while (j > 0 && ranks_before(clv, users, heap[(j - 1) / 2], heap[j])) {
        uint32_t t = heap[j];
        heap[j] = heap[(j - 1) / 2];
        heap[(j - 1) / 2] = t;
        j = (j - 1) / 2;
      }
    } else if (ranks_before(clv, users, row, heap[0])) {
      heap[0] = row;
      sift_down(heap, m, 0, clv, users);
    }
  }
  /* The root ranks last of those left: it goes to the end. */
  for (size_t end = m; end > 1; end--) {
    uint32_t t = heap[0];
    heap[0] = heap[end - 1];
    heap[end - 1] = t;
    sift_down(heap, end - 1, 0, clv, users);
  }
  *out = heap;
  return PD_OK;
}

pd_status pd_store_summary_top(pd_store_summary *h, size_t n,
                               pd_user_id *users, double *clv,
                               size_t *count) {
  if (!valid(h)) return PD_E_MISUSE;
  if (users == NULL || count == NULL)
    return pd_err(&h->err, PD_E_INVALID, "users or count is NULL");
  if (!h->has_pred)
    return pd_err(&h->err, PD_E_NOT_FOUND, "no predictions yet");
  uint32_t *idx;
  pd_status st = pd_ss_rank(h, n, &idx);
  if (st) return st;
  size_t m = n < h->n ? n : h->n;
  const double *c = pd_ss_column(h, PD_VALUE_CLV);
  for (size_t i = 0; i < m; i++) {
    users[i] = h->users[idx[i]];
    if (clv) clv[i] = c[idx[i]];
  }
  *count = m;
  pd_free(&h->alloc, idx);
  pd_err_clear(&h->err);
  return PD_OK;
}

/* ---- value by acquisition channel / source --------------------------------- */

typedef struct group_acc {
  uint64_t n;
  double clv, p, e;
} group_acc;

static pd_status value_by(pd_store *s, const pd_store_summary *h, int32_t by,
                          int64_t as_of, pd_value_group_fn fn, void *user) {
  if (!valid(h)) return pd_err(&s->err, PD_E_MISUSE, "bad summary handle");
  if (fn == NULL) return pd_err(&s->err, PD_E_INVALID, "fn is NULL");
  if (by != PD_VALUE_BY_CHANNEL && by != PD_VALUE_BY_SOURCE)
    return pd_err(&s->err, PD_E_INVALID, "by %d is not a PD_VALUE_BY_*",
                  (int)by);
  pd_status st = pd_st_check_time(s, as_of, "as_of");
  if (st) return st;
  if (!h->has_pred)
    return pd_err(&s->err, PD_E_NOT_FOUND, "no predictions yet");
  size_t keys = by == PD_VALUE_BY_CHANNEL ? (size_t)PD_ST_CHANNEL_ID_MAX + 1
                                          : s->labels[PD_LABEL_SOURCE].n + 1;
  group_acc *g = pd_calloc(&s->alloc, keys, sizeof *g);
  if (!g) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  const double *clv = pd_ss_column(h, PD_VALUE_CLV),
               *pa = pd_ss_column(h, PD_VALUE_P_ALIVE),
               *ex = pd_ss_column(h, PD_VALUE_EXPECTED_PURCHASES);
  for (size_t i = 0; i < h->n; i++) {
    pd_user_id u = h->users[i];
    size_t key = 0;
    if (u < s->n_users && !(s->users[u].flags & PD_ST_USER_ERASED)) {
      uint32_t root = pd_st_find(s, (uint32_t)u);
      uint32_t fl = pd_mx_first_link(s, root, (uint32_t)as_of);
      if (fl != PD_ST_NIL) {
        const pd_st_link *l = &pd_st_links(s)[fl];
        key = by == PD_VALUE_BY_CHANNEL ? l->channel : l->source;
      }
    }
    if (key >= keys) key = 0;
    g[key].n++;
    g[key].clv += clv[i];
    g[key].p += pa[i];
    g[key].e += ex[i];
  }
  s->depth++;
  for (size_t k = 0; k < keys; k++) {
    if (g[k].n == 0) continue;
    pd_value_group v;
    memset(&v, 0, sizeof v);
    v.size = sizeof v;
    v.by = by;
    v.key = (uint32_t)k;
    v.customers = g[k].n;
    v.total_clv = g[k].clv;
    v.mean_clv = g[k].clv / (double)g[k].n;
    v.mean_p_alive = g[k].p / (double)g[k].n;
    v.mean_expected_purchases = g[k].e / (double)g[k].n;
    if (fn(user, &v)) break;
  }
  s->depth--;
  pd_free(&s->alloc, g);
  return PD_OK;
}

pd_status pd_store_value_by(pd_store *s, const pd_store_summary *h, int32_t by,
                            int64_t as_of, pd_value_group_fn fn, void *user) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  return pd_st_leave(s, value_by(s, h, by, as_of, fn, user));
}
