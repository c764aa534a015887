/* Shopping guides' (导购) figures: users bound, attributed revenue and
 * commission, service (replies to inbound messages), unlinks of their
 * users, and the handover (离职继承) history. Definitions in
 * guide_metrics.h. */
#include <string.h>

#include <privdomain/guide_metrics.h>

#include "core/prefault.h"
#include "core/prefetch.h"
#include "par.h"
#include "population.h"
#include "rows.h"
#include "store/store_query.h"

static const pd_guide_figures_options default_opts =
    PD_GUIDE_FIGURES_OPTIONS_INIT;

/* A change of a user's guide: from `time` on, the guide is `guide`. */
typedef struct change {
  uint32_t time, guide;
} change;

typedef struct guide_acc {
  uint64_t bound, orders, inbound, replied, unlinks, user_unlinks;
  int64_t revenue;
  uint32_t h_in, h_out;
} guide_acc;

/* What one worker of the users pass owns: its sums, added up afterwards
 * (integer counts: the same totals whichever worker ran which block), and
 * its working buffers, reserved beforehand for the largest user so that a
 * worker never allocates. */
typedef struct user_work {
  change *tl;
  size_t tl_n, tl_cap;
  pd_mb_spells sp;
  uint64_t *moved; /* users moved per handover index */
  guide_acc *acc;  /* per guide id (index 0 = no guide) */
  uint64_t *tk;    /* walked: one user's service touchpoints (keys) */
  size_t tk_cap;
} user_work;

/* Where one block of users (par.h) lists its replies: n of them, in the
 * pass's reply list from `at`, with room for one per inbound message of
 * the block. The lists are closed up in block order afterwards, so the
 * replies stay in user order, as one pass would list them. */
typedef struct block_replies {
  size_t at, n;
  /* walked: the block's own list (the room is not known beforehand) */
  uint32_t *tag;
  double *val;
  size_t tag_cap, val_cap;
  pd_status st; /* PD_E_NOMEM: a walked buffer could not grow */
} block_replies;

typedef struct pass_state {
  pd_mb_ctx c;
  pd_guide_figures_options o;
  pd_mb_csr binds, orders, touches, links, unlinks;
  uint64_t *moved; /* users moved per handover index */
  uint32_t *order_guide; /* attributed guide per order index, NIL = none */
  guide_acc *acc;  /* per guide id (index 0 = no guide) */
  pd_mb_tagged reply;
  int64_t *ref;
  pd_mb_touch_tags tags; /* the touchpoints service looks at */
  /* service from the users' touchpoint chains instead of `touches`
   * (walk_service_touches()) */
  int walk;
  /* the blocks of users of the per-user pass, and its workers */
  int full;
  size_t nblk;
  block_replies *br;
  int32_t nw;
  user_work *w;
} pass_state;

/* The user's guide timeline up to as_of, replayed as pd_st_guide_at()
 * does: binds and handovers in (time, event id) order; a bind sets the
 * guide, a handover moves the user when it names their current guide. */
