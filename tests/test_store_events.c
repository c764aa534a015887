/* Specification of event recording (events.h, channels.h): channels and
 * labels, links and unlinks, touchpoints, orders and refunds, reach and
 * cost; idempotency; and that every rejected event leaves the store as it
 * was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "store_testutil.h"

#define DAY 86400
static const int64_t T0 = 1600000000;
static const int64_t times[] = {1600000000, 1600000000 + 5 * DAY,
                                1600000000 + 50 * DAY};

static int setup(void **state) {
  pd_store *s;
  if (pd_store_new(NULL, &s) != PD_OK) return -1;
  *state = s;
  return 0;
}

static int teardown(void **state) {
  pd_store_free(*state);
  return 0;
}

static uint64_t digest(pd_store *s) { return store_digest(s, 4, times, 3, 2); }

/* ---- channels and labels ------------------------------------------------ */

static void builtin_channels_have_fixed_ids_and_kinds(void **state) {
  pd_store *s = *state;
  int32_t id, kind;
  const char *name;
  assert_int_equal(pd_channel_find(s, "wecom", PD_NTS, &id), PD_OK);
  assert_int_equal(id, PD_CHANNEL_WECOM);
  assert_int_equal(pd_channel_info(s, PD_CHANNEL_PACKAGE_CARD, &name, &kind),
                   PD_OK);
  assert_string_equal(name, "package_card");
  assert_int_equal(kind, PD_CHANNEL_PUBLIC);
  assert_int_equal(pd_channel_info(s, PD_CHANNEL_WECHAT, NULL, &kind), PD_OK);
  assert_int_equal(kind, PD_CHANNEL_PRIVATE);
  assert_int_equal(pd_channel_info(s, 0, NULL, NULL), PD_E_NOT_FOUND);
  assert_int_equal(pd_channel_info(s, 13, NULL, NULL), PD_E_NOT_FOUND);
  assert_int_equal(pd_channel_find(s, "nope", PD_NTS, &id), PD_E_NOT_FOUND);
}

static void custom_channels_are_numbered_from_1024(void **state) {
  pd_store *s = *state;
  int32_t id, id2, kind;
  const char *name;
  assert_int_equal(pd_channel_register(s, "xiaohongshu", PD_NTS,
                                       PD_CHANNEL_PUBLIC, &id),
                   PD_OK);
  assert_int_equal(id, PD_CHANNEL_CUSTOM_FIRST);
  assert_int_equal(pd_channel_register(s, "kuaishou", PD_NTS,
                                       PD_CHANNEL_PRIVATE, &id2),
                   PD_OK);
  assert_int_equal(id2, PD_CHANNEL_CUSTOM_FIRST + 1);
  assert_int_equal(pd_channel_register(s, "xiaohongshu", PD_NTS,
                                       PD_CHANNEL_PUBLIC, &id2),
                   PD_REPLAYED);
  assert_int_equal(id2, id);
  assert_int_equal(pd_channel_register(s, "xiaohongshu", PD_NTS,
                                       PD_CHANNEL_PRIVATE, &id2),
                   PD_E_DUPLICATE);
  assert_int_equal(pd_channel_register(s, "wechat", PD_NTS,
                                       PD_CHANNEL_PUBLIC, &id2),
                   PD_E_DUPLICATE);
  assert_int_equal(pd_channel_register(s, "x", PD_NTS, 2, &id2),
                   PD_E_INVALID);
  assert_int_equal(pd_channel_register(s, "", PD_NTS, 0, &id2), PD_E_INVALID);
  assert_int_equal(pd_channel_register(s, "\xff", 1, 0, &id2), PD_E_UTF8);
  char long_name[130];
  memset(long_name, 'c', sizeof long_name);
  assert_int_equal(pd_channel_register(s, long_name, 129, 0, &id2),
                   PD_E_UTF8);
  assert_int_equal(pd_channel_info(s, id, &name, &kind), PD_OK);
  assert_string_equal(name, "xiaohongshu");
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.channels, PD_CHANNEL_BUILTIN_LAST + 2);
}

