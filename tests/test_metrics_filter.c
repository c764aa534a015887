/* Specification of the shared metrics filter (metrics.h): which users a
 * figure covers — by acquisition link (channel, source), home guide and
 * home shop, as of a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <privdomain/privdomain.h>

#include "metrics_testutil.h"

static const int64_t T0 = 1700000000;

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

static int matches(pd_store *s, pd_user_id u, const pd_metrics_filter *f) {
  int32_t m = -1;
  assert_int_equal(pd_metrics_filter_match(s, u, f, &m), PD_OK);
  return m;
}

static void an_empty_filter_matches_every_live_user(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a"), v = mt_user(s, "b");
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = T0;
  assert_int_equal(matches(s, u, &f), 1); /* even with no events */
  assert_int_equal(pd_user_erase(s, v), PD_OK);
  assert_int_equal(matches(s, v, &f), 0);
}

static void acquisition_is_the_earliest_link_whatever_the_arrival_order(
    void **state) {
  pd_store *s = *state;
  uint32_t qr = 0, live = 0;
  pd_label_ensure(s, PD_LABEL_SOURCE, "qr", PD_NTS, &qr);
  pd_label_ensure(s, PD_LABEL_SOURCE, "live", PD_NTS, &live);
  pd_user_id u = mt_user(s, "a");
  mt_link_src(s, u, PD_CHANNEL_WECHAT, live, 0, T0 + DAY); /* arrives first */
  mt_link_src(s, u, PD_CHANNEL_WECOM, qr, 0, T0);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = T0 + 2 * DAY;
  f.channel = PD_CHANNEL_WECOM;
  assert_int_equal(matches(s, u, &f), 1);
  f.channel = PD_CHANNEL_WECHAT;
  assert_int_equal(matches(s, u, &f), 0);
  f.channel = 0;
  f.source = qr;
  assert_int_equal(matches(s, u, &f), 1);
  f.source = live;
  assert_int_equal(matches(s, u, &f), 0);
  /* Before any link, a channel or source filter fails. */
  f.as_of = T0 - 1;
  f.source = qr;
  assert_int_equal(matches(s, u, &f), 0);
}

static void merged_users_are_acquired_by_the_earliest_link_of_any_id(
    void **state) {
  pd_store *s = *state;
  pd_user_id a = mt_user(s, "a"), b = mt_user(s, "b"), m;
  mt_link(s, a, PD_CHANNEL_WECHAT, T0 + DAY);
  mt_link(s, b, PD_CHANNEL_MINI_PROGRAM, T0);
  assert_int_equal(pd_user_merge(s, a, b, &m), PD_OK);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = T0 + 2 * DAY;
  f.channel = PD_CHANNEL_MINI_PROGRAM;
  assert_int_equal(matches(s, a, &f), 1);
  assert_int_equal(matches(s, b, &f), 1);
}

static void the_home_guide_is_the_bound_guide_at_as_of(void **state) {
  pd_store *s = *state;
  uint32_t g1, g2, g3;
  pd_guide_ensure(s, "g1", PD_NTS, 0, &g1);
  pd_guide_ensure(s, "g2", PD_NTS, 0, &g2);
  pd_guide_ensure(s, "g3", PD_NTS, 0, &g3);
  pd_user_id u = mt_user(s, "a"), v = mt_user(s, "b");
  mt_link_src(s, u, PD_CHANNEL_WECOM, 0, g3, T0);  /* brought by g3 */
  mt_bind(s, u, g1, T0 + DAY);
  pd_guide_handover h = PD_GUIDE_HANDOVER_INIT;
  h.event_id = 5555;
  h.from_guide = g1;
  h.to_guide = g2;
  h.time = T0 + 10 * DAY;
  assert_int_equal(pd_record_guide_handover(s, &h), PD_OK);
  mt_link_src(s, v, PD_CHANNEL_WECOM, 0, g3, T0); /* never bound */
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.guide = g3;
  f.as_of = T0 + HOUR; /* not bound yet: falls back to the link's guide */
  assert_int_equal(matches(s, u, &f), 1);
  f.as_of = T0 + 2 * DAY;
  assert_int_equal(matches(s, u, &f), 0);
  f.guide = g1;
  assert_int_equal(matches(s, u, &f), 1);
  f.as_of = T0 + 11 * DAY; /* handed over (离职继承) */
  assert_int_equal(matches(s, u, &f), 0);
  f.guide = g2;
  assert_int_equal(matches(s, u, &f), 1);
  f.guide = g3;
  assert_int_equal(matches(s, v, &f), 1);
}

