/* Specification of the retention purge (purge.h): touchpoints, orders and
 * refunds before the cutoff (and refunds of purged orders) are removed,
 * every figure then counts the retained window only, the relationship
 * records stay, purged event ids answer PD_E_ERASED, and a purge is
 * idempotent. */
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

static pd_status order(pd_store *s, uint64_t eid, pd_user_id u, int64_t t,
                       int64_t amount) {
  pd_order o = PD_ORDER_INIT;
  o.event_id = eid;
  o.order_id = eid;
  o.user = u;
  o.time = t;
  o.amount = amount;
  return pd_record_order(s, &o);
}

static pd_status refund(pd_store *s, uint64_t eid, uint64_t order_id,
                        int64_t t, int64_t amount) {
  pd_refund r = PD_REFUND_INIT;
  r.event_id = eid;
  r.order_id = order_id;
  r.time = t;
  r.amount = amount;
  return pd_record_refund(s, &r);
}

static pd_status touch(pd_store *s, uint64_t eid, pd_user_id u, int64_t t) {
  pd_touchpoint p = PD_TOUCHPOINT_INIT;
  p.event_id = eid;
  p.user = u;
  p.kind = PD_TOUCH_INBOUND_MESSAGE;
  p.channel = PD_CHANNEL_WECOM;
  p.time = t;
  return pd_record_touchpoint(s, &p);
}

static pd_status link(pd_store *s, uint64_t eid, pd_user_id u, int64_t t) {
  pd_link_event l = PD_LINK_EVENT_INIT;
  l.event_id = eid;
  l.user = u;
  l.channel = PD_CHANNEL_WECOM;
  l.time = t;
  return pd_record_link(s, &l);
}

/* A store with one user: link at T0, touches at T0+d for d = 0..29 days,
 * orders of 1000 at T0, T0+10d, T0+20d, a refund of 300 of the first at
 * T0+30d and of 100 of the second at T0+12d. */
static pd_store *history(pd_user_id *user) {
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  pd_user_id u = user_of(s, "+8613800000000");
  assert_int_equal(link(s, 1, u, T0), PD_OK);
  for (int d = 0; d < 30; d++)
    assert_int_equal(touch(s, 100 + (uint64_t)d, u, T0 + d * DAY), PD_OK);
  assert_int_equal(order(s, 201, u, T0, 1000), PD_OK);
  assert_int_equal(order(s, 202, u, T0 + 10 * DAY, 1000), PD_OK);
  assert_int_equal(order(s, 203, u, T0 + 20 * DAY, 1000), PD_OK);
  assert_int_equal(refund(s, 301, 201, T0 + 30 * DAY, 300), PD_OK);
  assert_int_equal(refund(s, 302, 202, T0 + 12 * DAY, 100), PD_OK);
  *user = u;
  return s;
}

static void purge_removes_old_touchpoints_orders_and_refunds(void **state) {
  (void)state;
  pd_user_id u;
  pd_store *s = history(&u);
  pd_purge_result r = PD_PURGE_RESULT_INIT;
  /* Cutoff T0+15d: touches of days 0..14, orders 201 and 202, refund 302
   * (old) and refund 301 (new, but of purged order 201). */
  assert_int_equal(pd_store_purge_before(s, T0 + 15 * DAY, &r), PD_OK);
  assert_int_equal(r.touchpoints, 15);
  assert_int_equal(r.orders, 2);
  assert_int_equal(r.refunds, 2);
  assert_int_equal(r.events, 19);
  assert_int_equal(r.revenue, 2000 - 400);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.touchpoints, 15);
  assert_int_equal(st.orders, 1);
  assert_int_equal(st.refunds, 0);
  assert_int_equal(st.links, 1);
  assert_int_equal(st.events, 1 + 15 + 1);
  pd_store_free(s);
}

