/* Referral and fission (转介绍, 裂变): the referral forest as of a time,
 * tree sizes and generations, the K-factor, revenue attributed to
 * referrers and the top referrers. Definitions in referral_metrics.h. */
#include <stdlib.h>
#include <string.h>

#include <privdomain/referral_metrics.h>

#include "core/prefetch.h"
#include "par.h"
#include "population.h"
#include "store/store_query.h"

/* The forest, over the users a referral names only (a few in ten of a
 * store's users): slot[u] numbers them 1.. in the order the referral
 * column first names them, and every other array is per slot. Per-user
 * arrays of a store of millions would each be tens of MB of fresh memory
 * touched at random on every call; the slots keep that to one. */
typedef struct forest {
  uint32_t *slot;     /* [n] slot of a canonical user, 0 = in no referral */
  uint32_t m;         /* slots in use + 1 (slot 0 = no one) */
  uint32_t *user;     /* canonical user of each slot */
  uint32_t *parent;   /* slot of the canonical referrer, 0 = none */
  uint32_t *ref_time; /* time of the referral naming the user as referee */
  uint32_t *children;
  uint32_t *depth;
  uint32_t *root;     /* slot of the root of the user's tree */
  uint64_t *desc;     /* users below */
  int64_t *revenue;   /* attributed to the user as referrer */
} forest;

static void forest_free(pd_mb_ctx *c, forest *f) {
  const pd_allocator *a = &c->s->alloc;
  pd_free(a, f->slot);
  pd_free(a, f->user);
  pd_free(a, f->parent);
  pd_free(a, f->ref_time);
  pd_free(a, f->children);
  pd_free(a, f->depth);
  pd_free(a, f->root);
  pd_free(a, f->desc);
  pd_free(a, f->revenue);
  memset(f, 0, sizeof *f);
}

/* Referrals ahead whose random reads the referral scan starts loading. */
enum { FOREST_PF = 8 };

/* The slot of canonical user u, given one if it has none. */
static uint32_t slot_of(forest *f, uint32_t u) {
  if (f->slot[u] == 0) {
    f->user[f->m] = u;
    f->slot[u] = f->m++;
  }
  return f->slot[u];
}

/* Revenue to referrers: each referee's orders from its referral to as_of,
 * read from the referee's own order chains (referees are a small share of
 * the users: far fewer orders than the column holds). Blocks of slots on the
 * store's threads write each slot's own sum; the sums then go to the
 * referrers on the calling thread (integer sums: the same for every
 * thread count and layout). */
typedef struct revenue_job {
  const pd_mb_ctx *c;
  const forest *f;
  const int64_t *ref;
  int64_t *own; /* [m]: the referee's revenue since its referral */
} revenue_job;

static void revenue_block(void *p, size_t b) {
  const revenue_job *j = p;
  const pd_store *s = j->c->s;
  const forest *f = j->f;
  const pd_st_order *o = pd_st_orders(s);
  uint32_t as_of = j->c->f.as_of, lo, hi;
  pd_mx_block_range(b, PD_MX_USER_BLOCK, f->m, &lo, &hi);
  for (uint32_t se = lo; se < hi; se++) {
    int64_t sum = 0;
    if (se != 0 && f->parent[se] != 0) {
      uint32_t since = f->ref_time[se];
      PD_ST_FOREACH_MEMBER(s, f->user[se], m)
      PD_ST_FOREACH_EVENT(s, m, PD_EV_ORDER, i) {
        /* the time check also skips erased orders */
        if (o[i].time <= as_of && o[i].time >= since)
          sum += pd_mb_net(s, j->ref, i);
      }
    }
    j->own[se] = sum;
  }
}

