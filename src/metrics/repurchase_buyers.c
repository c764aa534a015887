/* The repurchase counts shared by the figure and its aggregate (see
 * repurchase_buyers.h). */
#include "repurchase_buyers.h"

#include "core/prefetch.h"

/* Least-squares slope of y[0..m-1] against 1..m (m >= 2): the trend of a
 * buyer's repurchase intervals. */
static double slope(const double *y, size_t m) {
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
enum { ORDER_PF = 16 };

/* Net revenue at or before as_of per canonical user, into rev[0 .. c->n),
 * in one sequential pass over the orders (reading each user's orders
 * through the grouping would jump around the column). */
static pd_status revenue_by_user(pd_mb_ctx *c, int64_t *rev) {
  pd_store *s = c->s;
  int64_t *ref = NULL;
  pd_status st = pd_mb_refunds_at(c, c->f.as_of, &ref);
  if (st) return st;
  const pd_st_order *ord = pd_st_orders(s);
  uint32_t no = s->col[PD_EV_ORDER].n;
  for (uint32_t i = 0; i < no; i++) {
    /* Orders come in time order: the buyer's root and revenue slot are
     * random reads, started some orders ahead. */
    if (i + 2 * ORDER_PF < no)
      PD_PREFETCH_READ(&c->root_of[ord[i + 2 * ORDER_PF].user]);
    if (i + ORDER_PF < no)
      PD_PREFETCH(&rev[c->root_of[ord[i + ORDER_PF].user]]);
    uint32_t r = c->root_of[ord[i].user];
    if (ord[i].time <= c->f.as_of && r) rev[r] += pd_mb_net(s, ref, i);
  }
  pd_free(&s->alloc, ref);
  return PD_OK;
}

/* Every buyer into its group (pd_rp_count); y is interval workspace. */
static pd_status count_buyers(pd_mb_ctx *c, int32_t by, const pd_mb_csr *csr,
                              const int64_t *rev, pd_mb_groups *g,
                              pd_rp_counts **v, size_t *cap,
                              pd_mb_tagged *intervals) {
  const pd_allocator *a = &c->s->alloc;
  double *y = NULL;
  size_t ycap = 0;
  pd_status st = PD_OK;
  for (uint32_t r = 1; r < c->n && !st; r++) {
    size_t n = csr->off[r + 1] - csr->off[r];
    if (n == 0) continue;
    const uint64_t *ix = csr->key + csr->off[r];
    uint32_t gi;
    if ((st = pd_mb_group(c, g, pd_mb_user_key(c, by, r), &gi)) ||
        (st = pd_mb_grow_zeroed(c, (void **)v, cap, (size_t)gi + 1,
                                sizeof **v)))
      break;
    if (pd_grow(a, (void **)&y, &ycap, n, sizeof *y) != 0) {
      st = pd_mb_nomem(c);
      break;
    }
    pd_rp_counts *x = &(*v)[gi];
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
      st = pd_mb_tagged_push(c, intervals, gi, y[k - 1]);
    }
    x->intervals += n - 1;
    if (n >= 3) {
      x->trend++;
      x->shortening += slope(y, n - 1) < 0;
    }
  }
  pd_free(a, y);
  return st;
}

pd_status pd_rp_count(pd_mb_ctx *c, int32_t by, pd_mb_groups *g,
                      pd_rp_counts **v, size_t *cap,
                      pd_mb_tagged *intervals) {
  const pd_allocator *a = &c->s->alloc;
  pd_mb_csr csr = {0};
  int64_t *rev = pd_calloc(a, c->n, sizeof *rev);
  if (!rev) return pd_mb_nomem(c);
  pd_status st = pd_mb_csr_build(c, PD_EV_ORDER, c->f.as_of, NULL, &csr);
  /* A buyer's n orders give n - 1 intervals: fewer than the orders. */
  if (!st) st = pd_mb_tagged_reserve(c, intervals, csr.off[c->n]);
  if (!st) st = revenue_by_user(c, rev);
  if (!st) st = count_buyers(c, by, &csr, rev, g, v, cap, intervals);
  if (!st)
    st = pd_mb_grow_zeroed(c, (void **)v, cap, g->n + 1, sizeof **v);
  pd_free(a, rev);
  pd_mb_csr_free(c, &csr);
  return st;
}

void pd_rp_row(pd_repurchase_row *row, int64_t key, const pd_rp_counts *x,
               double interval_median_days, double interval_mean_days) {
  row->key = key;
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
  row->interval_median_days = interval_median_days;
  row->interval_mean_days = interval_mean_days;
  row->trend_buyers = x->trend;
  row->shortening_buyers = x->shortening;
  row->shortening_share = pd_mb_ratio((double)x->shortening, (double)x->trend);
  row->repeat_revenue_share =
      pd_mb_ratio((double)x->repeat_revenue, (double)x->revenue);
}
