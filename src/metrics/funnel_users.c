#include "funnel_users.h"

#include <privdomain/breakdown.h>

#include "core/prefetch.h"

/* What the funnel knows of one canonical user. */
typedef struct fu_user {
  uint32_t link;        /* acquisition link index, NIL if never linked */
  uint32_t link_time;
  uint32_t first_order; /* first order time at or after the link, NIL */
  uint32_t orders;
  int64_t revenue;
  uint8_t referred;
} fu_user;

/* The row key of a linked user under a PD_BY_* grouping. */
static int64_t user_key(const pd_mb_ctx *c, int32_t by, uint32_t r,
                  const fu_user *p) {
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

/* Each passing user's acquisition link, orders (net revenue, first order
 * at or after the link) and whether they referred anyone, into
 * pu[0 .. c->n), by column scans: links, then orders, then referrals. */
static pd_status gather(pd_mb_ctx *c, fu_user *pu) {
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
    fu_user *p = &pu[r];
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
    fu_user *p = &pu[r];
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

static pd_status grow(pd_mb_ctx *c, pd_fu_counts **v, size_t *cap,
                      size_t n) {
  return pd_mb_grow_zeroed(c, (void **)v, cap, n, sizeof **v);
}

/* Users ahead whose acquisition link the pass starts loading. */
enum { USER_PF = 16 };

/* Every linked user into its group (pd_fu_count). */
static pd_status count_users(pd_mb_ctx *c, int32_t by,
                             int64_t conversion_window, const fu_user *pu,
                             pd_mb_groups *g, pd_fu_counts **v, size_t *cap,
                             pd_mb_tagged *days) {
  const pd_st_link *lk = pd_st_links(c->s);
  pd_status st = PD_OK;
  for (uint32_t r = 1; r < c->n && !st; r++) {
    /* The row key reads the user's acquisition link: a random read,
     * started some users ahead. */
    if (r + USER_PF < c->n && pu[r + USER_PF].link != PD_ST_NIL)
      PD_PREFETCH_READ(&lk[pu[r + USER_PF].link]);
    const fu_user *p = &pu[r];
    if (c->root_of[r] != r || !c->pass[r] || p->link == PD_ST_NIL) continue;
    uint32_t gi;
    if ((st = pd_mb_group(c, g, user_key(c, by, r, p), &gi)) ||
        (st = grow(c, v, cap, (size_t)gi + 1)))
      break;
    pd_fu_counts *x = &(*v)[gi];
    x->linked++;
    x->revenue += p->revenue;
    x->referrers += p->referred;
    uint32_t dt = p->first_order - p->link_time;
    if (p->first_order != PD_ST_NIL && (int64_t)dt <= conversion_window) {
      x->converted++;
      x->repeat += p->orders >= 2;
      x->days_seconds += dt;
      st = pd_mb_tagged_push(c, days, gi, (double)dt / PD_MB_DAY);
    }
  }
  return st;
}

/* The reach and cost records into their groups (pd_fu_count). */
static pd_status reach_and_cost(pd_mb_ctx *c, int32_t by, pd_mb_groups *g,
                                pd_fu_counts **v, size_t *cap,
                                int64_t *every_channel) {
  pd_store *s = c->s;
  pd_status st = PD_OK;
  if (c->f.guide || c->f.shop ||
      !(by == PD_BY_ALL || by == PD_BY_CHANNEL || by == PD_BY_SOURCE))
    return PD_OK;
  const pd_st_reach *rc = pd_st_reaches(s);
  for (uint32_t i = 0; i < s->col[PD_EV_REACH].n && !st; i++) {
    if (rc[i].period_start > c->f.as_of) continue; /* also erased ones */
    if ((c->f.channel && rc[i].channel != (uint32_t)c->f.channel) ||
        (c->f.source && rc[i].source != c->f.source))
      continue;
    int64_t key = by == PD_BY_CHANNEL  ? rc[i].channel
                  : by == PD_BY_SOURCE ? rc[i].source
                                       : 0;
    uint32_t gi;
    if ((st = pd_mb_group(c, g, key, &gi)) ||
        (st = grow(c, v, cap, (size_t)gi + 1)))
      break;
    (*v)[gi].reached += rc[i].reached;
  }
  const pd_st_cost *co = pd_st_costs(s);
  for (uint32_t i = 0; i < s->col[PD_EV_COST].n && !st; i++) {
    if (co[i].period_start > c->f.as_of) continue;
    if ((c->f.channel && co[i].channel != 0 &&
         co[i].channel != (uint32_t)c->f.channel) ||
        (c->f.source && co[i].source != c->f.source))
      continue;
    if (by == PD_BY_CHANNEL && co[i].channel == 0) {
      *every_channel += co[i].amount;
      continue;
    }
    int64_t key = by == PD_BY_CHANNEL  ? co[i].channel
                  : by == PD_BY_SOURCE ? co[i].source
                                       : 0;
    uint32_t gi;
    if ((st = pd_mb_group(c, g, key, &gi)) ||
        (st = grow(c, v, cap, (size_t)gi + 1)))
      break;
    (*v)[gi].cost += co[i].amount;
  }
  return st;
}

pd_status pd_fu_count(pd_mb_ctx *c, int32_t by, int64_t conversion_window,
                      pd_mb_groups *g, pd_fu_counts **v, size_t *cap,
                      pd_mb_tagged *days, int64_t *every_channel) {
  fu_user *pu = pd_calloc(&c->s->alloc, c->n, sizeof *pu);
  if (!pu) return pd_mb_nomem(c);
  pd_status st = gather(c, pu);
  if (!st) st = count_users(c, by, conversion_window, pu, g, v, cap, days);
  pd_free(&c->s->alloc, pu);
  if (!st) st = reach_and_cost(c, by, g, v, cap, every_channel);
  if (!st) st = grow(c, v, cap, g->n + 1);
  return st;
}

void pd_fu_row(pd_funnel_row *row, int64_t key, const pd_fu_counts *x,
               int64_t cost, double days_median, double days_mean,
               double model_clv) {
  row->key = key;
  row->reached = x->reached;
  row->linked = x->linked;
  row->converted = x->converted;
  row->repeat = x->repeat;
  row->referrers = x->referrers;
  row->link_rate = pd_mb_ratio((double)x->linked, (double)x->reached);
  row->conversion_rate = pd_mb_ratio((double)x->converted, (double)x->linked);
  row->repeat_rate = pd_mb_ratio((double)x->repeat, (double)x->converted);
  row->referral_rate = pd_mb_ratio((double)x->referrers, (double)x->linked);
  row->days_to_first_purchase_median = days_median;
  row->days_to_first_purchase_mean = days_mean;
  row->revenue = x->revenue;
  row->cost = cost;
  row->ltv = model_clv > 0
                 ? model_clv
                 : pd_mb_ratio((double)x->revenue, (double)x->linked);
  row->cac = pd_mb_ratio((double)cost, (double)x->linked);
  row->ltv_cac = row->cac > 0 ? row->ltv / row->cac : -1.0;
}