static void labels_are_interned_per_kind(void **state) {
  pd_store *s = *state;
  uint32_t a, b, c;
  const char *name;
  size_t len;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "package_card",
                                   PD_NTS, &a),
                   PD_OK);
  assert_int_equal(a, 1);
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "package_card",
                                   PD_NTS, &b),
                   PD_REPLAYED);
  assert_int_equal(b, a);
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SHOP, "package_card", PD_NTS,
                                   &c),
                   PD_OK);
  assert_int_equal(c, 1); /* its own numbering */
  assert_int_equal(pd_label_find(s, PD_LABEL_SOURCE, "package_card", PD_NTS,
                                 &b),
                   PD_OK);
  assert_int_equal(pd_label_find(s, PD_LABEL_CAMPAIGN, "package_card",
                                 PD_NTS, &b),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_label_name(s, PD_LABEL_SOURCE, a, &name, &len), PD_OK);
  assert_string_equal(name, "package_card");
  assert_int_equal(len, 12);
  assert_int_equal(pd_label_name(s, PD_LABEL_SOURCE, 2, &name, &len),
                   PD_E_NOT_FOUND);
  assert_int_equal(pd_label_ensure(s, 0, "x", PD_NTS, &a), PD_E_INVALID);
  assert_int_equal(pd_label_ensure(s, 4, "x", PD_NTS, &a), PD_E_INVALID);
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SHOP, NULL, 0, &a),
                   PD_E_INVALID);
  assert_int_equal(pd_label_name(s, PD_LABEL_SHOP, 1, NULL, NULL),
                   PD_E_INVALID);
}

/* ---- links -------------------------------------------------------------- */

static pd_status link(pd_store *s, uint64_t eid, pd_user_id u, int32_t ch,
                      int64_t t) {
  pd_link_event l = PD_LINK_EVENT_INIT;
  l.event_id = eid;
  l.user = u;
  l.channel = ch;
  l.time = t;
  return pd_record_link(s, &l);
}

static pd_status unlink_(pd_store *s, uint64_t eid, pd_user_id u, int32_t ch,
                         int64_t t, int32_t who) {
  pd_unlink_event l = PD_UNLINK_EVENT_INIT;
  l.event_id = eid;
  l.user = u;
  l.channel = ch;
  l.time = t;
  l.initiator = who;
  return pd_record_unlink(s, &l);
}

static void link_state_replays_links_and_unlinks_in_time_order(void **state) {
  pd_store *s = *state;
  pd_user_id u = user_of(s, "u");
  const int32_t W = PD_CHANNEL_WECHAT;
  /* Arrive out of order: relink, unlink, first link, an early unlink. */
  assert_int_equal(link(s, 4, u, W, T0 + 20 * DAY), PD_OK);
  assert_int_equal(unlink_(s, 3, u, W, T0 + 10 * DAY, PD_UNLINK_USER_BLOCKED),
                   PD_OK);
  assert_int_equal(link(s, 2, u, W, T0), PD_OK);
  assert_int_equal(unlink_(s, 1, u, W, T0 - DAY, PD_UNLINK_USER_DELETED),
                   PD_OK);
  assert_int_equal(link(s, 5, u, W, T0 + 30 * DAY), PD_OK); /* repeat */

  pd_link_state l = PD_LINK_STATE_INIT;
  assert_int_equal(pd_user_link_state(s, u, W, T0 - DAY, &l), PD_OK);
  assert_int_equal(l.linked, 0);
  assert_int_equal(l.unlinks, 0); /* the early unlink ended nothing */
  assert_int_equal(pd_user_link_state(s, u, W, T0 + 5 * DAY, &l), PD_OK);
  assert_int_equal(l.linked, 1);
  assert_int_equal(l.links, 1);
  assert_int_equal(l.linked_since, T0);
  assert_int_equal(pd_user_link_state(s, u, W, T0 + 15 * DAY, &l), PD_OK);
  assert_int_equal(l.linked, 0);
  assert_int_equal(l.unlinks, 1);
  assert_int_equal(l.last_unlinked, T0 + 10 * DAY);
  assert_int_equal(l.last_initiator, PD_UNLINK_USER_BLOCKED);
  assert_int_equal(l.linked_since, -1);
  assert_int_equal(pd_user_link_state(s, u, W, T0 + 40 * DAY, &l), PD_OK);
  assert_int_equal(l.linked, 1);
  assert_int_equal(l.links, 3);
  assert_int_equal(l.unlinks, 1);
  assert_int_equal(l.first_linked, T0);
  assert_int_equal(l.linked_since, T0 + 20 * DAY); /* re-link */
  assert_int_equal(l.channel, W);
  /* A channel never touched: not linked, not an error. */
  assert_int_equal(pd_user_link_state(s, u, PD_CHANNEL_SMS, T0, &l), PD_OK);
  assert_int_equal(l.linked, 0);
  assert_int_equal(l.links, 0);
  assert_int_equal(l.first_linked, -1);
}

