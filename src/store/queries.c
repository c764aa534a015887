/* What is known of one user as of a time, and iteration over users. */
#include <string.h>

#include <privdomain/users.h>

#include "store_internal.h"
#include "store_query.h"

static int cmp_u32(const void *ctx, uint32_t a, uint32_t b) {
  (void)ctx;
  return (a > b) - (a < b);
}

static void seen(int64_t *first, uint32_t t, uint32_t as_of) {
  if (t <= as_of && (*first < 0 || t < *first)) *first = t;
}

/* Distinct users referred by the merge set of root at or before as_of. */
static pd_status referrals_made(pd_store *s, uint32_t root, uint32_t as_of,
                                uint32_t *out) {
  size_t n = 0;
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_REFERRAL, i) n++;
  uint32_t *v = pd_st_scratch(s, (2 * n + 1) * sizeof *v);
  if (!v) return pd_err(&s->err, PD_E_NOMEM, "out of memory");
  n = 0;
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_REFERRAL, i) {
    const pd_st_referral *r = &pd_st_referrals(s)[i];
    if (r->time <= as_of) v[n++] = pd_st_find(s, r->referee);
  }
  pd_st_sort_u32(v, n, v + n, cmp_u32, NULL);
  uint32_t d = 0;
  for (size_t k = 0; k < n; k++) d += k == 0 || v[k] != v[k - 1];
  *out = d;
  return PD_OK;
}

pd_status pd_user_get(pd_store *s, pd_user_id user, int64_t as_of,
                      pd_user_info *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if (out->size < sizeof *out)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID,
                                 "pd_user_info size %zu is smaller than %zu "
                                 "(use PD_USER_INFO_INIT)",
                                 out->size, sizeof *out));
  uint32_t u = 0;
  if ((st = pd_st_check_time(s, as_of, "as_of")) != PD_OK ||
      (st = pd_st_user_check(s, user, "user", &u)) != PD_OK)
    return pd_st_leave(s, st);
  uint32_t root = pd_st_find(s, u), t = (uint32_t)as_of;
  pd_user_info r = PD_USER_INFO_INIT;
  r.size = out->size;
  r.user = root;
  if ((st = pd_st_channels_linked(s, root, t, &r.channels_linked)) != PD_OK ||
      (st = referrals_made(s, root, t, &r.referrals_made)) != PD_OK)
    return pd_st_leave(s, st);
  /* Sums cannot overflow: every live order amount is part of
   * s->order_total, which fits in int64. */
  int64_t gross = 0, refunded = 0, first_ref_t = -1;
  uint64_t first_ref_e = 0;
  PD_ST_FOREACH_MEMBER(s, root, m) {
    for (uint32_t i = s->users[m].head[PD_ST_CHAIN_IDENTITY]; i != PD_ST_NIL;
         i = s->idents[i].next)
      r.identities++;
    PD_ST_FOREACH_EVENT(s, m, PD_EV_ORDER, i) {
      const pd_st_order *o = &pd_st_orders(s)[i];
      if (o->time > t) continue;
      r.orders++;
      gross += o->amount;
      if (r.first_purchase < 0 || o->time < r.first_purchase)
        r.first_purchase = o->time;
      if (o->time > r.last_purchase) r.last_purchase = o->time;
    }
    PD_ST_FOREACH_EVENT(s, m, PD_EV_REFUND, i) {
      const pd_st_refund *f = &pd_st_refunds(s)[i];
      if (f->time > t) continue;
      refunded += f->amount;
      seen(&r.first_seen, f->time, t);
    }
    PD_ST_FOREACH_EVENT(s, m, PD_EV_LINK, i)
    seen(&r.first_seen, pd_st_links(s)[i].time, t);
    PD_ST_FOREACH_EVENT(s, m, PD_EV_UNLINK, i)
    seen(&r.first_seen, pd_st_unlinks(s)[i].time, t);
    PD_ST_FOREACH_EVENT(s, m, PD_EV_TOUCH, i)
    seen(&r.first_seen, pd_st_touches(s)[i].time, t);
    PD_ST_FOREACH_EVENT(s, m, PD_EV_BIND, i)
    seen(&r.first_seen, pd_st_binds(s)[i].time, t);
    PD_ST_FOREACH_EVENT(s, m, PD_EV_REFERRAL, i)
    seen(&r.first_seen, pd_st_referrals(s)[i].time, t);
    uint32_t ri = s->users[m].referral_in;
    if (ri != PD_ST_NIL) {
      const pd_st_referral *f = &pd_st_referrals(s)[ri];
      uint64_t e = s->col[PD_EV_REFERRAL].eid[ri];
      seen(&r.first_seen, f->time, t);
      if (f->time <= t &&
          (first_ref_t < 0 || f->time < first_ref_t ||
           (f->time == first_ref_t && e < first_ref_e))) {
        first_ref_t = f->time;
        first_ref_e = e;
        r.referrer = pd_st_find(s, f->referrer);
      }
    }
  }
  if (r.first_purchase >= 0) seen(&r.first_seen, (uint32_t)r.first_purchase, t);
  r.revenue = gross - refunded;
  r.refunded = refunded;
  r.guide = pd_st_guide_at(s, root, t);
  memcpy(out, &r, sizeof r);
  return pd_st_leave(s, PD_OK);
}

pd_status pd_store_foreach_user(pd_store *s, pd_user_fn fn, void *user_data) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  if (fn == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "fn is NULL"));
  s->depth++;
  for (uint32_t u = 1; u < s->n_users; u++) {
    const pd_st_user *p = &s->users[u];
    if (p->parent != u || (p->flags & PD_ST_USER_ERASED)) continue;
    if (fn(user_data, u) != 0) break;
  }
  s->depth--;
  return pd_st_leave(s, PD_OK);
}
