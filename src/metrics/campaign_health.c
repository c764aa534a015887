/* Campaign health: what a campaign sold against the contacts it cost
 * (业绩 vs 服务), with a verdict. Definitions in campaign.h. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include <privdomain/campaign.h>
#include <privdomain/channels.h>

#include "par.h"
#include "population.h"

static const pd_campaign_options default_opts = PD_CAMPAIGN_OPTIONS_INIT;

static pd_status load_opts(pd_store *s, const pd_campaign_options *in,
                           pd_campaign_options *o) {
  pd_status st = pd_mx_check_size(s, in, sizeof *in, "pd_campaign_options");
  if (st) return st;
  *o = in ? *in : default_opts;
  if (o->attribution_window < 0 || o->observe_after < 0 ||
      o->attribution_window > PD_TIME_MAX || o->observe_after > PD_TIME_MAX)
    return pd_err(&s->err, PD_E_INVALID,
                  "attribution_window and observe_after must be between 0 "
                  "and PD_TIME_MAX seconds");
  if (o->count_staff != 0 && o->count_staff != 1)
    return pd_err(&s->err, PD_E_INVALID, "count_staff must be 0 or 1");
  if (!isfinite(o->unhealthy_ratio) || o->unhealthy_ratio < 0)
    return pd_err(&s->err, PD_E_INVALID,
                  "unhealthy_ratio must be finite and >= 0");
  if (!isfinite(o->unhealthy_min_rate) || o->unhealthy_min_rate < 0 ||
      o->unhealthy_min_rate > 1)
    return pd_err(&s->err, PD_E_INVALID,
                  "unhealthy_min_rate must be in [0, 1]");
  return PD_OK;
}

/* First and last campaign contact of each pool user, from one column cut
 * into blocks (par.h) that run in parallel. A block lowers first[] and
 * raises last[] atomically: minima and maxima do not depend on the order
 * of the updates, so every thread count gives the same arrays (and the
 * campaign's few contacts rarely meet on one user). */
typedef struct contact_job {
  const pd_mb_ctx *c;
  int kind;
  uint32_t campaign, from, to;
  _Atomic uint32_t *first, *last;
} contact_job;

static void contacts_block(void *p, size_t b) {
  const contact_job *j = p;
  const pd_store *s = j->c->s;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_EVENT_BLOCK, s->col[j->kind].n, &lo, &hi);
  for (uint32_t i = lo; i < hi; i++) {
    uint32_t t, u, camp;
    if (j->kind == PD_EV_TOUCH) {
      const pd_st_touch *e = &pd_st_touches(s)[i];
      t = e->time, u = e->user, camp = e->campaign;
    } else {
      const pd_st_link *e = &pd_st_links(s)[i];
      t = e->time, u = e->user, camp = e->campaign;
    }
    if (camp != j->campaign || t < j->from || t >= j->to ||
        t > j->c->f.as_of)
      continue;
    uint32_t r = j->c->in_root[u]; /* 0 if erased or filtered out */
    if (r == 0) continue;
    uint32_t seen = atomic_load_explicit(&j->first[r], memory_order_relaxed);
    while ((seen == PD_ST_NIL || t < seen) &&
           !atomic_compare_exchange_weak_explicit(
               &j->first[r], &seen, t, memory_order_relaxed,
               memory_order_relaxed)) {
    }
    seen = atomic_load_explicit(&j->last[r], memory_order_relaxed);
    while ((seen == PD_ST_NIL || t > seen) &&
           !atomic_compare_exchange_weak_explicit(
               &j->last[r], &seen, t, memory_order_relaxed,
               memory_order_relaxed)) {
    }
  }
}

static void contacts(pd_mb_ctx *c, int kind, uint32_t campaign, uint32_t from,
                     uint32_t to, _Atomic uint32_t *first,
                     _Atomic uint32_t *last) {
  contact_job j = {c, kind, campaign, from, to, first, last};
  pd_parallel_for(c->threads,
                  pd_mx_blocks(c->s->col[kind].n, PD_MX_EVENT_BLOCK),
                  contacts_block, &j);
}

/* The orders the campaign brought, from one column cut into blocks (par.h)
 * on the store's threads. Most orders belong to users the campaign never
 * reached: a bit per user id (in_pool, an eighth of a byte per user, so it
 * stays in cache) rules them out before the root and contact arrays, which
 * miss the cache at random, are read. Sums are integers, added per block
 * and then in block order; a buyer is counted by the block whose order
 * sets its flag first, so every thread count gives the same figure. */
typedef struct order_sums {
  uint64_t orders, buyers;
  int64_t revenue;
} order_sums;

typedef struct order_job {
  const pd_mb_ctx *c;
  const uint64_t *in_pool; /* bit u: user id u's root has a contact */
  const _Atomic uint32_t *first, *last;
  const int64_t *ref;
  uint64_t window; /* attribution window, seconds */
  _Atomic uint8_t *bought; /* [root] */
  order_sums *sums;        /* [block] */
} order_job;

