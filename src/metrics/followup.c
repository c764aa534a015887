/* Follow-up plans (followup.h): each guide's list for the day, ranked by
 * value at risk, with a reason per user. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <privdomain/channels.h>
#include <privdomain/consent.h>
#include <privdomain/events.h>
#include <privdomain/followup.h>

#include "core/prefetch.h"
#include "filter.h"
#include "par.h"
#include "purchases.h"
#include "pushes.h"
#include "store/consent_query.h"
#include "store/store_query.h"
#include "store_summary_internal.h"

#define DAY_S INT64_C(86400)

typedef struct plan_item {
  uint32_t guide;
  uint32_t user;
  int32_t reason;
  int32_t channel;
  double value, p_alive, var;
  int64_t last_purchase;
} plan_item;

static int item_cmp(const void *a, const void *b) {
  const plan_item *x = a, *y = b;
  if (x->guide != y->guide) return x->guide < y->guide ? -1 : 1;
  if (x->var != y->var) return x->var > y->var ? -1 : 1;
  return (x->user > y->user) - (x->user < y->user);
}

static pd_status load_options(pd_store *s, const pd_followup_options *in,
                              pd_followup_options *o, pd_contact_policy *pol) {
  const pd_followup_options d = PD_FOLLOWUP_OPTIONS_INIT;
  *o = d;
  if (in != NULL) {
    pd_status st = pd_st_check_size(s, in, sizeof *in, "pd_followup_options");
    if (st) return st;
    memcpy(o, in, sizeof *o);
  }
  if (o->guide_capacity == 0)
    return pd_err(&s->err, PD_E_INVALID, "guide_capacity must be >= 1");
  if (o->usage_cycle < 0 || o->after_sales_delay < 0 ||
      o->key_care_interval < 0)
    return pd_err(&s->err, PD_E_RANGE, "durations must be >= 0 seconds");
  if (!(o->win_back_p_alive >= 0 && o->win_back_p_alive <= 1))
    return pd_err(&s->err, PD_E_RANGE, "win_back_p_alive must be in [0, 1]");
  return pd_mx_policy_load(s, o->policy, pol);
}

/* 1 for each channel id that is private. */
static uint8_t *private_channels(pd_store *s) {
  uint8_t *p = pd_calloc(&s->alloc, PD_ST_CHANNEL_ID_MAX + 1, 1);
  if (!p) return NULL;
  for (int32_t id = 1; id <= PD_ST_CHANNEL_ID_MAX; id++) {
    if (id > PD_CHANNEL_BUILTIN_LAST && id < PD_CHANNEL_CUSTOM_FIRST) continue;
    int32_t kind = 0;
    if (pd_channel_info(s, id, NULL, &kind) != PD_OK) {
      if (id >= PD_CHANNEL_CUSTOM_FIRST) break; /* custom ids are dense */
      continue;
    }
    p[id] = kind == PD_CHANNEL_PRIVATE;
  }
  return p;
}

static int channel_better(int32_t a, int32_t b) { /* a preferred to b? */
  if (b == 0) return 1;
  static const int32_t pref[2] = {PD_CHANNEL_WECOM, PD_CHANNEL_WECHAT};
  for (int k = 0; k < 2; k++) {
    if (a == pref[k]) return b != pref[k];
    if (b == pref[k]) return 0;
  }
  return a < b;
}

/* The preferred private channel root is linked on at t, or 0, into *out;
 * refs[0..cap) is room for the link-state replays. 0, or -1 when cap is
 * too small. Reads the store only. */
static int contact_channel(const pd_store *s, uint32_t root, uint32_t t,
                           const uint8_t *priv, uint32_t *refs, size_t cap,
                           int32_t *out) {
  int32_t best = 0;
  int32_t seen[16];
  size_t ns = 0;
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_LINK, i) {
    const pd_st_link *l = &pd_st_links(s)[i];
    int32_t ch = l->channel;
    if (l->time > t || !priv[ch] || !channel_better(ch, best)) continue;
    int dup = 0;
    for (size_t k = 0; k < ns; k++) dup |= seen[k] == ch;
    if (dup) continue;
    if (ns < 16) seen[ns++] = ch;
    pd_link_state ls = PD_LINK_STATE_INIT;
    if (pd_st_link_state_into(s, root, ch, t, refs, cap, &ls) != 0) return -1;
    if (ls.linked) best = ch;
  }
  *out = best;
  return 0;
}