static pd_status timeline(const pass_state *x, user_work *w, uint32_t r) {
  pd_store *s = x->c.s;
  w->tl_n = 0;
  size_t nb = x->binds.off[r + 1] - x->binds.off[r];
  if (nb == 0) return PD_OK;
  const uint64_t *bk = x->binds.key + x->binds.off[r];
  const pd_st_bind *b = pd_st_binds(s);
  const uint64_t *beid = s->col[PD_EV_BIND].eid;
  const pd_st_handover *h = pd_st_handovers(s);
  const uint64_t *heid = s->col[PD_EV_HANDOVER].eid;
  uint32_t g = 0, pos_t = 0;
  uint64_t pos_e = 0;
  for (size_t k = 0;;) {
    /* Next event: bind k or the next handover of the current guide (the
     * store's by-guide index: other guides' handovers cost nothing). */
    uint32_t hi = pd_st_next_handover_from(s, g, pos_t, pos_e, x->c.f.as_of);
    uint32_t bi = k < nb ? pd_mb_key_index(bk[k]) : PD_ST_NIL;
    if (bi == PD_ST_NIL && hi == PD_ST_NIL) break;
    int take_bind =
        hi == PD_ST_NIL ||
        (bi != PD_ST_NIL && (b[bi].time < h[hi].time ||
                             (b[bi].time == h[hi].time && beid[bi] < heid[hi])));
    uint32_t t;
    if (take_bind) {
      g = b[bi].guide;
      t = pos_t = b[bi].time;
      pos_e = beid[bi];
      k++;
    } else {
      g = h[hi].to;
      t = pos_t = h[hi].time;
      pos_e = heid[hi];
      w->moved[hi]++;
    }
    /* tl_cap was reserved for the block's users (never grows here). */
    if (w->tl_n >= w->tl_cap) return PD_E_NOMEM;
    w->tl[w->tl_n++] = (change){t, g};
  }
  return PD_OK;
}

/* The guide at time t from the timeline. */
static uint32_t guide_at(const user_work *w, uint32_t t) {
  uint32_t g = 0;
  for (size_t i = 0; i < w->tl_n && w->tl[i].time <= t; i++) g = w->tl[i].guide;
  return g;
}

/* Only inbound messages (tag 1) and 1:1 replies (tag 2) matter for
 * service; tagging them in the grouping keeps the other touches out. */
enum { TAG_INBOUND = 1, TAG_REPLY = 2 };

static void service_tags(pd_mb_touch_tags *t) {
  memset(t->of_kind, -1, sizeof t->of_kind);
  t->of_kind[PD_TOUCH_INBOUND_MESSAGE] = TAG_INBOUND;
  t->of_kind[PD_TOUCH_OUTBOUND_1TO1] = TAG_REPLY;
}

/* On a clustered store (pd_st_chains_run_down) a user's touchpoints lie
 * side by side, and taking each user's from their chains reads the
 * touchpoint column once, in order, with no grouping of the whole column
 * beforehand (for guides' figures its dearest part: a stage and keys of
 * a quarter of the touchpoints, most of it fresh memory). On a store in
 * arrival order every step of a chain would be a cache miss, and the
 * grouping stays. Both give the same keys in the same order.
 *
 * A worker cannot know beforehand how many touchpoints a user has, so the
 * walked buffers grow, with the caller's allocator: pd_allocator requires
 * it to be safe from any thread (the store's counting one is not). */
static int grow_here(const pass_state *x, void **p, size_t *cap, size_t n,
                     size_t size) {
  return pd_grow(&x->c.s->caller_alloc, p, cap, n, size);
}

/* User r's inbound messages and 1:1 replies at or before as_of from the
 * chains of every id of its merge set, keyed and ordered as the grouping
 * lists them, into w->tk; their number into *n. */
static pd_status walk_service_touches(const pass_state *x, user_work *w,
                                      uint32_t r, size_t *n) {
  const pd_store *s = x->c.s;
  const pd_st_touch *ts = pd_st_touches(s);
  size_t k = 0;
  PD_ST_FOREACH_MEMBER(s, r, m) {
    /* Down a run the next index is i - 1, which the link confirms: the
     * next read need not wait for this one, as it would if it followed
     * the link. */
    for (uint32_t i = s->users[m].head[PD_EV_TOUCH]; i != PD_ST_NIL;) {
      const pd_st_touch *e;
      for (;; i--) {
        e = &ts[i];
        int tag = x->tags.of_kind[e->kind];
        if (tag >= 0 && e->time <= x->c.f.as_of) {
          if (k == w->tk_cap && grow_here(x, (void **)&w->tk, &w->tk_cap,
                                          k + 1, sizeof *w->tk))
            return PD_E_NOMEM;
          w->tk[k++] = pd_mb_key(e->time, (uint32_t)tag, i);
        }
        if (e->next != i - 1 || i == 0) break;
      }
      i = e->next;
    }
  }
  /* Chains list the newest recorded first: reversed, a store recorded in
   * time order needs no sorting. */
  for (size_t a = 0, b = k; a + 1 < b; a++, b--) {
    uint64_t t = w->tk[a];
    w->tk[a] = w->tk[b - 1];
    w->tk[b - 1] = t;
  }
  pd_mb_sort_keys(s->col[PD_EV_TOUCH].eid, w->tk, k);
  *n = k;
  return PD_OK;
}

