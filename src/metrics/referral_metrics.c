/* Referral and fission (转介绍, 裂变): the referral forest as of a time,
 * tree sizes and generations, the K-factor, revenue attributed to
 * referrers and the top referrers. Definitions in referral_metrics.h. */
#include <stdlib.h>
#include <string.h>

#include <privdomain/referral_metrics.h>

#include "population.h"
#include "store/store_query.h"

/* The forest: parent and referral time per canonical referee, and per
 * user the derived counts. */
typedef struct forest {
  uint32_t *parent;   /* canonical referrer, 0 = none */
  uint32_t *ref_time; /* time of the referral naming the user as referee */
  uint32_t *children;
  uint32_t *depth;
  uint32_t *root;     /* root of the user's tree */
  uint64_t *desc;     /* users below */
  int64_t *revenue;   /* attributed to the user as referrer */
} forest;

static void forest_free(pd_mb_ctx *c, forest *f) {
  const pd_allocator *a = &c->s->alloc;
  pd_free(a, f->parent);
  pd_free(a, f->ref_time);
  pd_free(a, f->children);
  pd_free(a, f->depth);
  pd_free(a, f->root);
  pd_free(a, f->desc);
  pd_free(a, f->revenue);
  memset(f, 0, sizeof *f);
}

static pd_status forest_build(pd_mb_ctx *c, forest *f) {
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  size_t n = c->n;
  memset(f, 0, sizeof *f);
  f->parent = pd_calloc(a, n, sizeof *f->parent);
  f->ref_time = pd_calloc(a, n, sizeof *f->ref_time);
  f->children = pd_calloc(a, n, sizeof *f->children);
  f->depth = pd_malloc(a, n * sizeof *f->depth);
  f->root = pd_calloc(a, n, sizeof *f->root);
  f->desc = pd_calloc(a, n, sizeof *f->desc);
  f->revenue = pd_calloc(a, n, sizeof *f->revenue);
  uint32_t *bydepth = NULL, *cnt = NULL;
  if (!f->parent || !f->ref_time || !f->children || !f->depth || !f->root ||
      !f->desc || !f->revenue)
    goto nomem;
  const pd_st_referral *rf = pd_st_referrals(s);
  for (uint32_t i = 0; i < s->col[PD_EV_REFERRAL].n; i++) {
    if (rf[i].time > c->f.as_of) continue;
    uint32_t rr = c->root_of[rf[i].referrer], re = c->root_of[rf[i].referee];
    if (rr == 0 || re == 0) continue;
    f->parent[re] = rr;
    f->ref_time[re] = rf[i].time;
    f->children[rr]++;
  }
  /* Depths by walking up to a known depth (the store forbids cycles). */
  memset(f->depth, 0xff, n * sizeof *f->depth);
  uint32_t maxd = 0;
  for (uint32_t u = 1; u < n; u++) {
    if (c->root_of[u] != u) continue;
    uint32_t d = 0, x = u;
    while (f->depth[x] == UINT32_MAX && f->parent[x] != 0) {
      x = f->parent[x];
      d++;
    }
    uint32_t base = f->depth[x] == UINT32_MAX ? 0 : f->depth[x];
    if (f->depth[x] == UINT32_MAX) f->depth[x] = 0;
    /* Second walk writes the depths on the way. */
    for (uint32_t y = u, k = 0; y != x; y = f->parent[y], k++)
      f->depth[y] = base + d - k;
    if (base + d > maxd) maxd = base + d;
  }
  /* Users ordered by depth: roots first for tree roots, deepest first for
   * descendant counts. */
  cnt = pd_calloc(a, (size_t)maxd + 2, sizeof *cnt);
  bydepth = pd_malloc(a, n * sizeof *bydepth);
  if (!cnt || !bydepth) goto nomem;
  size_t m = 0;
  for (uint32_t u = 1; u < n; u++)
    if (c->root_of[u] == u) cnt[f->depth[u] + 1]++, m++;
  for (uint32_t d = 0; d <= maxd; d++) cnt[d + 1] += cnt[d];
  for (uint32_t u = 1; u < n; u++)
    if (c->root_of[u] == u) bydepth[cnt[f->depth[u]]++] = u;
  for (size_t k = 0; k < m; k++) {
    uint32_t u = bydepth[k];
    f->root[u] = f->parent[u] ? f->root[f->parent[u]] : u;
  }
  for (size_t k = m; k > 0; k--) {
    uint32_t u = bydepth[k - 1];
    if (f->parent[u]) f->desc[f->parent[u]] += f->desc[u] + 1;
  }
  pd_free(a, cnt);
  pd_free(a, bydepth);
  /* Revenue of referees from their referral on, to their referrer. */
  int64_t *ref = NULL;
  pd_status st = pd_mb_refunds_at(c, c->f.as_of, &ref);
  if (st) {
    forest_free(c, f);
    return st;
  }
  const pd_st_order *o = pd_st_orders(s);
  for (uint32_t i = 0; i < s->col[PD_EV_ORDER].n; i++) {
    if (o[i].time > c->f.as_of) continue;
    uint32_t re = c->root_of[o[i].user];
    if (re == 0 || f->parent[re] == 0 || o[i].time < f->ref_time[re]) continue;
    f->revenue[f->parent[re]] += pd_mb_net(s, ref, i);
  }
  pd_free(a, ref);
  return PD_OK;
nomem:
  pd_free(a, cnt);
  pd_free(a, bydepth);
  forest_free(c, f);
  return pd_mb_nomem(c);
}