static pd_status revenue_by_referrer(pd_mb_ctx *c, forest *f,
                                     const int64_t *ref) {
  const pd_allocator *a = &c->s->alloc;
  int64_t *own = pd_malloc(a, (size_t)f->m * sizeof *own);
  if (!own) return pd_mb_nomem(c);
  revenue_job j = {c, f, ref, own};
  pd_parallel_for(c->threads, pd_mx_blocks(f->m, PD_MX_USER_BLOCK),
                  revenue_block, &j);
  for (uint32_t se = 1; se < f->m; se++)
    if (f->parent[se]) f->revenue[f->parent[se]] += own[se];
  pd_free(a, own);
  return PD_OK;
}

static pd_status forest_build(pd_mb_ctx *c, forest *f) {
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  const pd_st_referral *rf = pd_st_referrals(s);
  uint32_t nrf = s->col[PD_EV_REFERRAL].n;
  size_t cap = 2 * (size_t)nrf + 1; /* two users per referral, and slot 0 */
  memset(f, 0, sizeof *f);
  f->slot = pd_calloc(a, c->n, sizeof *f->slot);
  f->user = pd_calloc(a, cap, sizeof *f->user);
  f->parent = pd_calloc(a, cap, sizeof *f->parent);
  f->ref_time = pd_calloc(a, cap, sizeof *f->ref_time);
  f->children = pd_calloc(a, cap, sizeof *f->children);
  f->depth = pd_malloc(a, cap * sizeof *f->depth);
  f->root = pd_calloc(a, cap, sizeof *f->root);
  f->desc = pd_calloc(a, cap, sizeof *f->desc);
  f->revenue = pd_calloc(a, cap, sizeof *f->revenue);
  uint32_t *bydepth = NULL, *cnt = NULL;
  if (!f->slot || !f->user || !f->parent || !f->ref_time || !f->children ||
      !f->depth || !f->root || !f->desc || !f->revenue)
    goto nomem;
  f->m = 1;
  for (uint32_t i = 0; i < nrf; i++) {
    if (i + FOREST_PF < nrf) {
      PD_PREFETCH_READ(&c->root_of[rf[i + FOREST_PF].referrer]);
      PD_PREFETCH_READ(&c->root_of[rf[i + FOREST_PF].referee]);
    }
    if (rf[i].time > c->f.as_of) continue;
    uint32_t rr = c->root_of[rf[i].referrer], re = c->root_of[rf[i].referee];
    if (rr == 0 || re == 0) continue;
    uint32_t sr = slot_of(f, rr), se = slot_of(f, re);
    f->parent[se] = sr;
    f->ref_time[se] = rf[i].time;
    f->children[sr]++;
  }
  /* Depths by walking up to a known depth (the store forbids cycles). */
  uint32_t m = f->m;
  memset(f->depth, 0xff, (size_t)m * sizeof *f->depth);
  f->depth[0] = 0;
  uint32_t maxd = 0;
  for (uint32_t u = 1; u < m; u++) {
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
  /* Slots ordered by depth: roots first for tree roots, deepest first for
   * descendant counts (integer sums: any order within a depth will do). */
  cnt = pd_calloc(a, (size_t)maxd + 2, sizeof *cnt);
  bydepth = pd_malloc(a, (size_t)m * sizeof *bydepth);
  if (!cnt || !bydepth) goto nomem;
  for (uint32_t u = 1; u < m; u++) cnt[f->depth[u] + 1]++;
  for (uint32_t d = 0; d <= maxd; d++) cnt[d + 1] += cnt[d];
  for (uint32_t u = 1; u < m; u++) bydepth[cnt[f->depth[u]]++] = u;
  for (size_t k = 0; k + 1 < m; k++) {
    uint32_t u = bydepth[k];
    f->root[u] = f->parent[u] ? f->root[f->parent[u]] : u;
  }
  for (size_t k = m - 1; k > 0; k--) {
    uint32_t u = bydepth[k - 1];
    if (f->parent[u]) f->desc[f->parent[u]] += f->desc[u] + 1;
  }
  pd_free(a, cnt);
  pd_free(a, bydepth);
  /* Revenue of referees from their referral on, to their referrer. */
  int64_t *ref = NULL;
  pd_status st = pd_mb_refunds_at(c, c->f.as_of, &ref);
  if (st == PD_OK) st = revenue_by_referrer(c, f, ref);
  pd_free(a, ref);
  if (st) forest_free(c, f);
  return st;
nomem:
  pd_free(a, cnt);
  pd_free(a, bydepth);
  forest_free(c, f);
  return pd_mb_nomem(c);
}

/* The stats' pass over the users, in parallel blocks (par.h): each block
 * sums its users into its own part, and the parts are added up in block
 * order (integer sums and maxima: the same for every thread count). A
 * user's channels linked are counted in the worker's room; a block with a
 * user whose links do not fit it is counted again on the calling thread,
 * through the store's scratch. Tests build this file with a small room. */
#ifndef PD_MX_REFERRAL_ROOM
#define PD_MX_REFERRAL_ROOM 1024
#endif

typedef struct stats_part {
  pd_referral_stats r;
  uint64_t tree_users;
  int redo; /* a user's links did not fit the worker's room */
} stats_part;

typedef struct stats_job {
  pd_mb_ctx *c;
  const forest *f;
  int64_t from;
  uint64_t wend; /* the window's end, cut at as_of + 1 */
  uint32_t at;   /* when the base is counted */
  stats_part *part;
  uint32_t *room; /* [threads][PD_MX_REFERRAL_ROOM] */
} stats_job;

/* Adds users [lo, hi) to p, counting channels in room (NULL: through the
 * store's scratch, on the calling thread only). PD_OK (p->redo set when
 * the room was too small) or PD_E_NOMEM. */
static pd_status stats_users(const stats_job *j, uint32_t lo, uint32_t hi,
                             uint32_t *room, stats_part *p) {
  const pd_mb_ctx *c = j->c;
  const forest *f = j->f;
  pd_referral_stats *r = &p->r;
  for (uint32_t u = lo ? lo : 1; u < hi; u++) {
    if (c->root_of[u] != u) continue;
    uint32_t q = f->slot[u]; /* slot 0 has no parent, child or revenue */
    uint32_t par = f->user[f->parent[q]];
    if (par && c->pass[par]) {
      r->referrals++;
      if (f->ref_time[q] >= (uint64_t)j->from && f->ref_time[q] < j->wend)
        r->window_referrals++;
    }
    if (par && c->pass[f->user[f->root[q]]] && f->depth[q] > r->max_depth)
      r->max_depth = f->depth[q];
    if (!c->pass[u]) continue;
    if (f->children[q]) {
      r->referrers++;
      r->referee_revenue += f->revenue[q];
      if (!par) {
        r->trees++;
        p->tree_users += f->desc[q] + 1;
        if (f->desc[q] + 1 > r->largest_tree) r->largest_tree = f->desc[q] + 1;
      }
    }
    uint32_t linked = 0;
    if (room) {
      if (pd_st_channels_linked_into(c->s, u, j->at, room,
                                     PD_MX_REFERRAL_ROOM, &linked) != 0) {
        p->redo = 1;
        return PD_OK;
      }
    } else if (pd_st_channels_linked(c->s, u, j->at, &linked) != PD_OK) {
      return PD_E_NOMEM;
    }
    r->base += linked > 0;
  }
  return PD_OK;
}

static void stats_block(void *p, size_t b, int32_t worker) {
  const stats_job *j = p;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_USER_BLOCK, j->c->n, &lo, &hi);
  (void)stats_users(j, lo, hi,
                    j->room + (size_t)worker * PD_MX_REFERRAL_ROOM,
                    &j->part[b]);
}