/* List a reply of guide g after `seconds` for the block. */
static pd_status reply_push(const pass_state *x, block_replies *br,
                            uint32_t g, double seconds) {
  if (x->walk) {
    if (grow_here(x, (void **)&br->tag, &br->tag_cap, br->n + 1,
                  sizeof *br->tag) ||
        grow_here(x, (void **)&br->val, &br->val_cap, br->n + 1,
                  sizeof *br->val))
      return PD_E_NOMEM;
    br->tag[br->n] = g;
    br->val[br->n++] = seconds;
  } else {
    /* the room holds a reply for every inbound message of the block */
    x->reply.tag[br->at + br->n] = g;
    x->reply.val[br->at + br->n++] = seconds;
  }
  return PD_OK;
}

/* Replies to the user's inbound messages v[0..n) (keys: inbound messages
 * and 1:1 replies in time order). */
static pd_status service(const pass_state *x, user_work *w,
                         block_replies *br, const uint64_t *v, size_t n) {
  pd_store *s = x->c.s;
  for (size_t k = 0; k < n; k++) {
    if (pd_mb_key_tag(v[k]) != TAG_INBOUND) continue;
    uint32_t t = pd_mb_key_time(v[k]);
    uint32_t g = guide_at(w, t);
    if (g == 0) continue;
    w->acc[g].inbound++;
    for (size_t q = k + 1; q < n; q++) {
      uint32_t rt = pd_mb_key_time(v[q]);
      if ((int64_t)(rt - t) > x->o.reply_window) break;
      if (pd_mb_key_tag(v[q]) != TAG_REPLY) continue;
      if (x->o.reply_same_guide &&
          pd_st_touches(s)[pd_mb_key_index(v[q])].guide != g)
        continue;
      w->acc[g].replied++;
      pd_status st = reply_push(x, br, g, (double)(rt - t));
      if (st) return st;
      break;
    }
  }
  return PD_OK;
}

static pd_status one_user(const pass_state *x, user_work *w,
                          block_replies *br, uint32_t r) {
  pd_status st = timeline(x, w, r);
  if (st) return st;
  w->acc[guide_at(w, x->c.f.as_of)].bound++;
  /* Orders are only noted with their guide here; their amounts are summed
   * in one sequential pass afterwards (orders_by_guide()). */
  if (x->o.attribution == PD_GUIDE_ATTR_BOUND)
    for (uint32_t k = x->orders.off[r]; k < x->orders.off[r + 1]; k++)
      x->order_guide[pd_mb_key_index(x->orders.key[k])] =
          guide_at(w, pd_mb_key_time(x->orders.key[k]));
  if (x->walk) {
    size_t n = 0;
    if ((st = walk_service_touches(x, w, r, &n)) ||
        (st = service(x, w, br, w->tk, n)))
      return st;
  } else if ((st = service(x, w, br, x->touches.key + x->touches.off[r],
                           x->touches.off[r + 1] - x->touches.off[r]))) {
    return st;
  }
  if (x->unlinks.off[r] == x->unlinks.off[r + 1]) return PD_OK;
  /* The spell buffers were reserved for the block: no allocation. */
  if ((st = pd_mb_spells_of((pd_mb_ctx *)&x->c, &x->links, &x->unlinks, r, 0,
                            &w->sp)))
    return st;
  for (size_t i = 0; i < w->sp.n; i++) {
    const pd_mb_spell *p = &w->sp.v[i];
    if (p->end == PD_ST_NIL) continue;
    uint32_t g = guide_at(w, p->end);
    w->acc[g].unlinks++;
    w->acc[g].user_unlinks += pd_mb_user_initiated(p->initiator);
  }
  return PD_OK;
}

