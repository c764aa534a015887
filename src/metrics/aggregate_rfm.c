/* The RFM aggregate (aggregates.h): buyers' recency, frequency and
 * monetary in three quantile sketches, the quintile thresholds read from
 * them, and a shard's buyers scored against chain-wide thresholds. Each
 * buyer's measures are those of pd_rfm_compute() (segments.h). */
#include <math.h>
#include <string.h>

#include <privdomain/aggregates.h>

#include "aggregate_kinds.h"
#include "core/prefetch.h"
#include "rows.h"

#define LAG 16 /* orders between a prefetch and its use */

/* One user's orders: the three fields a scattered order updates share a
 * cache line, so the pass over the orders misses once per order. */
typedef struct buyer {
  uint32_t cnt, last;
  int64_t rev;
} buyer;

/* Every passing buyer's measures, by canonical id. */
typedef struct buyers {
  buyer *u;
  size_t n; /* buyers */
} buyers;

static void buyers_free(pd_mb_ctx *c, buyers *b) {
  pd_free(&c->s->alloc, b->u);
}

static pd_status buyers_gather(pd_mb_ctx *c, buyers *b) {
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  memset(b, 0, sizeof *b);
  b->u = pd_calloc(a, c->n, sizeof *b->u);
  int64_t *ref = NULL;
  pd_status st = PD_OK;
  if (!b->u) st = pd_mb_nomem(c);
  if (!st) st = pd_mb_refunds_at(c, c->f.as_of, &ref);
  if (!st) {
    const pd_st_order *o = pd_st_orders(s);
    uint32_t no = s->col[PD_EV_ORDER].n;
    for (uint32_t i = 0; i < no; i++) {
      /* Orders come in time order, their users at random: fetch the
       * canonical id 2 LAG orders ahead, then the buyer LAG ahead. */
      if (i + 2 * LAG < no) PD_PREFETCH(&c->in_root[o[i + 2 * LAG].user]);
      if (i + LAG < no) PD_PREFETCH(&b->u[c->in_root[o[i + LAG].user]]);
      if (o[i].time > c->f.as_of) continue;
      uint32_t r = c->in_root[o[i].user]; /* 0: erased or filtered out */
      if (r == 0) continue;
      buyer *x = &b->u[r];
      b->n += x->cnt == 0;
      x->cnt++;
      x->rev += pd_mb_net(s, ref, i);
      if (o[i].time > x->last) x->last = o[i].time;
    }
  }
  pd_free(a, ref);
  if (st) buyers_free(c, b);
  return st;
}

pd_status pd_ag_rfm_compute(pd_mb_ctx *c, pd_aggregate *agg) {
  const pd_allocator *a = &c->s->alloc;
  buyers b;
  pd_status st = buyers_gather(c, &b);
  if (st) return st;
  double *v = pd_malloc(a, (3 * b.n + 1) * sizeof *v);
  if (!v) st = pd_mb_nomem(c);
  if (!st) {
    size_t m = 0;
    for (uint32_t r = 1; r < c->n; r++) {
      const buyer *x = &b.u[r];
      if (!x->cnt) continue;
      v[m] = (double)(c->f.as_of - x->last) / PD_MB_DAY;
      v[b.n + m] = (double)x->cnt;
      v[2 * b.n + m] = (double)x->rev;
      agg->orders += x->cnt;
      agg->revenue += x->rev;
      m++;
    }
    agg->buyers = b.n;
    for (int d = 0; d < 3 && !st; d++)
      if (pd_ag_sketch_build(&agg->alloc, agg->spec.accuracy, v + d * b.n,
                             b.n, &agg->rfm[d]) != 0)
        st = pd_mb_nomem(c);
  }
  pd_free(a, v);
  buyers_free(c, &b);
  return st;
}

