#include "funnel_users.h"

#include <privdomain/breakdown.h>

#include "core/prefetch.h"

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

/* Events ahead whose user lookup (2 FU_PF) and per-user slot (FU_PF) the
 * column scans start loading: events come in time order, so both are
 * random reads, and at millions of users they miss every cache. */
enum { FU_PF = 16 };

/* Column scans: links, then orders, then referrals. */
pd_status pd_fu_gather(pd_mb_ctx *c, pd_fu_user *pu) {
  pd_store *s = c->s;
  uint32_t as_of = c->f.as_of;
  for (uint32_t u = 0; u < c->n; u++) {
    pu[u].link = PD_ST_NIL;
    pu[u].first_order = PD_ST_NIL;
  }
  const uint32_t *in_root = c->in_root; /* 0: erased or filtered out */
  const pd_st_link *lk = pd_st_links(s);
  const uint64_t *leid = s->col[PD_EV_LINK].eid;
  uint32_t nl = s->col[PD_EV_LINK].n;
  for (uint32_t i = 0; i < nl; i++) {
    if (i + 2 * FU_PF < nl)
      PD_PREFETCH_READ(&in_root[lk[i + 2 * FU_PF].user]);
    if (i + FU_PF < nl) PD_PREFETCH(&pu[in_root[lk[i + FU_PF].user]]);
    if (lk[i].time > as_of) continue;
    uint32_t r = in_root[lk[i].user];
    if (r == 0) continue;
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
  uint32_t no = s->col[PD_EV_ORDER].n;
  for (uint32_t i = 0; i < no; i++) {
    if (i + 2 * FU_PF < no)
      PD_PREFETCH_READ(&in_root[o[i + 2 * FU_PF].user]);
    if (i + FU_PF < no) PD_PREFETCH(&pu[in_root[o[i + FU_PF].user]]);
    if (o[i].time > as_of) continue;
    uint32_t r = in_root[o[i].user];
    if (r == 0) continue;
    pd_fu_user *p = &pu[r];
    p->orders++;
    p->revenue += pd_mb_net(s, ref, i);
    if (p->link != PD_ST_NIL && o[i].time >= p->link_time &&
        (p->first_order == PD_ST_NIL || o[i].time < p->first_order))
      p->first_order = o[i].time;
  }
  pd_free(&s->alloc, ref);
  const pd_st_referral *rf = pd_st_referrals(s);
  uint32_t nr = s->col[PD_EV_REFERRAL].n;
  for (uint32_t i = 0; i < nr; i++) {
    if (i + FU_PF < nr) {
      PD_PREFETCH_READ(&c->root_of[rf[i + FU_PF].referrer]);
      PD_PREFETCH_READ(&c->root_of[rf[i + FU_PF].referee]);
    }
    if (rf[i].time > as_of) continue;
    uint32_t r = c->root_of[rf[i].referrer];
    if (r == 0 || c->root_of[rf[i].referee] == 0) continue;
    pu[r].referred = 1;
  }
  return PD_OK;
}
