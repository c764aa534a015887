/* The funnel 引流 → 成交 → 复购 → 转介绍 by channel, source, guide, shop or
 * cohort, with link rate, time to first purchase and LTV:CAC. Definitions
 * in funnel.h. */
#include <math.h>

#include <privdomain/funnel.h>

#include "funnel_users.h"
#include "population.h"
#include "rows.h"

static const pd_funnel_options default_opts = PD_FUNNEL_OPTIONS_INIT;

static pd_status funnel(pd_mb_ctx *c, const pd_funnel_options *o,
                        pd_rows **out) {
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  pd_mb_groups g;
  pd_mb_groups_init(&g);
  pd_mb_tagged days = {0};
  pd_fu_counts *v = NULL;
  size_t cap = 0;
  uint32_t *order = NULL;
  double *med = NULL, *mean = NULL;
  int64_t every_channel = 0;
  pd_status st = pd_fu_count(c, o->group_by, o->conversion_window, &g, &v,
                             &cap, &days, &every_channel);
  if (!st) {
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
    /* No overflow: the store keeps the total of all costs within int64. */
    uint32_t gi = order[q];
    pd_fu_row(pd_mb_row(rows, q), g.keys[gi], &v[gi],
              v[gi].cost + every_channel, med[gi], mean[gi], o->model_clv);
  }
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