pd_status pd_aggregate_quantile(const pd_aggregate *agg, int32_t dimension,
                                double q, double *out) {
  if (!pd_ag_valid(agg) || out == NULL) return PD_E_INVALID;
  if (agg->kind != PD_AGGREGATE_RFM) return PD_E_MISUSE;
  if (dimension < PD_AGGREGATE_RECENCY || dimension > PD_AGGREGATE_MONETARY ||
      !(q >= 0.0 && q <= 1.0) || agg->buyers == 0)
    return PD_E_INVALID;
  *out = pd_ag_sketch_quantile(&agg->rfm[dimension - 1], agg->spec.accuracy,
                               q);
  return PD_OK;
}

pd_status pd_aggregate_rfm_thresholds(const pd_aggregate *agg,
                                      pd_rfm_thresholds *out) {
  if (!pd_ag_valid(agg) || out == NULL || out->size < sizeof *out)
    return PD_E_INVALID;
  if (agg->kind != PD_AGGREGATE_RFM) return PD_E_MISUSE;
  if (agg->buyers == 0) return PD_E_INVALID;
  pd_rfm_thresholds t = PD_RFM_THRESHOLDS_INIT;
  t.size = out->size;
  t.buyers = agg->buyers;
  t.orders = agg->orders;
  t.revenue = agg->revenue;
  double acc = agg->spec.accuracy;
  for (int k = 0; k < 4; k++) {
    double q = (k + 1) / 5.0;
    t.recency[k] = pd_ag_sketch_quantile(&agg->rfm[0], acc, q);
    /* Counts and minor units are whole numbers: a threshold between two
     * of them would split equal values by the sketch's rounding. */
    t.frequency[k] = nearbyint(pd_ag_sketch_quantile(&agg->rfm[1], acc, q));
    t.monetary[k] = nearbyint(pd_ag_sketch_quantile(&agg->rfm[2], acc, q));
  }
  memcpy(out, &t, sizeof t);
  return PD_OK;
}

static int32_t above(const double th[4], double v) {
  int32_t n = 0;
  for (int k = 0; k < 4; k++) n += v > th[k];
  return n;
}

static int32_t below(const double th[4], double v) {
  int32_t n = 0;
  for (int k = 0; k < 4; k++) n += v < th[k];
  return n;
}

pd_status pd_rfm_score_with_thresholds(pd_store *s,
                                       const pd_metrics_filter *filter,
                                       const pd_rfm_thresholds *th,
                                       pd_rows **out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL || th == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "th or out is NULL"));
  if (th->size < sizeof *th)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "th->size is too small: use "
                                 "PD_RFM_THRESHOLDS_INIT"));
  for (int k = 0; k < 4; k++)
    if (!isfinite(th->recency[k]) || !isfinite(th->frequency[k]) ||
        !isfinite(th->monetary[k]))
      return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                   "a threshold is NaN or infinite"));
  pd_mb_ctx c;
  if ((st = pd_mb_ctx_init(&c, s, filter)) != PD_OK) return pd_st_leave(s, st);
  buyers b;
  pd_rows *rows = NULL;
  if ((st = buyers_gather(&c, &b)) == PD_OK) {
    rows = pd_mb_rows_new(&s->caller_alloc, PD_MB_ROWS_RFM,
                          sizeof(pd_rfm_row), b.n);
    if (!rows) st = pd_mb_nomem(&c);
    size_t q = 0;
    for (uint32_t r = 1; rows && r < c.n; r++) {
      const buyer *x = &b.u[r];
      if (!x->cnt) continue;
      pd_rfm_row *row = pd_mb_row(rows, q++);
      row->user = r;
      row->recency_days = (double)(c.f.as_of - x->last) / PD_MB_DAY;
      row->frequency = x->cnt;
      row->monetary = x->rev;
      row->r_score = 1 + below(th->recency, row->recency_days);
      row->f_score = 1 + above(th->frequency, (double)row->frequency);
      row->m_score = 1 + above(th->monetary, (double)row->monetary);
      row->segment = pd_segment_from_scores(row->r_score, row->f_score);
    }
    buyers_free(&c, &b);
  }
  pd_mb_ctx_free(&c);
  if (st) {
    pd_rows_free(rows);
    return pd_st_leave(s, st);
  }
  *out = rows;
  return pd_st_leave(s, st);
}