/* Pushes in the cap windows, by canonical user (cap_block). */
typedef struct plan_ctx_counts {
  _Atomic uint32_t *day, *week;
} plan_ctx_counts;

/* Pushes of each canonical user in the day and in the week up to t (the
 * windows of the contact caps), from one pass over the touchpoint column
 * cut into blocks (par.h). Only pushes inside the week touch the counters,
 * a small share of the column; they are added atomically, and integer
 * counts do not depend on the order of the additions. */
typedef struct cap_job {
  const pd_store *s;
  uint32_t t;
  int posts;
  _Atomic uint32_t *day, *week; /* [n_users] by root */
} cap_job;

static void cap_block(void *p, size_t b) {
  const cap_job *j = p;
  const pd_st_touch *ts = pd_st_touches(j->s);
  uint32_t ne = j->s->col[PD_EV_TOUCH].n;
  uint32_t lo, hi;
  pd_mx_block_range(b, PD_MX_EVENT_BLOCK, ne, &lo, &hi);
  for (uint32_t i = lo; i < hi; i++) {
    const pd_st_touch *x = &ts[i];
    /* time > t also skips erased touchpoints */
    if (x->time > j->t || (uint64_t)x->time + PD_MX_WEEK <= j->t ||
        !pd_mx_is_push(x, j->posts))
      continue;
    uint32_t r = pd_mx_find_ro(j->s, x->user);
    atomic_fetch_add_explicit(&j->week[r], 1, memory_order_relaxed);
    if ((uint64_t)x->time + PD_MX_DAY > j->t)
      atomic_fetch_add_explicit(&j->day[r], 1, memory_order_relaxed);
  }
}

/* 1 if the promotional caps are already reached at t, from the counts of
 * cap_block. */
static int capped(const plan_ctx_counts *c, uint32_t root,
                  const pd_contact_policy *pol) {
  uint32_t day = atomic_load_explicit(&c->day[root], memory_order_relaxed);
  uint32_t week = atomic_load_explicit(&c->week[root], memory_order_relaxed);
  return (pol->per_day && day >= pol->per_day) ||
         (pol->per_week && week >= pol->per_week);
}

/* Time of the latest 1:1 or inbound message at or before t, or -1. */
static int64_t last_personal_contact(const pd_store *s, uint32_t root,
                                     uint32_t t) {
  int64_t last = -1;
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_TOUCH, i) {
    const pd_st_touch *x = &pd_st_touches(s)[i];
    if (x->time > t) continue;
    if ((x->kind == PD_TOUCH_OUTBOUND_1TO1 ||
         x->kind == PD_TOUCH_INBOUND_MESSAGE) &&
        (int64_t)x->time > last)
      last = x->time;
  }
  return last;
}

/* Room a worker gives one user: link refs, purchases, refunds. A user
 * needing more is planned on the calling thread with growing buffers. */
#define FU_ROOM 256
typedef struct fu_room {
  uint32_t refs[2 * FU_ROOM + 2];
  pd_mx_purchase purch[FU_ROOM];
  pd_mx_refund_ref refunds[FU_ROOM];
} fu_room;

/* What every user's plan reads. */
typedef struct plan_ctx {
  const pd_store *s;
  const pd_store_summary *h;
  const pd_followup_options *o;
  const pd_contact_policy *pol;
  const pd_mx_filter *f;
  uint32_t t;
  double money_unit;
  plan_ctx_counts caps;
  uint32_t *row_of; /* user id -> summary row + 1 */
  uint8_t *is_key;  /* by summary row */
  uint8_t *priv;
} plan_ctx;

static void ctx_free(pd_store *s, plan_ctx *c) {
  pd_free(&s->alloc, (void *)c->caps.day);
  pd_free(&s->alloc, (void *)c->caps.week);
  pd_free(&s->alloc, c->row_of);
  pd_free(&s->alloc, c->is_key);
  pd_free(&s->alloc, c->priv);
}