static inline int pool_bit(const uint64_t *in_pool, uint32_t u) {
  return (int)(in_pool[u >> 6] >> (u & 63) & 1);
}

static void orders_block(void *p, size_t b) {
  const order_job *j = p;
  const pd_mb_ctx *c = j->c;
  const pd_st_order *ord = pd_st_orders(c->s);
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_EVENT_BLOCK, c->s->col[PD_EV_ORDER].n, &lo, &hi);
  order_sums sum = {0, 0, 0};
  for (uint32_t i = lo; i < hi; i++) {
    uint32_t t = ord[i].time, user = ord[i].user;
    if (t > c->f.as_of || !pool_bit(j->in_pool, user)) continue;
    uint32_t u = c->root_of[user];
    uint32_t first = atomic_load_explicit(&j->first[u], memory_order_relaxed);
    uint32_t last = atomic_load_explicit(&j->last[u], memory_order_relaxed);
    if (t < first || (uint64_t)t > (uint64_t)last + j->window) continue;
    sum.orders++;
    sum.revenue += pd_mb_net(c->s, j->ref, i);
    if (!atomic_exchange_explicit(&j->bought[u], 1, memory_order_relaxed))
      sum.buyers++;
  }
  j->sums[b] = sum;
}

/* in_pool[] (c->n bits, zeroed by the caller): each user id whose root
 * has a campaign contact. */
static void mark_pool(const pd_mb_ctx *c, const _Atomic uint32_t *first,
                      uint64_t *in_pool) {
  for (uint32_t u = 1; u < c->n; u++) {
    uint32_t r = c->root_of[u];
    if (r != 0 &&
        atomic_load_explicit(&first[r], memory_order_relaxed) != PD_ST_NIL)
      in_pool[u >> 6] |= (uint64_t)1 << (u & 63);
  }
}

static pd_status campaign_orders(pd_mb_ctx *c, const _Atomic uint32_t *first,
                                 const _Atomic uint32_t *last,
                                 const int64_t *ref, uint64_t window,
                                 pd_campaign_health *r) {
  const pd_allocator *a = &c->s->alloc;
  size_t blocks = pd_mx_blocks(c->s->col[PD_EV_ORDER].n, PD_MX_EVENT_BLOCK);
  order_job j = {c, NULL, first, last, ref, window, NULL, NULL};
  uint64_t *in_pool = pd_calloc(a, ((size_t)c->n + 63) / 64, sizeof *in_pool);
  j.bought = pd_calloc(a, c->n, sizeof *j.bought);
  j.sums = pd_malloc(a, (blocks ? blocks : 1) * sizeof *j.sums);
  pd_status st = PD_OK;
  if (!in_pool || !j.bought || !j.sums) {
    st = pd_mb_nomem(c);
  } else {
    mark_pool(c, first, in_pool);
    j.in_pool = in_pool;
    pd_parallel_for(c->threads, blocks, orders_block, &j);
    for (size_t b = 0; b < blocks; b++) {
      r->orders += j.sums[b].orders;
      r->buyers += j.sums[b].buyers;
      r->revenue += j.sums[b].revenue;
    }
  }
  pd_free(a, in_pool);
  pd_free(a, (void *)j.bought);
  pd_free(a, j.sums);
  return st;
}

/* Pool users ahead whose links and unlinks the spell pass starts
 * loading. */
enum { CAMPAIGN_PF = 16 };

/* Whether the spells show a link at a or during [a, b), and an unlink of a
 * counted initiator in [a, b). */
static void window_flags(const pd_mb_spells *sp, uint64_t a, uint64_t b,
                         int count_staff, int *linked, int *unlinked) {
  *linked = *unlinked = 0;
  if (b <= a) return;
  for (size_t i = 0; i < sp->n; i++) {
    const pd_mb_spell *p = &sp->v[i];
    uint64_t end = p->end == PD_ST_NIL ? UINT64_MAX : p->end;
    if ((p->start <= a && end > a) || (p->start >= a && p->start < b))
      *linked = 1;
    if (end >= a && end < b &&
        (count_staff || pd_mb_user_initiated(p->initiator)))
      *unlinked = 1;
  }
}

