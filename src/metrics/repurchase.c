/* Repurchase (复购): rate, frequency, average order value, intervals and
 * their trend, and the revenue share of repeat buyers. Definitions in
 * repurchase.h. */

#include <privdomain/repurchase.h>

#include "core/prefetch.h"
#include "population.h"
#include "rows.h"

static const pd_repurchase_options default_opts = PD_REPURCHASE_OPTIONS_INIT;

typedef struct acc {
  uint64_t buyers, repeat, purchases, intervals, trend, shortening;
  int64_t revenue, repeat_revenue;
} acc;

double pd_mb_slope(const double *y, size_t m) {
  double xm = (double)(m + 1) / 2, ym = 0;
  for (size_t j = 0; j < m; j++) ym += y[j];
  ym /= (double)m;
  double sxy = 0, sxx = 0;
  for (size_t j = 0; j < m; j++) {
    double dx = (double)(j + 1) - xm;
    sxy += dx * (y[j] - ym);
    sxx += dx * dx;
  }
  return sxy / sxx;
}

/* Orders ahead whose random reads the revenue scan starts loading. */
enum { REPURCHASE_PF = 16 };

static pd_status repurchase(pd_mb_ctx *c, const pd_repurchase_options *o,
                            pd_rows **out) {
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  pd_mb_csr csr = {0};
  pd_mb_groups g;
  pd_mb_groups_init(&g);
  pd_mb_tagged iv = {0};
  acc *v = NULL;
  size_t cap = 0, ycap = 0;
  double *y = NULL, *med = NULL, *mean = NULL;
  uint32_t *order = NULL;
  int64_t *ref = NULL, *rev = NULL;
  pd_status st;
  if ((st = pd_mb_csr_build(c, PD_EV_ORDER, c->f.as_of, NULL, &csr)) ||
      (st = pd_mb_refunds_at(c, c->f.as_of, &ref)))
    goto done;
  /* Revenue per user in one sequential pass (reading each user's orders
   * through the grouping would jump around the column). */
  if (!(rev = pd_calloc(a, c->n, sizeof *rev))) {
    st = pd_mb_nomem(c);
    goto done;
  }
  const pd_st_order *ord = pd_st_orders(s);
  uint32_t no = s->col[PD_EV_ORDER].n;
  for (uint32_t i = 0; i < no; i++) {
    /* Orders come in time order: the buyer's root and revenue slot are
     * random reads, started some orders ahead. */
    if (i + 2 * REPURCHASE_PF < no)
      PD_PREFETCH_READ(&c->root_of[ord[i + 2 * REPURCHASE_PF].user]);
    if (i + REPURCHASE_PF < no)
      PD_PREFETCH(&rev[c->root_of[ord[i + REPURCHASE_PF].user]]);
    uint32_t r = c->root_of[ord[i].user];
    if (ord[i].time <= c->f.as_of && r) rev[r] += pd_mb_net(s, ref, i);
  }
  for (uint32_t r = 1; r < c->n; r++) {
    size_t n = csr.off[r + 1] - csr.off[r];
    if (n == 0) continue;
    const uint64_t *ix = csr.key + csr.off[r];
    uint32_t gi;
    if ((st = pd_mb_group(c, &g, pd_mb_user_key(c, o->group_by, r), &gi)) ||
        (st = pd_mb_grow_zeroed(c, (void **)&v, &cap, (size_t)gi + 1,
                                sizeof *v)))
      goto done;
    if (pd_grow(a, (void **)&y, &ycap, n, sizeof *y) != 0) {
      st = pd_mb_nomem(c);
      goto done;
    }
    acc *x = &v[gi];
    x->buyers++;
    x->purchases += n;
    x->revenue += rev[r];
    if (n < 2) continue;
    x->repeat++;
    x->repeat_revenue += rev[r];
    for (size_t k = 1; k < n; k++) {
      y[k - 1] =
          (double)(pd_mb_key_time(ix[k]) - pd_mb_key_time(ix[k - 1])) / PD_MB_DAY;
      if ((st = pd_mb_tagged_push(c, &iv, gi, y[k - 1]))) goto done;
    }
    x->intervals += n - 1;
    if (n >= 3) {
      x->trend++;
      x->shortening += pd_mb_slope(y, n - 1) < 0;
    }
  }
  med = pd_calloc(a, g.n + 1, sizeof *med);
  mean = pd_calloc(a, g.n + 1, sizeof *mean);
  order = pd_mb_groups_sorted(c, &g);
  if (!med || !mean || !order) {
    st = pd_mb_nomem(c);
    goto done;
  }
  if ((st = pd_mb_tagged_stats(c, &iv, g.n, med, mean))) goto done;
  pd_rows *rows = pd_mb_rows_new(&s->caller_alloc, PD_MB_ROWS_REPURCHASE,
                                 sizeof(pd_repurchase_row), g.n);
  if (!rows) {
    st = pd_mb_nomem(c);
    goto done;
  }
  for (size_t q = 0; q < g.n; q++) {
    uint32_t gi = order[q];
    const acc *x = &v[gi];
    pd_repurchase_row *row = pd_mb_row(rows, q);
    row->key = g.keys[gi];
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
    row->interval_median_days = med[gi];
    row->interval_mean_days = mean[gi];
    row->trend_buyers = x->trend;
    row->shortening_buyers = x->shortening;
    row->shortening_share = pd_mb_ratio((double)x->shortening, (double)x->trend);
    row->repeat_revenue_share =
        pd_mb_ratio((double)x->repeat_revenue, (double)x->revenue);
  }
  *out = rows;
done:
  pd_free(a, ref);
  pd_free(a, rev);
  pd_free(a, v);
  pd_free(a, y);
  pd_free(a, med);
  pd_free(a, mean);
  pd_free(a, order);
  pd_mb_tagged_free(c, &iv);
  pd_mb_groups_free(c, &g);
  pd_mb_csr_free(c, &csr);
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