static pd_status prepare_values(pd_store *s, const pd_store_summary *h,
                                const pd_followup_options *o, plan_ctx *c) {
  if (h == NULL) return PD_OK;
  if (!pd_ss_valid(h))
    return pd_err(&s->err, PD_E_MISUSE, "values is not a live summary");
  c->row_of = pd_calloc(&s->alloc, s->n_users, sizeof *c->row_of);
  if (!c->row_of) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  for (size_t i = 0; i < h->n; i++)
    if (h->users[i] < s->n_users) c->row_of[h->users[i]] = (uint32_t)i + 1;
  if (!h->has_pred || o->key_customers == 0) return PD_OK;
  c->is_key = pd_calloc(&s->alloc, h->n ? h->n : 1, 1);
  if (!c->is_key) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  uint32_t *idx;
  pd_status st = pd_ss_rank((pd_store_summary *)h, o->key_customers, &idx);
  if (st) return pd_err(&s->err, st, "%s", h->err.msg);
  for (size_t i = 0; i < h->n && i < o->key_customers; i++)
    c->is_key[idx[i]] = 1;
  pd_free(&((pd_store_summary *)h)->alloc, idx);
  return PD_OK;
}

/* Whether root, reachable on `channel`, may get a plan at all: marketing
 * consent and caps not yet reached. */
static int reachable(const plan_ctx *c, uint32_t root) {
  return pd_st_consent_at(c->s, root, PD_CONSENT_MARKETING, c->t, NULL) &&
         pd_st_consent_at(c->s, root, PD_CONSENT_PERSONALISED_MARKETING, c->t,
                          NULL) &&
         !capped(&c->caps, root, c->pol);
}

/* The plan item of reachable root (channel != 0) from its purchases
 * p[0..np): 1 and *it, or 0 when root needs no follow-up. */
static int decide(const plan_ctx *c, uint32_t root, int32_t channel,
                  const pd_mx_purchase *p, size_t np, plan_item *it) {
  const pd_followup_options *o = c->o;
  uint32_t t = c->t;
  int64_t last = -1, first_day = 0, last_day = 0, days = 0, spend = 0;
  for (size_t i = 0; i < np; i++) {
    int64_t pt = p[i].time, d = pt / DAY_S;
    spend += p[i].net;
    if (days == 0) first_day = d;
    if (days == 0 || d != last_day) days++;
    last_day = d;
    last = pt;
  }
  uint32_t row = c->row_of ? c->row_of[root] : 0;
  int has_pred = row && c->h->has_pred;
  double value = (double)spend / c->money_unit, p_alive = 1;
  if (has_pred) {
    value = pd_ss_column(c->h, PD_VALUE_CLV)[row - 1];
    p_alive = pd_ss_column(c->h, PD_VALUE_P_ALIVE)[row - 1];
  }
  int32_t reason = 0;
  int64_t since = last >= 0 ? (int64_t)t - last : -1;
  double cycle = o->usage_cycle > 0 ? (double)o->usage_cycle
                 : days >= 2 ? (double)(last_day - first_day) * DAY_S /
                                   (double)(days - 1)
                             : 0;
  if (last >= 0 && since >= o->after_sales_delay &&
      since < o->after_sales_delay + DAY_S)
    reason = PD_FOLLOWUP_AFTER_SALES;
  else if (has_pred && p_alive < o->win_back_p_alive)
    reason = PD_FOLLOWUP_WIN_BACK;
  else if (last >= 0 && cycle > 0 && (double)since >= cycle &&
           (double)since < 3 * cycle)
    reason = PD_FOLLOWUP_REPURCHASE_DUE;
  else if (has_pred && c->is_key && c->is_key[row - 1]) {
    int64_t lc = last_personal_contact(c->s, root, t);
    if (lc < 0 || (int64_t)t - lc >= o->key_care_interval)
      reason = PD_FOLLOWUP_KEY_CUSTOMER;
  }
  if (reason == 0) return 0;
  it->guide = pd_mx_home_guide(c->s, root, t, pd_mx_first_link(c->s, root, t));
  it->user = root;
  it->reason = reason;
  it->channel = channel;
  it->value = value;
  it->p_alive = p_alive;
  double risk = 1 - p_alive;
  it->var = value * (risk > 0.05 ? risk : 0.05);
  it->last_purchase = last;
  return 1;
}

/* root's plan within a worker's room: 1 and *it, 0 for none, -1 when the
 * room is too small. Reads the store only. */
static int plan_in_room(const plan_ctx *c, uint32_t root, fu_room *r,
                        plan_item *it) {
  int32_t channel = 0;
  size_t np = 0;
  if (contact_channel(c->s, root, c->t, c->priv, r->refs,
                      sizeof r->refs / sizeof *r->refs, &channel) != 0)
    return -1;
  if (channel == 0 || !reachable(c, root)) return 0;
  if (pd_mx_purchases_into(c->s, root, c->t, r->purch, FU_ROOM, r->refunds,
                           FU_ROOM, &np) != 0)
    return -1;
  return decide(c, root, channel, r->purch, np, it);
}