/* The users of block b: [*lo, *hi). */
static void blk_range(const pass_state *x, size_t b, uint32_t *lo,
                      uint32_t *hi) {
  pd_mx_block_range(b, PD_MX_USER_BLOCK, x->c.n, lo, hi);
}

/* Users ahead whose records the pass starts loading (population.h). */
enum { GUIDE_PF = 8 };

/* Start loading what one_user() reads of root r at random: its binds'
 * records and ids, the slots of its orders, its links and unlinks. */
static void prefetch_user(const pass_state *x, uint32_t r) {
  const pd_store *s = x->c.s;
  pd_mb_csr_prefetch(s, &x->binds, PD_EV_BIND, r);
  if (!x->full) return;
  if (x->order_guide) {
    uint32_t a = x->orders.off[r], e = x->orders.off[r + 1];
    for (uint32_t k = a; k < e && k < a + PD_MB_PREFETCH_EVENTS; k++)
      PD_PREFETCH(&x->order_guide[pd_mb_key_index(x->orders.key[k])]);
  }
  if (x->unlinks.off[r] != x->unlinks.off[r + 1])
    pd_mb_spells_prefetch(&x->c, &x->links, &x->unlinks, r);
}

static void users_block(void *p, size_t b, int32_t worker) {
  pass_state *x = p;
  user_work *w = &x->w[worker];
  block_replies *br = &x->br[b];
  uint32_t lo, hi;
  blk_range(x, b, &lo, &hi);
  pd_status st = PD_OK;
  for (uint32_t r = lo ? lo : 1; r < hi && !st; r++) {
    if (r + GUIDE_PF < hi) prefetch_user(x, r + GUIDE_PF);
    if (x->c.root_of[r] != r || !x->c.pass[r]) continue;
    st = x->full ? one_user(x, w, br, r) : timeline(x, w, r);
  }
  br->st = st;
}

static size_t csr_len(const pd_mb_csr *m, uint32_t r) {
  return m->key ? m->off[r + 1] - m->off[r] : 0;
}

/* The workers' buffers, sized for the largest user; each block's room in
 * the reply list, one per inbound message; then the blocks in parallel,
 * the workers' sums added up and the blocks' replies closed up in block
 * order. */