/* The stats of every user into *r and *tree_users. PD_OK or PD_E_NOMEM
 * (message set). */
static pd_status stats_run(stats_job *j, pd_referral_stats *r,
                           uint64_t *tree_users) {
  pd_mb_ctx *c = j->c;
  const pd_allocator *a = pd_mb_alloc(c);
  size_t nb = pd_mx_blocks(c->n, PD_MX_USER_BLOCK);
  int32_t workers = pd_parallel_workers(c->threads, nb);
  j->part = pd_calloc(a, nb + 1, sizeof *j->part);
  j->room = pd_malloc(a, (size_t)workers * PD_MX_REFERRAL_ROOM *
                             sizeof *j->room);
  pd_status st = PD_OK;
  if (!j->part || !j->room) st = pd_mb_nomem(c);
  if (!st) pd_parallel_for_workers(workers, nb, stats_block, j);
  for (size_t b = 0; b < nb && !st; b++) {
    stats_part *p = &j->part[b];
    if (p->redo) {
      uint32_t lo, hi;
      pd_mx_block_range(b, PD_MX_USER_BLOCK, c->n, &lo, &hi);
      memset(p, 0, sizeof *p);
      if (stats_users(j, lo, hi, NULL, p) != PD_OK) {
        st = pd_mb_nomem(c);
        break;
      }
    }
    r->referrals += p->r.referrals;
    r->window_referrals += p->r.window_referrals;
    if (p->r.max_depth > r->max_depth) r->max_depth = p->r.max_depth;
    r->referrers += p->r.referrers;
    r->referee_revenue += p->r.referee_revenue;
    r->trees += p->r.trees;
    if (p->r.largest_tree > r->largest_tree)
      r->largest_tree = p->r.largest_tree;
    r->base += p->r.base;
    *tree_users += p->tree_users;
  }
  pd_free(a, j->part);
  pd_free(a, j->room);
  return st;
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
  stats_job j;
  memset(&j, 0, sizeof j);
  j.c = &c;
  j.f = &f;
  j.from = from;
  j.wend = (uint64_t)to;
  if (j.wend > (uint64_t)c.f.as_of + 1) j.wend = (uint64_t)c.f.as_of + 1;
  j.at = from < (int64_t)c.f.as_of ? (uint32_t)from : c.f.as_of;
  pd_referral_stats r = PD_REFERRAL_STATS_INIT;
  uint64_t tree_users = 0;
  st = stats_run(&j, &r, &tree_users);
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

/* A heap of candidates whose top is the last in cand_cmp's order. */
static void heap_up(cand *v, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (cand_cmp(&v[p], &v[i]) >= 0) break;
    cand t = v[p];
    v[p] = v[i];
    v[i] = t;
    i = p;
  }
}