static void link_before_unlink_at_the_same_second(void **state) {
  pd_store *s = *state;
  pd_user_id u = user_of(s, "u");
  assert_int_equal(unlink_(s, 1, u, PD_CHANNEL_WECOM, T0,
                           PD_UNLINK_STAFF_REMOVED),
                   PD_OK);
  assert_int_equal(link(s, 2, u, PD_CHANNEL_WECOM, T0), PD_OK);
  pd_link_state l = PD_LINK_STATE_INIT;
  assert_int_equal(pd_user_link_state(s, u, PD_CHANNEL_WECOM, T0, &l), PD_OK);
  assert_int_equal(l.linked, 0);
  assert_int_equal(l.unlinks, 1);
}

typedef struct link_list {
  int32_t channels[8];
  int32_t linked[8];
  int n;
} link_list;

static int list_links(void *u, const pd_link_state *l) {
  link_list *v = u;
  v->channels[v->n] = l->channel;
  v->linked[v->n++] = l->linked;
  return 0;
}

static void user_links_lists_every_channel_touched(void **state) {
  pd_store *s = *state;
  pd_user_id u = user_of(s, "u");
  assert_int_equal(link(s, 1, u, PD_CHANNEL_OFFICIAL_ACCOUNT, T0), PD_OK);
  assert_int_equal(link(s, 2, u, PD_CHANNEL_WECHAT, T0), PD_OK);
  assert_int_equal(unlink_(s, 3, u, PD_CHANNEL_WECHAT, T0 + 1,
                           PD_UNLINK_USER_UNFOLLOWED),
                   PD_OK);
  assert_int_equal(link(s, 4, u, PD_CHANNEL_SMS, T0 + 10 * DAY), PD_OK);
  link_list v = {{0}, {0}, 0};
  assert_int_equal(pd_user_links(s, u, T0 + DAY, list_links, &v), PD_OK);
  assert_int_equal(v.n, 2);
  assert_int_equal(v.channels[0], PD_CHANNEL_WECHAT);
  assert_int_equal(v.linked[0], 0);
  assert_int_equal(v.channels[1], PD_CHANNEL_OFFICIAL_ACCOUNT);
  assert_int_equal(v.linked[1], 1);
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, u, T0 + 20 * DAY, &i), PD_OK);
  assert_int_equal(i.channels_linked, 2);
  assert_int_equal(pd_user_links(s, u, T0, NULL, &v), PD_E_INVALID);
}

static void bad_links_are_rejected_and_change_nothing(void **state) {
  pd_store *s = *state;
  pd_user_id u = user_of(s, "u");
  assert_int_equal(link(s, 1, u, PD_CHANNEL_WECHAT, T0), PD_OK);
  uint64_t before = digest(s);
  assert_int_equal(link(s, 0, u, PD_CHANNEL_WECHAT, T0), PD_E_INVALID);
  assert_int_equal(link(s, 2, u, 0, T0), PD_E_INVALID);
  assert_int_equal(link(s, 2, u, 999, T0), PD_E_NOT_FOUND);
  assert_int_equal(link(s, 2, 42, PD_CHANNEL_WECHAT, T0), PD_E_NOT_FOUND);
  assert_int_equal(link(s, 2, u, PD_CHANNEL_WECHAT, -1), PD_E_RANGE);
  assert_int_equal(link(s, 2, u, PD_CHANNEL_WECHAT, PD_TIME_MAX + 1),
                   PD_E_RANGE);
  assert_int_equal(link(s, 2, u, PD_CHANNEL_WECHAT, T0 * 1000), PD_E_RANGE);
  pd_link_event l = PD_LINK_EVENT_INIT;
  l.event_id = 2;
  l.user = u;
  l.channel = PD_CHANNEL_WECHAT;
  l.time = T0;
  l.source = 7;
  assert_int_equal(pd_record_link(s, &l), PD_E_NOT_FOUND);
  l.source = 0;
  l.guide = 3;
  assert_int_equal(pd_record_link(s, &l), PD_E_NOT_FOUND);
  l.guide = 0;
  l.size = sizeof l - 1;
  assert_int_equal(pd_record_link(s, &l), PD_E_INVALID);
  assert_int_equal(pd_record_link(s, NULL), PD_E_INVALID);
  assert_int_equal(unlink_(s, 2, u, PD_CHANNEL_WECHAT, T0, 0), PD_E_INVALID);
  assert_int_equal(unlink_(s, 2, u, PD_CHANNEL_WECHAT, T0, 5), PD_E_INVALID);
  /* Event id 1 is a link: as an unlink it is a duplicate. */
  assert_int_equal(unlink_(s, 1, u, PD_CHANNEL_WECHAT, T0, 1),
                   PD_E_DUPLICATE);
  assert_true(digest(s) == before);
}

