/* The funnel 引流 → 成交 → 复购 → 转介绍 by channel, source, guide, shop or
 * cohort, with link rate, time to first purchase and LTV:CAC. Definitions
 * in funnel.h. */
#include <math.h>
#include <string.h>

#include <privdomain/funnel.h>

#include "core/prefetch.h"
#include "population.h"
#include "funnel_users.h"
#include "rows.h"

static const pd_funnel_options default_opts = PD_FUNNEL_OPTIONS_INIT;

typedef struct acc {
  uint64_t reached, linked, converted, repeat, referrers;
  int64_t revenue, cost;
} acc;

/* Per canonical user: what the funnel asks of them. */
static pd_status grow_acc(pd_mb_ctx *c, acc **v, size_t *cap, size_t n) {
  size_t old = *cap;
  if (pd_grow(&c->s->alloc, (void **)v, cap, n, sizeof **v) != 0)
    return pd_mb_nomem(c);
  if (*cap > old) memset(*v + old, 0, (*cap - old) * sizeof **v);
  return PD_OK;
}


/* Add reach and cost records to the rows they belong to. */
static pd_status reach_and_cost(pd_mb_ctx *c, int32_t by, pd_mb_groups *g,
                                acc **v, size_t *cap) {
  pd_store *s = c->s;
  if (c->f.guide || c->f.shop ||
      !(by == PD_BY_ALL || by == PD_BY_CHANNEL || by == PD_BY_SOURCE))
    return PD_OK;
  pd_status st = PD_OK;
  const pd_st_reach *rc = pd_st_reaches(s);
  for (uint32_t i = 0; i < s->col[PD_EV_REACH].n && !st; i++) {
    if (rc[i].period_start > c->f.as_of) continue; /* also erased ones */
    if ((c->f.channel && rc[i].channel != (uint32_t)c->f.channel) ||
        (c->f.source && rc[i].source != c->f.source))
      continue;
    int64_t key = by == PD_BY_CHANNEL  ? rc[i].channel
                  : by == PD_BY_SOURCE ? rc[i].source
                                       : 0;
    uint32_t gi;
    if ((st = pd_mb_group(c, g, key, &gi)) ||
        (st = grow_acc(c, v, cap, (size_t)gi + 1)))
      break;
    (*v)[gi].reached += rc[i].reached;
  }
  const pd_st_cost *co = pd_st_costs(s);
  /* Costs of no particular channel belong to every channel row, so they
   * are added once all rows exist (whatever order the records came in). */
  int64_t every_channel = 0;
  for (uint32_t i = 0; i < s->col[PD_EV_COST].n && !st; i++) {
    if (co[i].period_start > c->f.as_of) continue;
    if ((c->f.channel && co[i].channel != 0 &&
         co[i].channel != (uint32_t)c->f.channel) ||
        (c->f.source && co[i].source != c->f.source))
      continue;
    if (by == PD_BY_CHANNEL && co[i].channel == 0) {
      every_channel += co[i].amount;
      continue;
    }
    int64_t key = by == PD_BY_CHANNEL  ? co[i].channel
                  : by == PD_BY_SOURCE ? co[i].source
                                       : 0;
    uint32_t gi;
    if ((st = pd_mb_group(c, g, key, &gi)) ||
        (st = grow_acc(c, v, cap, (size_t)gi + 1)))
      break;
    (*v)[gi].cost += co[i].amount;
  }
  if (!st && every_channel)
    for (size_t k = 0; k < g->n; k++) (*v)[k].cost += every_channel;
  return st;
}

/* Users ahead whose acquisition link the pass starts loading. */
enum { FUNNEL_PF = 16 };