static pd_status users_pass(pass_state *x) {
  pd_mb_ctx *c = &x->c;
  pd_store *s = c->s;
  const pd_allocator *a = &s->alloc;
  size_t ng = s->guide_codes.n, nh = s->col[PD_EV_HANDOVER].n;
  x->nblk = pd_mx_blocks(c->n, PD_MX_USER_BLOCK);
  x->nw = pd_parallel_workers(c->threads, x->nblk);
  x->br = pd_calloc(a, x->nblk + 1, sizeof *x->br);
  x->w = pd_calloc(a, (size_t)x->nw, sizeof *x->w);
  if (!x->br || !x->w) return pd_mb_nomem(c);
  size_t mb = 0, ms = 0;
  for (uint32_t r = 0; r < c->n; r++) {
    size_t nb = csr_len(&x->binds, r);
    size_t nsp = csr_len(&x->links, r) + csr_len(&x->unlinks, r);
    if (nb > mb) mb = nb;
    if (nsp > ms) ms = nsp;
  }
  if (!x->walk && x->touches.key) {
    /* The grouping tells each block's inbound messages: its room. */
    size_t replies = 0;
    for (size_t b = 0; b < x->nblk; b++) {
      uint32_t lo, hi;
      blk_range(x, b, &lo, &hi);
      x->br[b].at = replies;
      for (uint32_t k = x->touches.off[lo]; k < x->touches.off[hi]; k++)
        replies += pd_mb_key_tag(x->touches.key[k]) == TAG_INBOUND;
    }
    pd_status st = pd_mb_tagged_reserve(c, &x->reply, replies + 1);
    if (st) return st;
  }
  for (int32_t k = 0; k < x->nw; k++) {
    user_work *w = &x->w[k];
    w->moved = pd_calloc(a, nh + 1, sizeof *w->moved);
    w->acc = pd_calloc(a, ng + 1, sizeof *w->acc);
    if (!w->moved || !w->acc ||
        pd_grow(a, (void **)&w->tl, &w->tl_cap, mb + nh + 1,
                sizeof *w->tl) != 0 ||
        pd_grow(a, (void **)&w->sp.refs, &w->sp.refs_cap, 2 * ms + 1,
                sizeof *w->sp.refs) != 0 ||
        pd_grow(a, (void **)&w->sp.v, &w->sp.cap, ms + 1,
                sizeof *w->sp.v) != 0)
      return pd_mb_nomem(c);
  }
  pd_parallel_for_workers(c->threads, x->nblk, users_block, x);
  for (size_t b = 0; b < x->nblk; b++)
    if (x->br[b].st) return pd_mb_nomem(c);
  for (int32_t k = 0; k < x->nw; k++) {
    const user_work *w = &x->w[k];
    for (size_t g = 0; g <= ng; g++) {
      guide_acc *d = &x->acc[g];
      const guide_acc *e = &w->acc[g];
      d->bound += e->bound;
      d->inbound += e->inbound;
      d->replied += e->replied;
      d->unlinks += e->unlinks;
      d->user_unlinks += e->user_unlinks;
    }
    for (size_t h = 0; h < nh; h++) x->moved[h] += w->moved[h];
  }
  if (x->walk) {
    /* The blocks' own lists, one after another in block order. */
    size_t total = 0;
    for (size_t b = 0; b < x->nblk; b++) total += x->br[b].n;
    pd_status st = pd_mb_tagged_reserve(c, &x->reply, total + 1);
    if (st) return st;
    for (size_t b = 0; b < x->nblk; b++) {
      const block_replies *br = &x->br[b];
      if (br->n == 0) continue;
      memcpy(x->reply.tag + x->reply.n, br->tag, br->n * sizeof *br->tag);
      memcpy(x->reply.val + x->reply.n, br->val, br->n * sizeof *br->val);
      x->reply.n += br->n;
    }
    return PD_OK;
  }
  /* Close up: each block's replies move down to the end of the ones
   * before (never past their own start, so in block order nothing is
   * overwritten before it is moved). */
  for (size_t b = 0; b < x->nblk; b++) {
    const block_replies *br = &x->br[b];
    if (br->n == 0) continue;
    memmove(x->reply.tag + x->reply.n, x->reply.tag + br->at,
            br->n * sizeof *x->reply.tag);
    memmove(x->reply.val + x->reply.n, x->reply.val + br->at,
            br->n * sizeof *x->reply.val);
    x->reply.n += br->n;
  }
  return PD_OK;
}

static void work_free(pass_state *x) {
  const pd_allocator *a = &x->c.s->alloc;
  if (x->w)
    for (int32_t k = 0; k < x->nw; k++) {
      user_work *w = &x->w[k];
      pd_free(a, w->tl);
      pd_free(a, w->moved);
      pd_free(a, w->acc);
      pd_mb_spells_free(&x->c, &w->sp);
      pd_free(&x->c.s->caller_alloc, w->tk);
    }
  if (x->br)
    for (size_t b = 0; b < x->nblk; b++) {
      pd_free(&x->c.s->caller_alloc, x->br[b].tag);
      pd_free(&x->c.s->caller_alloc, x->br[b].val);
    }
  pd_free(a, x->w);
  pd_free(a, x->br);
  x->w = NULL;
  x->br = NULL;
}

