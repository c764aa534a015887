/* Which users a figure covers (metrics.h): the acquisition link, home guide
 * and home shop of a user, and the filter check. */
#include <string.h>

#include <privdomain/channels.h>
#include <privdomain/metrics.h>

#include "filter.h"
#include "store/store_query.h"

pd_status pd_mx_check_size(pd_store *s, const void *rec, size_t known,
                           const char *what) {
  if (rec == NULL) return PD_OK;
  return pd_st_check_size(s, rec, known, what);
}

pd_status pd_mx_filter_load(pd_store *s, const pd_metrics_filter *in,
                            pd_mx_filter *out) {
  if (in == NULL) return pd_err(&s->err, PD_E_INVALID, "filter is NULL");
  pd_status st = pd_st_check_size(s, in, sizeof *in, "pd_metrics_filter");
  if (st) return st;
  if ((st = pd_st_check_time(s, in->as_of, "filter as_of")) != PD_OK ||
      (st = pd_st_channel_check(s, in->channel, 1, "filter")) != PD_OK ||
      (st = pd_st_label_check(s, PD_LABEL_SOURCE, in->source,
                              "filter source")) != PD_OK ||
      (st = pd_st_label_check(s, PD_LABEL_SHOP, in->shop, "filter shop")) !=
          PD_OK ||
      (st = pd_st_guide_check(s, in->guide, 1, "filter")) != PD_OK)
    return st;
  out->channel = in->channel;
  out->source = in->source;
  out->guide = in->guide;
  out->shop = in->shop;
  out->as_of = (uint32_t)in->as_of;
  return PD_OK;
}

uint32_t pd_mx_first_link(const pd_store *s, uint32_t root, uint32_t t) {
  const pd_st_link *ls = pd_st_links(s);
  const uint64_t *eid = s->col[PD_EV_LINK].eid;
  uint32_t best = PD_ST_NIL;
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_LINK, i) {
    if (ls[i].time > t) continue; /* also skips erased links */
    if (best == PD_ST_NIL || ls[i].time < ls[best].time ||
        (ls[i].time == ls[best].time && eid[i] < eid[best]))
      best = i;
  }
  return best;
}

uint32_t pd_mx_home_guide(const pd_store *s, uint32_t root, uint32_t t,
                          uint32_t first_link) {
  int bound = 0;
  PD_ST_FOREACH_MEMBER(s, root, m) {
    if (s->users[m].head[PD_EV_BIND] != PD_ST_NIL) bound = 1;
  }
  if (bound) {
    uint32_t g = pd_st_guide_at(s, root, t);
    if (g != 0) return g;
  }
  return first_link == PD_ST_NIL ? 0 : pd_st_links(s)[first_link].guide;
}

uint32_t pd_mx_home_shop(const pd_store *s, uint32_t root, uint32_t t,
                         uint32_t home_guide) {
  if (home_guide != 0 && s->guide_shop[home_guide - 1] != 0)
    return s->guide_shop[home_guide - 1];
  const pd_st_order *os = pd_st_orders(s);
  const uint64_t *eid = s->col[PD_EV_ORDER].eid;
  uint32_t best = PD_ST_NIL;
  PD_ST_FOREACH_MEMBER(s, root, m)
  PD_ST_FOREACH_EVENT(s, m, PD_EV_ORDER, i) {
    if (os[i].time > t || os[i].shop == 0) continue;
    if (best == PD_ST_NIL || os[i].time < os[best].time ||
        (os[i].time == os[best].time && eid[i] < eid[best]))
      best = i;
  }
  return best == PD_ST_NIL ? 0 : os[best].shop;
}

int pd_mx_filter_match(const pd_store *s, const pd_mx_filter *f,
                       uint32_t root) {
  if (s->users[root].flags & PD_ST_USER_ERASED) return 0;
  if (f->channel == 0 && f->source == 0 && f->guide == 0 && f->shop == 0)
    return 1;
  uint32_t fl = pd_mx_first_link(s, root, f->as_of);
  if (f->channel != 0 || f->source != 0) {
    if (fl == PD_ST_NIL) return 0;
    const pd_st_link *l = &pd_st_links(s)[fl];
    if (f->channel != 0 && l->channel != f->channel) return 0;
    if (f->source != 0 && l->source != f->source) return 0;
  }
  if (f->guide == 0 && f->shop == 0) return 1;
  uint32_t g = pd_mx_home_guide(s, root, f->as_of, fl);
  if (f->guide != 0 && g != f->guide) return 0;
  if (f->shop != 0 && pd_mx_home_shop(s, root, f->as_of, g) != f->shop)
    return 0;
  return 1;
}

pd_status pd_metrics_filter_match(pd_store *s, pd_user_id user,
                                  const pd_metrics_filter *filter,
                                  int32_t *out) {
  pd_status st = pd_st_enter(s, 0);
  if (st) return st;
  pd_mx_filter f;
  if ((st = pd_mx_filter_load(s, filter, &f)) != PD_OK)
    return pd_st_leave(s, st);
  if (out == NULL)
    return pd_st_leave(s, pd_err(&s->err, PD_E_INVALID, "out is NULL"));
  if (user == 0 || user >= s->n_users)
    return pd_st_leave(s, pd_err(&s->err, PD_E_NOT_FOUND,
                                 "user %llu does not exist",
                                 (unsigned long long)user));
  uint32_t root = pd_st_find(s, (uint32_t)user);
  *out = pd_mx_filter_match(s, &f, root);
  return pd_st_leave(s, PD_OK);
}