/* ---- idempotency -------------------------------------------------------- */

static void replays_change_nothing_and_conflicting_reuse_is_refused(
    void **state) {
  pd_store *s = *state;
  pd_user_id u = user_of(s, "u"), v = user_of(s, "v");
  pd_touchpoint t = PD_TOUCHPOINT_INIT;
  t.event_id = 77;
  t.user = u;
  t.kind = PD_TOUCH_BROADCAST;
  t.purpose = PD_PURPOSE_PROMOTION;
  t.channel = PD_CHANNEL_WECOM;
  t.time = T0;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_OK);
  pd_store_stats a = PD_STORE_STATS_INIT, b = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &a), PD_OK);
  uint64_t before = digest(s);
  for (int i = 0; i < 3; i++)
    assert_int_equal(pd_record_touchpoint(s, &t), PD_REPLAYED);
  assert_int_equal(pd_store_get_stats(s, &b), PD_OK);
  assert_int_equal(b.touchpoints, 1);
  assert_int_equal(b.events, a.events);
  assert_true(digest(s) == before);
  t.purpose = PD_PURPOSE_SERVICE;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_DUPLICATE);
  t.purpose = PD_PURPOSE_PROMOTION;
  t.time = T0 + 1;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_DUPLICATE);
  t.time = T0;
  t.user = v;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_DUPLICATE);
  assert_true(digest(s) == before);
  /* After u and v are merged, the retry under v's id is the same event. */
  pd_user_id out;
  assert_int_equal(pd_user_merge(s, u, v, &out), PD_OK);
  assert_int_equal(pd_record_touchpoint(s, &t), PD_REPLAYED);
  assert_int_equal(pd_store_get_stats(s, &b), PD_OK);
  assert_int_equal(b.touchpoints, 1);
}

/* ---- touchpoints -------------------------------------------------------- */

static void touchpoints_are_validated_by_kind(void **state) {
  pd_store *s = *state;
  pd_user_id u = user_of(s, "u");
  uint64_t before = digest(s);
  pd_touchpoint t = PD_TOUCHPOINT_INIT;
  t.event_id = 1;
  t.user = u;
  t.channel = PD_CHANNEL_WECHAT;
  t.time = T0;
  t.kind = 0;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_INVALID);
  t.kind = 11;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_INVALID);
  t.kind = PD_TOUCH_OUTBOUND_1TO1; /* needs a purpose */
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_INVALID);
  t.purpose = 4;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_INVALID);
  t.purpose = PD_PURPOSE_SERVICE;
  t.rating_intimacy = 5; /* ratings only on PD_TOUCH_RATING */
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_INVALID);
  t.kind = PD_TOUCH_RATING;
  t.rating_intimacy = 11;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_RANGE);
  t.rating_intimacy = 0; /* nothing rated */
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_INVALID);
  t.rating_intimacy = 7;
  t.campaign = 9;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_NOT_FOUND);
  t.campaign = 0;
  t.channel = 77;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_E_NOT_FOUND);
  assert_true(digest(s) == before);
  t.channel = 0; /* unknown channel is allowed for touchpoints */
  assert_int_equal(pd_record_touchpoint(s, &t), PD_OK);
  t.event_id = 2;
  t.kind = PD_TOUCH_INBOUND_MESSAGE;
  t.purpose = PD_PURPOSE_NONE;
  t.rating_intimacy = 0;
  t.time = T0 - DAY;
  assert_int_equal(pd_record_touchpoint(s, &t), PD_OK);
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, u, T0, &i), PD_OK);
  assert_int_equal(i.first_seen, T0 - DAY);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.touchpoints, 2);
  assert_int_equal(st.events, 2);
}

/* ---- money -------------------------------------------------------------- */

