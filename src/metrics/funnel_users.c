#include "funnel_users.h"

#include <privdomain/breakdown.h>

int64_t pd_fu_key(const pd_mb_ctx *c, int32_t by, uint32_t r,
                  const pd_fu_user *p) {
  const pd_store *s = c->s;
  const pd_st_link *l = &pd_st_links(s)[p->link];
  switch (by) {
    case PD_BY_ALL: return 0;
    case PD_BY_CHANNEL: return l->channel;
    case PD_BY_SOURCE: return l->source;
    case PD_BY_GUIDE: return pd_mx_home_guide(s, r, c->f.as_of, p->link);
    case PD_BY_SHOP:
      return pd_mx_home_shop(s, r, c->f.as_of,
                             pd_mx_home_guide(s, r, c->f.as_of, p->link));
    case PD_BY_COHORT_DAY: return pd_mb_cohort_start(PD_COHORT_DAY, l->time);
    case PD_BY_COHORT_WEEK:
      return pd_mb_cohort_start(PD_COHORT_WEEK, l->time);
    default: return pd_mb_cohort_start(PD_COHORT_MONTH, l->time);
  }
}

/* Column scans: links, then orders, then referrals. */
pd_status pd_fu_gather(pd_mb_ctx *c, pd_fu_user *pu) {
  pd_store *s = c->s;
  uint32_t as_of = c->f.as_of;
  for (uint32_t u = 0; u < c->n; u++) {
    pu[u].link = PD_ST_NIL;
    pu[u].first_order = PD_ST_NIL;
  }
  const pd_st_link *lk = pd_st_links(s);
  const uint64_t *leid = s->col[PD_EV_LINK].eid;
  for (uint32_t i = 0; i < s->col[PD_EV_LINK].n; i++) {
    if (lk[i].time > as_of) continue;
    uint32_t r = c->root_of[lk[i].user];
    if (r == 0 || !c->pass[r]) continue;
    pd_fu_user *p = &pu[r];
    if (p->link == PD_ST_NIL || lk[i].time < p->link_time ||
        (lk[i].time == p->link_time && leid[i] < leid[p->link])) {
      p->link = i;
      p->link_time = lk[i].time;
    }
  }
  int64_t *ref = NULL;
  pd_status st = pd_mb_refunds_at(c, as_of, &ref);
  if (st) return st;
  const pd_st_order *o = pd_st_orders(s);
  for (uint32_t i = 0; i < s->col[PD_EV_ORDER].n; i++) {
    if (o[i].time > as_of) continue;
    uint32_t r = c->root_of[o[i].user];
    if (r == 0 || !c->pass[r]) continue;
    pd_fu_user *p = &pu[r];
    p->orders++;
    p->revenue += pd_mb_net(s, ref, i);
    if (p->link != PD_ST_NIL && o[i].time >= p->link_time &&
        (p->first_order == PD_ST_NIL || o[i].time < p->first_order))
      p->first_order = o[i].time;
  }
  pd_free(&s->alloc, ref);
  const pd_st_referral *rf = pd_st_referrals(s);
  for (uint32_t i = 0; i < s->col[PD_EV_REFERRAL].n; i++) {
    if (rf[i].time > as_of) continue;
    uint32_t r = c->root_of[rf[i].referrer];
    if (r == 0 || c->root_of[rf[i].referee] == 0) continue;
    pu[r].referred = 1;
  }
  return PD_OK;
}