static void heap_down(cand *v, size_t n) {
  for (size_t i = 0;;) {
    size_t l = 2 * i + 1, r = l + 1, big = i;
    if (l < n && cand_cmp(&v[l], &v[big]) > 0) big = l;
    if (r < n && cand_cmp(&v[r], &v[big]) > 0) big = r;
    if (big == i) return;
    cand t = v[big];
    v[big] = v[i];
    v[i] = t;
    i = big;
  }
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
  /* The k first referrers in cand_cmp's order, kept in a heap whose top
   * is the last of them (a full sort of a national chain's referrers
   * would be most of the work). The order is total (ties by user id), so
   * the list is the one a sort of every referrer gives. */
  size_t m = 0;
  for (uint32_t q = 1; q < f.m; q++)
    m += c.pass[f.user[q]] && f.children[q];
  size_t h = m < k ? m : k;
  cand *v = pd_malloc(&s->alloc, (h + 1) * sizeof *v);
  if (!v) {
    st = pd_mb_nomem(&c);
  } else {
    m = 0;
    for (uint32_t q = 1; q < f.m; q++) {
      if (!c.pass[f.user[q]] || !f.children[q]) continue;
      cand x = {f.user[q], f.children[q], f.desc[q], f.depth[q], f.revenue[q]};
      if (m < h) {
        v[m++] = x;
        heap_up(v, m - 1);
      } else if (h > 0 && cand_cmp(&x, &v[0]) < 0) {
        v[0] = x;
        heap_down(v, h);
      }
    }
    qsort(v, m, sizeof *v, cand_cmp);
    size_t w = m < k ? m : k;
    for (size_t j = 0; j < w; j++) {
      pd_referrer_row row; /* zeroed: its padding is copied out too */
      memset(&row, 0, sizeof row);
      row.size = sizeof row;
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