static pd_status order(pd_store *s, uint64_t eid, uint64_t oid, pd_user_id u,
                       int64_t t, int64_t amount) {
  pd_order o = PD_ORDER_INIT;
  o.event_id = eid;
  o.order_id = oid;
  o.user = u;
  o.time = t;
  o.amount = amount;
  return pd_record_order(s, &o);
}

static pd_status refund(pd_store *s, uint64_t eid, uint64_t oid, int64_t t,
                        int64_t amount) {
  pd_refund r = PD_REFUND_INIT;
  r.event_id = eid;
  r.order_id = oid;
  r.time = t;
  r.amount = amount;
  return pd_record_refund(s, &r);
}

static void revenue_is_orders_minus_refunds_as_of(void **state) {
  pd_store *s = *state;
  pd_user_id u = user_of(s, "u");
  assert_int_equal(order(s, 1, 1001, u, T0, 12900), PD_OK);
  assert_int_equal(order(s, 2, 1002, u, T0 + 10 * DAY, 5000), PD_OK);
  assert_int_equal(refund(s, 3, 1001, T0 + 2 * DAY, 2900), PD_OK);
  assert_int_equal(refund(s, 4, 1001, T0 + 3 * DAY, 10000), PD_OK);
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, u, T0 + DAY, &i), PD_OK);
  assert_int_equal(i.orders, 1);
  assert_int_equal(i.revenue, 12900);
  assert_int_equal(i.refunded, 0);
  assert_int_equal(pd_user_get(s, u, T0 + 5 * DAY, &i), PD_OK);
  assert_int_equal(i.revenue, 0);
  assert_int_equal(i.refunded, 12900);
  assert_int_equal(pd_user_get(s, u, T0 + 50 * DAY, &i), PD_OK);
  assert_int_equal(i.orders, 2);
  assert_int_equal(i.revenue, 5000);
  assert_int_equal(i.first_purchase, T0);
  assert_int_equal(i.last_purchase, T0 + 10 * DAY);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.orders, 2);
  assert_int_equal(st.refunds, 2);
}

static void bad_money_is_rejected_and_changes_nothing(void **state) {
  pd_store *s = *state;
  pd_user_id u = user_of(s, "u");
  assert_int_equal(order(s, 1, 1001, u, T0, 1000), PD_OK);
  assert_int_equal(refund(s, 2, 1001, T0 + DAY, 600), PD_OK);
  uint64_t before = digest(s);
  assert_int_equal(order(s, 3, 1002, u, T0, -1), PD_E_RANGE);
  assert_int_equal(order(s, 3, 0, u, T0, 1), PD_E_INVALID);
  assert_int_equal(order(s, 3, 1001, u, T0, 1), PD_E_DUPLICATE);
  assert_int_equal(refund(s, 3, 1001, T0 + DAY, 401), PD_E_CONFLICT);
  assert_int_equal(refund(s, 3, 1001, T0 - 1, 1), PD_E_RANGE);
  assert_int_equal(refund(s, 3, 1001, T0 + DAY, 0), PD_E_RANGE);
  assert_int_equal(refund(s, 3, 1001, T0 + DAY, -5), PD_E_RANGE);
  assert_int_equal(refund(s, 3, 9999, T0 + DAY, 1), PD_E_NOT_FOUND);
  assert_int_equal(refund(s, 3, 0, T0 + DAY, 1), PD_E_INVALID);
  /* The same refund id with another amount. */
  assert_int_equal(refund(s, 2, 1001, T0 + DAY, 601), PD_E_DUPLICATE);
  assert_int_equal(refund(s, 2, 1001, T0 + DAY, 600), PD_REPLAYED);
  pd_order o = PD_ORDER_INIT;
  o.event_id = 3;
  o.order_id = 1003;
  o.user = u;
  o.time = T0;
  o.shop = 1;
  assert_int_equal(pd_record_order(s, &o), PD_E_NOT_FOUND);
  assert_true(digest(s) == before);
  /* What is left can still be refunded. */
  assert_int_equal(refund(s, 3, 1001, T0 + DAY, 400), PD_OK);
}

