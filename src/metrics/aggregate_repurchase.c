/* The repurchase aggregate (aggregates.h): per group key the buyer,
 * purchase, interval and trend counts and revenues behind
 * pd_repurchase_compute()'s rows, counted exactly as repurchase.c counts
 * them (definitions in repurchase.h), and the rows made back from them. */
#include <string.h>

#include "aggregate_kinds.h"
#include "core/prefetch.h"
#include "rows.h"

#define LAG 16 /* orders between a prefetch and its use */

static pd_status grow(pd_mb_ctx *c, pd_ag_rgroup **v, size_t *cap,
                      size_t n) {
  return pd_mb_grow_zeroed(c, (void **)v, cap, n, sizeof **v);
}

pd_status pd_ag_repurchase_compute(pd_mb_ctx *c, pd_aggregate *agg) {
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  pd_mb_csr csr = {0};
  pd_mb_groups g;
  pd_mb_groups_init(&g);
  pd_mb_tagged iv = {0};
  pd_ag_rgroup *v = NULL;
  size_t cap = 0, ycap = 0;
  double *y = NULL;
  uint32_t *order = NULL;
  int64_t *ref = NULL, *rev = NULL;
  pd_status st = pd_mb_csr_build(c, PD_EV_ORDER, c->f.as_of, NULL, &csr);
  if (!st) st = pd_mb_refunds_at(c, c->f.as_of, &ref);
  if (!st && !(rev = pd_calloc(a, c->n, sizeof *rev))) st = pd_mb_nomem(c);
  if (!st) {
    const pd_st_order *ord = pd_st_orders(s);
    uint32_t no = s->col[PD_EV_ORDER].n;
    for (uint32_t i = 0; i < no; i++) {
      /* Orders come in time order, their users at random: fetch the
       * canonical id 2 LAG orders ahead, then the revenue LAG ahead. */
      if (i + 2 * LAG < no) PD_PREFETCH(&c->root_of[ord[i + 2 * LAG].user]);
      if (i + LAG < no) PD_PREFETCH(&rev[c->root_of[ord[i + LAG].user]]);
      uint32_t r = c->root_of[ord[i].user];
      if (ord[i].time <= c->f.as_of && r) rev[r] += pd_mb_net(s, ref, i);
    }
  }
  for (uint32_t r = 1; !st && r < c->n; r++) {
    size_t n = csr.off[r + 1] - csr.off[r];
    if (n == 0) continue;
    const uint64_t *ix = csr.key + csr.off[r];
    uint32_t gi;
    if ((st = pd_mb_group(c, &g, pd_mb_user_key(c, agg->spec.group_by, r),
                          &gi)) ||
        (st = grow(c, &v, &cap, (size_t)gi + 1)))
      break;
    if (pd_grow(a, (void **)&y, &ycap, n, sizeof *y) != 0) {
      st = pd_mb_nomem(c);
      break;
    }
    pd_ag_rgroup *x = &v[gi];
    x->buyers++;
    x->purchases += n;
    x->revenue += rev[r];
    if (n < 2) continue;
    x->repeat++;
    x->repeat_revenue += rev[r];
    for (size_t k = 1; k < n && !st; k++) {
      uint32_t dt = pd_mb_key_time(ix[k]) - pd_mb_key_time(ix[k - 1]);
      x->interval_seconds += dt;
      y[k - 1] = (double)dt / PD_MB_DAY;
      st = pd_mb_tagged_push(c, &iv, gi, y[k - 1]);
    }
    x->intervals += n - 1;
    if (n >= 3) {
      x->trend++;
      x->shortening += pd_mb_slope(y, n - 1) < 0;
    }
  }
  if (!st) st = grow(c, &v, &cap, g.n + 1);
  if (!st && g.n)
    st = pd_ag_sketches_by_group(c, &agg->alloc, &iv, g.n,
                                 agg->spec.accuracy, &v[0].intervals_days,
                                 sizeof *v);
  if (!st && !(order = pd_mb_groups_sorted(c, &g))) st = pd_mb_nomem(c);
  pd_ag_rgroup *out = NULL;
  if (!st && !(out = pd_calloc(&agg->alloc, g.n + 1, sizeof *out)))
    st = pd_mb_nomem(c);
  if (!st) {
    for (size_t q = 0; q < g.n; q++) {
      out[q] = v[order[q]];
      out[q].key = g.keys[order[q]];
      memset(&v[order[q]].intervals_days, 0, sizeof v[order[q]].intervals_days);
    }
    agg->rg = out;
    agg->nrg = g.n;
  }
  for (size_t q = 0; q < cap && v; q++)
    pd_ag_sketch_free(&agg->alloc, &v[q].intervals_days);
  pd_free(a, ref);
  pd_free(a, rev);
  pd_free(a, v);
  pd_free(a, y);
  pd_free(a, order);
  pd_mb_tagged_free(c, &iv);
  pd_mb_groups_free(c, &g);
  pd_mb_csr_free(c, &csr);
  return st;
}

pd_status pd_aggregate_repurchase_rows(const pd_aggregate *agg,
                                       pd_rows **out) {
  if (!pd_ag_valid(agg) || out == NULL) return PD_E_INVALID;
  if (agg->kind != PD_AGGREGATE_REPURCHASE) return PD_E_MISUSE;
  pd_rows *rows = pd_mb_rows_new(&agg->alloc, PD_MB_ROWS_REPURCHASE,
                                 sizeof(pd_repurchase_row), agg->nrg);
  if (!rows) return PD_E_NOMEM;
  for (size_t q = 0; q < agg->nrg; q++) {
    const pd_ag_rgroup *x = &agg->rg[q];
    pd_repurchase_row *row = pd_mb_row(rows, q);
    row->key = x->key;
    row->buyers = x->buyers;
    row->repeat_buyers = x->repeat;
    row->purchases = x->purchases;
    row->revenue = x->revenue;
    row->repeat_revenue = x->repeat_revenue;
    row->repurchase_rate = pd_mb_ratio((double)x->repeat, (double)x->buyers);
    row->frequency = pd_mb_ratio((double)x->purchases, (double)x->buyers);
    row->average_order_value =
        pd_mb_ratio((double)x->revenue, (double)x->purchases);
    row->intervals = x->intervals;
    row->interval_median_days =
        pd_ag_sketch_median(&x->intervals_days, agg->spec.accuracy);
    row->interval_mean_days =
        x->intervals ? (double)x->interval_seconds / PD_MB_DAY /
                           (double)x->intervals
                     : 0.0;
    row->trend_buyers = x->trend;
    row->shortening_buyers = x->shortening;
    row->shortening_share =
        pd_mb_ratio((double)x->shortening, (double)x->trend);
    row->repeat_revenue_share =
        pd_mb_ratio((double)x->repeat_revenue, (double)x->revenue);
  }
  *out = rows;
  return PD_OK;
}