pd_status pd_campaign_health_compute(pd_store *s,
                                     const pd_metrics_filter *filter,
                                     uint32_t campaign, int64_t from,
                                     int64_t to,
                                     const pd_campaign_options *opts,
                                     pd_campaign_health *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL || out->size < sizeof *out)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "out is NULL or its size is too small (use "
                                 "PD_CAMPAIGN_HEALTH_INIT)"));
  if (campaign == 0)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "campaign is 0"));
  pd_campaign_options o;
  if ((st = pd_st_label_check(s, PD_LABEL_CAMPAIGN, campaign, "campaign")) ||
      (st = load_opts(s, opts, &o)) ||
      (st = pd_st_check_time(s, from, "from")) ||
      (st = pd_st_check_time(s, to, "to")))
    return pd_st_leave(s, st);
  if (to <= from)
    return pd_st_leave(
        s, pd_err(&s->err, PD_E_RANGE, "the window ends before it starts"));
  pd_mb_ctx c;
  if ((st = pd_mb_ctx_init(&c, s, filter)) != PD_OK) return pd_st_leave(s, st);
  const pd_allocator *a = &s->alloc;
  _Atomic uint32_t *first = pd_malloc(a, (size_t)c.n * sizeof *first);
  _Atomic uint32_t *last = pd_malloc(a, (size_t)c.n * sizeof *last);
  uint32_t *pool_root = NULL;
  int64_t *ref = NULL;
  pd_mb_csr links = {0}, unlinks = {0};
  pd_mb_spells sp = {0};
  pd_campaign_health r = PD_CAMPAIGN_HEALTH_INIT;
  if (!first || !last) st = pd_mb_nomem(&c);
  if (!st) {
    for (uint32_t u = 0; u < c.n; u++) {
      atomic_init(&first[u], PD_ST_NIL);
      atomic_init(&last[u], PD_ST_NIL);
    }
    contacts(&c, PD_EV_TOUCH, campaign, (uint32_t)from, (uint32_t)to, first,
             last);
    contacts(&c, PD_EV_LINK, campaign, (uint32_t)from, (uint32_t)to, first,
             last);
    st = pd_mb_refunds_at(&c, c.f.as_of, &ref);
  }
  if (!st)
    st = campaign_orders(&c, first, last, ref, (uint64_t)o.attribution_window,
                         &r);
  uint64_t ulen = (uint64_t)(to - from) + (uint64_t)o.observe_after;
  uint64_t u_end = (uint64_t)from + ulen;
  uint64_t cut = (uint64_t)c.f.as_of + 1;
  uint64_t b_start = (uint64_t)from > ulen ? (uint64_t)from - ulen : 0;
  /* Only the pool's links and unlinks are replayed: the groupings keep
   * theirs alone (a view of the users in which every other user is
   * filtered out), not those of every user of the store. */
  pd_mb_ctx pool = c;
  if (!st && !(pool_root = pd_malloc(a, (size_t)c.n * sizeof *pool_root)))
    st = pd_mb_nomem(&c);
  if (!st) {
    for (uint32_t u = 0; u < c.n; u++) {
      uint32_t r = c.in_root[u];
      pool_root[u] = r && first[r] != PD_ST_NIL ? r : 0;
    }
    pool.in_root = pool_root;
  }
  if (!st &&
      !(st = pd_mb_csr_build(&pool, PD_EV_LINK, c.f.as_of, NULL, &links)) &&
      !(st = pd_mb_csr_build(&pool, PD_EV_UNLINK, c.f.as_of, NULL,
                             &unlinks))) {
    for (uint32_t u = 1; u < c.n; u++) {
      if (u + CAMPAIGN_PF < c.n)
        pd_mb_spells_prefetch(&c, &links, &unlinks, u + CAMPAIGN_PF);
      if (c.root_of[u] != u || first[u] == PD_ST_NIL) continue;
      r.pool++;
      if ((st = pd_mb_spells_of(&c, &links, &unlinks, u, 0, &sp))) break;
      int linked, unlinked;
      window_flags(&sp, (uint64_t)from, u_end < cut ? u_end : cut,
                   o.count_staff, &linked, &unlinked);
      r.linked += (uint64_t)linked;
      r.unlinked += (uint64_t)unlinked;
      window_flags(&sp, b_start, (uint64_t)from < cut ? (uint64_t)from : cut,
                   o.count_staff, &linked, &unlinked);
      r.baseline_linked += (uint64_t)linked;
      r.baseline_unlinked += (uint64_t)unlinked;
    }
  }
  pd_mb_spells_free(&c, &sp);
  pd_mb_csr_free(&c, &links);
  pd_mb_csr_free(&c, &unlinks);
  pd_free(a, ref);
  pd_free(a, (void *)first);
  pd_free(a, (void *)last);
  pd_free(a, pool_root);
  pd_mb_ctx_free(&c);
  if (st) return pd_st_leave(s, st);
  r.size = out->size;
  r.rate = pd_mb_ratio((double)r.unlinked, (double)r.linked);
  r.baseline_rate =
      pd_mb_ratio((double)r.baseline_unlinked, (double)r.baseline_linked);
  r.ratio = r.baseline_rate > 0 ? r.rate / r.baseline_rate : -1.0;
  r.verdict = (r.unlinked > 0 && r.rate >= o.unhealthy_min_rate &&
               r.rate >= o.unhealthy_ratio * r.baseline_rate)
                  ? PD_CAMPAIGN_UNHEALTHY
                  : PD_CAMPAIGN_HEALTHY;
  r.unlink_window_end = (int64_t)u_end;
  r.baseline_start = (int64_t)b_start;
  memcpy(out, &r, sizeof r);
  return pd_st_leave(s, PD_OK);
}
