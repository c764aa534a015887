/* Touchpoints (触点): every recorded contact between the brand and a user,
 * with its purpose and, for explicit ratings, the trust components. */
#include <string.h>

#include <privdomain/channels.h>
#include <privdomain/events.h>

#include "event_index.h"
#include "mutation_codec.h"
#include "mutation_hook.h"
#include "record.h"
#include "store_internal.h"

static pd_status check_touch_fields(pd_store *s, const pd_touchpoint *ev) {
  if (ev->kind < PD_TOUCH_INBOUND_MESSAGE || ev->kind > PD_TOUCH_RATING)
    return pd_err(&s->err, PD_E_INVALID,
                  "touchpoint kind %d is not a PD_TOUCH_*", (int)ev->kind);
  if (ev->purpose < PD_PURPOSE_NONE || ev->purpose > PD_PURPOSE_PROMOTION)
    return pd_err(&s->err, PD_E_INVALID,
                  "touchpoint purpose %d is not a PD_PURPOSE_*",
                  (int)ev->purpose);
  /* Brand-initiated touches must say why: self-orientation (自私度) is
   * measured from the promotional share of them. */
  if ((ev->kind == PD_TOUCH_OUTBOUND_1TO1 || ev->kind == PD_TOUCH_BROADCAST ||
       ev->kind == PD_TOUCH_POST_EXPOSURE) &&
      ev->purpose == PD_PURPOSE_NONE)
    return pd_err(&s->err, PD_E_INVALID,
                  "a brand-initiated touchpoint (kind %d) needs a purpose",
                  (int)ev->kind);
  const int32_t r[4] = {ev->rating_expertise, ev->rating_reliability,
                        ev->rating_intimacy, ev->rating_self_orientation};
  int rated = 0;
  for (int k = 0; k < 4; k++) {
    if (ev->kind != PD_TOUCH_RATING && r[k] != 0)
      return pd_err(&s->err, PD_E_INVALID,
                    "rating fields must be 0 unless kind is "
                    "PD_TOUCH_RATING");
    if (r[k] < 0 || r[k] > 10)
      return pd_err(&s->err, PD_E_RANGE,
                    "a rating is %d; ratings are 1-10 (0 = not rated)",
                    (int)r[k]);
    rated += r[k] != 0;
  }
  if (ev->kind == PD_TOUCH_RATING && rated == 0)
    return pd_err(&s->err, PD_E_INVALID,
                  "a rating touchpoint must rate at least one component");
  return PD_OK;
}

static int same_touch(pd_store *s, const pd_st_touch *t,
                      const pd_touchpoint *ev) {
  return pd_st_same_user(s, t->user, ev->user) &&
         t->time == (uint32_t)ev->time && t->kind == ev->kind &&
         t->purpose == ev->purpose && t->channel == ev->channel &&
         t->guide == ev->guide && t->campaign == ev->campaign &&
         t->rating[0] == ev->rating_expertise &&
         t->rating[1] == ev->rating_reliability &&
         t->rating[2] == ev->rating_intimacy &&
         t->rating[3] == ev->rating_self_orientation;
}

pd_status pd_st_record_touch(pd_store *s, const pd_touchpoint *in) {
  pd_status st = pd_st_check_size(s, in, sizeof(pd_touchpoint), "touchpoint");
  if (st) return st;
  pd_touchpoint ev;
  memcpy(&ev, in, sizeof ev);
  pd_st_record_prefetch(s, ev.event_id, ev.user);
  if ((st = check_touch_fields(s, &ev)) != PD_OK ||
      (st = pd_st_check_time(s, ev.time, "touchpoint time")) != PD_OK)
    return st;
  uint32_t idx;
  if ((st = pd_st_event_lookup(s, ev.event_id, PD_EV_TOUCH, &idx)) != PD_OK)
    return st;
  if (idx != PD_ST_NIL)
    return pd_st_replay(s, same_touch(s, &pd_st_touches(s)[idx], &ev),
                        ev.event_id, "touchpoint");
  uint32_t u = 0;
  if ((st = pd_st_user_check(s, ev.user, "touchpoint user", &u)) != PD_OK ||
      (st = pd_st_channel_check(s, ev.channel, 1, "touchpoint")) != PD_OK ||
      (st = pd_st_guide_check(s, ev.guide, 1, "touchpoint")) != PD_OK ||
      (st = pd_st_label_check(s, PD_LABEL_CAMPAIGN, ev.campaign,
                              "touchpoint campaign")) != PD_OK)
    return st;
  if ((st = pd_st_event_reserve(s, PD_EV_TOUCH)) != PD_OK) return st;
  if ((st = pd_st_log(s, PD_MUT_TOUCHPOINT, &ev)) != PD_OK) return st;
  uint32_t i = pd_st_event_append(s, PD_EV_TOUCH, ev.event_id);
  pd_st_touch *t = &pd_st_touches(s)[i];
  t->user = u;
  t->time = (uint32_t)ev.time;
  t->guide = ev.guide;
  t->campaign = ev.campaign;
  t->channel = (uint16_t)ev.channel;
  t->kind = (uint8_t)ev.kind;
  t->purpose = (uint8_t)ev.purpose;
  t->rating[0] = (uint8_t)ev.rating_expertise;
  t->rating[1] = (uint8_t)ev.rating_reliability;
  t->rating[2] = (uint8_t)ev.rating_intimacy;
  t->rating[3] = (uint8_t)ev.rating_self_orientation;
  t->next = s->users[u].head[PD_EV_TOUCH];
  s->users[u].head[PD_EV_TOUCH] = i;
  return PD_OK;
}

pd_status pd_record_touchpoint(pd_store *s, const pd_touchpoint *ev) {
  pd_status st = pd_st_enter(s, 1);
  if (st) return st;
  return pd_st_leave(s, pd_st_record_touch(s, ev));
}