/* The same on the calling thread, buffers growing as needed: 1, 0, or -1
 * out of memory (message set). */
static int plan_growing(pd_store *s, const plan_ctx *c, uint32_t root,
                        pd_mx_buf *refs, pd_mx_buf *purch, pd_mx_buf *refunds,
                        plan_item *it) {
  int32_t channel = 0;
  size_t np = 0;
  if (pd_mx_buf_reserve(s, refs, 64, sizeof(uint32_t)) != 0) goto nomem;
  while (contact_channel(s, root, c->t, c->priv, refs->p, refs->cap,
                         &channel) != 0)
    if (pd_mx_buf_reserve(s, refs, 2 * refs->cap, sizeof(uint32_t)) != 0)
      goto nomem;
  if (channel == 0 || !reachable(c, root)) return 0;
  if (pd_mx_purchases(s, root, c->t, purch, refunds, &np) != PD_OK) return -1;
  return decide(c, root, channel, purch->p, np, it);
nomem:
  pd_err(&s->err, PD_E_NOMEM, "out of memory");
  return -1;
}

/* Users are planned in two parallel passes over blocks of users (par.h):
 * the first marks who gets an item and counts them per block, the second
 * (on the few marked) writes each block's items at its place. Users whose
 * histories overflow a worker's room are planned afterwards on the calling
 * thread. Items are then sorted by a total order, so the plan is the same
 * for every thread count. */
enum { MARK_NONE, MARK_ITEM, MARK_LATER };

typedef struct plan_job {
  const plan_ctx *c;
  uint32_t nu;
  uint8_t *mark;     /* [nu] */
  size_t *count;     /* [blocks] items, then (second pass) first slot */
  size_t *later;     /* [blocks] users left for the calling thread */
  plan_item *items;
  fu_room *rooms;    /* [threads] */
} plan_job;

static void block_users(const plan_job *j, size_t ub, uint32_t *lo,
                        uint32_t *hi) {
  pd_mx_block_range(ub, PD_MX_USER_BLOCK, j->nu, lo, hi);
  if (*lo == 0) *lo = 1;
}

static void mark_block(void *p, size_t ub, int32_t worker) {
  const plan_job *j = p;
  const plan_ctx *c = j->c;
  uint32_t lo, hi;
  block_users(j, ub, &lo, &hi);
  size_t items = 0, later = 0;
  const pd_st_link *links = pd_st_links(c->s);
  /* A user's newest link and newest order are random reads: fetched a
   * few users ahead. */
  enum { AHEAD = 8 };
  for (uint32_t u = lo; u < hi; u++) {
    if (u + AHEAD < hi) {
      uint32_t l = c->s->users[u + AHEAD].head[PD_EV_LINK];
      if (l != PD_ST_NIL) { /* both lines of a record that straddles two */
        PD_PREFETCH(&links[l]);
        PD_PREFETCH((const char *)&links[l + 1] - 1);
      }
      pd_mx_purchases_prefetch(c->s, u + AHEAD);
    }
    j->mark[u] = MARK_NONE;
    if (!pd_mx_is_root(c->s, u) || !pd_mx_filter_match(c->s, c->f, u))
      continue;
    plan_item it;
    int r = plan_in_room(c, u, &j->rooms[worker], &it);
    if (r < 0) j->mark[u] = MARK_LATER, later++;
    else if (r > 0) j->mark[u] = MARK_ITEM, items++;
  }
  j->count[ub] = items;
  j->later[ub] = later;
}

static void item_block(void *p, size_t ub, int32_t worker) {
  const plan_job *j = p;
  uint32_t lo, hi;
  block_users(j, ub, &lo, &hi);
  plan_item *out = j->items + j->count[ub];
  for (uint32_t u = lo; u < hi; u++)
    if (j->mark[u] == MARK_ITEM)
      (void)plan_in_room(j->c, u, &j->rooms[worker], out++);
}

