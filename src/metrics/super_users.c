/* Super users (超级用户): a documented score from spend, frequency,
 * referrals and engagement (segments.h), top-k above a threshold. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/segments.h>

#include "par.h"
#include "population.h"

static const pd_super_user_options default_opts = PD_SUPER_USER_OPTIONS_INIT;

typedef struct cand {
  double score;
  uint32_t user;
} cand;

static int cand_cmp(const void *pa, const void *pb) {
  const cand *a = pa, *b = pb;
  if (a->score != b->score) return a->score > b->score ? -1 : 1;
  return (a->user > b->user) - (a->user < b->user);
}

static int weight_ok(double w) { return isfinite(w) && w >= 0; }

static pd_status load_opts(pd_store *s, const pd_super_user_options *in,
                           pd_super_user_options *o) {
  pd_status st = pd_mx_check_size(s, in, sizeof *in, "pd_super_user_options");
  if (st) return st;
  *o = in ? *in : default_opts;
  if (!weight_ok(o->w_spend) || !weight_ok(o->w_frequency) ||
      !weight_ok(o->w_referrals) || !weight_ok(o->w_engagement) ||
      o->w_spend + o->w_frequency + o->w_referrals + o->w_engagement <= 0)
    return pd_err(&s->err, PD_E_INVALID,
                  "super user weights must be finite, >= 0 and not all 0");
  if (!isfinite(o->min_score) || o->min_score < 0 || o->min_score > 100)
    return pd_err(&s->err, PD_E_INVALID, "min_score must be in [0, 100]");
  if (o->engagement_window <= 0 || o->engagement_window > PD_TIME_MAX)
    return pd_err(&s->err, PD_E_INVALID,
                  "engagement_window must be > 0 seconds");
  return PD_OK;
}

/* ln(1 + x) / ln(1 + max), 0 when max is 0. */
static double scaled(double x, double max) {
  return max > 0 ? log1p(x) / log1p(max) : 0.0;
}

/* The per-user counts come from passes over the order, referral and
 * touchpoint columns cut into blocks (par.h); blocks add into shared
 * per-user counters atomically (integer sums do not depend on the order of
 * the additions, so every thread count gives the same counts). */
typedef struct count_job {
  const pd_mb_ctx *c;
  const int64_t *ref;
  int64_t since;
  _Atomic uint32_t *orders, *refs, *eng;
  _Atomic int64_t *spend;
} count_job;

static void block_range(const pd_store *s, int kind, size_t b, uint32_t *lo,
                        uint32_t *hi) {
  pd_mx_block_range(b, PD_MX_EVENT_BLOCK, s->col[kind].n, lo, hi);
}

static void count_orders(void *p, size_t b) {
  const count_job *j = p;
  const pd_store *s = j->c->s;
  const pd_st_order *od = pd_st_orders(s);
  uint32_t lo, hi, as_of = j->c->f.as_of;
  block_range(s, PD_EV_ORDER, b, &lo, &hi);
  for (uint32_t i = lo; i < hi; i++) {
    uint32_t r = j->c->root_of[od[i].user];
    if (od[i].time > as_of || r == 0) continue;
    atomic_fetch_add_explicit(&j->orders[r], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&j->spend[r], pd_mb_net(s, j->ref, i),
                              memory_order_relaxed);
  }
}

static void count_referrals(void *p, size_t b) {
  const count_job *j = p;
  const pd_store *s = j->c->s;
  const pd_st_referral *rf = pd_st_referrals(s);
  uint32_t lo, hi, as_of = j->c->f.as_of;
  block_range(s, PD_EV_REFERRAL, b, &lo, &hi);
  for (uint32_t i = lo; i < hi; i++) {
    uint32_t r = j->c->root_of[rf[i].referrer];
    if (rf[i].time > as_of || r == 0 || j->c->root_of[rf[i].referee] == 0)
      continue;
    atomic_fetch_add_explicit(&j->refs[r], 1, memory_order_relaxed);
  }
}

static void count_engagement(void *p, size_t b) {
  const count_job *j = p;
  const pd_store *s = j->c->s;
  const pd_st_touch *tc = pd_st_touches(s);
  uint32_t lo, hi, as_of = j->c->f.as_of;
  block_range(s, PD_EV_TOUCH, b, &lo, &hi);
  for (uint32_t i = lo; i < hi; i++) {
    const pd_st_touch *t = &tc[i];
    if (t->time > as_of || (int64_t)t->time <= j->since) continue;
    if (t->kind != PD_TOUCH_INBOUND_MESSAGE &&
        t->kind != PD_TOUCH_CONTENT_ENGAGEMENT &&
        t->kind != PD_TOUCH_LIVE_VIEW)
      continue;
    uint32_t r = j->c->root_of[t->user];
    if (r) atomic_fetch_add_explicit(&j->eng[r], 1, memory_order_relaxed);
  }
}

/* The best k candidates (cand_cmp order) kept in a heap whose root is the
 * worst of them: a top-k of millions of buyers without sorting them all. */