pd_status pd_referral_stats_compute(pd_store *s,
                                    const pd_metrics_filter *filter,
                                    int64_t from, int64_t to,
                                    pd_referral_stats *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL || out->size < sizeof *out)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "out is NULL or its size is too small (use "
                                 "PD_REFERRAL_STATS_INIT)"));
  if ((st = pd_st_check_time(s, from, "from")) ||
      (st = pd_st_check_time(s, to, "to")))
    return pd_st_leave(s, st);
  if (to <= from)
    return pd_st_leave(
        s, pd_err(&s->err, PD_E_RANGE, "the window ends before it starts"));
  pd_mb_ctx c;
  if ((st = pd_mb_ctx_init(&c, s, filter)) != PD_OK) return pd_st_leave(s, st);
  forest f;
  if ((st = forest_build(&c, &f)) != PD_OK) {
    pd_mb_ctx_free(&c);
    return pd_st_leave(s, st);
  }
  pd_referral_stats r = PD_REFERRAL_STATS_INIT;
  uint64_t wend = (uint64_t)to;
  if (wend > (uint64_t)c.f.as_of + 1) wend = (uint64_t)c.f.as_of + 1;
  uint32_t at = from < (int64_t)c.f.as_of ? (uint32_t)from : c.f.as_of;
  uint64_t tree_users = 0;
  for (uint32_t u = 1; u < c.n && !st; u++) {
    if (c.root_of[u] != u) continue;
    uint32_t p = f.parent[u];
    if (p && c.pass[p]) {
      r.referrals++;
      if (f.ref_time[u] >= (uint64_t)from && f.ref_time[u] < wend)
        r.window_referrals++;
    }
    if (p && c.pass[f.root[u]] && f.depth[u] > r.max_depth)
      r.max_depth = f.depth[u];
    if (!c.pass[u]) continue;
    if (f.children[u]) {
      r.referrers++;
      r.referee_revenue += f.revenue[u];
      if (!p) {
        r.trees++;
        tree_users += f.desc[u] + 1;
        if (f.desc[u] + 1 > r.largest_tree) r.largest_tree = f.desc[u] + 1;
      }
    }
    uint32_t linked = 0;
    if ((st = pd_st_channels_linked(s, u, at, &linked)) != PD_OK)
      st = pd_mb_nomem(&c);
    r.base += linked > 0;
  }
  forest_free(&c, &f);
  pd_mb_ctx_free(&c);
  if (st) return pd_st_leave(s, st);
  r.size = out->size;
  r.referees = r.referrals;
  r.mean_tree_size = pd_mb_ratio((double)tree_users, (double)r.trees);
  r.k_factor = pd_mb_ratio((double)r.window_referrals, (double)r.base);
  memcpy(out, &r, sizeof r);
  return pd_st_leave(s, PD_OK);
}

typedef struct cand {
  uint64_t user, referrals, desc;
  uint32_t depth;
  int64_t revenue;
} cand;

static int cand_cmp(const void *pa, const void *pb) {
  const cand *a = pa, *b = pb;
  if (a->referrals != b->referrals) return a->referrals > b->referrals ? -1 : 1;
  if (a->desc != b->desc) return a->desc > b->desc ? -1 : 1;
  return (a->user > b->user) - (a->user < b->user);
}

pd_status pd_referral_top(pd_store *s, const pd_metrics_filter *filter,
                          size_t k, pd_referrer_row *rows, size_t cap,
                          size_t *n) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  size_t stride;
  if ((st = pd_mb_top_k_args(s, rows, n, k, cap, sizeof *rows,
                             "PD_REFERRER_ROW_INIT", &stride)))
    return pd_st_leave(s, st);
  pd_mb_ctx c;
  if ((st = pd_mb_ctx_init(&c, s, filter)) != PD_OK) return pd_st_leave(s, st);
  forest f;
  if ((st = forest_build(&c, &f)) != PD_OK) {
    pd_mb_ctx_free(&c);
    return pd_st_leave(s, st);
  }
  size_t m = 0;
  for (uint32_t u = 1; u < c.n; u++)
    m += c.root_of[u] == u && c.pass[u] && f.children[u];
  cand *v = pd_malloc(&s->alloc, (m + 1) * sizeof *v);
  if (!v) {
    st = pd_mb_nomem(&c);
  } else {
    m = 0;
    for (uint32_t u = 1; u < c.n; u++)
      if (c.root_of[u] == u && c.pass[u] && f.children[u])
        v[m++] = (cand){u, f.children[u], f.desc[u], f.depth[u], f.revenue[u]};
    qsort(v, m, sizeof *v, cand_cmp);
    size_t w = m < k ? m : k;
    for (size_t j = 0; j < w; j++) {
      pd_referrer_row row = PD_REFERRER_ROW_INIT;
      row.user = v[j].user;
      row.referrals = v[j].referrals;
      row.descendants = v[j].desc;
      row.depth = v[j].depth;
      row.revenue = v[j].revenue;
      memcpy((char *)rows + j * stride, &row, sizeof row);
    }
    *n = w;
  }
  pd_free(&s->alloc, v);
  forest_free(&c, &f);
  pd_mb_ctx_free(&c);
  return pd_st_leave(s, st);
}
