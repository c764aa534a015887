/* From a store's orders to per-customer BTYD summaries (the convention of
 * summary.h), their customers ranked and grouped by predicted value
 * (store_summary.h; the predictions themselves: store_value.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/channels.h>
#include <privdomain/store_summary.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"
#include "filter.h"
#include "par.h"
#include "purchases.h"
#include "pushes.h"
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
  pd_mx_purchase *buf = j->bufs + (size_t)worker * SS_WALK_CAP;
  pd_mx_refund_ref *rbuf = j->rbufs + (size_t)worker * SS_WALK_CAP;
  uint32_t lo, hi;
  pd_mx_block_range(ub, PD_MX_USER_BLOCK, j->nu, &lo, &hi);
  if (lo == 0) j->users[lo++] = 0;
  /* A user's newest order is a random read: fetched a few users ahead. */
  enum { AHEAD = 8 };
  for (uint32_t u = lo; u < hi; u++) {
    if (u + AHEAD < hi) pd_mx_purchases_prefetch(s, u + AHEAD);
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

pd_status pd_store_summary_data(const pd_store_summary *h,
                                pd_customer_data *out) {
  if (!valid(h)) return PD_E_MISUSE;
  pd_store_summary *m = (pd_store_summary *)h;
  if (out == NULL || out->size < sizeof *out)
    return pd_err(&m->err, PD_E_INVALID,
                  "out is NULL or smaller than pd_customer_data");
  out->n = h->n;
  out->x = pd_ss_col(h, 0);
  out->t_x = pd_ss_col(h, 1);
  out->T = pd_ss_col(h, 2);
  out->monetary = pd_ss_col(h, 3);
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
  *x_holdout = pd_ss_col(h, 4);
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

/* Each customer's group: the channel or source of their first link by
 * as_of (0: none, erased, or a label beyond the table). Found on the
 * store's threads in blocks of rows (the rows are in user order); the
 * sums are then taken in row order on the calling thread, so they do not
 * depend on the threads. */
typedef struct group_job {
  const pd_store *s;
  const pd_store_summary *h;
  int32_t by;
  uint32_t as_of;
  size_t keys;
  uint32_t *key;
} group_job;

static void group_block(void *ctx, size_t b) {
  const group_job *j = ctx;
  const pd_store *s = j->s;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_USER_BLOCK, (uint32_t)j->h->n, &lo, &hi);
  for (uint32_t i = lo; i < hi; i++) {
    pd_user_id u = j->h->users[i];
    size_t key = 0;
    if (u < s->n_users && !(s->users[u].flags & PD_ST_USER_ERASED)) {
      uint32_t root = pd_mx_find_ro(s, (uint32_t)u);
      uint32_t fl = pd_mx_first_link(s, root, j->as_of);
      if (fl != PD_ST_NIL) {
        const pd_st_link *l = &pd_st_links(s)[fl];
        key = j->by == PD_VALUE_BY_CHANNEL ? l->channel : l->source;
      }
    }
    j->key[i] = key < j->keys ? (uint32_t)key : 0;
  }
}

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
  uint32_t *key = pd_realloc_array(&s->alloc, NULL, h->n, sizeof *key);
  if (!g || !key) {
    pd_free(&s->alloc, g);
    pd_free(&s->alloc, key);
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  }
  group_job j = {s, h, by, (uint32_t)as_of, keys, key};
  pd_parallel_for(pd_mx_threads(s), pd_mx_blocks(h->n, PD_MX_USER_BLOCK),
                  group_block, &j);
  const double *clv = pd_ss_column(h, PD_VALUE_CLV),
               *pa = pd_ss_column(h, PD_VALUE_P_ALIVE),
               *ex = pd_ss_column(h, PD_VALUE_EXPECTED_PURCHASES);
  for (size_t i = 0; i < h->n; i++) {
    group_acc *a = &g[key[i]];
    a->n++;
    a->clv += clv[i];
    a->p += pa[i];
    a->e += ex[i];
  }
  pd_free(&s->alloc, key);
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
