/* The funnel aggregate (aggregates.h): the additive counts behind
 * pd_funnel_compute()'s rows, gathered per group key by the same per-user
 * pass as funnel.c (funnel_users.h; definitions in funnel.h), and the rows
 * made back from them. */
#include <string.h>

#include "aggregate_kinds.h"
#include "core/checked.h"
#include "funnel_users.h"
#include "rows.h"

static pd_status grow(pd_mb_ctx *c, pd_ag_fgroup **v, size_t *cap,
                      size_t n) {
  size_t old = *cap;
  if (pd_grow(&c->s->alloc, (void **)v, cap, n, sizeof **v) != 0)
    return pd_mb_nomem(c);
  if (*cap > old) memset(*v + old, 0, (*cap - old) * sizeof **v);
  return PD_OK;
}

/* Reach and cost records into their groups; under PD_BY_CHANNEL a cost of
 * no channel goes to *all (it belongs to every channel row). */
static pd_status reach_and_cost(pd_mb_ctx *c, int32_t by, pd_mb_groups *g,
                                pd_ag_fgroup **v, size_t *cap,
                                int64_t *all) {
  pd_store *s = c->s;
  if (c->f.guide || c->f.shop ||
      !(by == PD_BY_ALL || by == PD_BY_CHANNEL || by == PD_BY_SOURCE))
    return PD_OK;
  pd_status st = PD_OK;
  const pd_st_reach *rc = pd_st_reaches(s);
  for (uint32_t i = 0; i < s->col[PD_EV_REACH].n && !st; i++) {
    if (rc[i].period_start > c->f.as_of) continue;
    if ((c->f.channel && rc[i].channel != (uint32_t)c->f.channel) ||
        (c->f.source && rc[i].source != c->f.source))
      continue;
    int64_t key = by == PD_BY_CHANNEL  ? rc[i].channel
                  : by == PD_BY_SOURCE ? rc[i].source
                                       : 0;
    uint32_t gi;
    if ((st = pd_mb_group(c, g, key, &gi)) ||
        (st = grow(c, v, cap, (size_t)gi + 1)))
      break;
    (*v)[gi].reached += rc[i].reached;
  }
  const pd_st_cost *co = pd_st_costs(s);
  for (uint32_t i = 0; i < s->col[PD_EV_COST].n && !st; i++) {
    if (co[i].period_start > c->f.as_of) continue;
    if ((c->f.channel && co[i].channel != 0 &&
         co[i].channel != (uint32_t)c->f.channel) ||
        (c->f.source && co[i].source != c->f.source))
      continue;
    if (by == PD_BY_CHANNEL && co[i].channel == 0) {
      *all += co[i].amount;
      continue;
    }
    int64_t key = by == PD_BY_CHANNEL  ? co[i].channel
                  : by == PD_BY_SOURCE ? co[i].source
                                       : 0;
    uint32_t gi;
    if ((st = pd_mb_group(c, g, key, &gi)) ||
        (st = grow(c, v, cap, (size_t)gi + 1)))
      break;
    (*v)[gi].cost += co[i].amount;
  }
  return st;
}

pd_status pd_ag_funnel_compute(pd_mb_ctx *c, pd_aggregate *agg) {
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  const pd_ag_spec *o = &agg->spec;
  pd_fu_user *pu = pd_calloc(a, c->n, sizeof *pu);
  if (!pu) return pd_mb_nomem(c);
  pd_mb_groups g;
  pd_mb_groups_init(&g);
  pd_mb_tagged days = {0};
  pd_ag_fgroup *v = NULL;
  size_t cap = 0;
  uint32_t *order = NULL;
  int64_t all = 0;
  pd_status st = pd_fu_gather(c, pu);
  for (uint32_t r = 1; r < c->n && !st; r++) {
    const pd_fu_user *p = &pu[r];
    if (c->root_of[r] != r || !c->pass[r] || p->link == PD_ST_NIL) continue;
    uint32_t gi;
    if ((st = pd_mb_group(c, &g, pd_fu_key(c, o->group_by, r, p), &gi)) ||
        (st = grow(c, &v, &cap, (size_t)gi + 1)))
      break;
    pd_ag_fgroup *x = &v[gi];
    x->linked++;
    x->revenue += p->revenue;
    x->referrers += p->referred;
    uint32_t dt = p->first_order - p->link_time;
    if (p->first_order != PD_ST_NIL &&
        (int64_t)dt <= o->conversion_window) {
      x->converted++;
      x->repeat += p->orders >= 2;
      x->days_seconds += dt;
      st = pd_mb_tagged_push(c, &days, gi, (double)dt / PD_MB_DAY);
    }
  }
  if (!st) st = reach_and_cost(c, o->group_by, &g, &v, &cap, &all);
  if (!st) st = grow(c, &v, &cap, g.n + 1);
  if (!st && g.n)
    st = pd_ag_sketches_by_group(c, &agg->alloc, &days, g.n, o->accuracy,
                                 &v[0].days, sizeof *v);
  if (!st && !(order = pd_mb_groups_sorted(c, &g))) st = pd_mb_nomem(c);
  pd_ag_fgroup *out = NULL;
  if (!st && !(out = pd_calloc(&agg->alloc, g.n + 1, sizeof *out)))
    st = pd_mb_nomem(c);
  if (!st) {
    /* Move the groups across in key order (the sketches were built with
     * the aggregate's allocator). */
    for (size_t q = 0; q < g.n; q++) {
      out[q] = v[order[q]];
      out[q].key = g.keys[order[q]];
      memset(&v[order[q]].days, 0, sizeof v[order[q]].days);
    }
    agg->fg = out;
    agg->nfg = g.n;
    agg->cost_all_channels = all;
  }
  for (size_t q = 0; q < cap && v; q++)
    pd_ag_sketch_free(&agg->alloc, &v[q].days);
  pd_free(a, pu);
  pd_free(a, v);
  pd_free(a, order);
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
    pd_funnel_row *row = pd_mb_row(rows, q);
    int64_t cost = x->cost;
    if (o->group_by == PD_BY_CHANNEL &&
        pd_add_i64(cost, agg->cost_all_channels, &cost)) {
      pd_rows_free(rows);
      return PD_E_OVERFLOW;
    }
    row->key = x->key;
    row->reached = x->reached;
    row->linked = x->linked;
    row->converted = x->converted;
    row->repeat = x->repeat;
    row->referrers = x->referrers;
    row->link_rate = pd_mb_ratio((double)x->linked, (double)x->reached);
    row->conversion_rate = pd_mb_ratio((double)x->converted, (double)x->linked);
    row->repeat_rate = pd_mb_ratio((double)x->repeat, (double)x->converted);
    row->referral_rate = pd_mb_ratio((double)x->referrers, (double)x->linked);
    row->days_to_first_purchase_median =
        pd_ag_sketch_median(&x->days, o->accuracy);
    row->days_to_first_purchase_mean =
        x->converted ? (double)x->days_seconds / PD_MB_DAY / (double)x->converted
                     : 0.0;
    row->revenue = x->revenue;
    row->cost = cost;
    row->ltv = o->model_clv > 0
                   ? o->model_clv
                   : pd_mb_ratio((double)x->revenue, (double)x->linked);
    row->cac = pd_mb_ratio((double)cost, (double)x->linked);
    row->ltv_cac = row->cac > 0 ? row->ltv / row->cac : -1.0;
  }
  *out = rows;
  return PD_OK;
}