/* Add each order of a user passing the filter (at or before as_of) to its
 * guide: the guide on the order, or the one noted by one_user(). Blocks
 * of orders (par.h) count into their own per-guide sums, added up in
 * block order: integer sums, the same for every thread count. */
typedef struct order_sums {
  uint64_t orders;
  int64_t revenue;
} order_sums;

typedef struct orders_job {
  const pass_state *x;
  size_t ng;
  order_sums *sums; /* [block][ng + 1] */
} orders_job;

#define ORDERS_BLOCK ((size_t)1 << 21)

static void orders_block(void *p, size_t b) {
  const orders_job *j = p;
  const pass_state *x = j->x;
  const pd_store *s = x->c.s;
  const pd_st_order *o = pd_st_orders(s);
  order_sums *sum = j->sums + b * (j->ng + 1);
  uint32_t lo, hi;
  pd_mx_block_range(b, ORDERS_BLOCK, s->col[PD_EV_ORDER].n, &lo, &hi);
  for (uint32_t i = lo; i < hi; i++) {
    /* orders come in time order: the buyer lookup is a random read */
    if (i + GUIDE_PF * 2 < hi)
      PD_PREFETCH_READ(&x->c.in_root[o[i + GUIDE_PF * 2].user]);
    if (o[i].time > x->c.f.as_of || !x->c.in_root[o[i].user]) continue;
    uint32_t g = x->o.attribution == PD_GUIDE_ATTR_ORDER ? o[i].guide
                                                         : x->order_guide[i];
    if (g == PD_ST_NIL) continue;
    sum[g].orders++;
    sum[g].revenue += pd_mb_net(s, x->ref, i);
  }
}

static pd_status orders_by_guide(pass_state *x) {
  pd_store *s = x->c.s;
  orders_job j = {x, s->guide_codes.n, NULL};
  size_t nb = pd_mx_blocks(s->col[PD_EV_ORDER].n, ORDERS_BLOCK);
  j.sums = pd_calloc(&s->alloc, nb * (j.ng + 1) + 1, sizeof *j.sums);
  if (!j.sums) return pd_mb_nomem(&x->c);
  pd_parallel_for(x->c.threads, nb, orders_block, &j);
  for (size_t b = 0; b < nb; b++)
    for (size_t g = 0; g <= j.ng; g++) {
      x->acc[g].orders += j.sums[b * (j.ng + 1) + g].orders;
      x->acc[g].revenue += j.sums[b * (j.ng + 1) + g].revenue;
    }
  pd_free(&s->alloc, j.sums);
  return PD_OK;
}

static void pass_free(pass_state *x) {
  const pd_allocator *a = &x->c.s->alloc;
  pd_mb_csr_free(&x->c, &x->binds);
  pd_mb_csr_free(&x->c, &x->orders);
  pd_mb_csr_free(&x->c, &x->touches);
  pd_mb_csr_free(&x->c, &x->links);
  pd_mb_csr_free(&x->c, &x->unlinks);
  work_free(x);
  pd_mb_tagged_free(&x->c, &x->reply);
  pd_free(a, x->moved);
  pd_free(a, x->order_guide);
  pd_free(a, x->acc);
  pd_free(a, x->ref);
  pd_mb_ctx_free(&x->c);
}

/* One pass over the users; `full` = the figures too, not just the
 * handovers' users moved. On error everything is released. */
