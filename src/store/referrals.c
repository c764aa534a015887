/* Referrals (转介绍, 裂变): who brought whom. One referrer per user, no
 * self-referral, no cycle — checked on the merged users. */
#include <string.h>

#include <privdomain/channels.h>
#include <privdomain/events.h>

#include "event_index.h"
#include "mutation_codec.h"
#include "mutation_hook.h"
#include "record.h"
#include "store_internal.h"
#include "store_query.h"

pd_status pd_st_record_referral(pd_store *s, const pd_referral *in) {
  pd_status st = pd_st_check_size(s, in, sizeof(pd_referral), "referral");
  if (st) return st;
  pd_referral ev;
  memcpy(&ev, in, sizeof ev);
  if ((st = pd_st_check_time(s, ev.time, "referral time")) != PD_OK) return st;
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_REFERRAL, &idx)) !=
      PD_OK)
    return st;
  if (idx != PD_ST_NIL) {
    const pd_st_referral *r = &pd_st_referrals(s)[idx];
    int same = pd_st_same_user(s, r->referrer, ev.referrer) &&
               pd_st_same_user(s, r->referee, ev.referee) &&
               r->campaign == ev.campaign && r->time == (uint32_t)ev.time;
    return pd_st_replay(s, same, ev.event_id, "referral");
  }
  uint32_t a = 0, b = 0;
  if ((st = pd_st_user_check(s, ev.referrer, "referrer", &a)) != PD_OK ||
      (st = pd_st_user_check(s, ev.referee, "referee", &b)) != PD_OK ||
      (st = pd_st_label_check(s, PD_LABEL_CAMPAIGN, ev.campaign,
                              "referral campaign")) != PD_OK)
    return st;
  uint32_t ra = pd_st_find(s, a), rb = pd_st_find(s, b), e;
  if (ra == rb)
    return pd_err(&s->err, PD_E_CONFLICT,
                  "user %u cannot refer itself (ids %u and %u are one user)",
                  ra, a, b);
  uint32_t prev = pd_st_referrer_of(s, rb, &e);
  if (prev != 0)
    return pd_err(&s->err, PD_E_CONFLICT,
                  "user %u was already referred by user %u", rb, prev);
  /* A cycle would lead from the referrer, up its referrers, to the
   * referee. */
  for (uint32_t r = ra, guard = 0; r != 0 && guard <= s->n_users; guard++) {
    if (r == rb)
      return pd_err(&s->err, PD_E_CONFLICT,
                    "user %u referring user %u would close a referral "
                    "cycle",
                    ra, rb);
    r = pd_st_referrer_of(s, r, &e);
  }
  if ((st = pd_st_event_reserve(s, PD_EV_REFERRAL)) != PD_OK) return st;
  if ((st = pd_st_log(s, PD_MUT_REFERRAL, &ev)) != PD_OK) return st;
  uint32_t i = pd_st_event_append(s, PD_EV_REFERRAL, ev.event_id);
  pd_st_referral *r = &pd_st_referrals(s)[i];
  r->referrer = a;
  r->referee = b;
  r->time = (uint32_t)ev.time;
  r->campaign = ev.campaign;
  r->next = s->users[a].head[PD_EV_REFERRAL];
  s->users[a].head[PD_EV_REFERRAL] = i;
  s->users[b].referral_in = i;
  return PD_OK;
}

pd_status pd_record_referral(pd_store *s, const pd_referral *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_referral(s, ev));
}
