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

#include "filter.h"
#include "par.h"
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

/* The preferred private channel root is linked on at t, or 0. */
static pd_status contact_channel(pd_store *s, uint32_t root, uint32_t t,
                                 const uint8_t *priv, int32_t *out) {
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
    pd_status st = pd_st_link_state_at(s, root, ch, t, &ls);
    if (st) return st;
    if (ls.linked) best = ch;
  }
  *out = best;
  return PD_OK;
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
  uint32_t lo = (uint32_t)(b * PD_MX_EVENT_BLOCK), hi = ne;
  if (hi - lo > PD_MX_EVENT_BLOCK) hi = lo + (uint32_t)PD_MX_EVENT_BLOCK;
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

typedef struct plan_ctx {
  pd_mx_buf items, purch, refunds, pushes;
  plan_ctx_counts caps;
  uint32_t *row_of; /* user id -> summary row + 1 */
  uint8_t *is_key;  /* by summary row */
  uint8_t *priv;
} plan_ctx;

static void ctx_free(pd_store *s, plan_ctx *c) {
  pd_mx_buf_free(s, &c->items);
  pd_mx_buf_free(s, &c->purch);
  pd_mx_buf_free(s, &c->refunds);
  pd_mx_buf_free(s, &c->pushes);
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
  pd_status st = pd_ss_rank((pd_store_summary *)h, &idx);
  if (st) return pd_err(&s->err, st, "%s", h->err.msg);
  for (size_t i = 0; i < h->n && i < o->key_customers; i++)
    c->is_key[idx[i]] = 1;
  pd_free(&((pd_store_summary *)h)->alloc, idx);
  return PD_OK;
}

static pd_status plan_user(pd_store *s, const pd_store_summary *h,
                           const pd_followup_options *o,
                           const pd_contact_policy *pol, uint32_t t,
                           uint32_t root, uint32_t guide, plan_ctx *c,
                           size_t *n_items) {
  pd_status st;
  int32_t channel = 0;
  if ((st = contact_channel(s, root, t, c->priv, &channel)) != PD_OK)
    return st;
  if (channel == 0) return PD_OK;
  if (!pd_st_consent_at(s, root, PD_CONSENT_MARKETING, t, NULL) ||
      !pd_st_consent_at(s, root, PD_CONSENT_PERSONALISED_MARKETING, t, NULL))
    return PD_OK;
  if (capped(&c->caps, root, pol)) return PD_OK;
  size_t np = 0;
  if ((st = pd_ss_purchases(s, root, t, &c->purch, &c->refunds, &np)) != PD_OK)
    return st;
  int64_t last = -1, first_day = 0, last_day = 0, days = 0, spend = 0;
  for (size_t i = 0; i < np; i++) {
    int64_t pt = pd_ss_purchase_time(&c->purch, i), d = pt / DAY_S;
    spend += pd_ss_purchase_net(&c->purch, i);
    if (days == 0) first_day = d;
    if (days == 0 || d != last_day) days++;
    last_day = d;
    last = pt;
  }
  double money_unit = 1;
  for (int k = 0; k < s->currency_exponent; k++) money_unit *= 10;
  uint32_t row = c->row_of ? c->row_of[root] : 0;
  int has_pred = row && h->has_pred;
  double value = (double)spend / money_unit, p_alive = 1;
  if (has_pred) {
    value = pd_ss_column(h, PD_VALUE_CLV)[row - 1];
    p_alive = pd_ss_column(h, PD_VALUE_P_ALIVE)[row - 1];
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
    int64_t lc = last_personal_contact(s, root, t);
    if (lc < 0 || (int64_t)t - lc >= o->key_care_interval)
      reason = PD_FOLLOWUP_KEY_CUSTOMER;
  }
  if (reason == 0) return PD_OK;
  if (pd_mx_buf_reserve(s, &c->items, *n_items + 1, sizeof(plan_item)) != 0)
    return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  plan_item *it = (plan_item *)c->items.p + (*n_items)++;
  it->guide = guide;
  it->user = root;
  it->reason = reason;
  it->channel = channel;
  it->value = value;
  it->p_alive = p_alive;
  double risk = 1 - p_alive;
  it->var = value * (risk > 0.05 ? risk : 0.05);
  it->last_purchase = last;
  return PD_OK;
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
  plan_ctx c;
  memset(&c, 0, sizeof c);
  if ((st = prepare_values(s, h, &o, &c)) != PD_OK) goto done;
  c.priv = private_channels(s);
  if (!c.priv) {
    st = pd_err(&s->err, PD_E_NOMEM, "out of memory");
    goto done;
  }
  c.caps.day = pd_calloc(&s->alloc, (size_t)s->n_users + 1,
                        sizeof *c.caps.day);
  c.caps.week = pd_calloc(&s->alloc, (size_t)s->n_users + 1,
                         sizeof *c.caps.week);
  if (!c.caps.day || !c.caps.week) {
    st = pd_err(&s->err, PD_E_NOMEM, "out of memory");
    goto done;
  }
  cap_job cj = {s, f.as_of, pol.count_post_exposures, c.caps.day,
                c.caps.week};
  pd_parallel_for(pd_mx_threads(s),
                  pd_mx_blocks(s->col[PD_EV_TOUCH].n, PD_MX_EVENT_BLOCK),
                  cap_block, &cj);
  size_t n = 0;
  for (uint32_t u = 1; u < s->n_users; u++) {
    if (!pd_mx_is_root(s, u) || !pd_mx_filter_match(s, &f, u)) continue;
    uint32_t fl = pd_mx_first_link(s, u, f.as_of);
    uint32_t g = pd_mx_home_guide(s, u, f.as_of, fl);
    if ((st = plan_user(s, h, &o, &pol, f.as_of, u, g, &c, &n)) != PD_OK)
      goto done;
  }
  plan_item *items = c.items.p;
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
done:
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