static pd_status run(pass_state *x, pd_store *s,
                     const pd_metrics_filter *filter, int full) {
  pd_status st = pd_mb_ctx_init(&x->c, s, filter);
  if (st) return st;
  pd_mb_ctx *c = &x->c;
  uint32_t as_of = c->f.as_of;
  size_t ng = s->guide_codes.n;
  service_tags(&x->tags);
  x->walk = full && pd_st_chains_run_down(s, PD_EV_TOUCH);
  x->moved = pd_calloc(&s->alloc, (size_t)s->col[PD_EV_HANDOVER].n + 1,
                       sizeof *x->moved);
  x->acc = pd_calloc(&s->alloc, ng + 1, sizeof *x->acc);
  if (!x->moved || !x->acc) st = pd_mb_nomem(c);
  if (!st) st = pd_mb_csr_build(c, PD_EV_BIND, as_of, NULL, &x->binds);
  if (full && !st) {
    if (!(st = pd_mb_csr_build(c, PD_EV_ORDER, as_of, NULL, &x->orders)) &&
        (x->walk || !(st = pd_mb_csr_build(c, PD_EV_TOUCH, as_of, &x->tags,
                                               &x->touches))) &&
        !(st = pd_mb_csr_build(c, PD_EV_LINK, as_of, NULL, &x->links)) &&
        !(st = pd_mb_csr_build(c, PD_EV_UNLINK, as_of, NULL, &x->unlinks)))
      st = pd_mb_refunds_at(c, as_of, &x->ref);
    if (!st && x->o.attribution == PD_GUIDE_ATTR_BOUND) {
      size_t no = (size_t)s->col[PD_EV_ORDER].n + 1;
      if (!(x->order_guide = pd_malloc(&s->alloc, no * sizeof *x->order_guide)))
        st = pd_mb_nomem(c);
      else /* PD_ST_NIL everywhere, its fresh pages faulted on c's threads */
        pd_memset_parallel(x->order_guide, 0xff, no * sizeof *x->order_guide,
                           c->threads);
    }
  }
  x->full = full;
  if (!st) st = users_pass(x);
  if (!st) work_free(x);
  if (full && !st) st = orders_by_guide(x);
  if (st) pass_free(x);
  return st;
}

pd_status pd_guide_figures_compute(pd_store *s,
                                   const pd_metrics_filter *filter,
                                   const pd_guide_figures_options *opts,
                                   pd_rows **out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if ((st = pd_mx_check_size(s, opts, sizeof *opts,
                             "pd_guide_figures_options")))
    return pd_st_leave(s, st);
  pass_state x;
  memset(&x, 0, sizeof x);
  x.o = opts ? *opts : default_opts;
  if (x.o.service_radius == 0 ||
      (x.o.attribution != PD_GUIDE_ATTR_BOUND &&
       x.o.attribution != PD_GUIDE_ATTR_ORDER) ||
      x.o.default_commission_bp < 0 || x.o.default_commission_bp > 10000 ||
      (x.o.reply_same_guide != 0 && x.o.reply_same_guide != 1) ||
      x.o.reply_window <= 0 || x.o.reply_window > PD_TIME_MAX)
    return pd_st_leave(
        s, pd_err(&s->err, PD_E_INVALID,
                  "bad guide figures options: service_radius must be > 0, "
                  "attribution a PD_GUIDE_ATTR_*, default_commission_bp "
                  "0-10000, reply_same_guide 0 or 1, reply_window > 0"));
  if ((st = run(&x, s, filter, 1))) return pd_st_leave(s, st);
  size_t ng = s->guide_codes.n;
  uint32_t only = x.c.f.guide;
  double *med = pd_calloc(&s->alloc, ng + 1, sizeof *med);
  double *mean = pd_calloc(&s->alloc, ng + 1, sizeof *mean);
  pd_rows *rows = NULL;
  if (!med || !mean)
    st = pd_mb_nomem(&x.c);
  else
    st = pd_mb_tagged_stats(&x.c, &x.reply, ng + 1, med, mean);
  if (!st) {
    const pd_st_handover *h = pd_st_handovers(s);
    for (uint32_t i = 0; i < s->col[PD_EV_HANDOVER].n; i++) {
      if (h[i].time > x.c.f.as_of) continue;
      x.acc[h[i].from].h_out++;
      x.acc[h[i].to].h_in++;
    }
    rows = pd_mb_rows_new(&s->caller_alloc, PD_MB_ROWS_GUIDE,
                          sizeof(pd_guide_figures_row), only ? 1 : ng);
    if (!rows) st = pd_mb_nomem(&x.c);
  }
  for (size_t q = 0; !st && q < (only ? 1u : ng); q++) {
    uint32_t g = only ? only : (uint32_t)q + 1;
    const guide_acc *a = &x.acc[g];
    pd_guide_figures_row *row = pd_mb_row(rows, q);
    uint32_t deact = s->guide_deactivation[g - 1];
    row->guide = g;
    row->shop = s->guide_shop[g - 1];
    row->active = !(deact != PD_ST_NIL &&
                    pd_st_deactivations(s)[deact].time <= x.c.f.as_of);
    row->users_bound = a->bound;
    row->over_radius = a->bound > x.o.service_radius;
    row->orders = a->orders;
    row->revenue = a->revenue;
    int32_t bp = g - 1 < s->guide_commission_cap ? s->guide_commission[g - 1]
                                                  : -1;
    row->commission_bp = bp >= 0 ? bp : x.o.default_commission_bp;
    /* revenue * bp / 10000 without overflow: split the revenue. */
    row->commission = (a->revenue / 10000) * row->commission_bp +
                      (a->revenue % 10000) * row->commission_bp / 10000;
    row->inbound = a->inbound;
    row->replied = a->replied;
    row->reply_rate = pd_mb_ratio((double)a->replied, (double)a->inbound);
    row->reply_median_seconds = med[g];
    row->unlinks = a->unlinks;
    row->user_unlinks = a->user_unlinks;
    row->handovers_in = a->h_in;
    row->handovers_out = a->h_out;
  }
  pd_free(&s->alloc, med);
  pd_free(&s->alloc, mean);
  pass_free(&x);
  if (!st) *out = rows;
  return pd_st_leave(s, st);
}