static pd_status funnel(pd_mb_ctx *c, const pd_funnel_options *o,
                        pd_rows **out) {
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  pd_fu_user *pu = pd_calloc(a, c->n, sizeof *pu);
  if (!pu) return pd_mb_nomem(c);
  pd_mb_groups g;
  pd_mb_groups_init(&g);
  pd_mb_tagged days = {0};
  acc *v = NULL;
  size_t cap = 0;
  uint32_t *order = NULL;
  double *med = NULL, *mean = NULL;
  pd_status st = pd_fu_gather(c, pu);
  const pd_st_link *lk = pd_st_links(s);
  for (uint32_t r = 1; r < c->n && !st; r++) {
    /* The row key reads the user's acquisition link: a random read,
     * started some users ahead. */
    if (r + FUNNEL_PF < c->n && pu[r + FUNNEL_PF].link != PD_ST_NIL)
      PD_PREFETCH_READ(&lk[pu[r + FUNNEL_PF].link]);
    const pd_fu_user *p = &pu[r];
    if (c->root_of[r] != r || !c->pass[r] || p->link == PD_ST_NIL) continue;
    uint32_t gi;
    if ((st = pd_mb_group(c, &g, pd_fu_key(c, o->group_by, r, p), &gi)) ||
        (st = grow_acc(c, &v, &cap, (size_t)gi + 1)))
      break;
    acc *x = &v[gi];
    x->linked++;
    x->revenue += p->revenue;
    x->referrers += p->referred;
    if (p->first_order != PD_ST_NIL &&
        (int64_t)(p->first_order - p->link_time) <= o->conversion_window) {
      x->converted++;
      x->repeat += p->orders >= 2;
      st = pd_mb_tagged_push(
          c, &days, gi, (double)(p->first_order - p->link_time) / PD_MB_DAY);
    }
  }
  if (!st) st = reach_and_cost(c, o->group_by, &g, &v, &cap);
  if (!st && (st = grow_acc(c, &v, &cap, g.n + 1)) == PD_OK) {
    med = pd_calloc(a, g.n + 1, sizeof *med);
    mean = pd_calloc(a, g.n + 1, sizeof *mean);
    order = pd_mb_groups_sorted(c, &g);
    if (!med || !mean || !order) st = pd_mb_nomem(c);
  }
  if (!st) st = pd_mb_tagged_stats(c, &days, g.n, med, mean);
  pd_rows *rows = NULL;
  if (!st && !(rows = pd_mb_rows_new(&s->caller_alloc, PD_MB_ROWS_FUNNEL,
                                     sizeof(pd_funnel_row), g.n)))
    st = pd_mb_nomem(c);
  for (size_t q = 0; !st && q < g.n; q++) {
    uint32_t gi = order[q];
    const acc *x = &v[gi];
    pd_funnel_row *row = pd_mb_row(rows, q);
    row->key = g.keys[gi];
    row->reached = x->reached;
    row->linked = x->linked;
    row->converted = x->converted;
    row->repeat = x->repeat;
    row->referrers = x->referrers;
    row->link_rate = pd_mb_ratio((double)x->linked, (double)x->reached);
    row->conversion_rate = pd_mb_ratio((double)x->converted, (double)x->linked);
    row->repeat_rate = pd_mb_ratio((double)x->repeat, (double)x->converted);
    row->referral_rate = pd_mb_ratio((double)x->referrers, (double)x->linked);
    row->days_to_first_purchase_median = med[gi];
    row->days_to_first_purchase_mean = mean[gi];
    row->revenue = x->revenue;
    row->cost = x->cost;
    row->ltv = o->model_clv > 0
                   ? o->model_clv
                   : pd_mb_ratio((double)x->revenue, (double)x->linked);
    row->cac = pd_mb_ratio((double)x->cost, (double)x->linked);
    row->ltv_cac = row->cac > 0 ? row->ltv / row->cac : -1.0;
  }
  pd_free(a, pu);
  pd_free(a, v);
  pd_free(a, order);
  pd_free(a, med);
  pd_free(a, mean);
  pd_mb_tagged_free(c, &days);
  pd_mb_groups_free(c, &g);
  if (st)
    pd_rows_free(rows);
  else
    *out = rows;
  return st;
}

pd_status pd_funnel_compute(pd_store *s, const pd_metrics_filter *filter,
                            const pd_funnel_options *opts, pd_rows **out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if ((st = pd_mx_check_size(s, opts, sizeof *opts, "pd_funnel_options")))
    return pd_st_leave(s, st);
  pd_funnel_options o = opts ? *opts : default_opts;
  if (!pd_mb_group_by_valid(o.group_by))
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "group_by %d is not a PD_BY_*",
                                 (int)o.group_by));
  if (o.conversion_window <= 0 || o.conversion_window > PD_TIME_MAX)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "conversion_window must be > 0 seconds"));
  if (!isfinite(o.model_clv) || o.model_clv < 0)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "model_clv must be finite and >= 0"));
  pd_mb_ctx c;
  if ((st = pd_mb_ctx_init(&c, s, filter)) != PD_OK) return pd_st_leave(s, st);
  st = funnel(&c, &o, out);
  pd_mb_ctx_free(&c);
  return pd_st_leave(s, st);
}

pd_status pd_funnel_row_get(const pd_rows *rows, size_t i,
                            pd_funnel_row *out) {
  return pd_mb_rows_get(rows, PD_MB_ROWS_FUNNEL, i, out);
}