static void heap_sift(cand *h, size_t n, size_t i) {
  for (;;) {
    size_t w = i, l = 2 * i + 1, r = l + 1;
    if (l < n && cand_cmp(&h[l], &h[w]) > 0) w = l;
    if (r < n && cand_cmp(&h[r], &h[w]) > 0) w = r;
    if (w == i) return;
    cand x = h[i];
    h[i] = h[w];
    h[w] = x;
    i = w;
  }
}

static void heap_offer(cand *h, size_t *n, size_t k, cand c) {
  if (*n < k) {
    size_t i = (*n)++;
    h[i] = c;
    while (i > 0 && cand_cmp(&h[(i - 1) / 2], &h[i]) < 0) {
      cand x = h[i];
      h[i] = h[(i - 1) / 2];
      h[(i - 1) / 2] = x;
      i = (i - 1) / 2;
    }
  } else if (cand_cmp(&c, &h[0]) < 0) {
    h[0] = c;
    heap_sift(h, *n, 0);
  }
}

pd_status pd_super_users(pd_store *s, const pd_metrics_filter *filter,
                         const pd_super_user_options *opts, size_t k,
                         pd_super_user *rows, size_t cap, size_t *n) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  size_t stride;
  if ((st = pd_mb_top_k_args(s, rows, n, k, cap, sizeof *rows,
                             "PD_SUPER_USER_INIT", &stride)))
    return pd_st_leave(s, st);
  pd_super_user_options o;
  if ((st = load_opts(s, opts, &o))) return pd_st_leave(s, st);
  pd_mb_ctx c;
  if ((st = pd_mb_ctx_init(&c, s, filter)) != PD_OK) return pd_st_leave(s, st);
  const pd_allocator *a = &s->alloc;
  _Atomic uint32_t *orders = pd_calloc(a, c.n, sizeof *orders);
  _Atomic uint32_t *refs = pd_calloc(a, c.n, sizeof *refs);
  _Atomic uint32_t *eng = pd_calloc(a, c.n, sizeof *eng);
  _Atomic int64_t *spend = pd_calloc(a, c.n, sizeof *spend);
  int64_t *ref = NULL;
  cand *v = NULL;
  if (!orders || !refs || !eng || !spend) st = pd_mb_nomem(&c);
  if (!st) st = pd_mb_refunds_at(&c, c.f.as_of, &ref);
  if (!st) {
    uint32_t as_of = c.f.as_of;
    count_job j = {&c, ref, (int64_t)as_of - o.engagement_window,
                   orders, refs, eng, spend};
    pd_parallel_for(c.threads,
                    pd_mx_blocks(s->col[PD_EV_ORDER].n, PD_MX_EVENT_BLOCK),
                    count_orders, &j);
    pd_parallel_for(c.threads,
                    pd_mx_blocks(s->col[PD_EV_REFERRAL].n, PD_MX_EVENT_BLOCK),
                    count_referrals, &j);
    pd_parallel_for(c.threads,
                    pd_mx_blocks(s->col[PD_EV_TOUCH].n, PD_MX_EVENT_BLOCK),
                    count_engagement, &j);
    double ms = 0, mf = 0, mr = 0, me = 0;
    size_t m = 0;
    for (uint32_t r = 1; r < c.n; r++) {
      if (c.root_of[r] != r || !c.pass[r] || orders[r] == 0) continue;
      m++;
      double sp = spend[r] > 0 ? (double)spend[r] : 0.0;
      if (sp > ms) ms = sp;
      if (orders[r] > mf) mf = orders[r];
      if (refs[r] > mr) mr = refs[r];
      if (eng[r] > me) me = eng[r];
    }
    double wsum = o.w_spend + o.w_frequency + o.w_referrals + o.w_engagement;
    size_t hk = k < m ? k : m;
    v = pd_malloc(a, (hk + 1) * sizeof *v);
    if (!v) st = pd_mb_nomem(&c);
    size_t q = 0;
    for (uint32_t r = 1; v && r < c.n; r++) {
      if (c.root_of[r] != r || !c.pass[r] || orders[r] == 0) continue;
      double sp = spend[r] > 0 ? (double)spend[r] : 0.0;
      double score = 100.0 *
                     (o.w_spend * scaled(sp, ms) +
                      o.w_frequency * scaled(orders[r], mf) +
                      o.w_referrals * scaled(refs[r], mr) +
                      o.w_engagement * scaled(eng[r], me)) /
                     wsum;
      if (score >= o.min_score) heap_offer(v, &q, hk, (cand){score, r});
    }
    if (v) {
      qsort(v, q, sizeof *v, cand_cmp);
      size_t w = q < k ? q : k;
      for (size_t j = 0; j < w; j++) {
        uint32_t u = v[j].user;
        pd_super_user row = PD_SUPER_USER_INIT;
        row.user = u;
        row.score = v[j].score;
        row.spend = spend[u];
        row.orders = orders[u];
        row.referrals = refs[u];
        row.engagement = eng[u];
        memcpy((char *)rows + j * stride, &row, sizeof row);
      }
      *n = w;
    }
  }
  pd_free(a, (void *)orders);
  pd_free(a, (void *)refs);
  pd_free(a, (void *)eng);
  pd_free(a, (void *)spend);
  pd_free(a, ref);
  pd_free(a, v);
  pd_mb_ctx_free(&c);
  return pd_st_leave(s, st);
}