static void user_figures_count_the_retained_window_only(void **state) {
  (void)state;
  pd_user_id u;
  pd_store *s = history(&u);
  pd_user_info before = PD_USER_INFO_INIT, after = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, u, T0 + 40 * DAY, &before), PD_OK);
  assert_int_equal(before.orders, 3);
  assert_int_equal(before.revenue, 3000 - 400);
  assert_int_equal(pd_store_purge_before(s, T0 + 15 * DAY, NULL), PD_OK);
  assert_int_equal(pd_user_get(s, u, T0 + 40 * DAY, &after), PD_OK);
  assert_int_equal(after.orders, 1);
  assert_int_equal(after.revenue, 1000);
  assert_int_equal(after.refunded, 0);
  assert_int_equal(after.first_purchase, T0 + 20 * DAY);
  assert_int_equal(after.last_purchase, T0 + 20 * DAY);
  /* The link of T0 is kept: it is still the user's first event. */
  assert_int_equal(after.first_seen, T0);
  assert_int_equal(after.channels_linked, 1);
  pd_store_free(s);
}

static void a_refund_goes_with_its_purged_order_even_when_later(
    void **state) {
  (void)state;
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  pd_user_id u = user_of(s, "a");
  assert_int_equal(order(s, 1, u, T0, 500), PD_OK);
  assert_int_equal(refund(s, 2, 1, T0 + 100 * DAY, 500), PD_OK);
  pd_purge_result r = PD_PURGE_RESULT_INIT;
  assert_int_equal(pd_store_purge_before(s, T0 + 50 * DAY, &r), PD_OK);
  assert_int_equal(r.orders, 1);
  assert_int_equal(r.refunds, 1);
  assert_int_equal(r.revenue, 0);
  pd_user_info info = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, u, PD_TIME_MAX, &info), PD_OK);
  assert_int_equal(info.revenue, 0);
  assert_int_equal(info.refunded, 0);
  assert_int_equal(info.orders, 0);
  assert_int_equal(info.first_purchase, -1);
  pd_store_free(s);
}

static void events_at_the_cutoff_are_kept(void **state) {
  (void)state;
  pd_store *s;
  assert_int_equal(pd_store_new(NULL, &s), PD_OK);
  pd_user_id u = user_of(s, "a");
  assert_int_equal(order(s, 1, u, T0 - 1, 10), PD_OK);
  assert_int_equal(order(s, 2, u, T0, 20), PD_OK);
  assert_int_equal(touch(s, 3, u, T0), PD_OK);
  pd_purge_result r = PD_PURGE_RESULT_INIT;
  assert_int_equal(pd_store_purge_before(s, T0, &r), PD_OK);
  assert_int_equal(r.orders, 1);
  assert_int_equal(r.touchpoints, 0);
  pd_user_info info = PD_USER_INFO_INIT;
  assert_int_equal(pd_user_get(s, u, PD_TIME_MAX, &info), PD_OK);
  assert_int_equal(info.revenue, 20);
  pd_store_free(s);
}

static void a_purged_event_id_recorded_again_is_erased_not_replayed(
    void **state) {
  (void)state;
  pd_user_id u;
  pd_store *s = history(&u);
  assert_int_equal(pd_store_purge_before(s, T0 + 15 * DAY, NULL), PD_OK);
  assert_int_equal(order(s, 201, u, T0, 1000), PD_E_ERASED);
  assert_int_equal(touch(s, 100, u, T0), PD_E_ERASED);
  assert_int_equal(refund(s, 302, 202, T0 + 12 * DAY, 100), PD_E_ERASED);
  /* A new refund of a purged order, and a new order reusing its id. */
  assert_int_equal(refund(s, 999, 203 - 1, T0 + 40 * DAY, 1), PD_E_ERASED);
  pd_order o = PD_ORDER_INIT;
  o.event_id = 1000;
  o.order_id = 201;
  o.user = u;
  o.time = T0 + 40 * DAY;
  o.amount = 5;
  assert_int_equal(pd_record_order(s, &o), PD_E_DUPLICATE);
  /* Retained events still replay. */
  assert_int_equal(order(s, 203, u, T0 + 20 * DAY, 1000), PD_REPLAYED);
  assert_int_equal(touch(s, 129, u, T0 + 29 * DAY), PD_REPLAYED);
  pd_store_free(s);
}