static void sums_that_would_overflow_are_refused_when_recorded(void **state) {
  pd_store *s = *state;
  pd_user_id u = user_of(s, "u"), v = user_of(s, "v");
  assert_int_equal(order(s, 1, 1, u, T0, INT64_MAX - 10), PD_OK);
  uint64_t before = digest(s);
  assert_int_equal(order(s, 2, 2, u, T0, 11), PD_E_OVERFLOW);
  /* Another user too: the store-wide sum must stay representable. */
  assert_int_equal(order(s, 2, 2, v, T0, 11), PD_E_OVERFLOW);
  assert_true(digest(s) == before);
  assert_int_equal(order(s, 2, 2, v, T0, 10), PD_OK);
  pd_user_info i = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, u, T0, &i), PD_OK);
  assert_int_equal(i.revenue, INT64_MAX - 10);
  pd_user_id out;
  assert_int_equal(pd_user_merge(s, u, v, &out), PD_OK);
  assert_int_equal(pd_user_get(s, u, T0, &i), PD_OK);
  assert_int_equal(i.revenue, INT64_MAX);
}

/* ---- reach and cost ------------------------------------------------------ */

static void reach_and_cost_records_are_checked_and_counted(void **state) {
  pd_store *s = *state;
  uint32_t src;
  assert_int_equal(pd_label_ensure(s, PD_LABEL_SOURCE, "package_card",
                                   PD_NTS, &src),
                   PD_OK);
  pd_reach r = PD_REACH_INIT;
  r.event_id = 1;
  r.channel = PD_CHANNEL_PACKAGE_CARD;
  r.source = src;
  r.period_start = T0;
  r.period_end = T0 + 30 * DAY;
  r.reached = 50000;
  assert_int_equal(pd_record_reach(s, &r), PD_OK);
  assert_int_equal(pd_record_reach(s, &r), PD_REPLAYED);
  r.reached = 50001;
  assert_int_equal(pd_record_reach(s, &r), PD_E_DUPLICATE);
  r.event_id = 2;
  r.reached = UINT64_C(1) << 53;
  assert_int_equal(pd_record_reach(s, &r), PD_E_RANGE);
  r.reached = 1;
  r.period_end = r.period_start;
  assert_int_equal(pd_record_reach(s, &r), PD_E_RANGE);
  r.period_end = T0 + DAY;
  r.channel = 0;
  assert_int_equal(pd_record_reach(s, &r), PD_E_INVALID);
  r.channel = PD_CHANNEL_STORE;
  r.source = 5;
  assert_int_equal(pd_record_reach(s, &r), PD_E_NOT_FOUND);

  pd_acquisition_cost c = PD_ACQUISITION_COST_INIT;
  c.event_id = 3;
  c.source = src;
  c.period_start = T0;
  c.period_end = T0 + DAY;
  c.amount = INT64_MAX;
  assert_int_equal(pd_record_cost(s, &c), PD_OK); /* channel 0 = any */
  c.event_id = 4;
  c.amount = 1;
  assert_int_equal(pd_record_cost(s, &c), PD_E_OVERFLOW);
  c.amount = -1;
  assert_int_equal(pd_record_cost(s, &c), PD_E_RANGE);
  c.amount = 0;
  c.period_start = -5;
  assert_int_equal(pd_record_cost(s, &c), PD_E_RANGE);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.reach_records, 1);
  assert_int_equal(st.cost_records, 1);
  assert_int_equal(st.events, 2);
}

static void newer_callers_larger_records_need_zero_extra_bytes(void **state) {
  pd_store *s = *state;
  pd_user_id u = user_of(s, "u");
  struct {
    pd_order o;
    uint64_t future;
  } big;
  memset(&big, 0, sizeof big);
  big.o.size = sizeof big;
  big.o.event_id = 1;
  big.o.order_id = 1;
  big.o.user = u;
  big.o.time = T0;
  big.o.amount = 5;
  big.future = 3;
  assert_int_equal(pd_record_order(s, &big.o), PD_E_INVALID);
  big.future = 0;
  assert_int_equal(pd_record_order(s, &big.o), PD_OK);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(builtin_channels_have_fixed_ids_and_kinds),
      T(custom_channels_are_numbered_from_1024),
      T(labels_are_interned_per_kind),
      T(link_state_replays_links_and_unlinks_in_time_order),
      T(link_before_unlink_at_the_same_second),
      T(user_links_lists_every_channel_touched),
      T(bad_links_are_rejected_and_change_nothing),
      T(replays_change_nothing_and_conflicting_reuse_is_refused),
      T(touchpoints_are_validated_by_kind),
      T(revenue_is_orders_minus_refunds_as_of),
      T(bad_money_is_rejected_and_changes_nothing),
      T(sums_that_would_overflow_are_refused_when_recorded),
      T(reach_and_cost_records_are_checked_and_counted),
      T(newer_callers_larger_records_need_zero_extra_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
