/* The repurchase aggregate (aggregates.h): per group key the buyer,
 * purchase, interval and trend counts and revenues behind
 * pd_repurchase_compute()'s rows, counted by the same pass as repurchase.c
 * (repurchase_buyers.h; definitions in repurchase.h), and the rows made
 * back from them. */
#include "aggregate_kinds.h"
#include "repurchase_buyers.h"
#include "rows.h"

pd_status pd_ag_repurchase_compute(pd_mb_ctx *c, pd_aggregate *agg) {
  const pd_allocator *a = &c->s->alloc;
  pd_mb_groups g;
  pd_mb_groups_init(&g);
  pd_mb_tagged iv = {0};
  pd_rp_counts *cnt = NULL;
  size_t cap = 0;
  pd_ag_rgroup *v = NULL;
  pd_status st = pd_rp_count(c, agg->spec.group_by, &g, &cnt, &cap, &iv);
  if (!st && !(v = pd_calloc(&agg->alloc, g.n + 1, sizeof *v)))
    st = pd_mb_nomem(c);
  for (size_t k = 0; !st && k < g.n; k++) {
    v[k].key = g.keys[k];
    v[k].n = cnt[k];
  }
  if (!st && g.n)
    st = pd_ag_sketches_by_group(c, &agg->alloc, &iv, g.n,
                                 agg->spec.accuracy, &v[0].intervals_days,
                                 sizeof *v);
  if (!st) {
    pd_ag_sort_groups(v, g.n, sizeof *v);
    agg->rg = v;
    agg->nrg = g.n;
  } else if (v) {
    for (size_t k = 0; k < g.n; k++)
      pd_ag_sketch_free(&agg->alloc, &v[k].intervals_days);
    pd_free(&agg->alloc, v);
  }
  pd_free(a, cnt);
  pd_mb_tagged_free(c, &iv);
  pd_mb_groups_free(c, &g);
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
    double mean = x->n.intervals ? (double)x->n.interval_seconds / PD_MB_DAY /
                                       (double)x->n.intervals
                                 : 0.0;
    pd_rp_row(pd_mb_row(rows, q), x->key, &x->n,
              pd_ag_sketch_median(&x->intervals_days, agg->spec.accuracy),
              mean);
  }
  *out = rows;
  return PD_OK;
}