static pd_status plan(pd_store *s, const pd_store_summary *h,
                      const pd_metrics_filter *filter,
                      const pd_followup_options *opts, pd_followup_fn fn,
                      void *user) {
  pd_mx_filter f;
  pd_followup_options o;
  pd_contact_policy pol;
  pd_status st;
  if ((st = pd_mx_filter_load(s, filter, &f)) != PD_OK ||
      (st = load_options(s, opts, &o, &pol)) != PD_OK)
    return st;
  if (fn == NULL) return pd_err(&s->err, PD_E_INVALID, "fn is NULL");
  const pd_allocator *a = &s->alloc;
  int32_t threads = pd_mx_threads(s);
  plan_ctx c;
  memset(&c, 0, sizeof c);
  c.s = s;
  c.h = h;
  c.o = &o;
  c.pol = &pol;
  c.f = &f;
  c.t = f.as_of;
  c.money_unit = 1;
  for (int k = 0; k < s->currency_exponent; k++) c.money_unit *= 10;
  plan_job j;
  memset(&j, 0, sizeof j);
  j.c = &c;
  j.nu = s->n_users;
  size_t nub = pd_mx_blocks(j.nu, PD_MX_USER_BLOCK);
  pd_mx_buf refs = {NULL, 0}, purch = {NULL, 0}, refunds = {NULL, 0};
  if ((st = prepare_values(s, h, &o, &c)) != PD_OK) goto done;
  c.priv = private_channels(s);
  c.caps.day = pd_calloc(a, (size_t)j.nu + 1, sizeof *c.caps.day);
  c.caps.week = pd_calloc(a, (size_t)j.nu + 1, sizeof *c.caps.week);
  j.mark = pd_malloc(a, (size_t)j.nu + 1);
  j.count = pd_calloc(a, nub + 1, sizeof *j.count);
  j.later = pd_calloc(a, nub + 1, sizeof *j.later);
  j.rooms = pd_malloc(a, (size_t)threads * sizeof *j.rooms);
  if (!c.priv || !c.caps.day || !c.caps.week || !j.mark || !j.count ||
      !j.later || !j.rooms)
    goto nomem;
  cap_job cj = {s, f.as_of, pol.count_post_exposures, c.caps.day,
                c.caps.week};
  pd_parallel_for(threads,
                  pd_mx_blocks(s->col[PD_EV_TOUCH].n, PD_MX_EVENT_BLOCK),
                  cap_block, &cj);
  pd_parallel_for_workers(threads, nub, mark_block, &j);
  size_t n = 0, later = 0;
  for (size_t ub = 0; ub < nub; ub++) {
    size_t k = j.count[ub];
    j.count[ub] = n;
    n += k;
    later += j.later[ub];
  }
  j.items = pd_malloc(a, (n + later + 1) * sizeof *j.items);
  if (!j.items) goto nomem;
  pd_parallel_for_workers(threads, nub, item_block, &j);
  for (uint32_t u = 1; u < j.nu && later > 0; u++) {
    if (j.mark[u] != MARK_LATER) continue;
    int r = plan_growing(s, &c, u, &refs, &purch, &refunds, &j.items[n]);
    if (r < 0) {
      st = PD_E_NOMEM;
      goto done;
    }
    n += (size_t)r;
    later--;
  }
  plan_item *items = j.items;
  if (n > 1) qsort(items, n, sizeof *items, item_cmp);
  s->depth++;
  uint32_t rank = 0, cur = UINT32_MAX;
  for (size_t i = 0; i < n; i++) {
    if (items[i].guide != cur) {
      cur = items[i].guide;
      rank = 0;
    }
    if (rank >= o.guide_capacity) continue;
    pd_followup_item it;
    memset(&it, 0, sizeof it);
    it.size = sizeof it;
    it.guide = items[i].guide;
    it.rank = ++rank;
    it.user = items[i].user;
    it.reason = items[i].reason;
    it.channel = items[i].channel;
    it.value = items[i].value;
    it.p_alive = items[i].p_alive;
    it.value_at_risk = items[i].var;
    it.last_purchase = items[i].last_purchase;
    if (fn(user, &it)) break;
  }
  s->depth--;
  st = PD_OK;
  goto done;
nomem:
  st = pd_err(&s->err, PD_E_NOMEM, "out of memory");
done:
  pd_mx_buf_free(s, &refs);
  pd_mx_buf_free(s, &purch);
  pd_mx_buf_free(s, &refunds);
  pd_free(a, j.mark);
  pd_free(a, j.count);
  pd_free(a, j.later);
  pd_free(a, j.items);
  pd_free(a, j.rooms);
  ctx_free(s, &c);
  return st;
}

pd_status pd_followup_plan(pd_store *s, const pd_store_summary *values,
                           const pd_metrics_filter *filter,
                           const pd_followup_options *opts, pd_followup_fn fn,
                           void *user) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  return pd_st_leave(s, plan(s, values, filter, opts, fn, user));
}