static void the_home_shop_is_the_guides_shop_else_the_first_order_shop(
    void **state) {
  pd_store *s = *state;
  uint32_t east, west, g;
  pd_label_ensure(s, PD_LABEL_SHOP, "east", PD_NTS, &east);
  pd_label_ensure(s, PD_LABEL_SHOP, "west", PD_NTS, &west);
  pd_guide_ensure(s, "g", PD_NTS, east, &g);
  pd_user_id u = mt_user(s, "a"), v = mt_user(s, "b");
  mt_bind(s, u, g, T0);
  pd_order o = PD_ORDER_INIT;
  o.event_id = 7001;
  o.order_id = 7001;
  o.user = v;
  o.amount = 100;
  o.shop = west;
  o.time = T0 + DAY;
  assert_int_equal(pd_record_order(s, &o), PD_OK);
  o.event_id = o.order_id = 7002;
  o.shop = east;
  o.time = T0 + 2 * DAY;
  assert_int_equal(pd_record_order(s, &o), PD_OK);
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  f.as_of = T0 + 3 * DAY;
  f.shop = east;
  assert_int_equal(matches(s, u, &f), 1);
  assert_int_equal(matches(s, v, &f), 0);
  f.shop = west;
  assert_int_equal(matches(s, v, &f), 1);
  f.as_of = T0; /* no order yet: no home shop */
  assert_int_equal(matches(s, v, &f), 0);
}

static void a_bad_filter_is_rejected(void **state) {
  pd_store *s = *state;
  pd_user_id u = mt_user(s, "a");
  pd_metrics_filter f = PD_METRICS_FILTER_INIT;
  int32_t m;
  f.as_of = -1;
  assert_int_equal(pd_metrics_filter_match(s, u, &f, &m), PD_E_RANGE);
  f.as_of = T0;
  f.size = sizeof f - 1;
  assert_int_equal(pd_metrics_filter_match(s, u, &f, &m), PD_E_INVALID);
  f.size = sizeof f;
  f.channel = 3000;
  assert_int_equal(pd_metrics_filter_match(s, u, &f, &m), PD_E_NOT_FOUND);
  f.channel = 0;
  f.source = 9;
  assert_int_equal(pd_metrics_filter_match(s, u, &f, &m), PD_E_NOT_FOUND);
  f.source = 0;
  f.shop = 9;
  assert_int_equal(pd_metrics_filter_match(s, u, &f, &m), PD_E_NOT_FOUND);
  f.shop = 0;
  f.guide = 9;
  assert_int_equal(pd_metrics_filter_match(s, u, &f, &m), PD_E_NOT_FOUND);
  f.guide = 0;
  assert_int_equal(pd_metrics_filter_match(s, 99, &f, &m), PD_E_NOT_FOUND);
  assert_int_equal(pd_metrics_filter_match(s, u, NULL, &m), PD_E_INVALID);
  assert_int_equal(pd_metrics_filter_match(s, u, &f, NULL), PD_E_INVALID);
  /* A newer caller's larger struct with zero tail is accepted. */
  struct {
    pd_metrics_filter f;
    uint64_t extra;
  } big;
  memset(&big, 0, sizeof big);
  big.f.size = sizeof big;
  big.f.as_of = T0;
  assert_int_equal(pd_metrics_filter_match(s, u, &big.f, &m), PD_OK);
  big.extra = 1;
  assert_int_equal(pd_metrics_filter_match(s, u, &big.f, &m), PD_E_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(an_empty_filter_matches_every_live_user,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          acquisition_is_the_earliest_link_whatever_the_arrival_order, setup,
          teardown),
      cmocka_unit_test_setup_teardown(
          merged_users_are_acquired_by_the_earliest_link_of_any_id, setup,
          teardown),
      cmocka_unit_test_setup_teardown(
          the_home_guide_is_the_bound_guide_at_as_of, setup, teardown),
      cmocka_unit_test_setup_teardown(
          the_home_shop_is_the_guides_shop_else_the_first_order_shop, setup,
          teardown),
      cmocka_unit_test_setup_teardown(a_bad_filter_is_rejected, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
