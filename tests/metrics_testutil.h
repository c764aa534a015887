/* One-line event recording for the metrics tests (trust, pressure,
 * consent, store summaries, follow-up plans): each helper takes a fresh
 * event id from a counter and fails the test if recording fails.
 * Header-only; include after <cmocka.h>. */
#ifndef PD_TESTS_METRICS_TESTUTIL_H
#define PD_TESTS_METRICS_TESTUTIL_H

#include <stdint.h>

#include <privdomain/privdomain.h>

#define DAY INT64_C(86400)
#define HOUR INT64_C(3600)

static uint64_t mt_next_eid = 1;

static inline void mt_link(pd_store *s, pd_user_id u, int32_t ch, int64_t t) {
  pd_link_event e = PD_LINK_EVENT_INIT;
  e.event_id = mt_next_eid++;
  e.user = u;
  e.channel = ch;
  e.time = t;
  assert_int_equal(pd_record_link(s, &e), PD_OK);
}

static inline void mt_link_src(pd_store *s, pd_user_id u, int32_t ch,
                               uint32_t source, uint32_t guide, int64_t t) {
  pd_link_event e = PD_LINK_EVENT_INIT;
  e.event_id = mt_next_eid++;
  e.user = u;
  e.channel = ch;
  e.source = source;
  e.guide = guide;
  e.time = t;
  assert_int_equal(pd_record_link(s, &e), PD_OK);
}

static inline void mt_unlink(pd_store *s, pd_user_id u, int32_t ch,
                             int64_t t) {
  pd_unlink_event e = PD_UNLINK_EVENT_INIT;
  e.event_id = mt_next_eid++;
  e.user = u;
  e.channel = ch;
  e.initiator = PD_UNLINK_USER_DELETED;
  e.time = t;
  assert_int_equal(pd_record_unlink(s, &e), PD_OK);
}

static inline void mt_touch_g(pd_store *s, pd_user_id u, int32_t kind,
                              int32_t purpose, int32_t ch, uint32_t guide,
                              int64_t t) {
  pd_touchpoint e = PD_TOUCHPOINT_INIT;
  e.event_id = mt_next_eid++;
  e.user = u;
  e.kind = kind;
  e.purpose = purpose;
  e.channel = ch;
  e.guide = guide;
  e.time = t;
  assert_int_equal(pd_record_touchpoint(s, &e), PD_OK);
}

static inline void mt_touch(pd_store *s, pd_user_id u, int32_t kind,
                            int32_t purpose, int64_t t) {
  mt_touch_g(s, u, kind, purpose, PD_CHANNEL_WECOM, 0, t);
}

static inline void mt_rating(pd_store *s, pd_user_id u, int32_t e_, int32_t r,
                             int32_t i, int32_t so, int64_t t) {
  pd_touchpoint e = PD_TOUCHPOINT_INIT;
  e.event_id = mt_next_eid++;
  e.user = u;
  e.kind = PD_TOUCH_RATING;
  e.rating_expertise = e_;
  e.rating_reliability = r;
  e.rating_intimacy = i;
  e.rating_self_orientation = so;
  e.time = t;
  assert_int_equal(pd_record_touchpoint(s, &e), PD_OK);
}

static inline uint64_t mt_order(pd_store *s, pd_user_id u, int64_t amount,
                                int64_t t) {
  pd_order o = PD_ORDER_INIT;
  o.event_id = mt_next_eid++;
  o.order_id = o.event_id;
  o.user = u;
  o.amount = amount;
  o.time = t;
  assert_int_equal(pd_record_order(s, &o), PD_OK);
  return o.order_id;
}

static inline void mt_refund(pd_store *s, uint64_t order_id, int64_t amount,
                             int64_t t) {
  pd_refund r = PD_REFUND_INIT;
  r.event_id = mt_next_eid++;
  r.order_id = order_id;
  r.amount = amount;
  r.time = t;
  assert_int_equal(pd_record_refund(s, &r), PD_OK);
}

static inline void mt_consent(pd_store *s, pd_user_id u, int32_t purpose,
                              int32_t granted, int64_t t) {
  pd_consent c = PD_CONSENT_INIT;
  c.event_id = mt_next_eid++;
  c.user = u;
  c.purpose = purpose;
  c.granted = granted;
  c.time = t;
  assert_int_equal(pd_record_consent(s, &c), PD_OK);
}

static inline void mt_bind(pd_store *s, pd_user_id u, uint32_t guide,
                           int64_t t) {
  pd_guide_bind b = PD_GUIDE_BIND_INIT;
  b.event_id = mt_next_eid++;
  b.user = u;
  b.guide = guide;
  b.time = t;
  assert_int_equal(pd_record_guide_bind(s, &b), PD_OK);
}

static inline pd_user_id mt_user(pd_store *s, const char *key) {
  pd_user_id u = 0;
  pd_status st = pd_user_ensure(s, "phone", PD_NTS, key, PD_NTS, &u);
  assert_true(st == PD_OK || st == PD_REPLAYED);
  return u;
}

#endif