pd_status pd_guide_figures_row_get(const pd_rows *rows, size_t i,
                                   pd_guide_figures_row *out) {
  return pd_mb_rows_get(rows, PD_MB_ROWS_GUIDE, i, out);
}

pd_status pd_guide_handover_history(pd_store *s,
                                    const pd_metrics_filter *filter,
                                    pd_rows **out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  pass_state x;
  memset(&x, 0, sizeof x);
  x.o = default_opts;
  if ((st = run(&x, s, filter, 0))) return pd_st_leave(s, st);
  const pd_st_handover *h = pd_st_handovers(s);
  uint32_t nh = s->col[PD_EV_HANDOVER].n, only = x.c.f.guide;
  size_t m = 0;
  for (uint32_t j = 0; j < nh; j++) {
    const pd_st_handover *e = &h[s->handover_sorted[j]];
    m += e->time <= x.c.f.as_of && (!only || e->from == only || e->to == only);
  }
  pd_rows *rows = pd_mb_rows_new(&s->caller_alloc, PD_MB_ROWS_HANDOVER,
                                 sizeof(pd_handover_row), m);
  if (!rows) st = pd_mb_nomem(&x.c);
  for (uint32_t j = 0, q = 0; rows && j < nh; j++) {
    uint32_t hi = s->handover_sorted[j];
    const pd_st_handover *e = &h[hi];
    if (e->time > x.c.f.as_of || (only && e->from != only && e->to != only))
      continue;
    pd_handover_row *row = pd_mb_row(rows, q++);
    row->time = e->time;
    row->from_guide = e->from;
    row->to_guide = e->to;
    row->users_moved = x.moved[hi];
  }
  pass_free(&x);
  if (!st) *out = rows;
  return pd_st_leave(s, st);
}

pd_status pd_handover_row_get(const pd_rows *rows, size_t i,
                              pd_handover_row *out) {
  return pd_mb_rows_get(rows, PD_MB_ROWS_HANDOVER, i, out);
}
