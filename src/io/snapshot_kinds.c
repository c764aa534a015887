/* The event kinds as the snapshot sees them: each record's fields in file
 * order with their widths and meanings. A new kind of event needs one row
 * here (the build fails until it has one); nothing else in the snapshot
 * code names a kind, except the cross-kind rules of snapshot_check.c. */
#include "snapshot_format.h"

#include <privdomain/channels.h>
#include <privdomain/consent.h>
#include <privdomain/events.h>

#define F(T, m, role, arg) {offsetof(T, m), sizeof(((T *)0)->m), role, arg}
#define FA(T, m, k, role, arg) \
  {offsetof(T, m) + (k), sizeof(((T *)0)->m[0]), role, arg}

_Static_assert(PD_EV_KINDS == 13,
               "a kind of event was added or removed: give it a row in "
               "src/io/snapshot_kinds.c and update this count");

const pd_snap_kind pd_snap_kinds[PD_EV_KINDS] = {
    [PD_EV_LINK] = {"link", sizeof(pd_st_link),
                    {F(pd_st_link, user, PD_SF_OWNER, 0),
                     F(pd_st_link, next, PD_SF_NEXT, 0),
                     F(pd_st_link, time, PD_SF_TIME, 0),
                     F(pd_st_link, source, PD_SF_LABEL, PD_LABEL_SOURCE),
                     F(pd_st_link, campaign, PD_SF_LABEL, PD_LABEL_CAMPAIGN),
                     F(pd_st_link, guide, PD_SF_GUIDE, 0),
                     F(pd_st_link, channel, PD_SF_CHANNEL, 0),
                     F(pd_st_link, pad, PD_SF_ZERO, 0)}},
    [PD_EV_UNLINK] = {"unlink", sizeof(pd_st_unlink),
                      {F(pd_st_unlink, user, PD_SF_OWNER, 0),
                       F(pd_st_unlink, next, PD_SF_NEXT, 0),
                       F(pd_st_unlink, time, PD_SF_TIME, 0),
                       F(pd_st_unlink, guide, PD_SF_GUIDE, 0),
                       F(pd_st_unlink, channel, PD_SF_CHANNEL, 0),
                       F(pd_st_unlink, initiator, PD_SF_MAX,
                         PD_UNLINK_STAFF_REMOVED),
                       F(pd_st_unlink, pad, PD_SF_ZERO, 0)}},
    [PD_EV_TOUCH] = {"touchpoint", sizeof(pd_st_touch),
                     {F(pd_st_touch, user, PD_SF_OWNER, 0),
                      F(pd_st_touch, next, PD_SF_NEXT, 0),
                      F(pd_st_touch, time, PD_SF_TIME, 0),
                      F(pd_st_touch, guide, PD_SF_GUIDE, 0),
                      F(pd_st_touch, campaign, PD_SF_LABEL, PD_LABEL_CAMPAIGN),
                      F(pd_st_touch, channel, PD_SF_CHANNEL, 0),
                      F(pd_st_touch, kind, PD_SF_MAX, PD_TOUCH_RATING),
                      F(pd_st_touch, purpose, PD_SF_MAX, PD_PURPOSE_PROMOTION),
                      FA(pd_st_touch, rating, 0, PD_SF_MAX, 10),
                      FA(pd_st_touch, rating, 1, PD_SF_MAX, 10),
                      FA(pd_st_touch, rating, 2, PD_SF_MAX, 10),
                      FA(pd_st_touch, rating, 3, PD_SF_MAX, 10)}},
    [PD_EV_ORDER] = {"order", sizeof(pd_st_order),
                     {F(pd_st_order, order_id, PD_SF_PLAIN, 0),
                      F(pd_st_order, amount, PD_SF_AMOUNT, 0),
                      F(pd_st_order, refunded, PD_SF_AMOUNT, 0),
                      F(pd_st_order, user, PD_SF_OWNER, 0),
                      F(pd_st_order, next, PD_SF_NEXT, 0),
                      F(pd_st_order, time, PD_SF_TIME, 0),
                      F(pd_st_order, guide, PD_SF_GUIDE, 0),
                      F(pd_st_order, shop, PD_SF_LABEL, PD_LABEL_SHOP),
                      F(pd_st_order, channel, PD_SF_CHANNEL, 0),
                      F(pd_st_order, pad, PD_SF_ZERO, 0)}},
    [PD_EV_REFUND] = {"refund", sizeof(pd_st_refund),
                      {F(pd_st_refund, amount, PD_SF_AMOUNT, 0),
                       F(pd_st_refund, order, PD_SF_ORDER, 0),
                       F(pd_st_refund, user, PD_SF_OWNER, 0),
                       F(pd_st_refund, next, PD_SF_NEXT, 0),
                       F(pd_st_refund, time, PD_SF_TIME, 0)}},
    [PD_EV_REFERRAL] = {"referral", sizeof(pd_st_referral),
                        {F(pd_st_referral, referrer, PD_SF_OWNER, 0),
                         F(pd_st_referral, referee, PD_SF_USER, 0),
                         F(pd_st_referral, next, PD_SF_NEXT, 0),
                         F(pd_st_referral, time, PD_SF_TIME, 0),
                         F(pd_st_referral, campaign, PD_SF_LABEL,
                           PD_LABEL_CAMPAIGN)}},
    [PD_EV_BIND] = {"guide_bind", sizeof(pd_st_bind),
                    {F(pd_st_bind, user, PD_SF_OWNER, 0),
                     F(pd_st_bind, next, PD_SF_NEXT, 0),
                     F(pd_st_bind, time, PD_SF_TIME, 0),
                     F(pd_st_bind, guide, PD_SF_GUIDE, 0)}},
    [PD_EV_HANDOVER] = {"guide_handover", sizeof(pd_st_handover),
                        {F(pd_st_handover, from, PD_SF_GUIDE, 0),
                         F(pd_st_handover, to, PD_SF_GUIDE, 0),
                         F(pd_st_handover, time, PD_SF_TIME, 0)}},
    [PD_EV_DEACTIVATE] = {"guide_deactivate", sizeof(pd_st_deactivate),
                          {F(pd_st_deactivate, guide, PD_SF_GUIDE, 0),
                           F(pd_st_deactivate, time, PD_SF_TIME, 0)}},
    [PD_EV_REACH] = {"reach", sizeof(pd_st_reach),
                     {F(pd_st_reach, reached, PD_SF_MAX,
                        (UINT64_C(1) << 53) - 1),
                      F(pd_st_reach, period_start, PD_SF_TIME, 0),
                      F(pd_st_reach, period_end, PD_SF_TIME2, 0),
                      F(pd_st_reach, source, PD_SF_LABEL, PD_LABEL_SOURCE),
                      F(pd_st_reach, channel, PD_SF_CHANNEL, 0),
                      F(pd_st_reach, pad, PD_SF_ZERO, 0)}},
    [PD_EV_COST] = {"cost", sizeof(pd_st_cost),
                    {F(pd_st_cost, amount, PD_SF_AMOUNT, 0),
                     F(pd_st_cost, period_start, PD_SF_TIME, 0),
                     F(pd_st_cost, period_end, PD_SF_TIME2, 0),
                     F(pd_st_cost, source, PD_SF_LABEL, PD_LABEL_SOURCE),
                     F(pd_st_cost, channel, PD_SF_CHANNEL, 0),
                     F(pd_st_cost, pad, PD_SF_ZERO, 0)}},
    [PD_EV_CONSENT] = {"consent", sizeof(pd_st_consent),
                       {F(pd_st_consent, user, PD_SF_OWNER, 0),
                        F(pd_st_consent, next, PD_SF_NEXT, 0),
                        F(pd_st_consent, time, PD_SF_TIME, 0),
                        F(pd_st_consent, purpose, PD_SF_MAX, PD_CONSENT_ANALYTICS),
                        F(pd_st_consent, granted, PD_SF_MAX, 1),
                        F(pd_st_consent, pad, PD_SF_ZERO, 0)}},
};

size_t pd_snap_kind_bytes(int k) {
  size_t n = 0;
  for (int j = 0; j < PD_SNAP_MAX_FIELDS && pd_snap_kinds[k].f[j].width; j++)
    n += pd_snap_kinds[k].f[j].width;
  return n;
}

int pd_snap_portable_only = 0;

int pd_snap_kind_raw(int k) {
  if (!PD_SNAP_HOST_LE || pd_snap_portable_only) return 0;
  size_t at = 0;
  for (int j = 0; j < PD_SNAP_MAX_FIELDS && pd_snap_kinds[k].f[j].width;
       j++) {
    if (pd_snap_kinds[k].f[j].off != at) return 0;
    at += pd_snap_kinds[k].f[j].width;
  }
  return at == pd_snap_kinds[k].rec_size;
}
