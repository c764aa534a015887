/* The funnel aggregate (aggregates.h): the additive counts behind
 * pd_funnel_compute()'s rows, gathered per group key by the same per-user
 * pass as funnel.c (funnel_users.h; definitions in funnel.h), and the rows
 * made back from them. */
#include "aggregate_kinds.h"
#include "core/checked.h"
#include "funnel_users.h"
#include "rows.h"

pd_status pd_ag_funnel_compute(pd_mb_ctx *c, pd_aggregate *agg) {
  const pd_allocator *a = &c->s->alloc;
  const pd_ag_spec *o = &agg->spec;
  pd_mb_groups g;
  pd_mb_groups_init(&g);
  pd_mb_tagged days = {0};
  pd_fu_counts *cnt = NULL;
  size_t cap = 0;
  int64_t all = 0;
  pd_ag_fgroup *v = NULL;
  pd_status st = pd_fu_count(c, o->group_by, o->conversion_window, &g, &cnt,
                             &cap, &days, &all);
  if (!st && !(v = pd_calloc(&agg->alloc, g.n + 1, sizeof *v)))
    st = pd_mb_nomem(c);
  for (size_t k = 0; !st && k < g.n; k++) {
    v[k].key = g.keys[k];
    v[k].n = cnt[k];
  }
  if (!st && g.n)
    st = pd_ag_sketches_by_group(c, &agg->alloc, &days, g.n, o->accuracy,
                                 &v[0].days, sizeof *v);
  if (!st) {
    pd_ag_sort_groups(v, g.n, sizeof *v);
    agg->fg = v;
    agg->nfg = g.n;
    agg->cost_all_channels = all;
  } else if (v) {
    for (size_t k = 0; k < g.n; k++) pd_ag_sketch_free(&agg->alloc, &v[k].days);
    pd_free(&agg->alloc, v);
  }
  pd_free(a, cnt);
  pd_mb_tagged_free(c, &days);
  pd_mb_groups_free(c, &g);
  return st;
}

pd_status pd_aggregate_funnel_rows(const pd_aggregate *agg, pd_rows **out) {
  if (!pd_ag_valid(agg) || out == NULL) return PD_E_INVALID;
  if (agg->kind != PD_AGGREGATE_FUNNEL) return PD_E_MISUSE;
  const pd_ag_spec *o = &agg->spec;
  pd_rows *rows = pd_mb_rows_new(&agg->alloc, PD_MB_ROWS_FUNNEL,
                                 sizeof(pd_funnel_row), agg->nfg);
  if (!rows) return PD_E_NOMEM;
  for (size_t q = 0; q < agg->nfg; q++) {
    const pd_ag_fgroup *x = &agg->fg[q];
    int64_t cost = x->n.cost;
    if (o->group_by == PD_BY_CHANNEL &&
        pd_add_i64(cost, agg->cost_all_channels, &cost)) {
      pd_rows_free(rows);
      return PD_E_OVERFLOW;
    }
    double mean = x->n.converted ? (double)x->n.days_seconds / PD_MB_DAY /
                                       (double)x->n.converted
                                 : 0.0;
    pd_fu_row(pd_mb_row(rows, q), x->key, &x->n, cost,
              pd_ag_sketch_median(&x->days, o->accuracy), mean, o->model_clv);
  }
  *out = rows;
  return PD_OK;
}