static void links_identities_and_users_are_kept(void **state) {
  (void)state;
  pd_user_id u;
  pd_store *s = history(&u);
  assert_int_equal(pd_store_purge_before(s, PD_TIME_MAX, NULL), PD_OK);
  pd_user_id found;
  assert_int_equal(
      pd_user_find(s, "phone", PD_NTS, "+8613800000000", PD_NTS, &found),
      PD_OK);
  assert_int_equal(found, u);
  pd_link_state ls = PD_LINK_STATE_INIT;
  assert_int_equal(
      pd_user_link_state(s, u, PD_CHANNEL_WECOM, T0 + 40 * DAY, &ls), PD_OK);
  assert_int_equal(ls.linked, 1);
  assert_int_equal(ls.linked_since, T0);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.users, 1);
  assert_int_equal(st.identities, 1);
  assert_int_equal(st.events, 1);
  pd_store_free(s);
}

static void purging_again_changes_nothing_and_returns_replayed(
    void **state) {
  (void)state;
  pd_user_id u;
  pd_store *s = history(&u);
  const int64_t times[] = {T0, T0 + 15 * DAY, T0 + 40 * DAY};
  assert_int_equal(pd_store_purge_before(s, T0 + 15 * DAY, NULL), PD_OK);
  uint64_t d1 = store_digest(s, 1, times, 3, 0);
  pd_purge_result r = PD_PURGE_RESULT_INIT;
  r.events = 77;
  assert_int_equal(pd_store_purge_before(s, T0 + 15 * DAY, &r), PD_REPLAYED);
  assert_int_equal(r.events, 0);
  assert_int_equal(r.revenue, 0);
  /* An earlier cutoff has nothing left to purge either. */
  assert_int_equal(pd_store_purge_before(s, T0, NULL), PD_REPLAYED);
  assert_int_equal(store_digest(s, 1, times, 3, 0), d1);
  pd_store_free(s);
}

static void bad_arguments_leave_the_store_unchanged(void **state) {
  (void)state;
  pd_user_id u;
  pd_store *s = history(&u);
  const int64_t times[] = {T0, T0 + 40 * DAY};
  uint64_t d0 = store_digest(s, 1, times, 2, 0);
  assert_int_equal(pd_store_purge_before(s, -1, NULL), PD_E_RANGE);
  assert_int_equal(pd_store_purge_before(s, PD_TIME_MAX + 1, NULL),
                   PD_E_RANGE);
  pd_purge_result r = PD_PURGE_RESULT_INIT;
  r.size = sizeof r - 1;
  assert_int_equal(pd_store_purge_before(s, T0 + 15 * DAY, &r), PD_E_INVALID);
  assert_string_not_equal(pd_store_errmsg(s), "");
  assert_int_equal(pd_store_purge_before(NULL, T0, NULL), PD_E_MISUSE);
  assert_int_equal(store_digest(s, 1, times, 2, 0), d0);
  pd_store_free(s);
}

static pd_status callback_status;
static int purge_from_callback(void *user, pd_user_id id) {
  (void)id;
  callback_status = pd_store_purge_before(user, PD_TIME_MAX, NULL);
  return 1;
}

static void purging_from_a_callback_is_misuse(void **state) {
  (void)state;
  pd_user_id u;
  pd_store *s = history(&u);
  assert_int_equal(pd_store_foreach_user(s, purge_from_callback, s), PD_OK);
  assert_int_equal(callback_status, PD_E_MISUSE);
  pd_store_stats st = PD_STORE_STATS_INIT;
  assert_int_equal(pd_store_get_stats(s, &st), PD_OK);
  assert_int_equal(st.orders, 3);
  pd_store_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(purge_removes_old_touchpoints_orders_and_refunds),
      cmocka_unit_test(user_figures_count_the_retained_window_only),
      cmocka_unit_test(a_refund_goes_with_its_purged_order_even_when_later),
      cmocka_unit_test(events_at_the_cutoff_are_kept),
      cmocka_unit_test(
          a_purged_event_id_recorded_again_is_erased_not_replayed),
      cmocka_unit_test(links_identities_and_users_are_kept),
      cmocka_unit_test(purging_again_changes_nothing_and_returns_replayed),
      cmocka_unit_test(bad_arguments_leave_the_store_unchanged),
      cmocka_unit_test(purging_from_a_callback_is_misuse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
