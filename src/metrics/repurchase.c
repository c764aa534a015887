/* Repurchase (复购): rate, frequency, average order value, intervals and
 * their trend, and the revenue share of repeat buyers. Definitions in
 * repurchase.h. */

#include <privdomain/repurchase.h>

#include "population.h"
#include "repurchase_buyers.h"
#include "rows.h"

static const pd_repurchase_options default_opts = PD_REPURCHASE_OPTIONS_INIT;

static pd_status repurchase(pd_mb_ctx *c, const pd_repurchase_options *o,
                            pd_rows **out) {
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  pd_mb_groups g;
  pd_mb_groups_init(&g);
  pd_mb_tagged iv = {0};
  pd_rp_counts *v = NULL;
  size_t cap = 0;
  double *med = NULL, *mean = NULL;
  uint32_t *order = NULL;
  pd_rows *rows = NULL;
  pd_status st = pd_rp_count(c, o->group_by, &g, &v, &cap, &iv);
  if (!st) {
    med = pd_calloc(a, g.n + 1, sizeof *med);
    mean = pd_calloc(a, g.n + 1, sizeof *mean);
    order = pd_mb_groups_sorted(c, &g);
    if (!med || !mean || !order) st = pd_mb_nomem(c);
  }
  if (!st) st = pd_mb_tagged_stats(c, &iv, g.n, med, mean);
  if (!st && !(rows = pd_mb_rows_new(&s->caller_alloc, PD_MB_ROWS_REPURCHASE,
                                     sizeof(pd_repurchase_row), g.n)))
    st = pd_mb_nomem(c);
  for (size_t q = 0; !st && q < g.n; q++) {
    uint32_t gi = order[q];
    pd_rp_row(pd_mb_row(rows, q), g.keys[gi], &v[gi], med[gi], mean[gi]);
  }
  if (!st) *out = rows;
  pd_free(a, v);
  pd_free(a, med);
  pd_free(a, mean);
  pd_free(a, order);
  pd_mb_tagged_free(c, &iv);
  pd_mb_groups_free(c, &g);
  return st;
}

pd_status pd_repurchase_compute(pd_store *s, const pd_metrics_filter *filter,
                                const pd_repurchase_options *opts,
                                pd_rows **out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if ((st = pd_mx_check_size(s, opts, sizeof *opts, "pd_repurchase_options")))
    return pd_st_leave(s, st);
  pd_repurchase_options o = opts ? *opts : default_opts;
  if (!pd_mb_group_by_valid(o.group_by))
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "group_by %d is not a PD_BY_*",
                                 (int)o.group_by));
  pd_mb_ctx c;
  if ((st = pd_mb_ctx_init(&c, s, filter)) != PD_OK) return pd_st_leave(s, st);
  st = repurchase(&c, &o, out);
  pd_mb_ctx_free(&c);
  return pd_st_leave(s, st);
}

pd_status pd_repurchase_row_get(const pd_rows *rows, size_t i,
                                pd_repurchase_row *out) {
  return pd_mb_rows_get(rows, PD_MB_ROWS_REPURCHASE, i, out);
}
